//go:build linux

package main

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/smartnumbers/smartmfa/internal/vtscreen"
)

// terminal is one console drawn by the test's terminal emulator, and
// how to resize its window.
type terminal struct {
	vtscreen.Terminal
	raw    *logBuffer     // every byte the program wrote
	resize func(w, h int) // tells the program, as dragging a window does
}

// localTerminal runs `smartmfa --db` on a pseudo-terminal of w x h as its
// controlling terminal, with TERM and env: the local console, the
// reference of what serve must show.
func localTerminal(t *testing.T, e *env, w, h int, term string, env ...string) *terminal {
	t.Helper()
	master, slave := openPTY(t, w, h)
	setWinsize := func(w, h int) {
		if err := vtscreen.Resize(master, w, h); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(smartmfaBinary(t), "--db", e.db)
	cmd.Env = append([]string{"HOME=" + e.dir, "USER=tester", "TERM=" + term}, env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		master.Close()
	})
	tm := &terminal{Terminal: vtscreen.Terminal{Name: "local", Screen: vtscreen.New(w, h), Keys: master}, raw: &logBuffer{}}
	tm.resize = func(w, h int) {
		tm.Screen.Resize(w, h)
		setWinsize(w, h) // the kernel sends the console SIGWINCH
	}
	go io.Copy(io.MultiWriter(tm.Screen, tm.raw), master) // until the console exits (EIO)
	return tm
}

// sshTerminalAt connects to serve at addr with x/crypto/ssh, asking for a
// terminal of w x h with TERM term and sending env; name is how failures
// call it.
func sshTerminalAt(t *testing.T, addr, name string, w, h int, term string, env ...string) *terminal {
	t.Helper()
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "tester",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	tm := &terminal{Terminal: vtscreen.Terminal{Name: name, Screen: vtscreen.New(w, h)}, raw: &logBuffer{}}
	sess.Stdout = io.MultiWriter(tm.Screen, tm.raw)
	sess.Stderr = sess.Stdout
	if tm.Keys, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if err := sess.Setenv(k, v); err != nil {
			t.Fatalf("setenv %s: %v", k, err)
		}
	}
	if err := sess.RequestPty(term, h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	tm.resize = func(w, h int) {
		tm.Screen.Resize(w, h)
		if err := sess.WindowChange(h, w); err != nil {
			t.Errorf("window-change: %v", err)
		}
	}
	return tm
}

// TestServeScreenIsTheLocalConsoles types the same keys into the local
// console on a pseudo-terminal and into serve over SSH, each drawn by the
// same terminal emulator, and compares the two screens after each step:
// over SSH the console must look exactly as it does locally. Before
// d105b1c serve's renderer never learnt the window size and left text of
// the previous screen ("[ Log in ]  Checking…" on My MFA).
func TestServeScreenIsTheLocalConsoles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		term string
		env  []string
	}{
		{"xterm-256color", "xterm-256color", nil},
		{"NO_COLOR", "xterm-256color", []string{"NO_COLOR=1"}},
		{"screen", "screen", nil}, // tmux's default TERM
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.createAccount("Acme", "alice")
			e.addUser("Acme", "bob")
			s := startServe(t, e)
			// Two SSH sessions: whether a session's renderer learnt the
			// window size before d105b1c was a race each session ran.
			terms := []*terminal{localTerminal(t, e, 80, 24, tc.term, tc.env...),
				sshTerminalAt(t, s.addr, "serve 1", 80, 24, tc.term, tc.env...),
				sshTerminalAt(t, s.addr, "serve 2", 80, 24, tc.term, tc.env...)}
			all := make([]*vtscreen.Terminal, len(terms))
			for i, tm := range terms {
				all[i] = &tm.Terminal
			}
			// Users again at the end: its screen follows My MFA's, which
			// leaves shorter lines than it draws.
			steps := append(vtscreen.ConsoleTour(adminPassword), vtscreen.Step{Name: "Users again",
				Keys: []string{"\x1b", "\x1b[C", "\x1b[C", "\r"}, Want: []string{"Username", "Page 1"}})
			vtscreen.SameScreens(t, steps, all...)

			// The window shrinks, then grows: all redraw to the new size.
			for _, size := range [][2]int{{64, 18}, {90, 26}} {
				for _, tm := range terms {
					tm.resize(size[0], size[1])
				}
				vtscreen.SameScreens(t, []vtscreen.Step{
					{Name: fmt.Sprintf("a resize to %dx%d", size[0], size[1]), Want: []string{"Page 1"}}}, all...)
			}
			vtscreen.SameScreens(t, steps[4:6], all...)
		})
	}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
