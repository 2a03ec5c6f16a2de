package core

import (
	"errors"
	"testing"
)

// The callers of the authorization matrix. The target of user operations is
// bob, a plain user of Acme; account operations target Acme.
const (
	callerSelf        = iota // bob himself
	callerAdmin              // alice, admin of Acme
	callerOtherAdmin         // gina, admin of Globex
	callerMember             // carol, a plain user of Acme
	callerOtherMember        // hank, a plain user of Globex
	callerOperator           // the local command line
	numCallers
)

var callerNames = [numCallers]string{"self", "admin", "other-account admin", "non-admin", "other-account user", "operator"}

func (w *world) caller(c int) Session {
	if c == callerOperator {
		return LocalOperator("local:test")
	}
	name := [...]string{"bob", "alice", "gina", "carol", "hank"}[c]
	return w.signIn(name, w.secrets[name])
}

// Expected outcomes per caller: nil means allowed.
var (
	accountAdminOnly = [numCallers]error{ErrForbidden, nil, ErrNotFound, ErrForbidden, ErrNotFound, nil}
	userAdminOrSelf  = [numCallers]error{nil, nil, ErrNotFound, ErrForbidden, ErrNotFound, nil}
	operatorOnly     = [numCallers]error{ErrForbidden, ErrForbidden, ErrForbidden, ErrForbidden, ErrForbidden, nil}
	anySignedInUser  = [numCallers]error{nil, nil, nil, nil, nil, ErrForbidden}
)

type authzCase struct {
	name  string
	setup func(w *world)
	run   func(w *world, s Session) error
	want  [numCallers]error
}

func authzCases() []authzCase {
	newName := func(s Session) string { return "new-" + s.Username() }
	return []authzCase{
		{"AccountDetails", nil, func(w *world, s Session) error {
			_, err := w.AccountDetails(w.ctx, s, w.acme)
			return err
		}, accountAdminOnly},
		{"SetRequireMFA", nil, func(w *world, s Session) error {
			_, err := w.SetRequireMFA(w.ctx, s, w.acme, true)
			return err
		}, accountAdminOnly},
		{"SearchUsers", nil, func(w *world, s Session) error {
			_, err := w.SearchUsers(w.ctx, s, w.acme, UserQuery{})
			return err
		}, accountAdminOnly},
		{"FindAccount", nil, func(w *world, s Session) error {
			_, err := w.FindAccount(w.ctx, s, "acme")
			return err
		}, accountAdminOnly},
		{"GetAccount", nil, func(w *world, s Session) error {
			_, err := w.GetAccount(w.ctx, s, w.acme)
			return err
		}, accountAdminOnly},
		{"ListAudit", nil, func(w *world, s Session) error {
			_, err := w.ListAudit(w.ctx, s, w.acme, 0, 10)
			return err
		}, accountAdminOnly},
		{"CreateUser", nil, func(w *world, s Session) error {
			_, err := w.CreateUser(w.ctx, s, w.acme, NewUser{Username: newName(s), Password: testPassword}, "")
			return err
		}, accountAdminOnly},
		{"GetUser", nil, func(w *world, s Session) error {
			_, err := w.GetUser(w.ctx, s, w.bob.ID)
			return err
		}, userAdminOrSelf},
		{"FindUser", nil, func(w *world, s Session) error {
			_, err := w.FindUser(w.ctx, s, "BOB")
			return err
		}, userAdminOrSelf},
		{"UpdateUser", nil, func(w *world, s Session) error {
			name := "Robert"
			_, err := w.UpdateUser(w.ctx, s, w.bob.ID, UserUpdate{DisplayName: &name})
			return err
		}, accountAdminOnly},
		{"UpdateUser role", nil, func(w *world, s Session) error {
			admin := RoleAdmin
			_, err := w.UpdateUser(w.ctx, s, w.bob.ID, UserUpdate{Role: &admin})
			return err
		}, accountAdminOnly},
		{"ResetPassword", nil, func(w *world, s Session) error {
			return w.ResetPassword(w.ctx, s, w.bob.ID, "another long password", "")
		}, accountAdminOnly},
		{"RemoveUserMFA", func(w *world) { w.enrollUser("bob") }, func(w *world, s Session) error {
			return errOf(w.RemoveUserMFA(w.ctx, s, w.bob.ID, "lost phone", ""))
		}, accountAdminOnly},
		{"ListAudit all accounts", nil, func(w *world, s Session) error {
			_, err := w.ListAudit(w.ctx, s, -1, 0, 10)
			return err
		}, operatorOnly},
		{"ListAccounts", nil, func(w *world, s Session) error {
			_, err := w.ListAccounts(w.ctx, s)
			return err
		}, operatorOnly},
		{"CreateAccount", nil, func(w *world, s Session) error {
			_, err := w.CreateAccount(w.ctx, s, NewAccount{Name: "Initech",
				Admin: NewUser{Username: "ian", Password: testPassword}})
			return err
		}, operatorOnly},
		{"MyMFA", nil, func(w *world, s Session) error {
			_, err := w.MyMFA(w.ctx, s)
			return err
		}, anySignedInUser},
		{"BeginEnrollment", nil, func(w *world, s Session) error {
			_, err := w.BeginEnrollment(w.ctx, s)
			return err
		}, anySignedInUser},
		{"ConfirmEnrollment", nil, func(w *world, s Session) error {
			en, err := w.BeginEnrollment(w.ctx, s)
			if err != nil {
				return err
			}
			_, _, err = w.ConfirmEnrollment(w.ctx, s, w.code(en.secret, 0))
			return err
		}, anySignedInUser},
		{"ChangePassword", nil, func(w *world, s Session) error {
			return errOf(w.ChangePassword(w.ctx, s, testPassword, "another long password"))
		}, anySignedInUser},
	}
}

