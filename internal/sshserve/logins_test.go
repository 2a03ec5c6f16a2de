package sshserve

import (
	"testing"
	"time"
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
