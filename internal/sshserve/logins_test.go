package sshserve

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

func TestBackoffDoublesAndForgets(t *testing.T) {
	b := newBackoff(3, time.Minute, 15*time.Minute)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, want := range []time.Duration{0, 0, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		if got, n := b.fail("198.51.100.1", now); got != want || n != i+1 {
			t.Errorf("failure %d: wait %s (count %d), want %s", i+1, got, n, want)
		}
	}
	if got := b.blocked("198.51.100.1", now.Add(14*time.Minute)); got != time.Minute {
		t.Errorf("14 minutes into a 15-minute wait, %s is left", got)
	}
	if got := b.blocked("198.51.100.2", now); got != 0 {
		t.Errorf("another address waits %s", got)
	}
	later := now.Add(b.forget + time.Second)
	if got, n := b.fail("198.51.100.1", later); got != 0 || n != 1 {
		t.Errorf("after the failures are forgotten: wait %s, count %d; want 0, 1", got, n)
	}
}

func TestBackoffTableIsBounded(t *testing.T) {
	b := newBackoff(10, time.Minute, 15*time.Minute)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * maxTrackedAddresses {
		b.fail(string(rune(i)), now)
	}
	if n := len(b.addrs); n > maxTrackedAddresses {
		t.Errorf("%d addresses tracked, more than %d", n, maxTrackedAddresses)
	}
}

// TestSignedInFollowsLoginAndLogout: a session counts as signed in between a
// login and a logout, while the log keeps the last user's name.
func TestSignedInFollowsLoginAndLogout(t *testing.T) {
	s := &Session{}
	if s.signedIn() {
		t.Fatal("a new session is signed in")
	}
	s.SignedIn("alice")
	if !s.signedIn() {
		t.Fatal("not signed in after a login")
	}
	s.SignedOut()
	if s.signedIn() || s.user != "alice" {
		t.Fatalf("after a logout: signed in %v, user %q", s.signedIn(), s.user)
	}
}

// TestFailedLoginsBackOffAtOnce: a burst of wrong passwords, each sent as
// soon as the last one is answered, meets the backoff at the FailedLogins-th
// failure, not a poll later: no further password is checked, and the
// session ends at once.
func TestFailedLoginsBackOffAtOnce(t *testing.T) {
	t.Parallel()
	const failedLogins = 3
	ts := startServer(t, Config{FailedLogins: failedLogins, Backoff: time.Minute})

	c := ts.open("xterm")
	c.waitFor("Log in")
	c.send("alice\t")
	var lastFailure time.Time
	ended := false
	// The session may end (the backoff) between two keystrokes: a write
	// refused then is the end, not a failure of the test.
	typeKeys := func(keys string) {
		if _, err := io.WriteString(c.stdin, keys); err != nil {
			ended = true
		}
	}
	for i := 1; i <= 10 && !ended; i++ {
		typeKeys(fmt.Sprintf("wrong-password-%d\r", i))
		deadline := time.Now().Add(wait)
		resend := time.Now().Add(time.Second)
		for !ended && failedLoginsIn(t, ts.svc) < i {
			select {
			case <-c.exited:
				ended = true
			case <-time.After(2 * time.Millisecond):
			}
			if ended {
				break
			}
			// The audit row comes before the screen has the answer: keys
			// typed in between are dropped with the field it clears. Type
			// them again (Ctrl+U first), as serve's test does.
			if time.Now().After(resend) {
				typeKeys(fmt.Sprintf("\x15wrong-password-%d\r", i))
				resend = time.Now().Add(time.Second)
			}
			if time.Now().After(deadline) {
				t.Fatalf("wrong password %d is not audited; the session shows:\n%s", i, c.text())
			}
		}
		if !ended {
			lastFailure = time.Now()
		}
	}
	if !ended {
		select {
		case <-c.exited:
		case <-time.After(wait):
			t.Fatalf("the session is open after 10 wrong passwords; it shows:\n%s", c.text())
		}
	}
	lag := time.Since(lastFailure)
	if n := failedLoginsIn(t, ts.svc); n != failedLogins {
		t.Errorf("%d wrong passwords were checked before the backoff, want %d", n, failedLogins)
	}
	if lag > 500*time.Millisecond {
		t.Errorf("the session ended %s after the last failure", lag)
	}
	c.waitFor("too many failed logins from 127.0.0.1")
}

// failedLoginsIn counts the failed logins in the audit trail.
func failedLoginsIn(t *testing.T, svc *core.Service) int {
	t.Helper()
	events, err := svc.ListAudit(context.Background(), core.LocalOperator("test"), -1, 0, 100)
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
