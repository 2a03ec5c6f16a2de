package core

import (
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// TestStoreLocksByTheSchedule: the store's guards compute a lock in SQL (one
// statement counts and locks); on each engine they agree with lockUntil for
// every count from the first failure to disabling, each attempt made as the
// previous lock ends.
func TestStoreLocksByTheSchedule(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("bob")
	now := w.clock.Now()
	for n := 1; n <= disableMFAAfter; n++ {
		got, ok, err := db.ReserveMFAAttempt(w.ctx, w.db, w.bob.ID, now.UnixNano(), lockout, disableMFAAfter)
		if err != nil || !ok || got != n {
			t.Fatalf("attempt %d counted as %d, %t, %v", n, got, ok, err)
		}
		m := w.mfaRow(w.bob.ID)
		if want := lockUntil(now, n); m.LockedUntil != want {
			t.Fatalf("%d failures: store locks until %d, lockUntil says %d", n, m.LockedUntil, want)
		}
		if m.LockedUntil != 0 {
			now = time.Unix(0, m.LockedUntil)
		}
	}
	if _, ok, err := db.ReserveMFAAttempt(w.ctx, w.db, w.bob.ID, now.Add(time.Hour).UnixNano(), lockout, disableMFAAfter); ok || err != nil {
		t.Fatalf("a disabled MFA admitted an attempt: %t, %v", ok, err)
	}
}

// TestGuardsHoldAgainstAStaleRead: a code checked against an MFA row read
// before attempts elsewhere locked the user is refused by the store's guard
// itself, a TOTP code and a recovery code alike, and nothing is counted.
func TestGuardsHoldAgainstAStaleRead(t *testing.T) {
	w := newWorld(t)
	secret, recovery := w.enrollUser("bob")
	w.clock.Advance(totpPeriod * time.Second)
	stale := w.mfaRow(w.bob.ID)
	u, err := db.UserByID(w.ctx, w.db, w.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := w.clock.Now()
	for range lockAfter { // another host's wrong codes, after the read
		if _, _, err := db.ReserveMFAAttempt(w.ctx, w.db, u.ID, now.UnixNano(), lockout, disableMFAAfter); err != nil {
			t.Fatal(err)
		}
	}
	for _, typed := range []string{w.code(secret, 0), recovery[0]} {
		code, kind, err := parseCode(typed)
		if err != nil {
			t.Fatal(err)
		}
		err = w.tx(w.ctx, func(q db.Querier) error {
			_, err := w.checkCode(w.ctx, q, LocalOperator("local:test"), u, stale, code, kind)
			return err
		})
		lockedUntil(t, err, now.Add(firstLock))
	}
	if m := w.mfaRow(u.ID); m.Failures != lockAfter || m.LastStep != stale.LastStep {
		t.Errorf("after the refusals: %d failures, last step %d; want %d and %d", m.Failures, m.LastStep, lockAfter, stale.LastStep)
	}
	if left, _ := db.UnusedRecoveryCodes(w.ctx, w.db, u.ID); len(left) != len(recovery) {
		t.Errorf("a recovery code was spent while locked: %d left of %d", len(left), len(recovery))
	}
}
