package tui

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// program is the console running in a teatest program at a fixed size.
type program struct {
	t  *testing.T
	tm *teatest.TestModel
}

func (e *testEnv) start(t *testing.T, w, h int) *program {
	t.Helper()
	return &program{t: t, tm: teatest.NewTestModel(t, e.newTestModel(), teatest.WithInitialTermSize(w, h))}
}

// waitFor waits until the program has drawn want since the last wait.
func (p *program) waitFor(wants ...string) {
	p.t.Helper()
	teatest.WaitFor(p.t, p.tm.Output(), func(b []byte) bool {
		for _, w := range wants {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(2*time.Millisecond))
}

// setupKeyRE finds a setup key on the screen: eight groups of four.
var setupKeyRE = regexp.MustCompile(`[A-Z2-7]{4}( [A-Z2-7]{4}){7}`)

// waitForMatch waits until the program has drawn a match of re and returns it.
func (p *program) waitForMatch(re *regexp.Regexp) string {
	p.t.Helper()
	var found string
	teatest.WaitFor(p.t, p.tm.Output(), func(b []byte) bool {
		found = string(re.Find(b))
		return found != ""
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(2*time.Millisecond))
	return found
}

func (p *program) key(names ...string) {
	for _, n := range names {
		p.tm.Send(keyMsg(n))
	}
}

func (p *program) typeText(s string) { p.tm.Type(s) }

// login types a username and password and, for a user with MFA, a code.
func (p *program) login(e *testEnv, username, password string, withCode bool) {
	p.t.Helper()
	p.waitFor("Log in")
	p.typeText(username)
	p.key("tab")
	p.typeText(password)
	p.key("enter")
	if withCode {
		p.waitFor("recovery codes")
		p.typeText(e.code(username))
		p.key("enter")
	}
}

// golden stops the program and compares its last View with the golden file.
func (p *program) golden() {
	p.t.Helper()
	if err := p.tm.Quit(); err != nil {
		p.t.Fatal(err)
	}
	m := p.tm.FinalModel(p.t, teatest.WithFinalTimeout(5*time.Second))
	teatest.RequireEqualOutput(p.t, []byte(m.View()))
}

// TestScreens keeps a golden file of every screen at 80x24, without colour,
// with a fixed clock and fixed secrets. Regenerate with
// go test ./internal/tui -run TestScreens -update.
func TestScreens(t *testing.T) {
	t.Run("login on an empty database", func(t *testing.T) {
		p := newTestService(t).start(t, 80, 24)
		p.waitFor("No account yet?")
		p.golden()
	})
	t.Run("register", func(t *testing.T) {
		p := newTestService(t).start(t, 80, 24)
		p.waitFor("No account yet?")
		p.key("tab", "tab", "tab", "enter")
		p.waitFor("Register an account")
		p.typeText("Acme")
		p.key("tab")
		p.typeText("alice")
		p.key("tab")
		p.typeText(adminPassword)
		p.key("tab")
		p.typeText("mistyped-password")
		p.key("enter")
		p.waitFor("do not match")
		p.golden()
	})
	t.Run("login code", func(t *testing.T) {
		e := newTestService(t)
		e.register()
		e.enroll("alice", adminPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("recovery codes")
		p.typeText("000000")
		p.key("enter")
		p.waitFor("not valid")
		p.golden()
	})
	t.Run("login code, phone clock ahead", func(t *testing.T) {
		e := newTestService(t)
		e.register()
		e.enroll("alice", adminPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("recovery codes")
		p.typeText(totp(e.secrets["alice"], e.clock.Now().Add(2*time.Minute)))
		p.key("enter")
		p.waitFor("automatic time")
		p.golden()
	})
	t.Run("my MFA not set up", func(t *testing.T) {
		e := newTestService(t)
		e.register()
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("is not set up")
		p.golden()
	})
	t.Run("setup with a 16-character username", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "abcdefghijklmnop", "Sixteen", core.RoleUser)
		p := e.start(t, 80, 24)
		p.login(e, "abcdefghijklmnop", userPassword, false)
		p.waitFor("[>Add<]")
		p.key("enter")
		p.waitFor("Setup key")
		p.golden()
	})
	t.Run("setup window too small", func(t *testing.T) {
		_, p := startSetup(t, 70, 22)
		p.waitFor("does not fit")
		p.golden()
	})
	t.Run("setup wrong code", func(t *testing.T) {
		_, p := startSetup(t, 80, 24)
		p.waitFor("Setup key")
		p.typeText("123456")
		p.key("enter")
		p.waitFor("not valid")
		p.golden()
	})
	t.Run("setup code, phone clock behind", func(t *testing.T) {
		e, p := startSetup(t, 80, 24)
		key := p.waitForMatch(setupKeyRE)
		p.typeText(totp(decodeKey(t, key), e.clock.Now().Add(-2*time.Minute)))
		p.key("enter")
		p.waitFor("automatic time")
		p.golden()
	})
	t.Run("recovery codes", func(t *testing.T) {
		e, p := startSetup(t, 80, 24)
		key := p.waitForMatch(setupKeyRE)
		p.typeText(totp(decodeKey(t, key), e.clock.Now()))
		p.key("enter")
		// The flash comes in a message of its own: wait for both.
		p.waitFor("Recovery codes", "has been set up")
		p.golden()
	})
	t.Run("my MFA active, delete", func(t *testing.T) {
		e := newTestService(t)
		e.register()
		e.enroll("alice", adminPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, true)
		p.waitFor("10 left")
		p.key("enter")
		p.waitFor("To delete")
		p.golden()
	})
	t.Run("account", func(t *testing.T) {
		p := startAccountPage(t)
		p.key("space")
		p.waitFor("after you save")
		p.golden()
	})
	t.Run("users", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob Builder", core.RoleUser)
		e.addUser(admin, "carol", "Carol Red", core.RoleAdmin)
		e.addUser(admin, "dave", "Dave", core.RoleUser)
		e.enroll("bob", userPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("is not set up")
		p.key("esc", "right", "right", "enter")
		p.waitFor("dave")
		p.golden()
	})
	t.Run("user remove MFA", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob Builder", core.RoleUser)
		e.enroll("bob", userPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("is not set up")
		p.key("esc", "right", "right", "enter")
		p.waitFor("bob")
		p.typeText("bob")
		p.waitFor("> bob")
		p.key("enter")
		p.waitFor("Multi-Factor Authentication")
		for range 7 { // Name, Email, Role, Disabled, Save, Reset, Back, Remove MFA
			p.key("tab")
		}
		p.key("enter")
		p.waitFor("from bob?")
		p.golden()
	})
	t.Run("user reset password with step-up", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob Builder", core.RoleUser)
		e.enroll("alice", adminPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, true)
		p.waitFor("10 left")
		p.key("esc", "right", "right", "enter")
		p.waitFor("bob")
		p.typeText("bob")
		p.waitFor("> bob")
		p.key("enter")
		p.waitFor("Multi-Factor Authentication")
		for range 5 { // Name, Email, Role, Disabled, Save, Reset password
			p.key("tab")
		}
		p.key("enter")
		p.waitFor("A temporary password for bob", "Your code")
		p.golden()
	})
	t.Run("choose a new password", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		bob := e.addUser(admin, "bob", "Bob Builder", core.RoleUser)
		if err := e.svc.ResetPassword(e.ctx, admin, bob.ID, "temporary-password-9", ""); err != nil {
			t.Fatal(err)
		}
		p := e.start(t, 80, 24)
		p.login(e, "bob", "temporary-password-9", false)
		p.waitFor("Choose a new password")
		p.typeText("temporary-password-9")
		p.key("tab")
		p.typeText("temporary-password-9")
		p.key("enter")
		p.waitFor("must differ from the temporary one")
		p.golden()
	})
	t.Run("audit", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob", core.RoleUser)
		e.enroll("bob", userPassword)
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("is not set up")
		p.key("esc", "left", "left", "enter")
		p.waitFor("login.succeeded")
		p.golden()
	})
	t.Run("forced setup", func(t *testing.T) {
		e := newTestService(t)
		admin := e.register()
		e.addUser(admin, "bob", "Bob", core.RoleUser)
		if _, err := e.svc.SetRequireMFA(e.ctx, admin, admin.AccountID(), true); err != nil {
			t.Fatal(err)
		}
		p := e.start(t, 80, 24)
		p.login(e, "bob", userPassword, false)
		p.waitFor("Setup key", "requires multi-factor authentication")
		p.golden()
	})
	t.Run("full help", func(t *testing.T) {
		e := newTestService(t)
		e.register()
		p := e.start(t, 80, 24)
		p.login(e, "alice", adminPassword, false)
		p.waitFor("is not set up")
		p.key("esc")
		p.typeText("?")
		p.waitFor("less")
		p.golden()
	})
}

// startSetup registers alice, signs her in on a w x h terminal and opens the
// MFA set-up, as the set-up screens' tests all begin.
func startSetup(t *testing.T, w, h int) (*testEnv, *program) {
	t.Helper()
	e := newTestService(t)
	e.register()
	p := e.start(t, w, h)
	p.login(e, "alice", adminPassword, false)
	p.waitFor("[>Add<]")
	p.key("enter")
	return e, p
}
