package tui

import (
	"fmt"
	"slices"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// logins records what the console tells its runner through Options.
type logins struct {
	signIns  []string
	signOuts int
	failed   int
}

// driveReporting is drive with the callbacks wired to l.
func (e *testEnv) driveReporting(l *logins) *driver {
	m := New(e.ctx, e.svc, Options{Source: "test", Renderer: asciiRenderer(), Now: e.clock.Now,
		OnSignIn:      func(u string) { l.signIns = append(l.signIns, u) },
		OnSignOut:     func() { l.signOuts++ },
		OnLoginFailed: func() { l.failed++ },
	}).(*model)
	d := &driver{t: e.t, m: m}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.run(d.m.Init())
	return d
}

// TestCallbacksReportEveryRefusal: every refused password or code, wherever
// the console asks for one, is reported once and at once; a lock, which
// checks nothing, is not. Sign-ins and sign-outs are reported as they
// happen.
func TestCallbacksReportEveryRefusal(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	e.enroll("alice", adminPassword)
	l := &logins{}
	d := e.driveReporting(l)
	// login starts on a fresh login screen: a failed one keeps the username.
	login := func(username, password string) {
		t.Helper()
		d.send(gotoMsg{to: scrLogin})
		d.login(e, username, password)
	}
	// logout uses Log out in the menu, whatever has the focus.
	logout := func() {
		t.Helper()
		for i := 0; i < 3 && !d.m.menuFocus; i++ {
			d.key("esc")
		}
		d.key("end", "enter")
		if d.m.cur != scrLogin {
			t.Fatalf("Log out led to screen %d", d.m.cur)
		}
	}
	step := func(what string, failed int) {
		t.Helper()
		if l.failed != failed {
			t.Fatalf("after %s: %d failures reported, want %d", what, l.failed, failed)
		}
	}

	login("bob", "wrong-password-1")
	step("a wrong password", 1)
	login("nobody", "wrong-password-1")
	step("an unknown user", 2)

	// Code at login: a wrong TOTP code, then a wrong recovery code.
	d.send(gotoMsg{to: scrLogin})
	d.typeText("alice")
	d.key("tab")
	d.typeText(adminPassword)
	d.key("enter")
	if d.m.cur != scrCode {
		t.Fatalf("alice's password led to screen %d", d.m.cur)
	}
	step("a right password", 2)
	if len(l.signIns) != 0 {
		t.Fatalf("signed in before the code: %v", l.signIns)
	}
	for i, code := range []string{"000000", "abcde-12345"} {
		d.typeText(code)
		d.key("enter")
		step("a wrong code at login", 3+i)
	}
	d.typeText(e.code("alice"))
	d.key("enter")
	if !slices.Equal(l.signIns, []string{"alice"}) {
		t.Fatalf("sign-ins reported: %v, want [alice]", l.signIns)
	}

	// Delete MFA with a wrong code.
	d.key("enter")
	d.typeText("000000")
	d.key("enter")
	d.expect("That code is not valid.")
	step("a wrong code on Delete", 5)

	logout()
	if l.signOuts != 1 {
		t.Fatalf("Log out: %d sign-outs reported, want 1", l.signOuts)
	}

	// Set-up confirmation with a wrong code.
	login("bob", userPassword)
	if !slices.Equal(l.signIns, []string{"alice", "bob"}) {
		t.Fatalf("sign-ins reported: %v, want [alice bob]", l.signIns)
	}
	d.key("enter") // Add
	d.expect("Setup key")
	d.typeText("123456")
	d.key("enter")
	d.expect("not valid")
	step("a wrong code at set-up", 6)

	// A locked user: nothing is checked, nothing reported.
	logout()
	for range 5 {
		login("bob", "wrong-password-2")
	}
	step("five more wrong passwords", 11)
	login("bob", userPassword)
	d.expect("Too many failed attempts.")
	step("a locked login", 11)
	if l.signOuts != 2 {
		t.Fatalf("%d sign-outs reported, want 2", l.signOuts)
	}
}

// TestCallbacksAreOptional: a console without them runs as before.
func TestCallbacksAreOptional(t *testing.T) {
	e := newTestService(t)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", "wrong-password-1")
	d.expect("Invalid username or password.")
	d.send(gotoMsg{to: scrLogin})
	d.login(e, "alice", adminPassword)
	if d.m.cur != scrMyMFA {
		t.Fatalf("login led to screen %d", d.m.cur)
	}
}

// TestRefusedErrors: which of core's errors count as a refused password or
// code.
func TestRefusedErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{core.ErrInvalidCredentials, true},
		{core.ErrInvalidCode, true},
		{fmt.Errorf("verifying: %w", core.ErrInvalidCode), true},
		{core.ErrMFADisabled, true},
		{&core.LockedError{}, false},
		{core.ErrMalformedCode, false},
		{core.ErrNotFound, false},
		{nil, false},
	} {
		if got := refused(tc.err); got != tc.want {
			t.Errorf("refused(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
