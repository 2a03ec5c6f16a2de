package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// TestCodeAsTheAppShowsIt: at set-up the code typed "123 456", as Google
// Authenticator shows it, is accepted.
func TestCodeAsTheAppShowsIt(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.key("enter") // Add
	s := d.m.scr.(*setup)
	code := totp(decodeKey(t, s.en.SetupKey), e.clock.Now())
	d.typeText(code[:3] + " " + code[3:])
	d.key("enter")
	d.expect("Recovery codes")
}

// TestRecoveryCodeSignInSaysHowManyAreLeft: a login with a recovery code
// says how many remain.
func TestRecoveryCodeSignInSaysHowManyAreLeft(t *testing.T) {
	e := newTestService(t)
	e.register()
	sess, _ := e.svc.Login(e.ctx, "alice", adminPassword, "test")
	en, _ := e.svc.BeginEnrollment(e.ctx, sess)
	codes, _, err := e.svc.ConfirmEnrollment(e.ctx, sess, totp(decodeKey(t, en.SetupKey), e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	d := e.drive(80, 24)
	d.typeText("alice")
	d.key("tab")
	d.typeText(adminPassword)
	d.key("enter")
	d.expect("Lost your phone? Use one of the recovery codes you wrote down, or ask your")
	d.typeText(" " + codes[0] + " ")
	d.key("enter")
	d.expect("You signed in with a recovery code; 9 are left.")
}

// TestHelpIsThePagesAndCloses: ? shows the page's keys, and closes when the
// page changes and at logout; on set-up at 80x24 it never pushes the QR code
// off: it takes the page's place until ? again.
func TestHelpIsThePagesAndCloses(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.key("esc") // the menu has the focus: ? is not typed into a field
	d.typeText("?")
	d.expect("choose")
	d.key("right", "enter") // Account
	if d.m.fullHelp {
		t.Fatal("full help stayed open on a new page")
	}
	d.key("esc")
	d.typeText("?")
	d.send(logoutMsg{})
	if d.m.fullHelp {
		t.Fatal("full help stayed open after logging out")
	}
	d.login(e, "alice", adminPassword)
	d.key("enter") // Add: the QR code
	qr := d.view()
	d.key("tab", "tab") // to Set up: ? is no longer typed
	d.typeText("?")
	if !d.m.fullHelp {
		t.Fatal("? did not open the help on set-up")
	}
	v := d.view()
	if strings.Contains(v, "Setup key") && !strings.Contains(v, "▀▀▀▀▀▀▀") {
		t.Fatalf("the help pushed the QR code off the page:\n%s", v)
	}
	d.typeText("?")
	if d.view() == v || !strings.Contains(d.view(), "Setup key") || !strings.Contains(qr, "Setup key") {
		t.Fatalf("? again did not bring the page back:\n%s", d.view())
	}
}

// TestEscOnTheMenuStays: Esc moves the focus to the menu, and a second Esc
// leaves it there rather than back in a form.
func TestEscOnTheMenuStays(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.key("esc", "esc", "esc")
	if !d.m.menuFocus {
		t.Fatal("Esc on the menu left it")
	}
}

// TestFlashLineWraps: a long message is wrapped under the menu, not cut.
func TestFlashLineWraps(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(60, 20)
	d.login(e, "alice", adminPassword)
	text := "This sentence is long enough that it cannot fit on one line of sixty columns, and it ends here."
	d.send(flashMsg{text: text})
	flat := strings.Join(strings.Fields(d.view()), " ")
	if !strings.Contains(flat, "and it ends here.") {
		t.Fatalf("the flash line was cut:\n%s", d.view())
	}
}

// TestLeavingUnsavedChangesAsks: a changed checkbox or field asks before the
// page is left; n stays, y leaves without saving.
func TestLeavingUnsavedChangesAsks(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrAccount})
	d.key("space") // the checkbox
	d.send(gotoMsg{to: scrUsers})
	if d.m.cur != scrAccount || d.m.leave == nil {
		t.Fatalf("left the account page with a changed checkbox: screen %d", d.m.cur)
	}
	d.expect("Leave without saving? y: leave, n: stay")
	d.typeText("n")
	if d.m.cur != scrAccount || !d.m.scr.(*account).f.get(d.m.scr.(*account).require).checked {
		t.Fatal("n did not stay with the change")
	}
	d.send(logoutMsg{})
	d.typeText("y")
	if d.m.cur != scrLogin {
		t.Fatalf("y after Log out: screen %d", d.m.cur)
	}
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUser, userID: bob.ID})
	d.typeText("by")
	d.key("esc") // back to Users
	d.expect("Leave without saving?")
	d.typeText("y")
	if d.m.cur != scrUsers {
		t.Fatalf("y: screen %d", d.m.cur)
	}
	if u, _ := e.svc.GetUser(e.ctx, admin, bob.ID); u.DisplayName != "Bob" {
		t.Errorf("leaving saved the name: %q", u.DisplayName)
	}
}

// TestForcedSetUpShowsTheAdministrator: an administrator sent to set-up sees
// "(admin)" and the account beside their name.
func TestForcedSetUpShowsTheAdministrator(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	if _, err := e.svc.SetRequireMFA(e.ctx, admin, admin.AccountID(), true); err != nil {
		t.Fatal(err)
	}
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	if d.m.cur != scrSetup {
		t.Fatalf("screen %d, want set-up", d.m.cur)
	}
	d.expect("alice (admin) · Acme")
}

// TestSmallWindowsKeepTheFocusInSight: in 60x20 and 40x15 windows a page
// taller than the window scrolls, so that what the keys act on shows: the
// code field and Set up, all ten recovery codes with Done, a confirmation.
func TestSmallWindowsKeepTheFocusInSight(t *testing.T) {
	for _, size := range [][2]int{{60, 20}, {40, 15}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			e := newTestService(t)
			admin := e.register()
			bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
			e.enroll("bob", userPassword)
			d := e.drive(w, h)
			d.login(e, "alice", adminPassword)
			d.key("enter") // Add
			s := d.m.scr.(*setup)
			d.expect("> Code")
			d.key("tab")
			d.expect("[>Set up<]")
			d.key("shift+tab")
			d.typeText(totp(decodeKey(t, s.en.SetupKey), e.clock.Now()))
			d.key("enter")
			v := d.view()
			if n := len(regexp.MustCompile(`\b[0-9a-z]{5}-[0-9a-z]{5}\b`).FindAllString(v, -1)); n != 10 || !strings.Contains(v, "[>Done<]") {
				t.Fatalf("%d recovery codes and Done %t in sight:\n%s", n, strings.Contains(v, "[>Done<]"), v)
			}
			d.key("enter")
			d.send(gotoMsg{to: scrUser, userID: bob.ID})
			d.send(tea.KeyMsg{Type: tea.KeyCtrlR})
			d.key("tab", "tab", "tab") // her own code, Cancel, Remove MFA
			d.expect("[>Remove MFA from bob<]")
			d.expect("logs in with the")
		})
	}
}

// TestSetUpSaysNothingOfRecoveryCodesBeforeTheyExist: set-up names recovery
// codes only once it shows them.
func TestSetUpSaysNothingOfRecoveryCodesBeforeTheyExist(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	if strings.Contains(strings.ToLower(d.view()), "recovery") {
		t.Fatalf("My MFA before set-up mentions recovery codes:\n%s", d.view())
	}
	d.key("enter")
	d.expect("Setup key")
	if strings.Contains(strings.ToLower(d.view()), "recovery") {
		t.Fatalf("set-up mentions recovery codes before they exist:\n%s", d.view())
	}
}
