package sshserve

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

func TestPtySessionShowsLoginAndLogsIn(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})

	c := ts.open("xterm-256color")
	c.waitFor("Log in", "Username", "Password")
	log := ts.waitLog("session start")
	if !strings.Contains(log, "term=xterm-256color size=80x24") {
		t.Errorf("the start line does not name the terminal:\n%s", log)
	}
	c.send("alice\t" + adminPassword + "\r")
	c.waitFor("alice (admin)")
	c.send("\x03") // Ctrl+C quits
	if code := c.exit(); code != 0 {
		t.Errorf("quitting exits %d, want 0; the session shows:\n%s", code, c.text())
	}
	log = ts.waitLog("session end")
	if !strings.Contains(log, "user=alice") || !strings.Contains(log, "reason=quit") {
		t.Errorf("the end line does not name the user and reason:\n%s", log)
	}
	if strings.Contains(log, adminPassword) {
		t.Errorf("the log holds the password:\n%s", log)
	}
	// The audit trail names the session as its source.
	if !strings.Contains(log, "source=ssh:127.0.0.1:") {
		t.Errorf("the log does not name the source:\n%s", log)
	}
	// On loopback the source names the local user too (where the kernel
	// says who it is): core counts failed passwords by that place.
	events, err := ts.svc.ListAudit(context.Background(), core.LocalOperator("test"), -1, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := "ssh:127.0.0.1:"
	if key := clientKey(c.conn.LocalAddr(), c.conn.RemoteAddr()); strings.Contains(key, " (") {
		want = "ssh:" + c.conn.LocalAddr().String() + key[strings.Index(key, " "):]
	}
	found := false
	for _, e := range events {
		found = found || e.Action == core.ActionLogin && strings.HasPrefix(e.Source, want)
	}
	if !found {
		t.Errorf("no login event with source %q in %+v", want, events)
	}
}

func TestRefusesWhatIsNotAConsole(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole})
	for _, tc := range []struct {
		name  string
		start func(c *client) error
		want  string
	}{
		{"no terminal", nil, "needs a terminal"},
		{"command", func(c *client) error { return c.sess.Start("cat /etc/passwd") }, "runs only the smartmfa console"},
		{"subsystem", nil, "no subsystem such as sftp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := dial(t, ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var c *client
			switch {
			case tc.name == "subsystem":
				// A subsystem session never "starts" for x/crypto/ssh: read
				// its stderr until the server closes it.
				sess, err := conn.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				stderr, err := sess.StderrPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := sess.RequestSubsystem("sftp"); err != nil {
					t.Fatal(err)
				}
				out, _ := io.ReadAll(stderr)
				if !strings.Contains(string(out), tc.want) {
					t.Errorf("the refusal says %q, want %q", out, tc.want)
				}
				return
			case tc.start == nil:
				c, err = startSession(t, conn, "", 80, 24)
			default:
				sess, err2 := conn.NewSession()
				if err2 != nil {
					t.Fatal(err2)
				}
				c = &client{t: t, conn: conn, sess: sess, out: &syncBuffer{}, exited: make(chan error, 1)}
				sess.Stdout, sess.Stderr = c.out, c.out
				err = tc.start(c)
				go func() { c.exited <- sess.Wait() }()
			}
			if err != nil {
				t.Fatal(err)
			}
			if code := c.exit(); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			c.waitFor(tc.want)
		})
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("%d sessions are open after refusals", n)
	}
}

func TestIdleTimeoutEndsSession(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{IdleTimeout: 2 * time.Second, Warning: time.Second})
	c := ts.open("xterm-256color")
	c.waitFor("Log in")
	c.waitFor("closes in 1 second")
	lastKey := time.Now()
	c.send("a") // a key puts the end off by a whole timeout
	code := c.exit()
	if idle := time.Since(lastKey); idle < 2*time.Second {
		t.Errorf("the session ended %s after the last key, before its 2 s idle timeout", idle)
	}
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	c.waitFor("closed after 2 seconds without input.")
	ts.waitLog("reason=idle")
}

func TestSessionLimitEndsSession(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole, SessionLimit: 2 * time.Second, Warning: time.Second})
	c := ts.open("xterm")
	c.waitFor("size 80x24")
	c.waitFor("Sessions last at most 2 seconds: this one closes in 1 second.")
	c.send("x") // typing does not put a session limit off
	if code := c.exit(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	c.waitFor("closed: a session lasts at most 2 seconds.")
	ts.waitLog("reason=limit")
}

func TestPerAddressCap(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole, MaxPerAddress: 2})
	a, b := ts.open("xterm"), ts.open("xterm")
	a.waitFor("size 80x24")
	b.waitFor("size 80x24")
	c := ts.open("xterm")
	if code := c.exit(); code != 1 {
		t.Errorf("a third session exits %d, want 1", code)
	}
	c.waitFor("2 sessions from 127.0.0.1", "are open, the most allowed")
	ts.waitLog("reason=\"address full\"")

	a.close()
	deadline := time.Now().Add(wait)
	for ts.srv.Sessions() > 1 {
		if time.Now().After(deadline) {
			t.Fatal("the closed session is still counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	d := ts.open("xterm")
	d.waitFor("size 80x24")
}

func TestPanicEndsOnlyItsSession(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole})
	other := ts.open("xterm")
	other.waitFor("size 80x24")
	for _, tc := range []struct{ name, key string }{
		{"update", "\x18"},  // Ctrl+X
		{"command", "\x19"}, // Ctrl+Y
		{"view", "\x17"},    // Ctrl+W
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ts.open("xterm")
			c.waitFor("size 80x24")
			c.send(tc.key)
			if code := c.exit(); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			c.waitFor("this session stopped on an internal error")
			ts.waitLog("panic=\"boom in " + tc.name)
			other.send("x")
			other.waitFor("typed x")
			other.send("\b")
		})
	}
	if n := strings.Count(ts.log.String(), "reason=panic"); n != 3 {
		t.Errorf("%d sessions ended with reason=panic, want 3:\n%s", n, ts.log.String())
	}
}

