package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestStepUpForOthersMFAAndPassword: an administrator with MFA confirms with
// a current code of their own before removing another user's MFA or setting
// their password; without it, or with a wrong one, nothing changes, and a
// wrong one counts against the administrator's own codes.
func TestStepUpForOthersMFAAndPassword(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("bob")
	aliceSecret, _ := w.enrollUser("alice")
	admin := w.signIn("alice", aliceSecret)
	ops := map[string]func(code string) error{
		"RemoveUserMFA": func(code string) error { return errOf(w.RemoveUserMFA(w.ctx, admin, w.bob.ID, "lost phone", code)) },
		"ResetPassword": func(code string) error { return w.ResetPassword(w.ctx, admin, w.bob.ID, "a temporary secret", code) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			hash, mfa := w.userRow(w.bob.ID).PasswordHash, w.count("mfa")
			if err := op(""); !errors.Is(err, ErrStepUpRequired) {
				t.Errorf("without a code: %v, want ErrStepUpRequired", err)
			}
			w.clock.Advance(totpPeriod * time.Second)
			failures := w.mfaRow(w.alice.ID).Failures
			if err := op(w.wrongCode(aliceSecret)); !errors.Is(err, ErrInvalidCode) {
				t.Errorf("with a wrong code: %v, want ErrInvalidCode", err)
			}
			if got := w.mfaRow(w.alice.ID).Failures; got != failures+1 {
				t.Errorf("alice's code failures %d -> %d, want one more", failures, got)
			}
			if w.userRow(w.bob.ID).PasswordHash != hash || w.count("mfa") != mfa {
				t.Fatal("a refused step-up changed bob")
			}
			if err := op(w.code(aliceSecret, 0)); err != nil {
				t.Fatalf("with alice's code: %v", err)
			}
			if ev := w.lastAudit(); ev.TargetID != w.bob.ID || !strings.Contains(ev.Detail, "confirmed with the administrator's authenticator code") {
				t.Errorf("audit: %s %q", ev.Action, ev.Detail)
			}
		})
	}
	// The operator of the command line, and an administrator without MFA,
	// have no code to give.
	if err := errOf(w.RemoveUserMFA(w.ctx, LocalOperator("local:root"), w.carol.ID, "", "")); !errors.Is(err, ErrNoMFA) {
		t.Errorf("operator: %v, want ErrNoMFA (carol has none)", err)
	}
	gina := w.login("gina", StageSignedIn)
	if err := w.ResetPassword(w.ctx, gina, w.hank.ID, "a temporary secret", ""); err != nil {
		t.Errorf("administrator without MFA: %v", err)
	}
}

// TestRemovingYourOwnMFAAlwaysTakesACode: from the Users page as from My MFA,
// an administrator's own MFA goes only with a current code or recovery code,
// and where the account requires MFA the session goes back to set-up.
func TestRemovingYourOwnMFAAlwaysTakesACode(t *testing.T) {
	w := newWorld(t)
	secret, recovery := w.enrollUser("alice")
	admin := w.signIn("alice", secret)
	if _, err := w.SetRequireMFA(w.ctx, admin, w.acme, true); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"", "000000"} {
		if _, err := w.RemoveUserMFA(w.ctx, admin, w.alice.ID, "", code); err == nil || w.count("mfa") != 1 {
			t.Fatalf("own MFA removed with code %q: %v", code, err)
		}
	}
	sess, err := w.RemoveUserMFA(w.ctx, admin, w.alice.ID, "", recovery[0])
	if err != nil || sess.Stage() != StageSetupMFA {
		t.Fatalf("own MFA with a recovery code: stage %d, %v", sess.Stage(), err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionMFADeleted) || ev.TargetID != w.alice.ID {
		t.Errorf("audit: %s", ev.Action)
	}
}

// TestAdministratorsPasswordIsTemporary: a password set by an administrator
// must be replaced at the next login, after the code for a user with MFA, and
// not by itself; until then the user can do nothing else. Other sessions end.
func TestAdministratorsPasswordIsTemporary(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	before := w.login("bob", StageCode)
	if err := w.ResetPassword(w.ctx, w.login("alice", StageSignedIn), w.bob.ID, "a temporary secret", ""); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(totpPeriod * time.Second)
	if _, err := w.VerifyLoginCode(w.ctx, before, w.code(secret, 0)); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("a login waiting for its code when the password was reset: %v, want ErrSessionEnded", err)
	}
	sess, err := w.Login(w.ctx, "bob", "a temporary secret", "test")
	if err != nil || sess.Stage() != StageCode {
		t.Fatalf("login with the temporary password: stage %d, %v", sess.Stage(), err)
	}
	w.clock.Advance(totpPeriod * time.Second)
	if sess, err = w.VerifyLoginCode(w.ctx, sess, w.code(secret, 0)); err != nil || sess.Stage() != StageNewPassword {
		t.Fatalf("after the code: stage %d, %v; want StageNewPassword", sess.Stage(), err)
	}
	if _, err := w.ChooseNewPassword(w.ctx, sess, "a temporary secret"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("keeping the temporary password: %v, want an input error", err)
	}
	out, err := w.ChooseNewPassword(w.ctx, sess, "bob's very own words")
	if err != nil || out.Stage() != StageSignedIn {
		t.Fatalf("ChooseNewPassword: stage %d, %v", out.Stage(), err)
	}
	if _, err := w.MyMFA(w.ctx, out); err != nil {
		t.Errorf("signed in after choosing: %v", err)
	}
	if _, err := w.Login(w.ctx, "bob", "a temporary secret", "test"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("the temporary password after the change: %v", err)
	}
	if sess, err := w.Login(w.ctx, "bob", "bob's very own words", "test"); err != nil || sess.Stage() != StageCode {
		t.Errorf("the chosen password: stage %d, %v", sess.Stage(), err)
	}
	if u := w.userRow(w.bob.ID); u.MustChangePassword {
		t.Error("must_change_password still set")
	}
}

// TestResettingYourOwnPasswordIsRefused: an administrator changes their own
// password with the current one, never through a reset.
func TestResettingYourOwnPasswordIsRefused(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	hash := w.userRow(w.alice.ID).PasswordHash
	if err := w.ResetPassword(w.ctx, admin, w.alice.ID, "a new password here", ""); !errors.Is(err, ErrOwnPassword) || !errors.Is(err, ErrForbidden) {
		t.Errorf("own reset: %v", err)
	}
	if w.userRow(w.alice.ID).PasswordHash != hash {
		t.Error("own password reset")
	}
}
