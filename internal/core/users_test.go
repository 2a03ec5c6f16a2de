package core

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCreatedUsersPasswordIsTemporary: a user an administrator or the
// operator adds chooses their own password at the first login, before
// anything else; the first administrator of an account chose theirs.
func TestCreatedUsersPasswordIsTemporary(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	for caller, sess := range map[string]Session{"admin": admin, "operator": LocalOperator("local:root")} {
		name := "new-" + caller
		u, err := w.CreateUser(w.ctx, sess, w.acme, NewUser{Username: name, Password: "given by the admin"}, "")
		if err != nil {
			t.Fatalf("%s: CreateUser: %v", caller, err)
		}
		if !w.userRow(u.ID).MustChangePassword {
			t.Errorf("%s: the new user's password is not temporary", caller)
		}
		ev := w.lastAudit()
		if ev.Action != string(ActionUserCreated) || !strings.Contains(ev.Detail, "temporary password") ||
			strings.Contains(ev.Detail, "given by the admin") {
			t.Errorf("%s: audit %s %q", caller, ev.Action, ev.Detail)
		}
		sess, err := w.Login(w.ctx, name, "given by the admin", "test")
		if err != nil || sess.Stage() != StageNewPassword {
			t.Fatalf("%s: first login: stage %d, %v; want StageNewPassword", caller, sess.Stage(), err)
		}
		if _, err := w.MyMFA(w.ctx, sess); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: before choosing a password: %v, want ErrForbidden", caller, err)
		}
		if out, err := w.ChooseNewPassword(w.ctx, sess, name+" chose this"); err != nil || out.Stage() != StageSignedIn {
			t.Errorf("%s: ChooseNewPassword: stage %d, %v", caller, out.Stage(), err)
		}
	}
	for _, name := range []string{"alice", "gina"} { // RegisterAccount, CreateAccount
		if w.userRow(w.find(name).ID).MustChangePassword {
			t.Errorf("%s, an account's first administrator, must change the password they chose", name)
		}
	}
}

// TestStepUpToCreateUser: an administrator with MFA confirms adding a user
// with a current code of their own, as for a reset: without it, or with a
// wrong one, nobody is added; a taken username is said before the code is
// asked for.
func TestStepUpToCreateUser(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("alice")
	admin := w.signIn("alice", secret)
	add := func(name, code string) error {
		_, err := w.CreateUser(w.ctx, admin, w.acme, NewUser{Username: name, Role: RoleAdmin, Password: "given by the admin"}, code)
		return err
	}
	users := w.count("users")
	if err := add("dave", ""); !errors.Is(err, ErrStepUpRequired) {
		t.Errorf("without a code: %v, want ErrStepUpRequired", err)
	}
	if err := add("bob", ""); !errors.Is(err, ErrExists) {
		t.Errorf("a taken username without a code: %v, want ErrExists", err)
	}
	w.clock.Advance(totpPeriod * time.Second)
	failures := w.mfaRow(w.alice.ID).Failures
	if err := add("dave", w.wrongCode(secret)); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("with a wrong code: %v, want ErrInvalidCode", err)
	}
	if got := w.mfaRow(w.alice.ID).Failures; got != failures+1 {
		t.Errorf("alice's code failures %d -> %d, want one more", failures, got)
	}
	if w.count("users") != users {
		t.Fatal("a refused step-up added a user")
	}
	if err := add("dave", w.code(secret, 0)); err != nil {
		t.Fatalf("with alice's code: %v", err)
	}
	if ev := w.lastAudit(); ev.TargetName != "dave" || !strings.Contains(ev.Detail, "confirmed with the administrator's authenticator code") {
		t.Errorf("audit: %s %q", ev.Action, ev.Detail)
	}
	// An administrator without MFA, and the operator, have no code to give.
	gina := w.login("gina", StageSignedIn)
	if _, err := w.CreateUser(w.ctx, gina, w.globex, NewUser{Username: "ivan", Password: "given by the admin"}, ""); err != nil {
		t.Errorf("administrator without MFA: %v", err)
	}
}

