package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// newPGEnv is an env whose store is a fresh PostgreSQL schema reached through
// a proxy the test can cut. With a postgres:// store the key file (and
// serve's host key) live in the default data directory: e.dir is made that
// directory, so that openCore finds the key the commands use.
func newPGEnv(t *testing.T) (*env, *dbtest.Proxy) {
	t.Helper()
	location := dbtest.RequirePostgres(t)
	proxy := dbtest.NewProxy(t)
	e := newEnv(t)
	e.vars["XDG_DATA_HOME"] = e.dir
	e.dir = filepath.Join(e.dir, "smartmfa")
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e.db = proxy.Location(location)
	return e, proxy
}

// withPassword is location with a password in it, for the tests that check
// no message repeats it. The server never sees it there: the proxy is cut.
func withPassword(t *testing.T, location, password string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("smartmfa", password)
	return u.String()
}

// TestPostgresCommandsWhenTheStoreIsDown: with the store cut, or answering
// nothing, every command fails at once (or at the address's connect_timeout)
// with one sentence on stderr and exit 1, never the address's password; once
// the store is back the same command works.
func TestPostgresCommandsWhenTheStoreIsDown(t *testing.T) {
	e, proxy := newPGEnv(t)
	e.createAccount("acme", "alice")
	const password = "pw-7Hq2zK"
	commands := [][]string{
		{"account", "list"},
		{"account", "show", "acme"},
		{"account", "require-mfa", "acme", "on"},
		{"user", "show", "alice"},
		{"user", "add", "acme", "dave", "--password-stdin"},
		{"user", "disable", "alice", "--yes"},
		{"audit", "acme"},
	}
	fails := func(location string, within time.Duration) {
		t.Helper()
		for _, args := range commands {
			start := time.Now()
			r := e.runRaw(tempPassword+"\n", append([]string{"--db", location}, args...)...)
			took := time.Since(start)
			checkFailure(t, r, exitFailure, "the store cannot be reached; try again", args)
			if strings.Contains(r.stderr, password) {
				t.Errorf("%q: stderr %q holds the password", args, r.stderr)
			}
			if took > within {
				t.Errorf("%q took %v to fail, want under %v", args, took, within)
			}
		}
		t.Logf("for instance: %q", e.runRaw("", "--db", location, "account", "list").stderr)
	}

	proxy.Cut()
	fails(withPassword(t, e.db, password), 2*time.Second)

	// A server that takes the connection and never answers: the address's
	// connect_timeout bounds the wait (5 s when it names none).
	proxy.Stall()
	fails(withPassword(t, e.db, password)+"&connect_timeout=1", 3*time.Second)

	proxy.Restore()
	if r := e.ok("", "account", "show", "acme"); !strings.Contains(r.stdout, "acme") {
		t.Errorf("account show once the store is back: %q", r.stdout)
	}
}

// TestPostgresPAMVerifyFailsClosedWhileTheStoreIsCut: pam-verify with a
// right code exits 3 (nothing could be checked) while the store is cut, at
// once, and while it answers nothing, within --timeout; its one log line says
// why and never holds the code. Once the store is back the same code passes:
// the attempts during the outage used no step and counted no failure.
func TestPostgresPAMVerifyFailsClosedWhileTheStoreIsCut(t *testing.T) {
	e, proxy := newPGEnv(t)
	e.createAccount("acme", "alice")
	bob := e.enrollPAM("acme", "bob")
	keyFile := []string{"--key-file", filepath.Join(e.dir, keyFileName)}
	timed := func(status int, want string, within time.Duration, args ...string) {
		t.Helper()
		start := time.Now()
		r := e.pam("bob", bob.code(0), status, want, append(keyFile, args...)...)
		took := time.Since(start)
		t.Logf("exit %d after %v: %s", r.code, took.Round(time.Millisecond), strings.TrimSpace(r.stderr))
		if took > within {
			t.Errorf("pam-verify took %v, want under %v", took, within)
		}
	}

	proxy.Cut()
	for range 6 { // more than a lock's worth of tries: none may count
		timed(pamUnavailable, "the store cannot be reached; try again", 2*time.Second)
	}

	proxy.Stall()
	timed(pamUnavailable, "no answer within 2s", 3*time.Second, "--timeout", "2s")

	proxy.Restore()
	timed(pamAccepted, `accepted "bob" from 203.0.113.5 (sshd): authenticator code`, 2*time.Second)
}
