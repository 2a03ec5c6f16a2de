package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxServer is a private tmux server (its own socket), so the test never
// touches the user's sessions.
type tmuxServer struct {
	t    *testing.T
	name string
	e    *env
}

func newTmux(t *testing.T, e *env) *tmuxServer {
	t.Helper()
	for _, tool := range []string{"tmux", "oathtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed for the end-to-end test (.ci/run installs it)", tool)
			}
			t.Skipf("%s is not installed: skipping the end-to-end test", tool)
		}
	}
	s := &tmuxServer{t: t, name: fmt.Sprintf("smartmfa-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()), e: e}
	t.Cleanup(func() {
		socket, _ := exec.Command("tmux", "-L", s.name, "display-message", "-p", "#{socket_path}").Output()
		exec.Command("tmux", "-L", s.name, "kill-server").Run()
		if path := strings.TrimSpace(string(socket)); strings.HasSuffix(path, s.name) {
			os.Remove(path) // tmux leaves its socket behind
		}
	})
	return s
}

func (s *tmuxServer) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.name, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// console starts the console in a new 80x24 session. env adds to the
// environment (TERM, NO_COLOR).
func (s *tmuxServer) console(session string, env ...string) *pane {
	s.t.Helper()
	vars := append([]string{"HOME=" + s.e.dir, "USER=tester"}, env...)
	command := "env -i " + strings.Join(vars, " ") + " " + smartmfaBinary(s.t) + " --db " + s.e.db
	s.tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)
	return &pane{s: s, target: session}
}

// pane is one console in the tmux server.
type pane struct {
	s      *tmuxServer
	target string
}

func (p *pane) screen() string { return p.s.tmux("capture-pane", "-p", "-t", p.target) }

