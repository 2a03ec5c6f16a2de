package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/smartnumbers/smartmfa/internal/core"
)

func TestLoginFocusWrapsWithoutMenu(t *testing.T) {
	e := newTestService(t)
	d := e.drive(80, 24) // empty database: Register is offered
	d.expect("[ Register ]")
	lg := d.m.scr.(*login)
	order := []int{lg.user, lg.pass, lg.submit, lg.register, lg.user}
	for i, want := range order {
		if got := lg.f.focused(); got != want {
			t.Fatalf("after %d tabs the focus is on %d, want %d", i, got, want)
		}
		d.key("tab")
	}
	d.key("shift+tab", "shift+tab")
	if lg.f.focused() != lg.register {
		t.Fatalf("shift+tab does not go back: focus %d", lg.f.focused())
	}
}

func TestFocusMovesBetweenPageAndMenu(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	if d.m.cur != scrMyMFA {
		t.Fatalf("after login the screen is %d, want My MFA", d.m.cur)
	}
	d.expect("[>Add<]")
	d.key("tab", "tab") // past the last control (Add, Change password): to the menu
	if !d.m.menuFocus {
		t.Fatal("tab past the last control did not focus the menu")
	}
	d.expect(">My MFA<")
	d.key("right", "right") // Users
	d.expect(">Users<")
	d.key("tab") // back into the page, the menu choice not taken
	if d.m.menuFocus || d.m.cur != scrMyMFA {
		t.Fatalf("tab from the menu: menuFocus %v, screen %d", d.m.menuFocus, d.m.cur)
	}
	d.expect("[>Add<]")
	d.key("esc") // nothing to go back to: the menu
	if !d.m.menuFocus {
		t.Fatal("esc on a page did not focus the menu")
	}
	d.key("right", "enter") // Account
	if d.m.cur != scrAccount || d.m.menuFocus {
		t.Fatalf("enter in the menu: screen %d, menuFocus %v", d.m.cur, d.m.menuFocus)
	}
	d.expect("> [ ] Require multi-factor authentication")
}

