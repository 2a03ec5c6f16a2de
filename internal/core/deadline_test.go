package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDaysLeft(t *testing.T) {
	now := testStart
	for _, c := range []struct {
		left time.Duration
		want int
	}{
		{-time.Hour, 0},
		{0, 0},
		{time.Nanosecond, 1},
		{23 * time.Hour, 1},
		{24 * time.Hour, 1},
		{24*time.Hour + time.Second, 2},
		{7 * 24 * time.Hour, 7},
		{7*24*time.Hour - time.Minute, 7},
	} {
		if got := DaysLeft(now.Add(c.left), now); got != c.want {
			t.Errorf("DaysLeft(now+%v) = %d, want %d", c.left, got, c.want)
		}
	}
}

// TestEnrolmentDeadline: before the deadline a user without MFA is sent to
// set-up but may postpone it; at and after it set-up is forced, as with no
// deadline.
func TestEnrolmentDeadline(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	deadline := testStart.Add(3*24*time.Hour + time.Hour)
	without, err := w.SetRequireMFAFrom(w.ctx, admin, w.acme, true, deadline)
	if err != nil || without != 3 {
		t.Fatalf("SetRequireMFAFrom = %d, %v; want 3 users without MFA", without, err)
	}
	if a, err := w.GetAccount(w.ctx, admin, w.acme); err != nil || !a.RequireMFA || !a.RequireMFAFrom.Equal(deadline) {
		t.Fatalf("stored: %+v, %v", a, err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionRequireMFA) ||
		!strings.Contains(ev.Detail, "false -> true from "+deadline.Format("2006-01-02 15:04 MST")) {
		t.Errorf("audit: %+v", ev)
	}

	for _, c := range []struct {
		name    string
		at      time.Time
		skip    bool
		daysFor int
	}{
		{"four days before", testStart, true, 4},
		{"a day and an hour before", deadline.Add(-25 * time.Hour), true, 2},
		{"a second before", deadline.Add(-time.Second), true, 1},
		{"at", deadline, false, 0},
		{"after", deadline.Add(time.Hour), false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.clock.Set(c.at)
			sess := w.login("bob", StageSetupMFA)
			grace, ok, err := w.SetupGrace(w.ctx, sess)
			if err != nil || ok != c.skip || grace.DaysLeft != c.daysFor {
				t.Fatalf("SetupGrace = %+v, %t, %v; want %t, %d days", grace, ok, err, c.skip, c.daysFor)
			}
			out, err := w.SkipMFASetup(w.ctx, sess)
			if !c.skip {
				if !errors.Is(err, ErrMFARequired) || out.Stage() != StageSetupMFA {
					t.Fatalf("SkipMFASetup after the deadline = %v, %v; want ErrMFARequired", out.Stage(), err)
				}
				return
			}
			if err != nil || out.Stage() != StageSignedIn {
				t.Fatalf("SkipMFASetup = %v, %v", out.Stage(), err)
			}
			if ev := w.lastAudit(); ev.Action != string(ActionLogin) || !strings.Contains(ev.Detail, "postponed") {
				t.Errorf("audit of the skip: %+v", ev)
			}
			// Signed in without MFA, bob can still set it up from My MFA.
			if _, err := w.BeginEnrollment(w.ctx, out); err != nil {
				t.Errorf("BeginEnrollment after skipping: %v", err)
			}
		})
	}

	// Only a session at set-up skips it.
	w.clock.Set(testStart)
	if _, err := w.SkipMFASetup(w.ctx, admin); !errors.Is(err, ErrForbidden) {
		t.Errorf("SkipMFASetup of a signed-in session: %v", err)
	}
	if _, ok, _ := w.SetupGrace(w.ctx, admin); ok {
		t.Error("SetupGrace of a signed-in session")
	}
	// Requiring MFA at once ends the grace, and is audited with both values.
	if _, err := w.SetRequireMFA(w.ctx, admin, w.acme, true); err != nil {
		t.Fatal(err)
	}
	if ev := w.lastAudit(); !strings.Contains(ev.Detail, "true from "+deadline.Format("2006-01-02 15:04 MST")+" -> true;") {
		t.Errorf("audit of ending the grace: %+v", ev)
	}
	sess := w.login("bob", StageSetupMFA)
	if _, err := w.SkipMFASetup(w.ctx, sess); !errors.Is(err, ErrMFARequired) {
		t.Errorf("SkipMFASetup with MFA required at once: %v", err)
	}
}

