package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

var pamSrc = PAMSource("203.0.113.5", "sshd")

func (w *world) pam(name, code string) (ExternalVerdict, error) {
	return w.VerifyExternalCode(w.ctx, ExternalCheck{Username: name, Code: code, Source: pamSrc})
}

func TestPAMSource(t *testing.T) {
	for _, c := range []struct{ rhost, service, want string }{
		{"203.0.113.5", "sshd", "pam:203.0.113.5 (sshd)"},
		{"2001:db8::1", "sshd", "pam:2001:db8::1 (sshd)"},
		{"", "", "pam:- (-)"},
		{"evil\x1b[31m.example", "sshd", "pam:evil�[31m.example (sshd)"},
	} {
		if got := PAMSource(c.rhost, c.service); got != c.want {
			t.Errorf("PAMSource(%q, %q) = %q, want %q", c.rhost, c.service, got, c.want)
		}
	}
}

// TestExternalCodeSharesTheConsoleRules: the code check of an SSH login is
// the console's: one step once, wrong codes counted on the same counter and
// locking both, recovery codes spent once, each answer audited from pam.
func TestExternalCodeSharesTheConsoleRules(t *testing.T) {
	w := newWorld(t)
	secret, recovery := w.enrollUser("bob")

	code := w.code(secret, 0)
	if v, err := w.pam("bob", code); err != nil || v != PassedCode {
		t.Fatalf("right code: %v, %v", v, err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionLogin) || ev.Source != pamSrc || ev.TargetName != "bob" {
		t.Errorf("audit of an accepted code: %+v", ev)
	}
	if _, err := w.pam("bob", code); !errors.Is(err, ErrCodeReused) {
		t.Fatalf("the same code again: %v, want ErrCodeReused", err)
	}
	// The console's login cannot use the step either.
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), code); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("the console with the code pam accepted: %v", err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionCodeFailed) || ev.Source != "test" {
		t.Errorf("the console's refusal: %+v", ev)
	}

	// A recovery code passes once.
	w.clock.Advance(time.Minute)
	if v, err := w.pam("bob", strings.ToUpper(recovery[0])); err != nil || v != PassedRecovery {
		t.Fatalf("recovery code: %v, %v", v, err)
	}
	if _, err := w.pam("bob", recovery[0]); !errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrCodeReused) {
		t.Fatalf("the recovery code again: %v, want ErrInvalidCode", err)
	}

	// Malformed input counts nothing.
	before := w.mfaRow(w.bob.ID).Failures
	for _, in := range []string{"", "12345", "1234567", "password123", "１２３４５６"} {
		if _, err := w.pam("bob", in); !errors.Is(err, ErrMalformedCode) {
			t.Errorf("%q: %v, want ErrMalformedCode", in, err)
		}
	}
	if got := w.mfaRow(w.bob.ID).Failures; got != before {
		t.Errorf("malformed input counted: failures %d -> %d", before, got)
	}
}

func TestExternalWrongCodesLockTheConsoleToo(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	wrong := w.wrongCode(secret)
	for i := range lockAfter {
		_, err := w.pam("bob", wrong)
		if !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	var locked *LockedError
	if _, err := w.pam("bob", w.code(secret, 0)); !errors.As(err, &locked) {
		t.Fatalf("right code after five wrong ones: %v, want a lock", err)
	}
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), w.code(secret, 0)); !errors.As(err, &locked) {
		t.Fatalf("the console after five wrong codes at SSH login: %v, want a lock", err)
	}
	st, err := w.ExternalStatus(w.ctx, "bob")
	if err != nil || st.LockedUntil.IsZero() || st.Failures != lockAfter || !errors.Is(st.LastRefusal, ErrInvalidCode) {
		t.Fatalf("status while locked: %+v, %v", st, err)
	}

	// And the other way round: the console's wrong codes lock SSH logins.
	w.clock.Advance(20 * time.Minute)
	if _, err := w.pam("bob", w.code(secret, 0)); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	sess := w.login("bob", StageCode)
	for range lockAfter {
		w.VerifyLoginCode(w.ctx, sess, wrong)
	}
	if _, err := w.pam("bob", w.code(secret, 1)); !errors.As(err, &locked) {
		t.Fatalf("SSH login after five wrong codes in the console: %v, want a lock", err)
	}
}

