package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// TestScreensDeadline keeps the golden files of the enrolment deadline: the
// Account page with its date and the set-up page with Later. Regenerate with
// go test ./internal/tui -run TestScreensDeadline -update.
func TestScreensDeadline(t *testing.T) {
	t.Run("account with a date", func(t *testing.T) {
		p := startAccountPage(t)
		p.key("space", "tab")
		p.typeText("2030-01-08")
		p.waitFor("from 2030-01-08 (7 days left)", "may choose Later")
		p.golden()
	})
	t.Run("account with a bad date", func(t *testing.T) {
		p := startAccountPage(t)
		p.key("space", "tab")
		p.typeText("2030-13-01")
		p.key("enter")
		p.waitFor("Enter the date as YYYY-MM-DD")
		p.golden()
	})
	t.Run("account saved with a date", func(t *testing.T) {
		p := startAccountPage(t)
		p.key("space", "tab")
		p.typeText("2030-01-08")
		p.key("enter")
		p.waitFor("may postpone set-up", "until then 2 users")
		p.golden()
	})
	t.Run("setup with Later", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob", core.RoleUser)
		if _, err := e.svc.SetRequireMFAFrom(e.ctx, admin, admin.AccountID(), true, testStart.Add(6*24*time.Hour+time.Hour)); err != nil {
			t.Fatal(err)
		}
		p := e.start(t, 80, 24)
		p.login(e, "bob", userPassword, false)
		p.waitFor("Setup key", "Later (7 days left)", "set it up now or choose Later")
		p.golden()
	})
}

// TestSetupLater: Later signs a user without MFA in until the deadline; from
// it on Later is gone and the set-up is forced.
func TestSetupLater(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob", core.RoleUser)
	if _, err := e.svc.SetRequireMFAFrom(e.ctx, admin, admin.AccountID(), true, testStart.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	d := e.drive(80, 24)
	d.login(e, "bob", userPassword)
	d.expect("Later (1 day left)")
	d.key("tab", "tab", "enter")
	d.expect("MFA set-up postponed: it is required from 2030-01-02.")
	if d.m.c.sess.Stage() != core.StageSignedIn || d.m.cur == scrSetup {
		t.Fatalf("after Later: stage %v on screen %v", d.m.c.sess.Stage(), d.m.cur)
	}

	e.clock.Advance(24 * time.Hour)
	d = e.drive(80, 24)
	d.login(e, "bob", userPassword)
	d.expect("Setup key")
	if v := d.view(); strings.Contains(v, "Later") {
		t.Errorf("Later shown at the deadline:\n%s", v)
	}
}

// startAccountPage signs alice (with MFA) in and opens the Account page, with
// bob and carol without MFA.
func startAccountPage(t *testing.T) *program {
	t.Helper()
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, "bob", "Bob Builder", core.RoleUser)
	e.addUser(admin, "carol", "Carol", core.RoleUser)
	e.enroll("alice", adminPassword)
	p := e.start(t, 80, 24)
	p.login(e, "alice", adminPassword, true)
	p.waitFor("10 left")
	p.key("esc", "right", "enter")
	p.waitFor("Require multi-factor")
	return p
}
