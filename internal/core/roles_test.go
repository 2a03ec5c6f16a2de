package core

import (
	"errors"
	"testing"
)

// adminOps are the operations an administrator may call on their account;
// each returns the error of one call as alice's session would make it.
func adminOps(w *world) map[string]func(s Session) error {
	name := "X"
	role := RoleUser
	return map[string]func(s Session) error{
		"AccountDetails": func(s Session) error { _, err := w.AccountDetails(w.ctx, s, w.acme); return err },
		"SetRequireMFA":  func(s Session) error { _, err := w.SetRequireMFA(w.ctx, s, w.acme, false); return err },
		"SearchUsers":    func(s Session) error { _, err := w.SearchUsers(w.ctx, s, w.acme, UserQuery{}); return err },
		"FindAccount":    func(s Session) error { _, err := w.FindAccount(w.ctx, s, "Acme"); return err },
		"ListAudit":      func(s Session) error { _, err := w.ListAudit(w.ctx, s, w.acme, 0, 5); return err },
		"GetUser":        func(s Session) error { _, err := w.GetUser(w.ctx, s, w.bob.ID); return err },
		"FindUser":       func(s Session) error { _, err := w.FindUser(w.ctx, s, "bob"); return err },
		"UpdateUser": func(s Session) error {
			_, err := w.UpdateUser(w.ctx, s, w.bob.ID, UserUpdate{DisplayName: &name, Role: &role})
			return err
		},
		"CreateUser": func(s Session) error {
			_, err := w.CreateUser(w.ctx, s, w.acme, NewUser{Username: "zed", Password: testPassword}, w.stepUpCode(s))
			return err
		},
		"ResetPassword": func(s Session) error {
			return w.ResetPassword(w.ctx, s, w.bob.ID, "another long password", w.stepUpCode(s))
		},
		"RemoveUserMFA": func(s Session) error { return errOf(w.RemoveUserMFA(w.ctx, s, w.bob.ID, "", w.stepUpCode(s))) },
	}
}

func expectAdminOps(t *testing.T, w *world, s Session, want error) {
	t.Helper()
	for name, op := range adminOps(w) {
		if err := op(s); want == nil && err != nil && !errors.Is(err, ErrNoMFA) || want != nil && !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
}

// TestUnfinishedLoginsAreNotAdmins: a session waiting for its code, or
// limited to MFA set-up, reaches no administrator operation.
func TestUnfinishedLoginsAreNotAdmins(t *testing.T) {
	t.Run("StageCode", func(t *testing.T) {
		w := newWorld(t)
		secret, _ := w.enrollUser("alice")
		sess := w.login("alice", StageCode)
		if sess.IsAdmin() {
			t.Error("IsAdmin at StageCode")
		}
		expectAdminOps(t, w, sess, ErrForbidden)
		for name, err := range map[string]error{
			"MyMFA":           second(w.MyMFA(w.ctx, sess)),
			"BeginEnrollment": second(w.BeginEnrollment(w.ctx, sess)),
			"GetUser self":    second(w.GetUser(w.ctx, sess, sess.UserID())),
			"ChangePassword":  errOf(w.ChangePassword(w.ctx, sess, testPassword, "another long password")),
			"DeleteMyMFA":     second(w.DeleteMyMFA(w.ctx, sess, w.code(secret, 0))),
		} {
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("%s at StageCode: %v, want ErrForbidden", name, err)
			}
		}
	})
	t.Run("StageSetupMFA", func(t *testing.T) {
		w := newWorld(t)
		if _, err := w.SetRequireMFA(w.ctx, w.login("alice", StageSignedIn), w.acme, true); err != nil {
			t.Fatal(err)
		}
		sess := w.login("alice", StageSetupMFA)
		if sess.IsAdmin() {
			t.Error("IsAdmin at StageSetupMFA")
		}
		expectAdminOps(t, w, sess, ErrForbidden)
		if _, err := w.ChangePassword(w.ctx, sess, testPassword, "another long password"); !errors.Is(err, ErrForbidden) {
			t.Errorf("ChangePassword at StageSetupMFA: %v", err)
		}
		if st, err := w.MyMFA(w.ctx, sess); err != nil || st.State != "none" {
			t.Errorf("MyMFA at StageSetupMFA: %+v, %v", st, err)
		}
		en, err := w.BeginEnrollment(w.ctx, sess)
		if err != nil {
			t.Fatal(err)
		}
		_, sess, err = w.ConfirmEnrollment(w.ctx, sess, w.code(en.secret, 0))
		if err != nil || sess.Stage() != StageSignedIn || !sess.IsAdmin() {
			t.Fatalf("ConfirmEnrollment: stage %d, %v", sess.Stage(), err)
		}
		w.secrets["alice"] = en.secret // her own code confirms what she does to others
		expectAdminOps(t, w, sess, nil)
	})
	t.Run("StageNewPassword", func(t *testing.T) {
		w := newWorld(t)
		if err := w.ResetPassword(w.ctx, w.login("alice", StageSignedIn), w.carol.ID, testPassword, ""); err != nil {
			t.Fatal(err)
		}
		op := LocalOperator("local:test")
		admin := RoleAdmin
		if _, err := w.UpdateUser(w.ctx, op, w.carol.ID, UserUpdate{Role: &admin}); err != nil {
			t.Fatal(err)
		}
		sess := w.login("carol", StageNewPassword)
		if sess.IsAdmin() {
			t.Error("IsAdmin at StageNewPassword")
		}
		expectAdminOps(t, w, sess, ErrForbidden)
		for name, err := range map[string]error{
			"MyMFA":           second(w.MyMFA(w.ctx, sess)),
			"BeginEnrollment": second(w.BeginEnrollment(w.ctx, sess)),
			"ChangePassword":  errOf(w.ChangePassword(w.ctx, sess, testPassword, "another long password")),
		} {
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("%s at StageNewPassword: %v, want ErrForbidden", name, err)
			}
		}
		sess, err := w.ChooseNewPassword(w.ctx, sess, "carol's own new words")
		if err != nil || sess.Stage() != StageSignedIn || !sess.IsAdmin() {
			t.Fatalf("ChooseNewPassword: stage %d, %v", sess.Stage(), err)
		}
		expectAdminOps(t, w, sess, nil)
	})
	t.Run("zero session", func(t *testing.T) {
		w := newWorld(t)
		for name, op := range adminOps(w) { // a user of no account: Acme is invisible or forbidden
			if err := op(Session{}); !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrNotFound) {
				t.Errorf("%s with a zero session: %v", name, err)
			}
		}
		if _, err := w.VerifyLoginCode(w.ctx, Session{}, "123456"); !errors.Is(err, ErrForbidden) {
			t.Errorf("VerifyLoginCode with no login: %v", err)
		}
		if _, err := w.VerifyLoginCode(w.ctx, LocalOperator("x"), "123456"); !errors.Is(err, ErrForbidden) {
			t.Errorf("VerifyLoginCode as operator: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

// TestDemotedOrDisabledAdminLosesRightsAtOnce: core re-reads the caller for
// every call, so an open session loses what its user lost.
func TestDemotedOrDisabledAdminLosesRightsAtOnce(t *testing.T) {
	user, yes := RoleUser, true
	for name, up := range map[string]UserUpdate{"demoted": {Role: &user}, "disabled": {Disabled: &yes}} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			op := LocalOperator("local:test")
			admin := RoleAdmin
			if _, err := w.UpdateUser(w.ctx, op, w.carol.ID, UserUpdate{Role: &admin}); err != nil {
				t.Fatal(err)
			}
			alice := w.login("alice", StageSignedIn)
			expectAdminOps(t, w, alice, nil)
			if _, err := w.UpdateUser(w.ctx, w.login("carol", StageSignedIn), w.alice.ID, up); err != nil {
				t.Fatalf("carol updating alice: %v", err)
			}
			expectAdminOps(t, w, alice, ErrForbidden)
			if name == "disabled" {
				if _, err := w.MyMFA(w.ctx, alice); !errors.Is(err, ErrForbidden) {
					t.Errorf("disabled user's MyMFA: %v", err)
				}
				if _, err := w.Login(w.ctx, "alice", testPassword, "test"); !errors.Is(err, ErrInvalidCredentials) {
					t.Errorf("disabled user's login: %v, want ErrInvalidCredentials", err)
				}
			}
		})
	}
}