// TestAuthorizationMatrix runs every operation as every kind of caller, each
// on a fresh world. A denied call must also change nothing.
func TestAuthorizationMatrix(t *testing.T) {
	for _, c := range authzCases() {
		t.Run(c.name, func(t *testing.T) {
			for who := range numCallers {
				t.Run(callerNames[who], func(t *testing.T) {
					t.Parallel()
					w := newWorld(t)
					if c.setup != nil {
						c.setup(w)
					}
					sess := w.caller(who)
					before := w.counts()
					err := c.run(w, sess)
					want := c.want[who]
					if want == nil && err != nil || want != nil && !errors.Is(err, want) {
						t.Fatalf("got %v, want %v", err, want)
					}
					if want != nil && w.counts() != before {
						t.Errorf("a refused call changed rows: %v -> %v", before, w.counts())
					}
				})
			}
		})
	}
}

// TestOtherAccountLooksMissing: a user of another account answers exactly as
// a user that does not exist.
func TestOtherAccountLooksMissing(t *testing.T) {
	w := newWorld(t)
	gina := w.login("gina", StageSignedIn)
	_, errOther := w.GetUser(w.ctx, gina, w.bob.ID)
	_, errMissing := w.GetUser(w.ctx, gina, 99999)
	if errOther == nil || errMissing == nil || errOther.Error() != errMissing.Error() {
		t.Errorf("other account %v, missing %v: they must be the same", errOther, errMissing)
	}
	_, errOther = w.FindAccount(w.ctx, gina, "Acme")
	_, errMissing = w.FindAccount(w.ctx, gina, "Nosuch")
	if errOther == nil || errMissing == nil || errOther.Error() != errMissing.Error() {
		t.Errorf("FindAccount: other account %v, missing %v", errOther, errMissing)
	}
	_, errOther = w.AccountDetails(w.ctx, gina, w.acme)
	_, errMissing = w.AccountDetails(w.ctx, gina, 99999)
	if !errors.Is(errOther, ErrNotFound) || !errors.Is(errMissing, ErrNotFound) {
		t.Errorf("AccountDetails: other account %v, missing %v", errOther, errMissing)
	}
	_, errMissing = w.FindUser(w.ctx, gina, "no:such user")
	if !errors.Is(errMissing, ErrNotFound) {
		t.Errorf("FindUser of an impossible name: %v", errMissing)
	}
}

// TestOperatorMissingTargets: the operator acts on every account, and a
// missing account or user is ErrNotFound, not a database error.
func TestOperatorMissingTargets(t *testing.T) {
	w := newWorld(t)
	op := LocalOperator("local:test")
	checks := map[string]error{}
	_, checks["AccountDetails"] = w.AccountDetails(w.ctx, op, 99999)
	_, checks["SetRequireMFA"] = w.SetRequireMFA(w.ctx, op, 99999, true)
	_, checks["GetUser"] = w.GetUser(w.ctx, op, 99999)
	_, checks["CreateUser"] = w.CreateUser(w.ctx, op, 99999, NewUser{Username: "orphan", Password: testPassword}, "")
	checks["RemoveUserMFA"] = errOf(w.RemoveUserMFA(w.ctx, op, 99999, "", ""))
	checks["ResetPassword"] = w.ResetPassword(w.ctx, op, 99999, "another long password", "")
	for name, err := range checks {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on a missing target: %v, want ErrNotFound", name, err)
		}
	}
	accts, err := w.ListAccounts(w.ctx, op)
	if err != nil || len(accts) != 2 || accts[0].Name != "Acme" || accts[1].Name != "Globex" {
		t.Errorf("ListAccounts = %+v, %v", accts, err)
	}
}
