//go:build linux

package main

import (
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/vtscreen"
)

// Keys as a terminal sends them.
const keyEsc, keyTab, keyBackspace, keyEnter, keyLeft, keyRight = "\x1b", "\t", "\x7f", "\r", "\x1b[D", "\x1b[C"

// storeSentence is what the console says while the store cannot be reached.
const storeSentence = "The store cannot be reached; try again."

// launchServe runs `smartmfa --db DB serve --listen 127.0.0.1:0` as its own
// process with libpq's PG* variables, and returns without waiting for it to
// listen: it may be waiting for its store.
func launchServe(t *testing.T, e *env, location string) *server {
	t.Helper()
	cmd := exec.Command(smartmfaBinary(t), "--db", location, "serve", "--listen", "127.0.0.1:0", "--grace", "1s")
	cmd.Env = []string{"HOME=" + e.vars["HOME"], "XDG_DATA_HOME=" + e.vars["XDG_DATA_HOME"], "USER=tester", "PATH=" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return launch(t, cmd)
}

// signIn logs alice in on an SSH terminal and opens the Users page.
func signInToUsers(t *testing.T, tm *terminal) {
	t.Helper()
	vtscreen.SameScreens(t, []vtscreen.Step{
		{Name: "start", Want: []string{"Log in", "Password"}},
		{Name: "sign-in", Keys: []string{"alice", keyTab, adminPassword, keyEnter}, Want: []string{"alice (admin)"}},
		{Name: "Users", Keys: []string{keyEsc, keyRight, keyRight, keyEnter}, Want: []string{"2 users match"}},
	}, &tm.Terminal)
}

// TestPostgresServeKeepsSessionsThroughAnOutage: an SSH session signed in
// stays connected while the store is cut; a search then says the store
// cannot be reached, and once it is restored the same search in the same
// session finds the users again and the sentence goes.
func TestPostgresServeKeepsSessionsThroughAnOutage(t *testing.T) {
	e, proxy := newPGEnv(t)
	e.createAccount("Acme", "alice")
	e.addUser("Acme", "bob")
	s := launchServe(t, e, e.db)
	s.listening()
	tm := sshTerminalAt(t, s.addr, "ssh", 80, 24, "xterm-256color")
	signInToUsers(t, tm)

	proxy.Cut()
	vtscreen.SameScreens(t, []vtscreen.Step{
		{Name: "search while the store is cut", Keys: []string{"b"}, Want: []string{storeSentence}},
		{Name: "Account while the store is cut", Keys: []string{keyEsc, keyLeft, keyEnter}, Want: []string{"Account details", storeSentence}},
	}, &tm.Terminal)

	proxy.Restore()
	vtscreen.SameScreens(t, []vtscreen.Step{
		{Name: "Account again", Keys: []string{keyEsc, keyEnter}, Want: []string{"Without MFA"}},
		{Name: "Users again", Keys: []string{keyEsc, keyRight, keyEnter}, Want: []string{"2 users match"}},
		{Name: "the same search", Keys: []string{"b"}, Want: []string{"1 user matches"}},
	}, &tm.Terminal)
	if screen := tm.Screen.String(); strings.Contains(screen, storeSentence) {
		t.Errorf("the store is back but the session still says it cannot be reached:\n%s", screen)
	}
	if log := s.log.String(); strings.Contains(log, "session end") {
		t.Errorf("a session ended during the outage:\n%s", log)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exits %d after SIGTERM:\n%s", code, s.log)
	}
}

// TestPostgresServeWaitsForTheStore: serve started while its store is cut
// logs one line an attempt, naming the store without its password, and comes
// up once the store is back; stopped while it waits, it exits 0 at once.
func TestPostgresServeWaitsForTheStore(t *testing.T) {
	e, proxy := newPGEnv(t)
	e.createAccount("Acme", "alice")
	e.addUser("Acme", "bob")
	location, password := e.db, os.Getenv("PGPASSWORD")
	if password == "" {
		// Peer authentication asks for none: one in the address is there
		// only to be kept out of the log.
		password = "pw-3Jd8Qa"
		u, _ := url.Parse(location)
		name := os.Getenv("PGUSER")
		if me, err := user.Current(); name == "" && err == nil {
			name = me.Username
		}
		u.User = url.UserPassword(name, password)
		location = u.String()
	}

	proxy.Cut()
	started := time.Now()
	s := launchServe(t, e, location)
	s.waitLog(`msg="waiting for the store" attempt=2`)
	proxy.Restore()
	s.listening()
	t.Logf("up %v after start, once the store was restored", time.Since(started).Round(time.Millisecond))
	log := s.log.String()
	waits := strings.Count(log, `msg="waiting for the store"`)
	if waits < 2 || strings.Count(log, "the store cannot be reached; try again") != waits || strings.Contains(log, password) {
		t.Errorf("want one line with the sentence per attempt and never the password:\n%s", log)
	}
	tm := sshTerminalAt(t, s.addr, "ssh", 80, 24, "xterm-256color")
	signInToUsers(t, tm)
	if code := s.stop(); code != 0 {
		t.Errorf("serve exits %d after SIGTERM:\n%s", code, s.log)
	}

	proxy.Cut()
	s = launchServe(t, e, location)
	s.waitLog(`msg="waiting for the store"`)
	start := time.Now()
	if code := s.stop(); code != 0 {
		t.Errorf("serve stopped while waiting exits %d:\n%s", code, s.log)
	}
	if took := time.Since(start); took > 2*time.Second || !strings.Contains(s.log.String(), "stopped before the store could be reached") {
		t.Errorf("serve stopped while waiting took %v:\n%s", took, s.log)
	}
}