// TestDisabledUserCannotFinishLogin: disabled between password and code.
func TestDisabledUserCannotFinishLogin(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	sess := w.login("bob", StageCode)
	yes := true
	if _, err := w.UpdateUser(w.ctx, w.login("alice", StageSignedIn), w.bob.ID, UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if out, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, 0)); err == nil || out.Stage() == StageSignedIn {
		t.Errorf("a disabled user finished login: %v", err)
	}
}

func TestLastAdminProtected(t *testing.T) {
	w := newWorld(t)
	op := LocalOperator("local:test")
	user, admin, yes := RoleUser, RoleAdmin, true
	demote, disable, promote := UserUpdate{Role: &user}, UserUpdate{Disabled: &yes}, UserUpdate{Role: &admin}
	steps := []struct {
		name   string
		caller Session
		target int64
		up     UserUpdate
		want   error
	}{
		{"demote the only admin", w.login("alice", StageSignedIn), w.alice.ID, demote, ErrLastAdmin},
		{"disable the only admin", w.login("alice", StageSignedIn), w.alice.ID, disable, ErrLastAdmin},
		{"operator cannot either", op, w.alice.ID, demote, ErrLastAdmin},
		{"promote carol", op, w.carol.ID, promote, nil},
		{"now alice may go", w.login("alice", StageSignedIn), w.alice.ID, demote, nil},
		{"carol is the last", op, w.carol.ID, disable, ErrLastAdmin},
		{"promote bob", op, w.bob.ID, promote, nil},
		{"disable bob", op, w.bob.ID, disable, nil},
		{"a disabled admin does not count", op, w.carol.ID, demote, ErrLastAdmin},
		{"other accounts do not count", op, w.gina.ID, demote, ErrLastAdmin},
	}
	for _, s := range steps {
		before := w.counts()
		_, err := w.UpdateUser(w.ctx, s.caller, s.target, s.up)
		if s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
		if s.want != nil && w.counts() != before {
			t.Errorf("%s: refused, yet rows changed", s.name)
		}
	}
	if d, err := w.AccountDetails(w.ctx, op, w.acme); err != nil || d.Admins != 1 {
		t.Errorf("Acme has %d enabled admins, want 1 (%v)", d.Admins, err)
	}
}
