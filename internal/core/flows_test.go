package core

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRegistration(t *testing.T) {
	e := newTestService(t)
	if open, err := e.RegistrationOpen(e.ctx); err != nil || !open {
		t.Fatalf("RegistrationOpen on an empty database = %t, %v", open, err)
	}
	sess, err := e.RegisterAccount(e.ctx, "ssh:10.0.0.1:5000", NewAccount{Name: "Acme",
		Admin: NewUser{Username: "alice", Password: testPassword}})
	if err != nil || sess.Stage() != StageSignedIn || !sess.IsAdmin() || sess.Role() != RoleAdmin || sess.Username() != "alice" ||
		sess.AccountName() != "Acme" {
		t.Fatalf("RegisterAccount: %+v, %v", sess, err)
	}
	if s := e.login("alice", StageSignedIn); s.AccountName() != "Acme" {
		t.Errorf("Login: account name %q, want Acme", s.AccountName())
	}
	if open, _ := e.RegistrationOpen(e.ctx); open {
		t.Error("registration still open after the first account")
	}
	before := e.counts()
	_, err = e.RegisterAccount(e.ctx, "x", NewAccount{Name: "Evil", Admin: NewUser{Username: "mallory", Password: testPassword}})
	if !errors.Is(err, ErrRegistrationClosed) || e.counts() != before || e.count("accounts") != 1 {
		t.Errorf("second registration: %v; rows %v -> %v", err, before, e.counts())
	}

	closed := newTestService(t, func(c *Config) { c.NoRegistration = true })
	if open, err := closed.RegistrationOpen(closed.ctx); err != nil || open {
		t.Errorf("RegistrationOpen with NoRegistration on an empty database = %t, %v", open, err)
	}
	if _, err := closed.RegisterAccount(closed.ctx, "ssh:10.0.0.9:5000", NewAccount{Name: "Acme",
		Admin: NewUser{Username: "squatter", Password: testPassword}}); !errors.Is(err, ErrRegistrationClosed) || closed.count("accounts") != 0 {
		t.Errorf("registration with NoRegistration: %v, %d accounts", err, closed.count("accounts"))
	}

	o := newWorld(t, withOpenRegistration)
	if _, err := o.RegisterAccount(o.ctx, "x", NewAccount{Name: "Initech", Admin: NewUser{Username: "ian", Password: testPassword}}); err != nil {
		t.Errorf("open registration: %v", err)
	}
	for name, in := range map[string]NewAccount{
		"account name, other case": {Name: "ACME", Admin: NewUser{Username: "newbie", Password: testPassword}},
		"username, other case":     {Name: "Fresh", Admin: NewUser{Username: "BOB", Password: testPassword}},
	} {
		before := o.counts()
		accounts := o.count("accounts")
		if _, err := o.RegisterAccount(o.ctx, "x", in); !errors.Is(err, ErrExists) {
			t.Errorf("%s: %v, want ErrExists", name, err)
		}
		if o.counts() != before || o.count("accounts") != accounts {
			t.Errorf("%s: a refused registration left rows behind", name)
		}
	}
}

func TestLoginStages(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("alice")
	if _, err := w.BeginEnrollment(w.ctx, w.login("carol", StageSignedIn)); err != nil { // pending only
		t.Fatal(err)
	}
	w.login("alice", StageCode)
	w.login("bob", StageSignedIn)
	w.login("carol", StageSignedIn) // a pending set-up asks for no code
	w.login("BOB", StageSignedIn)   // usernames are case-insensitive

	if _, err := w.SetRequireMFA(w.ctx, w.signIn("alice", w.secrets["alice"]), w.acme, true); err != nil {
		t.Fatal(err)
	}
	w.login("alice", StageCode)
	w.login("bob", StageSetupMFA)
	w.login("carol", StageSetupMFA)
	w.login("hank", StageSignedIn) // Globex does not require MFA

	yes := true
	if _, err := w.UpdateUser(w.ctx, LocalOperator("x"), w.carol.ID, UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string][2]string{
		"unknown user":   {"nobody", testPassword},
		"wrong password": {"bob", "not the password"},
		"disabled user":  {"carol", testPassword},
	} {
		sess, err := w.Login(w.ctx, c[0], c[1], "test")
		if !errors.Is(err, ErrInvalidCredentials) || err.Error() != "invalid username or password" || sess.Stage() != StageNone {
			t.Errorf("%s: %v, stage %d", name, err, sess.Stage())
		}
	}
	if !strings.HasPrefix(w.dummyHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("an unknown user did not cost a hash with the configured parameters: %q", w.dummyHash)
	}
}