func TestTextFieldsTakeEveryPrintableKey(t *testing.T) {
	e := newTestService(t)
	d := e.drive(80, 24)
	d.typeText("a?b ")
	lg := d.m.scr.(*login)
	if v := lg.f.value(lg.user); v != "a?b " {
		t.Fatalf("the username field holds %q, want %q", v, "a?b ")
	}
	if d.m.fullHelp {
		t.Fatal("? in a text field toggled the help")
	}
	d.key("tab", "tab") // to Log in
	d.typeText("?")
	if !d.m.fullHelp {
		t.Fatal("? on a button did not show the full help")
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	flash := func(user, pass string) string {
		d := e.drive(80, 24)
		d.login(e, user, pass)
		if d.m.cur != scrLogin {
			t.Fatalf("login %s/%s left the login screen", user, pass)
		}
		return d.m.flash.text
	}
	wrong, unknown := flash("bob", "wrong-password-9"), flash("nobody", "wrong-password-9")
	if wrong != unknown || wrong != "Invalid username or password." {
		t.Fatalf("wrong password says %q, unknown user says %q", wrong, unknown)
	}
	for range 5 {
		flash("bob", "wrong-password-9")
	}
	if got := flash("bob", userPassword); !strings.HasPrefix(got, "Too many failed attempts. Try again in ") {
		t.Fatalf("a locked user is told %q", got)
	}
}

func TestForcedSetupRedirect(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	if _, err := e.svc.SetRequireMFA(e.ctx, admin, admin.AccountID(), true); err != nil {
		t.Fatal(err)
	}
	d := e.drive(80, 24)
	d.login(e, "bob", userPassword)
	if d.m.cur != scrSetup {
		t.Fatalf("bob landed on screen %d, want MFA setup", d.m.cur)
	}
	d.expect("requires multi-factor authentication")
	if items := d.m.menuItems(); len(items) != 2 || items[0].to != scrSetup || !items[1].logout {
		t.Fatalf("forced set-up offers %+v", items)
	}
	for _, to := range []screenID{scrMyMFA, scrAccount, scrUsers, scrUser, scrAudit, scrLogin} {
		d.send(gotoMsg{to: to})
		if d.m.cur != scrSetup {
			t.Fatalf("gotoMsg %d reached screen %d during forced set-up", to, d.m.cur)
		}
	}
	d.key("esc") // no way back: the menu
	if !d.m.menuFocus {
		t.Fatal("esc in forced set-up did not focus the menu")
	}
	d.key("end", "enter") // Log out still works
	if d.m.cur != scrLogin || d.m.c.sess.Stage() != core.StageNone {
		t.Fatalf("log out from forced set-up: screen %d, stage %d", d.m.cur, d.m.c.sess.Stage())
	}

	// Back in, set up, and only then reach My MFA.
	d.login(e, "bob", userPassword)
	s := d.m.scr.(*setup)
	setupKey := s.en.SetupKey
	d.typeText(totp(decodeKey(t, setupKey), e.clock.Now()))
	d.key("enter")
	d.expect("Multi-factor authentication has been set up.")
	d.expect("Recovery codes")
	if d.m.c.sess.Stage() != core.StageSignedIn {
		t.Fatalf("after set-up the stage is %d", d.m.c.sess.Stage())
	}
	if strings.Contains(d.view(), setupKey) || s.en.SetupKey != "" || s.qr != nil {
		t.Fatal("the setup key is still held or shown after set-up")
	}
	d.key("enter") // Done
	if d.m.cur != scrMyMFA {
		t.Fatalf("Done led to screen %d", d.m.cur)
	}
	d.expect("Recovery codes  10 left")
}

func TestAdminScreensUnreachableForUsers(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	d := e.drive(80, 24)
	d.login(e, "bob", userPassword)
	for _, it := range d.m.menuItems() {
		if it.to == scrAccount || it.to == scrUsers || it.to == scrAudit {
			t.Fatalf("a user's menu offers %q", it.label)
		}
	}
	for _, to := range []screenID{scrAccount, scrUsers, scrUser, scrAudit} {
		d.send(gotoMsg{to: to, userID: bob.ID})
		if d.m.cur != scrMyMFA {
			t.Fatalf("a user reached screen %d", to)
		}
		d.expect("That page is for account administrators.")
	}
}

func TestRemoveMFAAsksFirstAndNamesTheUser(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	e.enroll("bob", userPassword)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUser, userID: bob.ID})
	u := d.m.scr.(*userPage)
	u.f.setFocus(u.remove)
	mfaOf := func() string {
		got, err := e.svc.GetUser(e.ctx, admin, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.MFA
	}
	d.key("enter")
	d.expect("Remove multi-factor authentication from bob?")
	d.expect("[ Remove MFA from bob ]")
	if mfaOf() != "active" {
		t.Fatal("MFA was removed before the confirmation")
	}
	d.key("esc")
	if u.mode != modeEdit || mfaOf() != "active" {
		t.Fatalf("esc did not cancel: mode %d, MFA %s", u.mode, mfaOf())
	}
	d.key("enter") // the focus is back on Remove MFA
	d.typeText("lost phone")
	d.key("enter", "enter") // Enter moves on to Cancel, which cancels: removing is a choice of its own
	if u.mode != modeEdit || mfaOf() != "active" {
		t.Fatalf("Enter twice in the dialog: mode %d, MFA %s", u.mode, mfaOf())
	}
	u.f.setFocus(u.name)
	d.send(tea.KeyMsg{Type: tea.KeyCtrlR}) // from a field, in one key
	d.expect("Their next login asks for no code: bob logs in with the password alone.")
	d.typeText("lost phone")
	d.key("tab", "tab", "enter") // Cancel, then Remove MFA from bob
	if mfaOf() != "none" {
		t.Fatalf("confirmed removal left MFA %s", mfaOf())
	}
	d.expect("Multi-factor authentication was removed from bob.")
}

func TestResultsFromBeforeALogoutAreDropped(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	old := d.m.c.stamp()
	signedIn := d.m.c.sess
	d.send(logoutMsg{})
	d.send(loginResultMsg{stamp: old, sess: signedIn})
	if d.m.c.sess.Stage() != core.StageNone || d.m.cur != scrLogin {
		t.Fatalf("a stale login result signed the console in: stage %d, screen %d", d.m.c.sess.Stage(), d.m.cur)
	}
}

