package tui

import (
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// generatedRE finds a generated password on the screen.
var generatedRE = regexp.MustCompile(`\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b`)

// openAddUser signs alice in and opens Add a user from the Users page's button.
func openAddUser(t *testing.T, e *testEnv) *driver {
	t.Helper()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUsers})
	s := d.m.scr.(*users)
	s.f.setFocus(s.add)
	d.key("enter")
	if d.m.cur != scrAddUser {
		t.Fatalf("Add user led to screen %d", d.m.cur)
	}
	d.expect("Add a user")
	return d
}

// TestAddUserWithAGeneratedPassword: the password is shown once, with what to
// do with it; it logs the user in, to Choose a new password; it leaves no
// trace in the model once the administrator is done, nor in the audit trail.
func TestAddUserWithAGeneratedPassword(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	d := openAddUser(t, e)
	d.typeText("erin")
	d.key("enter")
	d.typeText("Erin Example")
	d.key("enter", "enter", "space", "enter") // Email, Role: admin, Password: generate one
	d.key("enter")                            // the last field adds
	d.expect("erin was added as an administrator.")
	d.expect("it is shown only this once")
	generated := generatedRE.FindString(d.view())
	if generated == "" {
		t.Fatalf("no generated password on the screen:\n%s", d.view())
	}
	d.key("enter") // Done
	if d.m.cur != scrUsers {
		t.Fatalf("Done led to screen %d", d.m.cur)
	}
	d.expect("erin")
	if a, ok := d.m.scr.(*addUser); ok || strings.Contains(d.view(), generated) {
		t.Fatalf("the generated password is still held or shown: %v", a)
	}
	events, err := e.svc.ListAudit(e.ctx, admin, admin.AccountID(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if strings.Contains(ev.Detail, generated) {
			t.Errorf("the audit trail holds the password: %+v", ev)
		}
	}

	u := e.drive(80, 24)
	u.login(e, "erin", generated)
	if u.m.cur != scrNewPassword {
		t.Fatalf("erin's first login landed on screen %d, want Choose a new password", u.m.cur)
	}
	u.typeText("erin-chose-her-own")
	u.key("enter")
	u.typeText("erin-chose-her-own")
	u.key("enter")
	if u.m.cur != scrMyMFA || !u.m.c.sess.IsAdmin() {
		t.Fatalf("after choosing: screen %d, admin %v", u.m.cur, u.m.c.sess.IsAdmin())
	}
}

// TestAddUserWithATypedPasswordAndStepUp: an administrator with MFA types the
// password twice and confirms with a code; every refusal shows under its
// field and adds nobody.
func TestAddUserWithATypedPasswordAndStepUp(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	e.enroll("alice", adminPassword)
	d := openAddUser(t, e)
	s := d.m.scr.(*addUser)
	d.expect("Your code")
	count := func() int {
		page, err := e.svc.SearchUsers(e.ctx, admin, admin.AccountID(), core.UserQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Users)
	}

	d.typeText("bob") // taken
	s.f.setFocus(s.how)
	d.key("right") // type one
	d.expect("Temporary")
	d.key("tab")
	d.typeText("temporary-pass-1")
	d.key("tab")
	d.typeText("temporary-pass-2")
	d.key("enter") // to the code field
	d.key("enter")
	d.expect("The two passwords do not match.")
	d.typeText("temporary-pass-1")
	d.key("tab")
	d.key("enter")
	d.expect("Username bob is taken: choose another.") // said before a code is asked for
	s.f.setValue(s.username, "frank")
	s.f.setFocus(s.code)
	d.key("enter")
	d.expect("Enter a current code from your own authenticator app")
	if s.f.focused() != s.code {
		t.Errorf("the focus is on %d, want the code field", s.f.focused())
	}
	d.typeText("000000")
	d.key("enter")
	d.expect("That code is not valid.")
	if n := count(); n != 2 {
		t.Fatalf("%d users after the refusals, want 2", n)
	}
	s.f.setValue(s.pass, "temporary-pass-1")
	s.f.setValue(s.again, "temporary-pass-1")
	s.f.setFocus(s.code)
	d.typeText(e.code("alice"))
	d.key("enter")
	d.expect("frank was added as a user.")
	d.expect("Give frank the password you typed.")
	if generatedRE.MatchString(d.view()) {
		t.Error("a password is shown although it was typed")
	}
	if sess, err := e.svc.Login(e.ctx, "frank", "temporary-pass-1", "test"); err != nil || sess.Stage() != core.StageNewPassword {
		t.Errorf("frank's login: stage %d, %v", sess.Stage(), err)
	}
	d.key("tab", "enter") // Add another
	if a, ok := d.m.scr.(*addUser); !ok || a == s || a.f.value(a.username) != "" {
		t.Fatal("Add another did not open an empty form")
	}
}

// TestAddUserRefusesBadInputUnderItsField: nothing is asked of core until
// the fields are valid, and a bad one says why under itself.
func TestAddUserRefusesBadInputUnderItsField(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := openAddUser(t, e)
	d.typeText("_bad")
	d.key("tab", "tab", "tab", "tab", "enter")
	d.expect("Username must start with a letter or digit")
	s := d.m.scr.(*addUser)
	s.f.setValue(s.username, "good")
	s.f.setValue(s.email, "not an email")
	s.f.setFocus(s.how)
	d.key("enter")
	d.expect("Email")
	if s.f.get(s.email).err == "" {
		t.Fatalf("no error under Email:\n%s", d.view())
	}
	if _, err := e.svc.Login(e.ctx, "good", "x", "test"); err == nil {
		t.Fatal("a user was added")
	}
}

// TestEnterOnAFilterOpensTheUser: on the MFA and Role choices Space and ←/→
// change the filter, and ↑/↓ and Enter select and open a user, as from the
// search.
func TestEnterOnAFilterOpensTheUser(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUsers})
	s := d.m.scr.(*users)
	d.key("tab", "tab") // Role
	if !s.f.isFocused(s.role) {
		t.Fatal("the focus is not on Role")
	}
	d.key("space", "space") // all -> admin -> user
	d.expect("‹ user ›")
	d.key("left", "right")
	d.expect("‹ user ›")
	d.expect("1 user matches")
	d.key("enter")
	if p, ok := d.m.scr.(*userPage); !ok || p.id != bob.ID {
		t.Fatalf("Enter on the Role filter led to screen %d", d.m.cur)
	}
	d.key("esc") // back to the same search
	s = d.m.scr.(*users)
	s.f.setFocus(s.role)
	d.key("space") // all
	d.expect("2 users match")
	s.f.setFocus(s.mfa)
	d.key("down")
	if s.sel != 1 || !s.f.isFocused(s.mfa) {
		t.Fatalf("↓ on the MFA filter: selection %d, focus %d", s.sel, s.f.focused())
	}
	d.key("enter")
	if p, ok := d.m.scr.(*userPage); !ok || p.id != bob.ID {
		t.Fatalf("Enter on the MFA filter led to screen %d", d.m.cur)
	}
}

