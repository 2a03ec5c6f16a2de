package tui

import "testing"

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
}