var recoveryPattern = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)

func TestEnrollmentFlow(t *testing.T) {
	w := newWorld(t)
	sess := w.login("bob", StageSignedIn)
	first, err := w.BeginEnrollment(w.ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := w.MyMFA(w.ctx, sess); err != nil || st.State != "pending" {
		t.Errorf("MyMFA after Begin: %+v, %v", st, err)
	}
	if _, _, err := w.ConfirmEnrollment(w.ctx, sess, w.wrongCode(first.secret)); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("wrong first code: %v", err)
	}
	again, err := w.BeginEnrollment(w.ctx, sess) // starting again replaces the pending secret
	if err != nil || string(again.secret) == string(first.secret) {
		t.Fatalf("second Begin: %v (same secret: %t)", err, string(again.secret) == string(first.secret))
	}
	if _, _, err := w.ConfirmEnrollment(w.ctx, sess, w.code(first.secret, 0)); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("code of the replaced secret: %v", err)
	}
	w.login("bob", StageSignedIn)
	codes, out, err := w.ConfirmEnrollment(w.ctx, sess, w.code(again.secret, 0))
	if err != nil || out.Stage() != StageSignedIn {
		t.Fatalf("ConfirmEnrollment: %v", err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !recoveryPattern.MatchString(c) || seen[c] {
			t.Errorf("recovery code %q malformed or repeated", c)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		t.Errorf("%d recovery codes, want 10", len(codes))
	}
	st, err := w.MyMFA(w.ctx, sess)
	if err != nil || st.State != "active" || st.RecoveryLeft != 10 || !st.EnabledAt.Equal(w.clock.Now()) || st.LoginDisabled {
		t.Errorf("MyMFA after confirm: %+v, %v", st, err)
	}
	if _, err := w.BeginEnrollment(w.ctx, sess); !errors.Is(err, ErrMFAActive) {
		t.Errorf("Begin with active MFA: %v", err)
	}
	if _, _, err := w.ConfirmEnrollment(w.ctx, sess, w.code(again.secret, 1)); !errors.Is(err, ErrNoEnrollment) {
		t.Errorf("Confirm with nothing pending: %v", err)
	}
	if u, _ := w.GetUser(w.ctx, sess, w.bob.ID); u.MFA != "active" {
		t.Errorf("GetUser MFA = %q", u.MFA)
	}
	w.login("bob", StageCode)
}

func TestRecoveryCodes(t *testing.T) {
	w := newWorld(t)
	_, codes := w.enrollUser("bob")
	_, carolCodes := w.enrollUser("carol")
	variants := []string{codes[0], strings.ToUpper(strings.ReplaceAll(codes[1], "-", ""))}
	for _, c := range variants {
		sess := w.login("bob", StageCode)
		if _, err := w.VerifyLoginCode(w.ctx, sess, w.wrongCode(w.secrets["bob"])); !errors.Is(err, ErrInvalidCode) {
			t.Fatal(err)
		}
		out, err := w.VerifyLoginCode(w.ctx, sess, c)
		if err != nil || out.Stage() != StageSignedIn {
			t.Fatalf("recovery code %q: %v", c, err)
		}
		if m := w.mfaRow(w.bob.ID); m.Failures != 0 {
			t.Errorf("a recovery code did not reset the failure counter: %d", m.Failures)
		}
	}
	for _, c := range append(variants, strings.ToLower(variants[1]), carolCodes[0]) {
		if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), c); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("used or foreign recovery code %q: %v, want ErrInvalidCode", c, err)
		}
	}
	sess := w.signIn("bob", w.secrets["bob"])
	if st, _ := w.MyMFA(w.ctx, sess); st.RecoveryLeft != 8 {
		t.Errorf("RecoveryLeft = %d, want 8", st.RecoveryLeft)
	}
	if m := w.mfaRow(w.bob.ID); m.Failures != 0 {
		t.Errorf("failures = %d after a success", m.Failures)
	}
	// A recovery code also confirms a deletion, once.
	if _, err := w.DeleteMyMFA(w.ctx, sess, codes[2]); err != nil {
		t.Errorf("DeleteMyMFA with a recovery code: %v", err)
	}
	if n := w.count("recovery_codes WHERE user_id = " + strconv.FormatInt(w.bob.ID, 10)); n != 0 {
		t.Errorf("%d recovery codes left after deletion", n)
	}
}

