package core

import (
	"errors"
	"testing"
)

// TestNewPasswordEndsOtherSessions: a password reset by an administrator ends
// every session of the user, and a user's own change ends all but the one
// that made it, as a stolen session must not outlive the password.
func TestNewPasswordEndsOtherSessions(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	bob1, bob2 := w.login("bob", StageSignedIn), w.login("bob", StageSignedIn)

	kept, err := w.ChangePassword(w.ctx, bob1, testPassword, "a brand new secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.MyMFA(w.ctx, kept); err != nil {
		t.Errorf("the session that changed the password: %v", err)
	}
	if _, err := w.MyMFA(w.ctx, bob2); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("another session after a password change: %v, want ErrSessionEnded", err)
	}
	if _, err := w.MyMFA(w.ctx, bob1); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("the old value of the changing session: %v, want ErrSessionEnded", err)
	}

	if err := w.ResetPassword(w.ctx, admin, w.bob.ID, testPassword, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.BeginEnrollment(w.ctx, kept); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("after an administrator's reset: %v, want ErrSessionEnded", err)
	}
	fresh, err := w.ChooseNewPassword(w.ctx, w.login("bob", StageNewPassword), "bob chose these words")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.MyMFA(w.ctx, fresh); err != nil {
		t.Errorf("a new login after the reset: %v", err)
	}
	// The administrator's own session is untouched by resetting someone else.
	if _, err := w.AccountDetails(w.ctx, admin, w.acme); err != nil {
		t.Errorf("the administrator's session: %v", err)
	}
}

// TestLogoutIsAudited: a signed-in session's end is in the trail; a session
// that never signed in, and the operator, leave nothing.
func TestLogoutIsAudited(t *testing.T) {
	w := newWorld(t)
	bob := w.login("bob", StageSignedIn)
	before := w.count("audit_events")
	for _, s := range []Session{{}, LocalOperator("local:test")} {
		if err := w.Logout(w.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.count("audit_events"); n != before {
		t.Fatalf("logouts without a user wrote %d events", n-before)
	}
	if err := w.Logout(w.ctx, bob); err != nil {
		t.Fatal(err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionLogout) || ev.TargetName != "bob" || ev.AccountID != w.acme {
		t.Errorf("last event %s on %q in account %d", ev.Action, ev.TargetName, ev.AccountID)
	}
}