func TestSearchRunsOneQueryAtATime(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	for _, n := range []string{"bob", "carol", "dave"} {
		e.addUser(admin, n, strings.ToUpper(n[:1])+n[1:], core.RoleUser)
	}
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUsers})
	s := d.m.scr.(*users)
	// Type without running commands: the first key sends a query, the
	// others wait for it.
	_, first := d.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'c'}})
	_, second := d.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'a'}})
	if first == nil || !s.inFlight || !s.pending {
		t.Fatalf("first key: cmd %v, inFlight %v, pending %v", first != nil, s.inFlight, s.pending)
	}
	if msgs := runAll(second); len(msgs) != 0 {
		t.Fatalf("the second key ran %d commands while a query was in flight", len(msgs))
	}
	// The first answer is stale; the newest query goes out when it returns.
	for _, m := range runAll(first) {
		d.send(m)
	}
	if s.inFlight || s.pending || len(s.rows) != 1 || s.rows[0].Username != "carol" {
		t.Fatalf("after the answers: inFlight %v, pending %v, rows %+v", s.inFlight, s.pending, s.rows)
	}
}

// runAll runs a command and the batch it may hold, returning the messages.
func runAll(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runAll(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}

// TestEveryWindowSize draws every screen at every size from 1x1 to 80x24:
// nothing may panic or draw outside the window.
func TestEveryWindowSize(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob-the-sixteen1", "Bob", core.RoleUser)
	e.enroll("bob-the-sixteen1", userPassword)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	screens := []gotoMsg{{to: scrMyMFA}, {to: scrSetup}, {to: scrAccount}, {to: scrUsers}, {to: scrUser, userID: bob.ID}, {to: scrAudit}}
	check := func(name string) {
		for w := 1; w <= 80; w++ {
			for h := 1; h <= 24; h++ {
				d.send(tea.WindowSizeMsg{Width: w, Height: h})
				v := d.view()
				lines := strings.Split(v, "\n")
				if len(lines) > h {
					t.Fatalf("%s at %dx%d draws %d lines", name, w, h, len(lines))
				}
				for _, l := range lines {
					if ansi.StringWidth(l) > w {
						t.Fatalf("%s at %dx%d draws a line of %d columns: %q", name, w, h, ansi.StringWidth(l), l)
					}
				}
			}
		}
	}
	for _, g := range screens {
		d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
		d.send(g)
		check(screenName(g.to))
	}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.send(logoutMsg{})
	check("login")
	d.send(gotoMsg{to: scrRegister})
	check("register")
}

func screenName(id screenID) string {
	return map[screenID]string{scrMyMFA: "my MFA", scrSetup: "setup", scrAccount: "account", scrUsers: "users",
		scrUser: "user", scrAudit: "audit"}[id]
}

func TestDeletingMFAWhereRequiredGoesBackToSetup(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.enroll("alice", adminPassword)
	if _, err := e.svc.SetRequireMFA(e.ctx, admin, admin.AccountID(), true); err != nil {
		t.Fatal(err)
	}
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.expect("10 left")
	d.key("enter") // Delete
	d.typeText(e.code("alice"))
	d.key("enter")
	if d.m.cur != scrSetup || d.m.c.sess.Stage() != core.StageSetupMFA {
		t.Fatalf("after deleting required MFA: screen %d, stage %d", d.m.cur, d.m.c.sess.Stage())
	}
	d.expect("Multi-factor authentication has been deleted. Your account requires")
}

func TestWrongCodeOnDeleteSaysSoUnderTheField(t *testing.T) {
	e := newTestService(t)
	e.register()
	e.enroll("alice", adminPassword)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.key("enter")
	d.typeText("12345")
	d.key("enter")
	d.expect("Enter the 6 digits your app shows")
	d.typeText(totp(e.secrets["alice"], e.clock.Now())) // the code login just used: a replay
	d.key("enter")
	d.expect("That code was just used. Wait for the next code in your app.")
	d.typeText("000000")
	d.key("enter")
	d.expect("That code is not valid.")
	if d.m.cur != scrMyMFA || d.m.flash.err {
		t.Fatalf("a wrong code left screen %d, flash %q", d.m.cur, d.m.flash.text)
	}
}

// TestUserTextIsCleanedBeforeDrawing feeds the views names with escape and
// control characters, as a database written by another tool could hold.
func TestUserTextIsCleanedBeforeDrawing(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUsers})
	evil := "\x1b]0;owned\x07\x1b[2J\x1b[31mMallory\u202e\r\n"
	s := d.m.scr.(*users)
	s.rows = []core.User{{ID: 99, Username: "mallory" + evil, DisplayName: evil, Email: evil, Role: core.RoleUser, MFA: "none"}}
	d.send(gotoMsg{to: scrAudit})
	a := d.m.scr.(*audit)
	a.events = append([]core.AuditEvent{{ID: 1, At: testStart, Actor: evil, Action: core.Action(evil), TargetName: evil, Source: evil, Detail: evil}}, a.events...)
	for _, view := range []string{s.View(), a.View()} {
		view = strings.ReplaceAll(view, focusMark, "") // the root's, removed before drawing
		if strings.ContainsAny(view, "\x1b\x07\r\u202e") {
			t.Fatalf("a control character reached the screen: %q", view)
		}
		if !strings.Contains(view, "Mallory") {
			t.Fatalf("the cleaned name is missing: %q", view)
		}
	}
	_ = admin
}