func TestExternalPolicy(t *testing.T) {
	w := newWorld(t)
	op := LocalOperator("local:test")
	secret, _ := w.enrollUser("carol")

	// No MFA, account not requiring it: passes, with any input (nullok).
	for _, in := range []string{"", "anything"} {
		if v, err := w.pam("bob", in); err != nil || v != PassedNoMFA {
			t.Fatalf("bob without MFA, %q: %v, %v", in, v, err)
		}
	}
	if ev := w.lastAudit(); ev.Action != string(ActionLogin) || !strings.Contains(ev.Detail, "no MFA") {
		t.Errorf("audit of a pass without MFA: %+v", ev)
	}
	// A set-up begun but not confirmed is no MFA.
	if _, err := w.BeginEnrollment(w.ctx, w.login("hank", StageSignedIn)); err != nil {
		t.Fatal(err)
	}
	if v, err := w.pam("hank", ""); err != nil || v != PassedNoMFA {
		t.Fatalf("hank with a pending set-up: %v, %v", v, err)
	}

	// The account requires MFA: bob is refused and it is audited; carol still passes with a code.
	if _, err := w.SetRequireMFA(w.ctx, op, w.acme, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.pam("bob", "123456"); !errors.Is(err, ErrMFARequired) {
		t.Fatalf("bob, account requiring MFA: %v", err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionLoginFailed) || ev.Source != pamSrc || ev.TargetName != "bob" {
		t.Errorf("audit of the refusal: %+v", ev)
	}
	if v, err := w.pam("carol", w.code(secret, 0)); err != nil || v != PassedCode {
		t.Fatalf("carol with MFA: %v, %v", v, err)
	}

	// Unknown names are refused unless allowed, and invalid names are unknown.
	for _, name := range []string{"nobody", "root", "a:b", strings.Repeat("x", 300), ""} {
		if _, err := w.pam(name, ""); !errors.Is(err, ErrUnknownUser) {
			t.Errorf("%q: %v, want ErrUnknownUser", name, err)
		}
		v, err := w.VerifyExternalCode(w.ctx, ExternalCheck{Username: name, Source: pamSrc, AllowUnknown: true})
		if err != nil || v != PassedUnknown {
			t.Errorf("%q allowed: %v, %v", name, v, err)
		}
	}
	// Usernames match case-insensitively, as at the console.
	if v, err := w.pam("CAROL", w.code(secret, 1)); err != nil || v != PassedCode {
		t.Fatalf("CAROL: %v, %v", v, err)
	}

	// A disabled user is refused, with or without MFA, allowed unknowns or not.
	yes := true
	for _, u := range []User{w.carol, w.hank} {
		if _, err := w.UpdateUser(w.ctx, op, u.ID, UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		_, err := w.VerifyExternalCode(w.ctx, ExternalCheck{Username: u.Username, Code: w.code(secret, 2), Source: pamSrc, AllowUnknown: true})
		if !errors.Is(err, ErrUserDisabled) {
			t.Errorf("disabled %s: %v", u.Username, err)
		}
	}
	if st, err := w.ExternalStatus(w.ctx, "carol"); err != nil || st.Known {
		t.Errorf("status of a disabled user: %+v, %v", st, err)
	}
}

func TestExternalStatusTellsWhyTheLastCodeFailed(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	st, err := w.ExternalStatus(w.ctx, "bob")
	if err != nil || !st.Known || !st.HasMFA || st.LastRefusal != nil || st.Failures != 0 {
		t.Fatalf("fresh: %+v, %v", st, err)
	}
	code := w.code(secret, 0)
	w.pam("bob", code)
	w.pam("bob", code)
	if st, _ := w.ExternalStatus(w.ctx, "bob"); !errors.Is(st.LastRefusal, ErrCodeReused) || st.Failures != 1 {
		t.Fatalf("after a reused code: %+v", st)
	}
	w.pam("bob", w.wrongCode(secret))
	if st, _ := w.ExternalStatus(w.ctx, "bob"); !errors.Is(st.LastRefusal, ErrInvalidCode) || errors.Is(st.LastRefusal, ErrCodeReused) || st.Failures != 2 {
		t.Fatalf("after a wrong code: %+v", st)
	}
	// A refusal in the console is not the SSH login's to explain.
	w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), w.wrongCode(secret))
	if st, _ := w.ExternalStatus(w.ctx, "bob"); st.LastRefusal != nil || st.Failures != 3 {
		t.Fatalf("after a wrong code in the console: %+v", st)
	}
	// An old refusal is forgotten; a success clears it.
	w.pam("bob", w.wrongCode(secret))
	w.clock.Advance(recentRefusal + time.Minute)
	if st, _ := w.ExternalStatus(w.ctx, "bob"); st.LastRefusal != nil {
		t.Fatalf("a refusal older than %v: %+v", recentRefusal, st)
	}
	if _, err := w.pam("bob", w.code(secret, 0)); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.ExternalStatus(w.ctx, "bob"); st.LastRefusal != nil || st.Failures != 0 {
		t.Fatalf("after a success: %+v", st)
	}
	if st, _ := w.ExternalStatus(w.ctx, "nobody"); st.Known {
		t.Fatalf("unknown: %+v", st)
	}
	if st, _ := w.ExternalStatus(w.ctx, "carol"); !st.Known || st.HasMFA || st.RequireMFA {
		t.Fatalf("carol: %+v", st)
	}
}

// TestExternalOneCodeTwoProcesses: two daemons checking one code at once,
// as two sshd logins would: exactly one passes.
func TestExternalOneCodeTwoProcesses(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	svcs := []*Service{w.Service, w.another(), w.another(), w.another()}
	for round := range 5 {
		code := w.code(secret, int64(round%2))
		var wg sync.WaitGroup
		errs := make([]error, len(svcs))
		for i, s := range svcs {
			wg.Go(func() {
				_, errs[i] = s.VerifyExternalCode(w.ctx, ExternalCheck{Username: "bob", Code: code, Source: pamSrc})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, ErrCodeReused) {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d processes accepted one code", round, ok)
		}
		w.clock.Advance(2 * totpPeriod * time.Second)
	}
}

// TestExternalRefusesWhatCannotBeRecorded: a database locked by another
// writer for longer than the caller waits refuses, a right code like a wrong one.
func TestExternalRefusesWhatCannotBeRecorded(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	other := w.another()
	tx, err := other.db.BeginTx(w.ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if dbtest.Postgres() { // a lock that stops readers too, as a stuck server would
		if _, err := tx.ExecContext(w.ctx, `LOCK TABLE mfa, name_buckets IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(w.ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := w.VerifyExternalCode(ctx, ExternalCheck{Username: "bob", Code: w.code(secret, 0), Source: pamSrc}); err == nil {
		t.Fatal("a right code passed while the database was locked")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing took %v", d)
	}
}

func TestOpenExistingCreatesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "smartmfa.db"), filepath.Join(dir, "smartmfa.key")
	if _, err := OpenExisting(ctx, dbPath, keyPath, Config{}); err == nil || !strings.Contains(err.Error(), "cannot be found") {
		t.Fatalf("no database: %v", err)
	}
	svc, err := Open(ctx, dbPath, keyPath, Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenExisting(ctx, dbPath, keyPath, Config{}); !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("no key: %v, want ErrKeyMissing", err)
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenExisting created a key file: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "smartmfa.db" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