func TestColoursFollowTheClient(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	colour := ts.open("xterm-256color")
	plain := ts.open("xterm-256color", "NO_COLOR=1")
	dumb := ts.open("dumb")
	for _, c := range []*client{colour, plain, dumb} {
		c.waitFor("Log in", "Username")
	}
	if out := colour.out.String(); !hasColour(out) {
		t.Errorf("an xterm-256color client gets no colours:\n%q", out)
	}
	for name, c := range map[string]*client{"NO_COLOR": plain, "TERM=dumb": dumb} {
		if out := c.out.String(); strings.Contains(out, "38;5;") || strings.Contains(out, "38;2;") || hasColour(out) {
			t.Errorf("a %s client gets colours:\n%q", name, out)
		}
	}
}

// hasColour reports whether out sets a foreground or background colour.
func hasColour(out string) bool {
	for _, seq := range strings.Split(out, "\x1b[")[1:] {
		end := strings.IndexAny(seq, "ABCDEFGHJKSTfhlmnsu")
		if end < 0 || seq[end] != 'm' {
			continue
		}
		for _, p := range strings.Split(seq[:end], ";") {
			if len(p) == 2 && strings.ContainsRune("349", rune(p[0])) && p[1] != '9' || len(p) == 3 && p[:2] == "10" {
				return true
			}
		}
	}
	return false
}

func TestWindowSizeFollowsTheClient(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole})
	c, err := ts.tryOpen("xterm", 100, 30)
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 100x30")
	if err := c.sess.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 120x40")
}

func TestShutdownDrainsSessions(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole})
	c := ts.open("xterm")
	c.waitFor("size 80x24")
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- ts.srv.Shutdown(time.Second) }()
	c.waitFor("The server is shutting down: this session closes in 1 second.")
	if conn, err := dial(t, ts.addr); err == nil {
		conn.Close()
		t.Error("a new connection is accepted while the server drains")
	}
	if code := c.exit(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	c.waitFor("the server shut down; connect again later.")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown has not returned")
	}
	if took := time.Since(start); took < time.Second || took > 4*time.Second {
		t.Errorf("the drain took %s with a 1 s grace", took)
	}
	ts.waitLog("reason=shutdown")
}

func TestBackoffAfterFailedLogins(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{FailedLogins: 2, Backoff: time.Minute})

	signedIn := ts.open("xterm")
	signedIn.waitFor("Log in")
	signedIn.send("alice\t" + adminPassword + "\r")
	signedIn.waitFor("alice (admin)")

	c := ts.open("xterm")
	c.waitFor("Log in")
	c.send("alice\twrong-password-1\r")
	c.waitFor("Invalid username or password.")
	c.send("wrong-password-2\r")
	if code := c.exit(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	c.waitFor("too many failed logins from 127.0.0.1", "try again in 1 minute.")
	ts.waitLog("login backoff")

	again, err := ts.tryOpen("xterm", 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	if code := again.exit(); code != 1 {
		t.Errorf("a new session during the backoff exits %d, want 1", code)
	}
	again.waitFor("too many failed logins from 127.0.0.1", "try again in")

	// The signed-in session from the same address goes on.
	select {
	case err := <-signedIn.exited:
		t.Fatalf("the signed-in session ended: %v\n%s", err, signedIn.text())
	default:
	}
	signedIn.send("?")
	signedIn.waitFor("alice (admin)")
}

func TestConnectionWithoutSessionIsClosed(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole, PreSessionTimeout: 300 * time.Millisecond})
	conn, err := dial(t, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- conn.Wait() }()
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("a connection without a session stays open")
	}
}

// sizeConsole is a console that shows its window size and what was typed,
// and panics on Ctrl+X (in Update), Ctrl+Y (in a command) and Ctrl+W (in
// View).
func sizeConsole(context.Context, *Session) tea.Model { return &sizeModel{} }

type sizeModel struct {
	w, h      int
	typed     string
	panicView bool
}

func (m *sizeModel) Init() tea.Cmd { return nil }

func (m *sizeModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tea.KeyMsg:
		switch msg.String() {
		case "ctrl+x":
			panic("boom in update")
		case "ctrl+y":
			return m, func() tea.Msg { panic("boom in command") }
		case "ctrl+w":
			m.panicView = true
		case "ctrl+c":
			return m, tea.Quit
		case "backspace":
			m.typed = ""
		default:
			m.typed += msg.String()
		}
	}
	return m, nil
}

func (m *sizeModel) View() string {
	if m.panicView {
		panic("boom in view")
	}
	return fmt.Sprintf("size %dx%d\ntyped %s", m.w, m.h, m.typed)
}