// TestGeneratePassword: 16 characters of Crockford's base32 in groups of
// four (80 bits), accepted as a password, and different each time.
func TestGeneratePassword(t *testing.T) {
	w := newWorld(t)
	format := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)
	seen := map[string]bool{}
	for range 200 {
		pw, err := w.GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(pw) || checkPassword(pw) != nil {
			t.Fatalf("generated %q", pw)
		}
		if seen[pw] {
			t.Fatalf("%q generated twice", pw)
		}
		seen[pw] = true
	}
}

// TestChangePasswordToTheSameIsRefused: the new password must differ from
// the current one, and saying so counts no attempt.
func TestChangePasswordToTheSameIsRefused(t *testing.T) {
	w := newWorld(t)
	sess := w.login("bob", StageSignedIn)
	before := w.pwCounter("bob", "test")
	if _, err := w.ChangePassword(w.ctx, sess, testPassword, testPassword); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("the same password: %v, want an input error", err)
	}
	if after := w.pwCounter("bob", "test"); after != before {
		t.Errorf("the refusal counted an attempt: %+v -> %+v", before, after)
	}
	if _, err := w.ChangePassword(w.ctx, sess, testPassword, "something else entirely"); err != nil {
		t.Errorf("a different password: %v", err)
	}
}

// TestSearchCounts: the first page says how many users match, exactly in
// a small account.
func TestSearchCounts(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	for _, tt := range []struct {
		q    UserQuery
		want int
	}{
		{UserQuery{}, 3}, {UserQuery{Role: RoleAdmin}, 1}, {UserQuery{Term: "b"}, 1}, {UserQuery{Term: "example"}, 2},
		{UserQuery{Term: "zz"}, 0}, {UserQuery{MFA: "on"}, 0}, {UserQuery{Term: "a", Limit: 1}, 3},
	} {
		tt.q.Count = true
		page, err := w.SearchUsers(w.ctx, admin, w.acme, tt.q)
		if err != nil || page.Matches != tt.want || page.MatchesAtLeast {
			t.Errorf("%+v: %d matches (at least: %v), %v; want exactly %d", tt.q, page.Matches, page.MatchesAtLeast, err, tt.want)
		}
	}
	if page, err := w.SearchUsers(w.ctx, admin, w.acme, UserQuery{}); err != nil || page.Matches != 0 {
		t.Errorf("without Count: %d matches, %v", page.Matches, err)
	}
}

// TestCountWithPage: a bounded count is raised to what the page shows, and
// a first page that is also the last is the exact count.
func TestCountWithPage(t *testing.T) {
	rows := func(n int) []User { return make([]User, n) }
	for _, tt := range []struct {
		n           int
		exact       bool
		page        UserPage
		after       int64
		want        int
		wantAtLeast bool
	}{
		{5, true, UserPage{Users: rows(5)}, 0, 5, false},
		{1001, false, UserPage{Users: rows(20), Next: 20}, 0, 1001, true},
		{0, false, UserPage{Users: rows(2)}, 0, 2, false},            // a rare letter beyond the users counted: all on the page
		{0, false, UserPage{Users: rows(20), Next: 99}, 0, 21, true}, // a full page with more behind it
		{3, false, UserPage{Users: rows(1)}, 500, 3, true},           // a later page
	} {
		got, atLeast := countWithPage(tt.n, tt.exact, tt.page, tt.after)
		if got != tt.want || atLeast != tt.wantAtLeast {
			t.Errorf("countWithPage(%d, %v, %d rows, next %d, after %d) = %d, %v; want %d, %v", tt.n, tt.exact,
				len(tt.page.Users), tt.page.Next, tt.after, got, atLeast, tt.want, tt.wantAtLeast)
		}
	}
}

// The one word every surface shows for each MFA state, and the word that
// --mfa on|off filters by.
func TestMFAWord(t *testing.T) {
	for state, want := range map[string]string{"active": "on", "pending": "pending", "none": "off", "": "off"} {
		if got := MFAWord(state); got != want {
			t.Errorf("MFAWord(%q) = %q, want %q", state, got, want)
		}
	}
}