// TestUsersListSaysStatusAndCount: every row says enabled or disabled, and
// the list how many users match.
func TestUsersListSaysStatusAndCount(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	yes := true
	if _, err := e.svc.UpdateUser(e.ctx, admin, bob.ID, core.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUsers})
	d.expect("2 users match")
	if !regexp.MustCompile(`alice .* enabled`).MatchString(d.view()) || !regexp.MustCompile(`bob .* disabled`).MatchString(d.view()) {
		t.Fatalf("the status column:\n%s", d.view())
	}
	d.typeText("zzz")
	if strings.Contains(d.view(), "match ") || !strings.Contains(d.view(), "No users match.") {
		t.Fatalf("no match:\n%s", d.view())
	}
}

func TestMatchesText(t *testing.T) {
	for _, tt := range []struct {
		n       int
		atLeast bool
		want    string
	}{
		{1, false, "1 user matches"}, {12, false, "12 users match"}, {1000, false, "1,000 users match"},
		{1001, true, "more than 1,000 users match"}, {412, true, "at least 412 users match"}, {1, true, "at least 1 user matches"},
		{1234567, false, "1,234,567 users match"},
	} {
		if got := matchesText(tt.n, tt.atLeast); got != tt.want {
			t.Errorf("matchesText(%d, %v) = %q, want %q", tt.n, tt.atLeast, got, tt.want)
		}
	}
}

// TestChangeYourOwnPassword: from My MFA, with the current password; a wrong
// one says so under its field and counts, a lock says when to try again; the
// change keeps this session and ends the others.
func TestChangeYourOwnPassword(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	other, err := e.svc.Login(e.ctx, "bob", userPassword, "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	var failures int
	d := &driver{t: t, m: New(e.ctx, e.svc, Options{Source: "test", Renderer: asciiRenderer(), Now: e.clock.Now,
		OnLoginFailed: func() { failures++ }}).(*model)}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.run(d.m.Init())
	d.login(e, "bob", userPassword)
	my := d.m.scr.(*myMFA)
	my.f.setFocus(my.password)
	d.key("enter")
	if d.m.cur != scrPassword || d.m.activeItem() != 0 {
		t.Fatalf("Change password led to screen %d, menu item %d", d.m.cur, d.m.activeItem())
	}
	s := d.m.scr.(*changePassword)
	type3 := func(current, pw, again string) {
		s.f.setValue(s.current, current)
		s.f.setValue(s.pass, pw)
		s.f.setValue(s.again, again)
		s.f.setFocus(s.again)
		d.key("enter")
	}
	type3("wrong-password-1", "bob-new-password-1", "bob-new-password-1")
	d.expect("That is not your current password.")
	if failures != 1 || s.f.focused() != s.current || s.f.value(s.current) != "" {
		t.Fatalf("after a wrong password: %d failures reported, focus %d", failures, s.f.focused())
	}
	type3(userPassword, "bob-new-password-1", "bob-new-password-2")
	d.expect("The two passwords do not match.")
	type3(userPassword, "password", "password")
	d.expect("at least 8 characters")
	type3(userPassword, "password1", "password1")
	d.expect("one of the most common passwords")
	type3(userPassword, userPassword, userPassword)
	d.expect("Password must differ from your current one.")
	for range 5 { // with the first, five wrong: the sixth attempt meets the lock
		type3("wrong-password-1", "bob-new-password-1", "bob-new-password-1")
	}
	d.expect("Too many failed attempts. Try again in 30 seconds.")
	e.clock.Advance(31e9)
	type3(userPassword, "bob-new-password-1", "bob-new-password-1")
	if d.m.cur != scrMyMFA {
		t.Fatalf("after the change: screen %d\n%s", d.m.cur, d.view())
	}
	d.expect("Your password was changed. Your other sessions have ended.")
	if _, err := e.svc.MyMFA(e.ctx, d.m.c.sess); err != nil {
		t.Errorf("this session after the change: %v", err)
	}
	if _, err := e.svc.MyMFA(e.ctx, other); err == nil {
		t.Error("another session of bob goes on after the change")
	}
	if _, err := e.svc.Login(e.ctx, "bob", "bob-new-password-1", "test"); err != nil {
		t.Errorf("the new password: %v", err)
	}
}
