package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// enrolAtSSH shows name the SSH login's set-up and checks it is one.
func (w *world) enrolAtSSH(name string) *ExternalEnrollment {
	w.t.Helper()
	en, err := w.BeginExternalEnrollment(w.ctx, name, pamSrc)
	if err != nil || en == nil {
		w.t.Fatalf("BeginExternalEnrollment(%s): %v, %v", name, en, err)
	}
	if len(en.RecoveryCodes) != recoveryCodes || en.URI == "" || len(en.secret) != secretBytes {
		w.t.Fatalf("BeginExternalEnrollment(%s): %d recovery codes, URI %q", name, len(en.RecoveryCodes), en.URI)
	}
	return en
}

func (w *world) requireMFA(account int64, on bool) {
	w.t.Helper()
	if _, err := w.SetRequireMFA(w.ctx, LocalOperator("local:test"), account, on); err != nil {
		w.t.Fatal(err)
	}
}

// TestExternalEnrollmentOnlyWhereNeeded: nothing is shown to a user who has
// MFA, needs none, is disabled or unknown, and nothing is written for them.
func TestExternalEnrollmentOnlyWhereNeeded(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("carol")
	yes := true
	if _, err := w.UpdateUser(w.ctx, LocalOperator("local:test"), w.hank.ID, UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	w.requireMFA(w.globex, true)
	before := w.counts()
	for _, name := range []string{"bob", "carol", "hank", "nobody", "a:b", ""} {
		if en, err := w.BeginExternalEnrollment(w.ctx, name, pamSrc); en != nil || err != nil {
			t.Errorf("%q: %+v, %v; want nothing", name, en, err)
		}
	}
	w.requireMFA(w.acme, true)
	if en, _ := w.BeginExternalEnrollment(w.ctx, "carol", pamSrc); en != nil {
		t.Errorf("carol, who has MFA: %+v", en)
	}
	if after := w.counts(); after[1] != before[1] || w.count("recovery_codes") != recoveryCodes {
		t.Errorf("rows written for users who need no set-up: %v -> %v", before, after)
	}
	if en := w.enrolAtSSH("BOB"); en.Account != "smartnumbers:bob" {
		t.Errorf("bob's account in the app: %q", en.Account)
	}
}

// TestExternalEnrollmentAtSSHLogin is the SSH login's set-up from start to
// end: the same secret at each showing, new recovery codes each time, a
// wrong code counted and leaving the set-up pending, the right one
// activating MFA and the codes shown last, and the console's rules after.
func TestExternalEnrollmentAtSSHLogin(t *testing.T) {
	w := newWorld(t)
	w.requireMFA(w.acme, true)

	first := w.enrolAtSSH("bob")
	if first.Again || first.Status.Failures != 0 || first.Status.LastRefusal != nil {
		t.Errorf("the first showing: %+v", first)
	}
	if m := w.mfaRow(w.bob.ID); m.State != "pending" {
		t.Fatalf("mfa state %q, want pending", m.State)
	}
	ev := w.lastAudit()
	if ev.Action != string(ActionMFASetupStarted) || ev.Source != pamSrc || !strings.Contains(ev.Detail, "new secret") {
		t.Errorf("audit of the first showing: %+v", ev)
	}
	if st, _ := w.ExternalStatus(w.ctx, "bob"); !st.Enrolling || st.HasMFA {
		t.Errorf("status while enrolling: %+v", st)
	}
	// The recovery codes shown are no use yet, at SSH login or the console.
	if _, err := w.pam("bob", first.RecoveryCodes[0]); !errors.Is(err, ErrMalformedCode) {
		t.Errorf("a pending recovery code at SSH login: %v", err)
	}
	if left, _ := db.UnusedRecoveryCodes(w.ctx, w.db, w.bob.ID); len(left) != 0 {
		t.Errorf("%d usable recovery codes before the set-up is confirmed", len(left))
	}

	// A wrong code: counted, audited, the set-up still pending.
	if _, err := w.pam("bob", w.wrongCode(first.secret)); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("a wrong first code: %v", err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionCodeFailed) || ev.Source != pamSrc {
		t.Errorf("audit of the wrong code: %+v", ev)
	}
	// The next login shows the same secret, new recovery codes, and why.
	again := w.enrolAtSSH("bob")
	if !again.Again || again.URI != first.URI || again.SetupKey != first.SetupKey {
		t.Fatalf("the second showing is not the same set-up: %+v", again)
	}
	if slices.ContainsFunc(again.RecoveryCodes, func(c string) bool { return slices.Contains(first.RecoveryCodes, c) }) {
		t.Error("the second showing repeats a recovery code of the first")
	}
	if !errors.Is(again.Status.LastRefusal, ErrInvalidCode) || again.Status.Failures != 1 {
		t.Errorf("status shown again: %+v", again.Status)
	}
	if ev := w.lastAudit(); !strings.Contains(ev.Detail, "shown again") {
		t.Errorf("audit of the second showing: %+v", ev)
	}
	if n, _ := db.PendingRecoveryCodes(w.ctx, w.db, w.bob.ID); n != recoveryCodes {
		t.Errorf("%d pending recovery codes, want the %d shown last", n, recoveryCodes)
	}

	// The right code sets MFA up and lets the login pass.
	code := w.code(again.secret, 0)
	if v, err := w.pam("bob", code[:3]+" "+code[3:]); err != nil || v != PassedEnrolled {
		t.Fatalf("the right first code: %v, %v", v, err)
	}
	if m := w.mfaRow(w.bob.ID); m.State != "active" || m.Failures != 0 || m.EnabledAt == 0 {
		t.Errorf("mfa after set-up: %+v", m)
	}
	events, _ := db.ListAudit(w.ctx, w.db, w.acme, 0, 2)
	if events[0].Action != string(ActionLogin) || !strings.Contains(events[0].Detail, "MFA set up") ||
		events[1].Action != string(ActionMFAEnabled) || events[1].Source != pamSrc {
		t.Errorf("audit of the set-up: %+v", events)
	}
	if en, _ := w.BeginExternalEnrollment(w.ctx, "bob", pamSrc); en != nil {
		t.Errorf("a set-up shown to a user with MFA: %+v", en)
	}
	// From now on: the console's rules, the replay guard first.
	if _, err := w.pam("bob", code); !errors.Is(err, ErrCodeReused) {
		t.Errorf("the set-up's code again: %v", err)
	}
	w.login("bob", StageCode)
	if _, err := w.pam("bob", first.RecoveryCodes[1]); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("a recovery code of an earlier showing: %v", err)
	}
	if v, err := w.pam("bob", again.RecoveryCodes[1]); err != nil || v != PassedRecovery {
		t.Errorf("a recovery code shown last: %v, %v", v, err)
	}
	if _, err := w.pam("bob", again.RecoveryCodes[1]); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("the same recovery code again: %v", err)
	}
	for _, ev := range w.auditOf(w.acme) {
		for _, secret := range append([]string{strings.ReplaceAll(first.SetupKey, " ", ""), code}, again.RecoveryCodes...) {
			if strings.Contains(ev.Detail, secret) {
				t.Errorf("the trail holds a secret: %+v", ev)
			}
		}
	}
}

