package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// TestServeBacksOffAtOnce: serve passes the console's login callbacks to
// the SSH server. A burst of wrong passwords, each sent as soon as the last
// is answered, meets the backoff at the --login-failures-th failure: no
// further password is checked (polling the audit trail, serve let several
// more through), and the server's log names the user who signs in.
func TestServeBacksOffAtOnce(t *testing.T) {
	e := newEnv(t)
	e.createAccount("Acme", "alice")
	svc := e.openCore()
	defer svc.Close()
	s := startServe(t, e, "--login-failures", "2")

	c := openTerminal(t, s.addr)
	c.waitFor(t, "Log in")
	fmt.Fprint(c.stdin, "alice\t")
	ended := false
	for i := 1; i <= 6 && !ended; i++ {
		fmt.Fprintf(c.stdin, "wrong-password-%d\r", i)
		deadline := time.Now().Add(10 * time.Second)
		resend := time.Now().Add(time.Second)
		for !ended && failedLogins(t, svc) < i {
			select {
			case <-c.done:
				ended = true
			case <-time.After(5 * time.Millisecond):
			}
			// Keys typed while the screen still waited for the last answer
			// are dropped with the field it clears: type them again (Ctrl+U
			// first). A password that is never checked counts nothing.
			if !ended && time.Now().After(resend) {
				fmt.Fprintf(c.stdin, "\x15wrong-password-%d\r", i)
				resend = time.Now().Add(time.Second)
			}
			if time.Now().After(deadline) {
				t.Fatalf("wrong password %d is not audited:\n%s", i, ansi.Strip(c.out.String()))
			}
		}
	}
	if !ended {
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the session is open after 6 wrong passwords:\n%s", ansi.Strip(c.out.String()))
		}
	}
	if n := failedLogins(t, svc); n != 2 {
		t.Errorf("%d wrong passwords were checked before the backoff, want 2", n)
	}
	c.waitFor(t, "too many failed logins from 127.0.0.1")
	s.waitLog("login backoff")

	// Sign-ins reach the log without the audit trail: the session's end
	// names its user. The backoff is per local user on loopback, so this
	// runs on a second server.
	e2 := newEnv(t)
	e2.createAccount("Acme", "alice")
	s2 := startServe(t, e2)
	ok := openTerminal(t, s2.addr)
	ok.waitFor(t, "Log in")
	fmt.Fprint(ok.stdin, "alice\t"+adminPassword+"\r")
	ok.waitFor(t, "alice (admin)")
	fmt.Fprint(ok.stdin, "\x03")
	if log := s2.waitLog(`msg="session end"`); !strings.Contains(log, "user=alice") {
		t.Errorf("the end of the session does not name alice:\n%s", log)
	}
}

// failedLogins counts the failed logins in the audit trail.
func failedLogins(t *testing.T, svc *core.Service) int {
	t.Helper()
	events, err := svc.ListAudit(context.Background(), core.LocalOperator("local:test"), -1, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == core.ActionLoginFailed {
			n++
		}
	}
	return n
}
