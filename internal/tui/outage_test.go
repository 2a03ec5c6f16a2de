package tui

import (
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// newTestServiceBehindProxy is newTestService on a PostgreSQL schema reached
// through a proxy the test can cut: a store that goes away for real.
func newTestServiceBehindProxy(t *testing.T) (*testEnv, *dbtest.Proxy) {
	t.Helper()
	location := dbtest.RequirePostgres(t)
	proxy := dbtest.NewProxy(t)
	return newTestServiceAt(t, t.TempDir(), proxy.Location(location)), proxy
}

// TestPostgresConsoleThroughAnOutage cuts the store under each action of the
// console: every one says "The store cannot be reached; try again", the
// console keeps its session and screen, no refusal reaches the runner's
// failure count, and once the store is back the same action works and the
// sentence goes.
func TestPostgresConsoleThroughAnOutage(t *testing.T) {
	e, proxy := newTestServiceBehindProxy(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	e.enroll("bob", userPassword)
	failures := 0
	d := &driver{t: t, m: New(e.ctx, e.svc, Options{Source: "test", Renderer: asciiRenderer(), Now: e.clock.Now,
		OnLoginFailed: func() { failures++ }}).(*model)}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.run(d.m.Init())
	gone := func(what string) {
		t.Helper()
		if strings.Contains(d.view(), storeUnreachableText) {
			t.Errorf("%s once the store is back, the screen still says it cannot be reached:\n%s", what, d.view())
		}
	}

	// A right password during the outage: refused unchecked, not a failure.
	proxy.Cut()
	d.typeText("alice")
	d.key("tab")
	d.typeText(adminPassword)
	d.key("enter")
	d.expect(storeUnreachableText)
	if d.m.cur != scrLogin || failures != 0 {
		t.Fatalf("login during the outage: screen %d, %d failures told", d.m.cur, failures)
	}
	proxy.Restore()
	d.typeText(adminPassword) // the password field has the focus again
	d.key("enter")
	if d.m.c.sess.Stage() != core.StageSignedIn {
		t.Fatalf("login once the store is back: stage %d\n%s", d.m.c.sess.Stage(), d.view())
	}

	for _, p := range []struct {
		name   string
		to     screenID
		userID int64
		works  string
	}{
		{"Users", scrUsers, 0, "2 users match"},
		{"Account", scrAccount, 0, "Without MFA"},
		{"Audit", scrAudit, 0, "login.succeeded"},
		{"My MFA", scrMyMFA, 0, "is not set up for alice"},
		{"User", scrUser, bob.ID, "Reset password"},
	} {
		proxy.Cut()
		d.send(gotoMsg{to: p.to, userID: p.userID}) // what the menu sends
		d.expect(storeUnreachableText)
		if d.m.c.sess.Stage() != core.StageSignedIn {
			t.Fatalf("%s during the outage signed alice out", p.name)
		}
		proxy.Restore()
		d.send(gotoMsg{to: p.to, userID: p.userID}) // the same again
		d.expect(p.works)
		gone(p.name)
	}

	// Save: refused while the store is cut, saved by the same key once back.
	d.send(gotoMsg{to: scrAccount})
	a := d.m.scr.(*account)
	a.f.setFocus(a.require)
	d.key("space")
	a.f.setFocus(a.save)
	proxy.Cut()
	d.key("enter")
	d.expect("Not saved: " + storeUnreachableText)
	proxy.Restore()
	d.key("enter")
	d.expect("Saved: MFA is required now")
	gone("Save")

	// A right code during the outage is refused and its step left unused:
	// the same code signs bob in once the store is back.
	d.send(logoutMsg{})
	d.typeText("bob")
	d.key("tab")
	d.typeText(userPassword)
	d.key("enter")
	if d.m.cur != scrCode {
		t.Fatalf("bob's login led to screen %d", d.m.cur)
	}
	code := e.code("bob")
	proxy.Cut()
	d.typeText(code)
	d.key("enter")
	d.expect(storeUnreachableText)
	if d.m.cur != scrCode || failures != 0 {
		t.Fatalf("code during the outage: screen %d, %d failures told", d.m.cur, failures)
	}
	proxy.Restore()
	d.typeText(code)
	d.key("enter")
	if d.m.c.sess.Stage() != core.StageSignedIn || d.m.c.sess.Username() != "bob" {
		t.Fatalf("the same code once the store is back: stage %d\n%s", d.m.c.sess.Stage(), d.view())
	}
}

// TestPostgresScreenStoreUnreachable keeps the golden file of the Users page
// opened while the store is cut, in a running program: the sentence in the
// flash line, the page and its menu still there. Regenerate with
// PGHOST=... go test ./internal/tui -run TestPostgresScreenStoreUnreachable -update.
func TestPostgresScreenStoreUnreachable(t *testing.T) {
	e, proxy := newTestServiceBehindProxy(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	p := e.start(t, 80, 24)
	p.login(e, "alice", adminPassword, false)
	p.waitFor("alice (admin)")
	proxy.Cut()
	p.key("esc", "right", "right", "enter")
	p.waitFor(storeUnreachableText)
	p.golden()
}

// TestMain drops the PostgreSQL database the outage tests made, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	dbtest.DropDatabase()
	os.Exit(code)
}