// waitFor polls the screen until it shows every one of want.
func (p *pane) waitFor(want ...string) string {
	p.s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		screen := p.screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(screen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return screen
		}
		if time.Now().After(deadline) {
			p.s.t.Fatalf("%s: the screen does not show %q after 10 s:\n%s", p.target, missing, screen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keys sends named keys (Tab, Enter, Space, Right...). Escape is sent alone
// and given time, so that the next key is not read as alt+key.
func (p *pane) keys(names ...string) {
	p.s.t.Helper()
	for _, k := range names {
		p.s.tmux("send-keys", "-t", p.target, k)
		if k == "Escape" {
			time.Sleep(150 * time.Millisecond)
		}
	}
}

func (p *pane) typeText(s string) { p.s.tmux("send-keys", "-t", p.target, "-l", s) }

var setupKeyRE = regexp.MustCompile(`[A-Z2-7]{4}( [A-Z2-7]{4}){7}`)

// setupKey reads the setup key off the screen.
func (p *pane) setupKey() string {
	p.s.t.Helper()
	key := setupKeyRE.FindString(p.waitFor("Setup key"))
	if key == "" {
		p.s.t.Fatalf("no setup key on the screen:\n%s", p.screen())
	}
	return key
}

// oathtool computes a TOTP code from a setup key as typed (spaces and all);
// at, when given, is a time as oathtool's -N reads it.
func oathtool(t *testing.T, key, at string) string {
	t.Helper()
	args := []string{"--totp", "-b", key}
	if at != "" {
		args = append(args, "-N", at)
	}
	out, err := exec.Command("oathtool", args...).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// wrongCode is a code that no step near now accepts.
func wrongCode(t *testing.T, key string) string {
	t.Helper()
	near := oathtool(t, key, "now - 30 seconds") + oathtool(t, key, "") + oathtool(t, key, "now + 30 seconds") +
		oathtool(t, key, "now + 60 seconds")
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444"} {
		if !strings.Contains(near, c) {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

// login types a username and password on the login screen.
func (p *pane) login(username, password string) {
	p.s.t.Helper()
	p.waitFor("Log in", "Username")
	p.typeText(username)
	p.keys("Tab")
	p.typeText(password)
	p.keys("Enter")
}

// TestConsoleEndToEnd drives the real binary in tmux as people would: an
// administrator registers, enrols with a code oathtool computes from the
// setup key on the screen, logs in again, sees a replayed code refused, adds
// a second user from the Users page and requires MFA for the account; that
// user replaces the temporary password, is sent to set-up, enrols and later
// changes the password; the administrator removes that user's MFA.
func TestConsoleEndToEnd(t *testing.T) {
	e := newEnv(t)
	srv := newTmux(t, e)

	// First run: register; the new user is the administrator and signed in.
	a := srv.console("admin", "TERM=xterm-256color")
	a.waitFor("No account yet?", "Register")
	a.keys("Tab", "Tab", "Tab", "Enter")
	a.waitFor("Register an account")
	a.typeText("Acme")
	a.keys("Tab")
	a.typeText("alice")
	a.keys("Tab")
	a.typeText(adminPassword)
	a.keys("Tab")
	a.typeText(adminPassword)
	a.keys("Enter")
	a.waitFor("Account registered", "alice (admin)", "is not set up")

	// Add MFA with the key read off the screen.
	a.keys("Enter")
	key := a.setupKey()
	a.typeText(wrongCode(t, key))
	a.keys("Enter")
	a.waitFor("That code is not valid")
	first := oathtool(t, key, "")
	a.typeText(first)
	a.keys("Enter")
	a.waitFor("Multi-factor authentication has been set up", "Recovery codes")
	if strings.Contains(a.screen(), key) {
		t.Fatal("the setup key is still on the screen after set-up")
	}
	recovery := regexp.MustCompile(`\b[0-9a-z]{5}-[0-9a-z]{5}\b`).FindAllString(a.screen(), -1)
	if len(recovery) < 2 {
		t.Fatalf("no recovery codes on the screen:\n%s", a.screen())
	}
	a.keys("Enter")
	a.waitFor("10 left")

	// Log out, and in again with the next step's code (the first one's
	// step is spent).
	a.keys("Escape", "End", "Enter")
	a.waitFor("You have logged out.")
	a.login("alice", adminPassword)
	a.waitFor("or one of your recovery codes")
	fresh := oathtool(t, key, "now + 30 seconds")
	a.typeText(fresh)
	a.keys("Enter")
	a.waitFor("On since", "10 left")

	// A second console, without colours, replays that code: refused.
	b := srv.console("user", "TERM=screen", "NO_COLOR=1")
	b.login("alice", adminPassword)
	b.waitFor("or one of your recovery codes")
	b.typeText(fresh)
	b.keys("Enter")
	b.waitFor("That code was just used")
	b.keys("Escape")
	b.waitFor("You have logged out.")

	// The administrator adds bob from the Users page with a password she
	// types, confirming with a code of her own (a recovery code: her codes
	// of this step and the next are spent).
	a.keys("Escape", "Right", "Right", "Enter")
	a.waitFor("Username", "alice", "1 user matches")
	a.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Enter") // MFA, Role, the list, Update, Add user
	a.waitFor("Add a user", "Your code")
	a.typeText("bob")
	a.keys("Tab", "Tab", "Tab", "Tab", "Right") // Name, Email, Role, Password: type one
	a.waitFor("Temporary")
	a.keys("Tab")
	a.typeText(tempPassword)
	a.keys("Tab")
	a.typeText(tempPassword)
	a.keys("Tab")
	a.typeText(recovery[0])
	a.keys("Enter")
	a.waitFor("bob was added as a user.", "must choose a password of their own")
	a.keys("Enter") // Done
	a.waitFor("2 users match", "enabled")

	// The administrator requires MFA; bob, without it, is counted.
	a.keys("Escape", "Left", "Enter")
	a.waitFor("Require multi-factor authentication for all users in this account")
	a.keys("Space")
	a.waitFor("1 user has no multi-factor authentication yet")
	a.keys("Tab", "Enter")
	a.waitFor("Saved: MFA is required now; 1 user without it goes to set-up")

	// bob must replace the temporary password first, then is sent to
	// set-up, can reach nothing else, and enrols.
	b.login("bob", tempPassword)
	b.waitFor("Choose a new password")
	b.typeText(userPassword)
	b.keys("Tab")
	b.typeText(userPassword)
	b.keys("Enter")
	b.waitFor("requires multi-factor authentication", "[MFA setup]")
	if strings.Contains(b.screen(), "My MFA") {
		t.Fatal("a forced set-up offers My MFA")
	}
	bobKey := b.setupKey()
	b.typeText(oathtool(t, bobKey, ""))
	b.keys("Enter")
	b.waitFor("Multi-factor authentication has been set up", "Recovery codes")
	b.keys("Enter")
	b.waitFor("[My MFA]", "10 left")

	// Later bob changes his password from My MFA: a wrong current one
	// first, refused under its field.
	b.keys("Tab", "Enter") // Delete, Change password
	b.waitFor("Change your password")
	b.typeText("not-my-password-9")
	b.keys("Tab")
	b.typeText("bobs-second-password-4")
	b.keys("Tab")
	b.typeText("bobs-second-password-4")
	b.keys("Enter")
	b.waitFor("That is not your current password.")
	b.typeText(userPassword)
	b.keys("Tab", "Tab", "Enter") // the new password is still there
	b.waitFor("Your password was changed.", "[My MFA]")

	// The administrator removes bob's MFA, after a confirmation naming him
	// and with a code of her own (step-up): first without it, refused.
	a.keys("Escape", "Right", "Enter")
	a.waitFor("Username", "bob")
	a.typeText("bob")
	a.waitFor("> bob")
	a.keys("Enter")
	a.waitFor("Multi-Factor Authentication", "Status       on")
	a.keys("C-r") // Remove MFA, in one key from the page
	a.waitFor("Remove multi-factor authentication from bob?", "Remove MFA from bob",
		"The account requires MFA: at the next login bob is sent to set up")
	a.typeText("lost phone")
	a.keys("Tab", "Tab", "Tab", "Enter") // past her code and Cancel, to Remove MFA
	a.waitFor("Enter a current code from your own authenticator app")
	a.typeText(recovery[1]) // her codes of this step and the next are spent
	a.keys("Tab", "Tab", "Enter")
	a.waitFor("Multi-factor authentication was removed from bob.", "Status       off")
	if out := e.ok("", "user", "show", "bob").stdout; !regexp.MustCompile(`mfa\s+off`).MatchString(out) {
		t.Errorf("after removal the command line shows bob as:\n%s", out)
	}

	for _, p := range []*pane{a, b} {
		p.keys("C-c")
	}
}
