//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// answerOnTerminal runs the binary with a terminal on standard input, waits
// for its question, types answer and returns the result and the question.
func answerOnTerminal(t *testing.T, e *env, answer string, args ...string) (result, string) {
	t.Helper()
	p := startOnTerminal(t, e, args...)
	question, err := p.stderr.ReadString(']')
	if err != nil {
		t.Fatalf("no question, got %q: %v", question, err)
	}
	readUntil(t, p.stderr, " ")
	fmt.Fprint(p.master, answer+"\n")
	r, _ := p.finish()
	return r, question
}

func TestDestructiveCommandsAskOnTerminal(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	e.enrollMFA("bob", userPassword)
	show := func() jsonUser {
		var u jsonUser
		decode(t, e.ok("", "user", "show", "bob", "--json").stdout, &u)
		return u
	}

	for _, answer := range []string{"n", "", "no", "yes please"} {
		r, q := answerOnTerminal(t, e, answer, "user", "remove-mfa", "bob")
		if want := `Remove the MFA of "bob"? Their next login asks for no code. [y/N]`; q != want {
			t.Errorf("question %q, want %q", q, want)
		}
		checkFailure(t, r, exitFailure, "cancelled; nothing was changed", nil)
		if u := show(); u.MFA != "on" {
			t.Fatalf("answer %q removed bob's MFA: %q", answer, u.MFA)
		}
	}
	if r, _ := answerOnTerminal(t, e, "Y", "user", "remove-mfa", "bob", "--reason", "lost phone"); r.code != 0 || !strings.Contains(r.stdout, `removed MFA from "bob"`) {
		t.Fatalf("answering Y: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if u := show(); u.MFA != "off" {
		t.Errorf("after yes bob's MFA is %q", u.MFA)
	}

	r, q := answerOnTerminal(t, e, "n", "user", "disable", "bob")
	if !strings.HasPrefix(q, `Disable "bob"? They can no longer log in`) || r.code != exitFailure || show().Disabled {
		t.Fatalf("disable answered n: question %q, exit %d, disabled %v", q, r.code, show().Disabled)
	}
	if r, _ := answerOnTerminal(t, e, "yes", "user", "disable", "bob"); r.code != 0 || !show().Disabled {
		t.Fatalf("disable answered yes: exit %d %q, disabled %v", r.code, r.stderr, show().Disabled)
	}

	old := e.currentKey()
	e.ok("", "key", "rotate")
	r, q = answerOnTerminal(t, e, "n", "key", "retire", old)
	if !strings.HasPrefix(q, fmt.Sprintf("Remove key %q from the key file?", old)) || r.code != exitFailure || !e.keyInFile(old) {
		t.Fatalf("retire answered n: question %q, exit %d, key kept %v", q, r.code, e.keyInFile(old))
	}
	if r, _ := answerOnTerminal(t, e, "y", "key", "retire", old); r.code != 0 || e.keyInFile(old) {
		t.Fatalf("retire answered y: exit %d %q, key kept %v", r.code, r.stderr, e.keyInFile(old))
	}
}

// A script without --yes is told so and nothing is opened or changed: not
// even a new database is created.
func TestDestructiveCommandsNeedYesWithoutTerminal(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"user", "remove-mfa", "bob"}, {"user", "disable", "bob"}, {"key", "retire", "k1"}} {
		e.fail(exitUsage, "standard input is not a terminal: pass --yes", "y\n", args...)
	}
	if _, err := os.Stat(e.db); !os.IsNotExist(err) {
		t.Errorf("the database was created: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, keyFileName)); !os.IsNotExist(err) {
		t.Errorf("the key file was created: %v", err)
	}
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	e.ok("", "user", "enable", "bob") // enabling takes nothing away: no question
}

// keys is `key list --json`.
func (e *env) keys() []jsonKey {
	e.t.Helper()
	var ks []jsonKey
	decode(e.t, e.ok("", "key", "list", "--json").stdout, &ks)
	return ks
}

// currentKey is the id of the key that encrypts new secrets.
func (e *env) currentKey() string {
	e.t.Helper()
	for _, k := range e.keys() {
		if k.Current {
			return k.ID
		}
	}
	e.t.Fatal("no current key")
	return ""
}

// keyInFile says whether the key file still holds key id.
func (e *env) keyInFile(id string) bool {
	e.t.Helper()
	for _, k := range e.keys() {
		if k.ID == id && k.InFile {
			return true
		}
	}
	return false
}