func TestBackFromAUserKeepsTheSearch(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	e.addUser(admin, "carol", "Carol", core.RoleUser)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUsers})
	d.typeText("car")
	d.expect("> carol")
	d.key("enter")
	if d.m.cur != scrUser {
		t.Fatalf("enter in the search opened screen %d", d.m.cur)
	}
	d.expect("User carol")
	d.key("esc")
	if d.m.cur != scrUsers {
		t.Fatalf("esc on a user went to screen %d", d.m.cur)
	}
	d.expect("Search car")
	d.expect("> carol")
	if strings.Contains(d.view(), "bob") {
		t.Fatal("the search was lost on the way back")
	}
}

func TestCtrlTInvertsThePlainQRCode(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.key("enter") // Add
	s := d.m.scr.(*setup)
	before := strings.Join(s.qr, "\n")
	if s.inkDark {
		t.Fatal("on a dark background without colours the QR code's ink must be its light modules")
	}
	d.key("ctrl+t")
	if !s.inkDark || strings.Join(s.qr, "\n") == before {
		t.Fatal("ctrl+t did not invert the QR code")
	}
	if s.f.value(s.input) != "" {
		t.Fatal("ctrl+t typed into the code field")
	}
}

// TestEndedSessionLogsOut: when an administrator resets a signed-in user's
// password, the user's next action finds the session ended and the console
// returns to the login screen, saying why.
func TestEndedSessionLogsOut(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	d := e.drive(80, 24)
	d.login(e, "bob", userPassword)
	if d.m.cur != scrMyMFA {
		t.Fatalf("bob landed on screen %d", d.m.cur)
	}
	if err := e.svc.ResetPassword(e.ctx, admin, bob.ID, "a new password for bob", ""); err != nil {
		t.Fatal(err)
	}
	d.key("enter") // Add: BeginEnrollment meets the ended session
	if d.m.cur != scrLogin || d.m.c.sess.Stage() != core.StageNone {
		t.Fatalf("after the reset: screen %d, stage %d", d.m.cur, d.m.c.sess.Stage())
	}
	d.expect("Your session has ended because your password was changed.")
}

// TestLogOutIsAudited: Log out in the menu leaves a logout event in the trail.
func TestLogOutIsAudited(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.key("esc", "end", "enter")
	if d.m.cur != scrLogin {
		t.Fatalf("Log out led to screen %d", d.m.cur)
	}
	events, err := e.svc.ListAudit(e.ctx, admin, admin.AccountID(), 0, 1)
	if err != nil || len(events) != 1 || events[0].Action != core.ActionLogout || events[0].TargetName != "alice" {
		t.Fatalf("newest event %+v, %v; want alice's logout", events, err)
	}
}

