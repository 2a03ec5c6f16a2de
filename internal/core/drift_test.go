package core

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// checkDriftFailure checks what a refused code left behind: one failure
// counted, the accepted step where it was, and a failed-code audit event that
// gives the drift (or none) and never the code.
func checkDriftFailure(t *testing.T, w *world, userID, lastStep int64, failures int, code, wantDetail string) {
	t.Helper()
	m := w.mfaRow(userID)
	if m.Failures != failures {
		t.Errorf("failures = %d, want %d", m.Failures, failures)
	}
	if m.LastStep != lastStep {
		t.Errorf("last step moved from %d to %d", lastStep, m.LastStep)
	}
	ev := w.lastAudit()
	if ev.Action != string(ActionCodeFailed) || ev.Detail != wantDetail {
		t.Errorf("audit %s %q, want %s %q", ev.Action, ev.Detail, ActionCodeFailed, wantDetail)
	}
	if strings.Contains(ev.Detail, code) {
		t.Errorf("audit detail %q holds the code %s", ev.Detail, code)
	}
}

// TestClockDriftAtLogin: a code of a step just outside the accepted window,
// and up to driftSearch steps away, is refused, counted and explained; one
// step further it is only refused. Nothing is accepted and the accepted step
// stays, so the phone's current code still signs in afterwards.
func TestClockDriftAtLogin(t *testing.T) {
	cases := []struct {
		off    int64
		want   string // the message; "" for a plain wrong code
		detail string
	}{
		{totpSkew + 1, "This code would be right about 1 minute from now: your phone's clock is about 1 minute ahead. Set it to automatic time.",
			"wrong code (1 in a row); the phone's clock is 1m0s ahead (2 steps)"},
		{-totpSkew - 1, "This code was right about 1 minute ago: your phone's clock is about 1 minute behind. Set it to automatic time.",
			"wrong code (1 in a row); the phone's clock is 1m0s behind (2 steps)"},
		{driftSearch, "This code would be right about 5 minutes from now: your phone's clock is about 5 minutes ahead. Set it to automatic time.",
			"wrong code (1 in a row); the phone's clock is 5m0s ahead (10 steps)"},
		{-driftSearch, "This code was right about 5 minutes ago: your phone's clock is about 5 minutes behind. Set it to automatic time.",
			"wrong code (1 in a row); the phone's clock is 5m0s behind (10 steps)"},
		{driftSearch + 1, "", "wrong code (1 in a row)"},
		{-driftSearch - 1, "", "wrong code (1 in a row)"},
	}
	for _, c := range cases {
		// At a step's first and last instant: the search is by steps.
		for _, within := range []time.Duration{0, totpPeriod*time.Second - time.Nanosecond} {
			t.Run(fmt.Sprintf("%+d steps, %v into the step", c.off, within), func(t *testing.T) {
				w := newWorld(t)
				secret, _ := w.enrollUser("bob")
				w.clock.Set(testStart.Add(time.Hour + within))
				last := w.mfaRow(w.bob.ID).LastStep
				sess := w.login("bob", StageCode)
				code := w.code(secret, c.off)
				if w.code(secret, 0) == code {
					t.Skip("the two steps share a code")
				}
				out, err := w.VerifyLoginCode(w.ctx, sess, code)
				if !errors.Is(err, ErrInvalidCode) || out.Stage() != StageCode {
					t.Fatalf("code of step %+d: %v, stage %d; want refused", c.off, err, out.Stage())
				}
				var drift *ClockDriftError
				switch {
				case c.want == "" && errors.As(err, &drift):
					t.Fatalf("code of step %+d explained: %v", c.off, err)
				case c.want != "" && (!errors.As(err, &drift) || err.Error() != c.want):
					t.Fatalf("code of step %+d: %q, want %q", c.off, err, c.want)
				case c.want != "" && drift.Drift != time.Duration(c.off)*totpPeriod*time.Second:
					t.Errorf("drift %v, want %d steps", drift.Drift, c.off)
				}
				checkDriftFailure(t, w, w.bob.ID, last, 1, code, c.detail)
				if _, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, 0)); err != nil {
					t.Fatalf("the current code after the drift: %v", err)
				}
			})
		}
	}
}

// TestClockDriftAtEnrolment: a failing first code is explained the same way;
// the set-up stays pending until a right code.
func TestClockDriftAtEnrolment(t *testing.T) {
	for _, off := range []int64{-4, 4} {
		t.Run(fmt.Sprintf("%+d steps", off), func(t *testing.T) {
			w := newWorld(t)
			sess := w.login("bob", StageSignedIn)
			en, err := w.BeginEnrollment(w.ctx, sess)
			if err != nil {
				t.Fatal(err)
			}
			last := w.mfaRow(w.bob.ID).LastStep
			code := w.code(en.secret, off)
			_, _, err = w.ConfirmEnrollment(w.ctx, sess, code)
			var drift *ClockDriftError
			if !errors.As(err, &drift) || drift.Drift != time.Duration(off)*totpPeriod*time.Second || drift.Minutes() != 2 {
				t.Fatalf("first code of step %+d: %v; want a drift of 2 minutes", off, err)
			}
			dir := map[bool]string{true: "ahead", false: "behind"}[off > 0]
			checkDriftFailure(t, w, w.bob.ID, last, 1, code,
				"wrong code (1 in a row); the phone's clock is 2m0s "+dir+" (4 steps)")
			if st := w.mfaRow(w.bob.ID).State; st != "pending" {
				t.Fatalf("state %s after a drifted first code, want pending", st)
			}
			if _, _, err := w.ConfirmEnrollment(w.ctx, sess, w.code(en.secret, 0)); err != nil {
				t.Fatalf("the right first code: %v", err)
			}
		})
	}
}