func TestEnrolmentDeadlineRefusals(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	for _, c := range []struct {
		name string
		on   bool
		from time.Time
	}{
		{"past", true, testStart.Add(-time.Hour)},
		{"now", true, testStart},
		{"with the requirement off", false, testStart.Add(time.Hour)},
	} {
		if _, err := w.SetRequireMFAFrom(w.ctx, admin, w.acme, c.on, c.from); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", c.name, err)
		}
	}
	if a, _ := w.GetAccount(w.ctx, admin, w.acme); a.RequireMFA || !a.RequireMFAFrom.IsZero() {
		t.Errorf("a refused change was stored: %+v", a)
	}
	// Another account's administrator does not see Acme.
	if _, err := w.SetRequireMFAFrom(w.ctx, w.login("gina", StageSignedIn), w.acme, true, testStart.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("gina on Acme: %v", err)
	}
	// Turning the requirement off clears the deadline.
	if _, err := w.SetRequireMFAFrom(w.ctx, admin, w.acme, true, testStart.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SetRequireMFA(w.ctx, admin, w.acme, false); err != nil {
		t.Fatal(err)
	}
	if a, _ := w.GetAccount(w.ctx, admin, w.acme); a.RequireMFA || !a.RequireMFAFrom.IsZero() {
		t.Errorf("off kept the deadline: %+v", a)
	}
}

// TestExternalPolicyDeadline: at an SSH login a user without MFA passes until
// the deadline, told how many days are left, and is refused from it on.
func TestExternalPolicyDeadline(t *testing.T) {
	w := newWorld(t)
	op := LocalOperator("local:test")
	secret, _ := w.enrollUser("carol")
	deadline := testStart.Add(2 * 24 * time.Hour)
	if _, err := w.SetRequireMFAFrom(w.ctx, op, w.acme, true, deadline); err != nil {
		t.Fatal(err)
	}
	if v, err := w.pam("bob", ""); err != nil || v != PassedGrace {
		t.Fatalf("bob before the deadline: %v, %v", v, err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionLogin) || !strings.Contains(ev.Detail, "(2 days left") {
		t.Errorf("audit of a pass in the grace: %+v", ev)
	}
	st, err := w.ExternalStatus(w.ctx, "bob")
	if err != nil || !st.RequireMFA || !st.RequiredFrom.Equal(deadline) || st.DaysLeft != 2 {
		t.Errorf("ExternalStatus of bob: %+v, %v", st, err)
	}
	if st, _ := w.ExternalStatus(w.ctx, "carol"); !st.RequiredFrom.IsZero() {
		t.Errorf("carol has MFA, yet: %+v", st)
	}
	if v, err := w.pam("carol", w.code(secret, 0)); err != nil || v != PassedCode {
		t.Fatalf("carol with MFA before the deadline: %v, %v", v, err)
	}

	w.clock.Set(deadline)
	if _, err := w.pam("bob", ""); !errors.Is(err, ErrMFARequired) {
		t.Fatalf("bob at the deadline: %v", err)
	}
	if st, _ := w.ExternalStatus(w.ctx, "bob"); !st.RequiredFrom.IsZero() || !st.RequireMFA {
		t.Errorf("ExternalStatus of bob after the deadline: %+v", st)
	}
	w.clock.Set(deadline.Add(time.Hour))
	if _, err := w.pam("bob", "123456"); !errors.Is(err, ErrMFARequired) {
		t.Fatalf("bob after the deadline: %v", err)
	}
}

// TestExternalEnrollmentBeforeDeadline: the set-up shown at an SSH login
// before the deadline says how long is left; an empty answer passes, the
// first code finishes the set-up.
func TestExternalEnrollmentBeforeDeadline(t *testing.T) {
	w := newWorld(t)
	deadline := testStart.Add(36 * time.Hour)
	if _, err := w.SetRequireMFAFrom(w.ctx, LocalOperator("local:test"), w.acme, true, deadline); err != nil {
		t.Fatal(err)
	}
	en := w.enrolAtSSH("bob")
	if !en.Status.RequiredFrom.Equal(deadline) || en.Status.DaysLeft != 2 {
		t.Errorf("status of the set-up: %+v", en.Status)
	}
	if v, err := w.pam("bob", ""); err != nil || v != PassedGrace {
		t.Fatalf("bob pressing Enter: %v, %v", v, err)
	}
	en = w.enrolAtSSH("bob")
	if v, err := w.pam("bob", w.code(en.secret, 0)); err != nil || v != PassedEnrolled {
		t.Fatalf("bob's first code: %v, %v", v, err)
	}
}