// TestOversizedPasteIsRefusedNotCut: a name pasted past its limit is not cut
// to fit and stored; core refuses it with the limit, and nothing is created.
func TestOversizedPasteIsRefusedNotCut(t *testing.T) {
	e := newTestService(t)
	d := e.drive(80, 24)
	d.send(gotoMsg{to: scrRegister})
	d.typeText(strings.Repeat("x", 3000))
	d.key("tab")
	d.typeText("alice")
	d.key("tab")
	d.typeText(adminPassword)
	d.key("tab")
	d.typeText(adminPassword)
	d.key("enter")
	if d.m.cur != scrRegister {
		t.Fatalf("an oversized account name led to screen %d", d.m.cur)
	}
	d.expect(fmt.Sprintf("at most %d characters", core.MaxAccountNameLen))
	if open, err := e.svc.RegistrationOpen(e.ctx); err != nil || !open {
		t.Fatalf("an account was created: registration open %v, %v", open, err)
	}
}

// TestTemporaryPasswordMustBeReplaced: after an administrator's reset the
// user lands on Choose a new password, can reach nothing else but Log out,
// and once a password of their own is saved goes on to My MFA.
func TestTemporaryPasswordMustBeReplaced(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	if err := e.svc.ResetPassword(e.ctx, admin, bob.ID, "temporary-password-9", ""); err != nil {
		t.Fatal(err)
	}
	d := e.drive(80, 24)
	d.login(e, "bob", "temporary-password-9")
	if d.m.cur != scrNewPassword || d.m.hasMenu() {
		t.Fatalf("after a temporary password: screen %d, menu %t", d.m.cur, d.m.hasMenu())
	}
	d.send(gotoMsg{to: scrMyMFA})
	if d.m.cur != scrNewPassword {
		t.Fatalf("My MFA reached before the new password: screen %d", d.m.cur)
	}
	d.typeText("bob-chose-this-one")
	d.key("enter") // to Repeat
	d.typeText("bob-chose-that-one")
	d.key("enter")
	d.expect("The two passwords do not match.")
	d.typeText("bob-chose-this-one")
	d.key("enter")
	if d.m.cur != scrMyMFA || d.m.c.sess.Stage() != core.StageSignedIn {
		t.Fatalf("after saving: screen %d, stage %d", d.m.cur, d.m.c.sess.Stage())
	}
	d.expect("Your new password is saved.")
	if _, err := e.svc.Login(e.ctx, "bob", "bob-chose-this-one", "test"); err != nil {
		t.Errorf("the chosen password: %v", err)
	}
}

// TestStepUpOnTheUserPage: an administrator with MFA is asked for a code of
// their own to reset another user's password; a wrong one says so under the
// field and changes nothing; their own page offers no password reset.
func TestStepUpOnTheUserPage(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	e.enroll("alice", adminPassword)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUser, userID: bob.ID})
	u := d.m.scr.(*userPage)
	u.f.setFocus(u.reset)
	d.key("enter")
	d.expect("Your code")
	d.typeText("a-temporary-secret")
	d.key("tab")
	d.typeText("a-temporary-secret")
	d.key("tab")
	d.typeText("000000")
	d.key("enter") // to Set password: Enter in a field never acts
	d.key("enter")
	d.expect("That code is not valid.")
	if _, err := e.svc.Login(e.ctx, "bob", userPassword, "test"); err != nil {
		t.Fatalf("bob's password changed after a wrong step-up code: %v", err)
	}
	u.f.setValue(u.pass, "a-temporary-secret")
	u.f.setValue(u.again, "a-temporary-secret")
	u.f.setFocus(u.passCode)
	d.typeText(e.code("alice"))
	d.key("enter", "enter")
	d.expect("a temporary one, to be changed at the next login")
	if sess, err := e.svc.Login(e.ctx, "bob", "a-temporary-secret", "test"); err != nil || sess.Stage() != core.StageNewPassword {
		t.Fatalf("bob after the reset: stage %d, %v", sess.Stage(), err)
	}
	d.send(gotoMsg{to: scrUser, userID: admin.UserID()})
	if own := d.m.scr.(*userPage); !own.f.get(own.reset).hidden {
		t.Error("an administrator's own page offers Reset password")
	}
}
