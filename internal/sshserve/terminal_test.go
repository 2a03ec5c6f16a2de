package sshserve

import (
	"context"
	"io"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/smartnumbers/smartmfa/internal/vtscreen"
)

// The top edge of the QR code's top-left finder pattern, a dark bar of
// seven modules over the quiet zone and the separator, as qrcode.HalfBlocks draws
// it for each polarity: inkDark (dark glyphs, a light terminal or colours
// on) and light ink (a dark terminal without colours).
const (
	finderInkDark  = " █▀▀▀▀▀█ "
	finderInkLight = "█ ▄▄▄▄▄ █"
)

// TestTerminalsOverSSH: each session's renderer follows its client's
// TERM (from the pty-req), NO_COLOR and COLORFGBG, as the local console
// follows its own (issue 8, item 9). Without colours the QR code on the
// screen is drawn for the background COLORFGBG names; GNU screen's and
// tmux's TERM keep colours and bold.
func TestTerminalsOverSSH(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		term    string
		env     []string
		profile termenv.Profile
		finder  string // how the QR code's corner shows
	}{
		{"NO_COLOR, light", "xterm-256color", []string{"NO_COLOR=1", "COLORFGBG=0;15"}, termenv.Ascii, finderInkDark},
		{"NO_COLOR, dark", "xterm-256color", []string{"NO_COLOR=1", "COLORFGBG=15;0"}, termenv.Ascii, finderInkLight},
		{"dumb, light", "dumb", []string{"COLORFGBG=0;15"}, termenv.Ascii, finderInkDark},
		{"vt100, light", "vt100", []string{"COLORFGBG=0;15"}, termenv.Ascii, finderInkDark},
		{"vt100, no COLORFGBG", "vt100", nil, termenv.Ascii, finderInkLight},
		{"screen", "screen", nil, termenv.ANSI, finderInkDark},
		{"tmux-256color", "tmux-256color", nil, termenv.ANSI256, finderInkDark},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := newService(t)
			console := tuiConsole(svc)
			profiles := make(chan termenv.Profile, 1)
			ts := startServer(t, Config{Console: func(ctx context.Context, s *Session) tea.Model {
				profiles <- s.Renderer.ColorProfile()
				return console(ctx, s)
			}})
			screen, raw := ts.screenClient(tc.name, tc.term, 80, 24, tc.env...)
			if p := <-profiles; p != tc.profile {
				t.Errorf("the session's profile is %s, want %s", p.Name(), tc.profile.Name())
			}
			steps := []vtscreen.Step{
				{Name: "start", Want: []string{"Log in"}},
				{Name: "sign-in", Keys: []string{"alice", "\t", adminPassword, "\r"}, Want: []string{"My multi-factor authentication"}},
				{Name: "Add", Keys: []string{"\r"}, Want: []string{"Setup key"}},
			}
			vtscreen.SameScreens(t, steps, screen)
			if text := screen.Screen.String(); !strings.Contains(text, tc.finder) {
				t.Errorf("the QR code's corner does not show as %q:\n%s", tc.finder, text)
			}
			coloured := tc.profile != termenv.Ascii
			if out := raw.String(); hasColour(out) != coloured || hasBold(out) != coloured {
				t.Errorf("profile %s, but colours %v and bold %v in:\n%q", tc.profile.Name(), hasColour(out), hasBold(out), out)
			}
		})
	}
}

// screenClient is an SSH session of w x h with TERM term, drawn by the
// test's terminal emulator; raw is what the session wrote.
func (ts *testServer) screenClient(name, term string, w, h int, env ...string) (tm *vtscreen.Terminal, raw *syncBuffer) {
	ts.t.Helper()
	conn, err := dial(ts.t, ts.addr)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		ts.t.Fatal(err)
	}
	tm, raw = &vtscreen.Terminal{Name: name, Screen: vtscreen.New(w, h)}, &syncBuffer{}
	sess.Stdout = io.MultiWriter(tm.Screen, raw)
	sess.Stderr = sess.Stdout
	if tm.Keys, err = sess.StdinPipe(); err != nil {
		ts.t.Fatal(err)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if err := sess.Setenv(k, v); err != nil {
			ts.t.Fatalf("setenv %s: %v", k, err)
		}
	}
	if err := sess.RequestPty(term, h, w, gossh.TerminalModes{}); err != nil {
		ts.t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		ts.t.Fatal(err)
	}
	return tm, raw
}

// hasBold reports whether out turns bold on.
func hasBold(out string) bool {
	for _, seq := range strings.Split(out, "\x1b[")[1:] {
		end := strings.IndexAny(seq, "ABCDEFGHJKSTfhlmnsu")
		if end < 0 || seq[end] != 'm' {
			continue
		}
		params := strings.Split(seq[:end], ";")
		for i := 0; i < len(params); i++ {
			switch params[i] {
			case "1":
				return true
			case "38", "48", "58": // a colour's own numbers follow
				if i+1 < len(params) && params[i+1] == "5" {
					i += 2
				} else if i+1 < len(params) && params[i+1] == "2" {
					i += 4
				}
			}
		}
	}
	return false
}
