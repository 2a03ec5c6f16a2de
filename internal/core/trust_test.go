package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestTrustedOrigin: strangers who guess alice's password from elsewhere lock
// her out there, not where she signed in within 30 days; past 30 days without
// a sign-in, that place is a stranger's again.
func TestTrustedOrigin(t *testing.T) {
	w := newWorld(t)
	const home = "ssh:127.0.0.1:41000 (alice)" // the jump host's alice, any port
	w.signIn("alice", nil)                     // from "test": trusted there only
	if _, err := w.Login(w.ctx, "alice", testPassword, home); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		w.Login(w.ctx, "alice", "stranger's guess", "ssh:203.0.113.66:5000")
	}
	if _, err := w.Login(w.ctx, "alice", testPassword, "ssh:203.0.113.67:5000"); !errors.Is(err, ErrLocked) {
		t.Fatalf("from a stranger's address: %v, want locked", err)
	}
	sess, err := w.Login(w.ctx, "alice", testPassword, "ssh:127.0.0.1:52000 (alice)")
	if err != nil || sess.Stage() != StageSignedIn {
		t.Fatalf("from where she signs in, another port: %v", err)
	}
	if _, err := w.Login(w.ctx, "alice", testPassword, "ssh:127.0.0.1:52000 (mallory)"); !errors.Is(err, ErrLocked) {
		t.Errorf("another local user of the jump host is a stranger: %v", err)
	}
	// Her own typos at home lock her at home after five, and only there.
	for range lockAfter {
		w.Login(w.ctx, "alice", "typo", home)
	}
	if _, err := w.Login(w.ctx, "alice", testPassword, home); !errors.Is(err, ErrLocked) {
		t.Errorf("five typos at home: %v, want locked", err)
	}
	if _, err := w.Login(w.ctx, "alice", testPassword, "test"); err != nil {
		t.Errorf("another trusted place is not locked by typos at home: %v", err)
	}
	// 31 days later with no sign-in from home, home is like anywhere else.
	w.clock.Advance(31 * 24 * time.Hour)
	for range lockAfter {
		w.Login(w.ctx, "alice", "stranger's guess", "ssh:203.0.113.66:5000")
	}
	if _, err := w.Login(w.ctx, "alice", testPassword, home); !errors.Is(err, ErrLocked) {
		t.Errorf("a month after the last sign-in: %v, want the stranger's lock", err)
	}
}

// TestTrustNeedsAFullSignIn: a right password alone does not trust a place
// while a code is still due.
func TestTrustNeedsAFullSignIn(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	const src = "ssh:198.51.100.20:1000"
	if _, err := w.Login(w.ctx, "bob", testPassword, src); err != nil {
		t.Fatal(err)
	}
	for range lockAfter {
		w.Login(w.ctx, "bob", "guess", "ssh:198.51.100.21:1000")
	}
	if _, err := w.Login(w.ctx, "bob", testPassword, src); !errors.Is(err, ErrLocked) {
		t.Fatalf("password without its code trusted the place: %v", err)
	}
	w.clock.Advance(maxLock)
	sess, err := w.Login(w.ctx, "bob", testPassword, src)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(totpPeriod * time.Second)
	if _, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, 0)); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		w.Login(w.ctx, "bob", "guess", "ssh:198.51.100.21:1000")
	}
	if _, err := w.Login(w.ctx, "bob", testPassword, src); err != nil {
		t.Errorf("after a full sign-in, strangers locked bob out there: %v", err)
	}
}

// TestHashGateOrder: with every slot busy, waiters are let in by priority,
// each priority in arrival order, whatever order they came in; a waiter that
// gives up leaves its place.
func TestHashGateOrder(t *testing.T) {
	g := newHashGate(1)
	ctx := context.Background()
	if err := g.acquire(ctx, prioGuessing); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	waiting := func(n int) {
		waitFor(t, func() bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			return g.queued() == n
		})
	}
	enter := func(name string, prio int) {
		wg.Go(func() {
			if err := g.acquire(ctx, prio); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			g.release()
		})
	}
	arrivals := []struct {
		name string
		prio int
	}{{"guess 1", prioGuessing}, {"new 1", prioNewPlace}, {"guess 2", prioGuessing}, {"trusted", prioTrusted}, {"new 2", prioNewPlace}}
	for i, a := range arrivals {
		enter(a.name, a.prio)
		waiting(i + 1)
	}
	gone, cancel := context.WithCancel(ctx)
	go func() { _ = g.acquire(gone, prioTrusted) }()
	waiting(len(arrivals) + 1)
	cancel()
	waiting(len(arrivals))
	g.release()
	wg.Wait()
	want := []string{"trusted", "new 1", "new 2", "guess 1", "guess 2"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if g.free != 1 {
		t.Errorf("%d free slots after all left, want 1", g.free)
	}
}

// TestGuessingPlacesWaitLast: a place whose password failed within
// guessingFor is served after places with none.
func TestGuessingPlacesWaitLast(t *testing.T) {
	w := newWorld(t)
	const guesser, newcomer = "ssh:203.0.113.5:1", "ssh:198.51.100.5:1"
	w.Login(w.ctx, "nobody", "guess", guesser)
	for src, want := range map[string]int{guesser: prioGuessing, newcomer: prioNewPlace} {
		if got := w.priority(attempt{}, originOf(src)); got != want {
			t.Errorf("%s: priority %d, want %d", src, got, want)
		}
	}
	if got := w.priority(attempt{userID: 1}, originOf(guesser)); got != prioTrusted {
		t.Errorf("a trusted attempt: priority %d", got)
	}
	w.clock.Advance(guessingFor + time.Second)
	if got := w.priority(attempt{}, originOf(guesser)); got != prioNewPlace {
		t.Errorf("after %s quiet: priority %d", guessingFor, got)
	}
}
