//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/vtscreen"
)

// TestConsoleFollowsTheTerminal runs the local console under the terminals
// of issue 8, item 9: it keeps colours and bold under GNU screen's and
// tmux's TERM, and without colours (NO_COLOR, TERM=dumb or vt100) draws
// the QR code for the background COLORFGBG names. (serve's sessions are
// checked the same way in internal/sshserve, TestTerminalsOverSSH.) The corner of the code tells its polarity:
// the top edge of its top-left finder pattern is a dark bar, drawn in dark
// glyphs where the terminal's ink is dark, and as the gap between light
// glyphs where its ink is light.
func TestConsoleFollowsTheTerminal(t *testing.T) {
	t.Parallel()
	const inkDark, inkLight = " █▀▀▀▀▀█ ", "█ ▄▄▄▄▄ █"
	for _, tc := range []struct {
		name     string
		term     string
		env      []string
		coloured bool
		finder   string
	}{
		{"NO_COLOR, COLORFGBG light", "xterm-256color", []string{"NO_COLOR=1", "COLORFGBG=0;15"}, false, inkDark},
		{"NO_COLOR, COLORFGBG dark", "xterm-256color", []string{"NO_COLOR=1", "COLORFGBG=15;0"}, false, inkLight},
		{"dumb, light", "dumb", []string{"COLORFGBG=0;15"}, false, inkDark},
		{"vt100, light", "vt100", []string{"COLORFGBG=0;15"}, false, inkDark},
		{"vt100, dark", "vt100", []string{"COLORFGBG=15;0"}, false, inkLight},
		{"screen", "screen", nil, true, inkDark},
		{"tmux-256color", "tmux-256color", nil, true, inkDark},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.createAccount("Acme", "alice")
			for _, tm := range []*terminal{localTerminal(t, e, 80, 24, tc.term, tc.env...)} {
				steps := []vtscreen.Step{
					{Name: "start", Want: []string{"Log in"}},
					{Name: "sign-in", Keys: []string{"alice", "\t", adminPassword, "\r"}, Want: []string{"My multi-factor authentication"}},
					{Name: "Add", Keys: []string{"\r"}, Want: []string{"Setup key"}},
				}
				vtscreen.SameScreens(t, steps, &tm.Terminal)
				if text := tm.Screen.String(); !strings.Contains(text, tc.finder) {
					t.Errorf("%s: the QR code's corner does not show as %q:\n%s", tm.Name, tc.finder, text)
				}
				out := tm.raw.String()
				if colour, bold := sgrHas(out, isColour), sgrHas(out, isBold); colour != tc.coloured || bold != tc.coloured {
					t.Errorf("%s: colours %v and bold %v, want %v:\n%q", tm.Name, colour, bold, tc.coloured, out)
				}
			}
		})
	}
}

// sgrHas reports whether an SGR sequence in out has a parameter that is.
// The numbers of a 256-colour or RGB colour are skipped.
func sgrHas(out string, is func(string) bool) bool {
	for _, seq := range strings.Split(out, "\x1b[")[1:] {
		end := strings.IndexAny(seq, "ABCDEFGHJKSTfhlmnsu")
		if end < 0 || seq[end] != 'm' {
			continue
		}
		params := strings.Split(seq[:end], ";")
		for i := 0; i < len(params); i++ {
			if is(params[i]) {
				return true
			}
			if p := params[i]; (p == "38" || p == "48") && i+1 < len(params) {
				i += map[string]int{"5": 2, "2": 4}[params[i+1]]
			}
		}
	}
	return false
}

func isBold(p string) bool { return p == "1" }

// isColour: a foreground or background colour, of 8, 16, 256 or more.
func isColour(p string) bool {
	return len(p) == 2 && strings.ContainsRune("3489", rune(p[0])) && p[1] != '9' || len(p) == 3 && p[:2] == "10"
}