func (w *world) auditOf(account int64) []db.AuditEvent {
	w.t.Helper()
	events, err := db.ListAudit(w.ctx, w.db, account, 0, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	return events
}

// TestExternalEnrollmentLocks: wrong first codes lock the set-up as any
// code, the showing says so, and a hundred disable it until an
// administrator removes it.
func TestExternalEnrollmentLocks(t *testing.T) {
	w := newWorld(t)
	w.requireMFA(w.acme, true)
	en := w.enrolAtSSH("bob")
	for range 5 {
		if _, err := w.pam("bob", w.wrongCode(en.secret)); !errors.Is(err, ErrInvalidCode) {
			t.Fatal(err)
		}
	}
	if _, err := w.pam("bob", w.code(en.secret, 0)); !errors.Is(err, ErrLocked) {
		t.Fatalf("the right code while locked: %v", err)
	}
	shown := w.enrolAtSSH("bob")
	if shown.Status.LockedUntil.IsZero() || shown.URI != en.URI {
		t.Errorf("showing while locked: %+v", shown.Status)
	}
	w.clock.Advance(time.Minute)
	if v, err := w.pam("bob", w.code(en.secret, 0)); err != nil || v != PassedEnrolled {
		t.Fatalf("after the lock: %v, %v", v, err)
	}

	w.enrolAtSSH("carol")
	if _, err := w.db.ExecContext(w.ctx, `UPDATE mfa SET failures = ? WHERE user_id = ?`, disableMFAAfter, w.carol.ID); err != nil {
		t.Fatal(err)
	}
	pending := w.count("recovery_codes")
	dis, err := w.BeginExternalEnrollment(w.ctx, "carol", pamSrc)
	if err != nil || dis == nil || !dis.Status.MFADisabled || dis.URI != "" || dis.RecoveryCodes != nil {
		t.Fatalf("a set-up with %d wrong codes: %+v, %v", disableMFAAfter, dis, err)
	}
	if w.count("recovery_codes") != pending {
		t.Error("recovery codes drawn for a disabled set-up")
	}
}

// TestExternalEnrollmentAndTheConsole: a set-up begun in the console has no
// recovery codes shown, so an SSH login without pam-enrol still refuses; the
// next SSH showing reuses the console's secret; the console's own set-up
// replaces the codes an SSH login showed.
func TestExternalEnrollmentAndTheConsole(t *testing.T) {
	w := newWorld(t)
	w.requireMFA(w.acme, true)
	ssh := w.enrolAtSSH("bob")
	console, err := w.BeginEnrollment(w.ctx, w.login("bob", StageSetupMFA))
	if err != nil {
		t.Fatal(err)
	}
	if console.URI == ssh.URI {
		t.Fatal("the console's set-up reused the secret")
	}
	if n, _ := db.PendingRecoveryCodes(w.ctx, w.db, w.bob.ID); n != 0 {
		t.Errorf("%d recovery codes of the SSH showing left beside the console's new secret", n)
	}
	if _, err := w.pam("bob", w.code(console.secret, 0)); !errors.Is(err, ErrMFARequired) {
		t.Errorf("a code of the console's set-up at an SSH login without pam-enrol: %v", err)
	}
	if st, _ := w.ExternalStatus(w.ctx, "bob"); st.Enrolling {
		t.Errorf("a console set-up counts as enrolling at SSH: %+v", st)
	}
	if again := w.enrolAtSSH("bob"); again.URI != console.URI || !again.Again {
		t.Errorf("the SSH showing after the console's: %q, want the console's %q", again.URI, console.URI)
	}

	// The account stops requiring MFA: a pending SSH set-up is no MFA.
	w.requireMFA(w.acme, false)
	if v, err := w.pam("bob", ""); err != nil || v != PassedNoMFA {
		t.Errorf("not required any more: %v, %v", v, err)
	}
	if en, _ := w.BeginExternalEnrollment(w.ctx, "bob", pamSrc); en != nil {
		t.Error("a set-up shown where the account does not require MFA")
	}
}

// TestExternalEnrollmentOneCodeTwoProcesses: two logins sending the first
// code at once: one sets MFA up, the other is refused as a replay.
func TestExternalEnrollmentOneCodeTwoProcesses(t *testing.T) {
	w := newWorld(t)
	w.requireMFA(w.acme, true)
	en := w.enrolAtSSH("bob")
	svcs := []*Service{w.Service, w.another(), w.another(), w.another()}
	code := w.code(en.secret, 0)
	var wg sync.WaitGroup
	verdicts, errs := make([]ExternalVerdict, len(svcs)), make([]error, len(svcs))
	for i, s := range svcs {
		wg.Go(func() {
			verdicts[i], errs[i] = s.VerifyExternalCode(w.ctx, ExternalCheck{Username: "bob", Code: code, Source: pamSrc})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil && verdicts[i] == PassedEnrolled:
			ok++
		case !errors.Is(err, ErrCodeReused):
			t.Errorf("process %d: %v, %v", i, verdicts[i], err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d processes set MFA up with one code", ok)
	}
	if n := w.countWhere("recovery_codes", "pending = 0 AND used_at = 0"); n != recoveryCodes {
		t.Errorf("%d recovery codes, want %d", n, recoveryCodes)
	}
}

// TestExternalEnrollmentFailsClosedOnAWrongKey: a pending secret that does
// not decrypt for its row is not shown, and leaves a trace.
func TestExternalEnrollmentFailsClosedOnAWrongKey(t *testing.T) {
	w := newWorld(t)
	w.requireMFA(w.acme, true)
	w.enrolAtSSH("bob")
	w.enrolAtSSH("carol")
	// carol's sealed secret copied onto bob's row: its additional data differ.
	if _, err := w.db.ExecContext(w.ctx, `UPDATE mfa SET secret = (SELECT secret FROM mfa WHERE user_id = ?) WHERE user_id = ?`,
		w.carol.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if en, err := w.BeginExternalEnrollment(w.ctx, "bob", pamSrc); !errors.Is(err, ErrWrongKey) || en != nil {
		t.Fatalf("a secret of another row: %+v, %v", en, err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionSecretUnreadable) || ev.TargetName != "bob" {
		t.Errorf("no trace of the unreadable secret: %+v", ev)
	}
}

// TestExternalEnrollmentReadsForUsersWhoNeedNone: pam-enrol runs at every
// SSH login; for the users who need no set-up it only reads, so it neither
// waits for nor takes the write lock another process holds.
func TestExternalEnrollmentReadsForUsersWhoNeedNone(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("carol")
	w.requireMFA(w.acme, true)
	other := w.another()
	tx, err := other.db.BeginTx(w.ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ctx, cancel := context.WithTimeout(w.ctx, 2*time.Second)
	defer cancel()
	for _, name := range []string{"carol", "hank", "nobody"} {
		start := time.Now()
		if en, err := w.BeginExternalEnrollment(ctx, name, pamSrc); en != nil || err != nil {
			t.Errorf("%s while another process writes: %+v, %v", name, en, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s waited %v for the write lock", name, d)
		}
	}
}