func TestDeleteMyMFA(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	sess := w.signIn("bob", secret)
	if _, err := w.DeleteMyMFA(w.ctx, sess, w.wrongCode(secret)); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("DeleteMyMFA with a wrong code: %v", err)
	}
	if _, err := w.DeleteMyMFA(w.ctx, sess, w.code(secret, 0)); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("DeleteMyMFA with the code just used to log in: %v", err)
	}
	w.clock.Advance(time.Minute)
	out, err := w.DeleteMyMFA(w.ctx, sess, w.code(secret, 0))
	if err != nil || out.Stage() != StageSignedIn || w.count("mfa") != 0 {
		t.Fatalf("DeleteMyMFA: stage %d, %v", out.Stage(), err)
	}
	if _, err := w.DeleteMyMFA(w.ctx, sess, w.code(secret, 1)); !errors.Is(err, ErrNoMFA) {
		t.Errorf("DeleteMyMFA without MFA: %v", err)
	}
	w.login("bob", StageSignedIn)

	// Where the account requires MFA the user goes straight back to set-up.
	if _, err := w.SetRequireMFA(w.ctx, w.login("alice", StageSignedIn), w.acme, true); err != nil {
		t.Fatal(err)
	}
	setup := w.login("bob", StageSetupMFA)
	w.enroll(setup)
	sess = w.signIn("bob", w.secrets["bob"])
	w.clock.Advance(time.Minute)
	out, err = w.DeleteMyMFA(w.ctx, sess, w.code(w.secrets["bob"], 0))
	if err != nil || out.Stage() != StageSetupMFA || out.IsAdmin() {
		t.Fatalf("DeleteMyMFA with MFA required: stage %d, %v", out.Stage(), err)
	}
	w.login("bob", StageSetupMFA)
}

// TestRequireMFAAndAdminRemoval is seed flows 3 and 4.
func TestRequireMFAAndAdminRemoval(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("bob")
	admin := w.login("alice", StageSignedIn)
	d, err := w.AccountDetails(w.ctx, admin, w.acme)
	if err != nil || d.Users != 3 || d.WithMFA != 1 || d.WithoutMFA != 2 || d.Admins != 1 || d.RequireMFA {
		t.Fatalf("AccountDetails: %+v, %v", d, err)
	}
	without, err := w.SetRequireMFA(w.ctx, admin, w.acme, true)
	if err != nil || without != 2 {
		t.Fatalf("SetRequireMFA = %d, %v; want 2 users without MFA", without, err)
	}
	if acct, _ := w.FindAccount(w.ctx, admin, "acme"); !acct.RequireMFA {
		t.Error("the requirement was not stored")
	}
	if err := errOf(w.RemoveUserMFA(w.ctx, admin, w.bob.ID, "lost phone", "")); err != nil {
		t.Fatal(err)
	}
	w.login("bob", StageSetupMFA)
	if _, err := w.SetRequireMFA(w.ctx, admin, w.acme, false); err != nil {
		t.Fatal(err)
	}
	w.login("bob", StageSignedIn)
}

func TestPasswordChangeAndReset(t *testing.T) {
	w := newWorld(t)
	sess := w.login("bob", StageSignedIn)
	if _, err := w.ChangePassword(w.ctx, sess, testPassword, "a brand new secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Login(w.ctx, "bob", testPassword, "test"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password after change: %v", err)
	}
	for range 5 {
		w.Login(w.ctx, "bob", "still wrong!!", "test")
	}
	if _, err := w.Login(w.ctx, "bob", "a brand new secret", "test"); !errors.Is(err, ErrLocked) {
		t.Fatalf("want locked, got %v", err)
	}
	if err := w.ResetPassword(w.ctx, w.login("alice", StageSignedIn), w.bob.ID, testPassword, ""); err != nil {
		t.Fatal(err)
	}
	w.login("bob", StageNewPassword) // a reset clears the lock where bob signs in
}
