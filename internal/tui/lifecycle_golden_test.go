package tui

import (
	"testing"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// TestScreensLifecycle keeps the golden files of adding a user and changing
// one's password, as TestScreens does (same size, clock and secrets).
// Regenerate with go test ./internal/tui -run TestScreens -update.
func TestScreensLifecycle(t *testing.T) {
	// Users page, Add user (the sixth control), as alice.
	openAdd := func(p *program, wants ...string) {
		p.key("esc", "right", "right", "enter")
		p.waitFor("Add user")
		for range 5 { // MFA, Role, the list, Update, Add user
			p.key("tab")
		}
		p.key("enter")
		p.waitFor(append(wants, "Add a user")...)
	}
	t.Run("add user typed with step-up", func(t *testing.T) {
		e := newTestService(t)
		e.register()
		e.enroll("alice", adminPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, true)
		p.waitFor("10 left")
		openAdd(p, "Your code")
		p.typeText("frank")
		p.key("tab")
		p.typeText("Frank Zappa")
		p.key("tab", "tab", "tab", "right")
		p.waitFor("Temporary")
		p.key("tab")
		p.typeText("temporary-pass-1")
		p.key("tab")
		p.typeText("temporary-pass-1")
		p.key("enter", "enter")
		p.waitFor("Enter a current code")
		p.golden()
	})
	t.Run("add user generated password", func(t *testing.T) {
		e := newTestService(t)
		e.register()
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("is not set up")
		openAdd(p)
		p.typeText("erin")
		p.key("tab")
		p.typeText("Erin Example")
		p.key("tab")
		p.typeText("erin@example.com")
		p.key("tab", "space", "tab", "enter")
		p.waitFor("Temporary password", "[>Done<]")
		p.golden()
	})
	t.Run("change password wrong current", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob Builder", core.RoleUser)
		p := e.start(t, 80, 24)
		p.login(e, "bob", userPassword, false)
		p.waitFor("[>Add<]")
		p.key("tab", "enter")
		p.waitFor("Change your password")
		p.typeText("not-my-password")
		p.key("tab")
		p.typeText("bob-new-password-1")
		p.key("tab")
		p.typeText("bob-new-password-1")
		p.key("enter")
		p.waitFor("That is not your current password.")
		p.golden()
	})
	t.Run("users filter focused", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob Builder", core.RoleUser)
		carol := e.addUser(admin, "carol", "Carol Red", core.RoleUser)
		yes := true
		if _, err := e.svc.UpdateUser(e.ctx, admin, carol.ID, core.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("is not set up")
		p.key("esc", "right", "right", "enter")
		p.waitFor("3 users match")
		p.key("tab", "tab", "space", "space")
		p.waitFor("2 users match")
		p.golden()
	})
}