// TestClockDriftNoOracle: a later step is explained only for the first
// lockAfter wrong codes in a row (a guesser could send such a code again when
// its step comes); an earlier step always, except one at or before the last
// accepted step, which is a code seen before rather than a clock.
func TestClockDriftNoOracle(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	w.clock.Set(testStart.Add(time.Hour))
	sess := w.login("bob", StageCode)
	for i := range lockAfter {
		w.clock.Advance(time.Second)
		_, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, 3))
		var drift *ClockDriftError
		if !errors.As(err, &drift) || !drift.Ahead() {
			t.Fatalf("wrong code %d, 3 steps ahead: %v; want explained", i+1, err)
		}
	}
	w.clock.Advance(time.Hour) // past the lock
	last := w.mfaRow(w.bob.ID).LastStep
	code := w.code(secret, 3)
	_, err := w.VerifyLoginCode(w.ctx, sess, code)
	var drift *ClockDriftError
	if !errors.Is(err, ErrInvalidCode) || errors.As(err, &drift) {
		t.Fatalf("wrong code %d, 3 steps ahead: %v; want a plain refusal", lockAfter+1, err)
	}
	checkDriftFailure(t, w, w.bob.ID, last, lockAfter+1, code, fmt.Sprintf("wrong code (%d in a row)", lockAfter+1))
	w.clock.Advance(time.Hour)
	if _, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, -3)); !errors.As(err, &drift) || drift.Ahead() {
		t.Fatalf("wrong code %d, 3 steps behind: %v; want explained", lockAfter+2, err)
	}

	// A code accepted 3 steps ago, typed again, is no drift.
	w2 := newWorld(t)
	secret2, _ := w2.enrollUser("bob")
	w2.signIn("bob", secret2)
	old := w2.code(secret2, 0) // the code signIn was accepted with
	w2.clock.Advance(3 * totpPeriod * time.Second)
	sess2 := w2.login("bob", StageCode)
	if _, err := w2.VerifyLoginCode(w2.ctx, sess2, old); !errors.Is(err, ErrInvalidCode) || errors.As(err, &drift) {
		t.Fatalf("an accepted code typed again 3 steps later: %v; want a plain refusal", err)
	}
}

// TestClockDriftWording: minutes are the drift rounded to the nearest,
// half up, and never under 1.
func TestClockDriftWording(t *testing.T) {
	for _, c := range []struct {
		drift time.Duration
		want  string
	}{
		{60 * time.Second, "This code would be right about 1 minute from now: your phone's clock is about 1 minute ahead. Set it to automatic time."},
		{89 * time.Second, "This code would be right about 1 minute from now: your phone's clock is about 1 minute ahead. Set it to automatic time."},
		{90 * time.Second, "This code would be right about 2 minutes from now: your phone's clock is about 2 minutes ahead. Set it to automatic time."},
		{-150 * time.Second, "This code was right about 3 minutes ago: your phone's clock is about 3 minutes behind. Set it to automatic time."},
		{-20 * time.Second, "This code was right about 1 minute ago: your phone's clock is about 1 minute behind. Set it to automatic time."},
	} {
		if got := (&ClockDriftError{Drift: c.drift}).Error(); got != c.want {
			t.Errorf("%v: %q, want %q", c.drift, got, c.want)
		}
	}
}

// TestClockDriftAtSSHLogin: pam-verify gets the same error, and the notice
// before the next code prompt reads the drift back from the audit trail.
func TestClockDriftAtSSHLogin(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	w.clock.Advance(time.Hour) // the enrolment's step is well behind
	_, err := w.pam("bob", w.code(secret, -5))
	var drift *ClockDriftError
	if !errors.As(err, &drift) || drift.Drift != -5*totpPeriod*time.Second {
		t.Fatalf("a code 5 steps behind at an SSH login: %v", err)
	}
	st, err := w.ExternalStatus(w.ctx, "bob")
	if err != nil || !errors.As(st.LastRefusal, &drift) || drift.Drift != -5*totpPeriod*time.Second || st.Failures != 1 {
		t.Fatalf("ExternalStatus: %+v, %v; want the drift of the last refusal", st, err)
	}
	if err := refusalOf("wrong code (3 in a row)"); err != ErrInvalidCode {
		t.Errorf("refusalOf a plain wrong code: %v", err)
	}
}
