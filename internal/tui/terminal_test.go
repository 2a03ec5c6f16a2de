package tui

import (
	"fmt"
	"image/color"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// envOf is an environment as termenv reads it.
type envOf []string

func (e envOf) Environ() []string { return e }

func (e envOf) Getenv(key string) string {
	v := ""
	for _, kv := range e {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// terminalRenderer is a renderer on a terminal whose environment is env,
// set up as the local console and serve set theirs.
func terminalRenderer(env ...string) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard, termenv.WithEnvironment(envOf(env)), termenv.WithTTY(true))
	SetTerminal(r, envOf(env).Getenv)
	return r
}

// terminals are the environments of issue 8, item 9: without colours
// (NO_COLOR, TERM=dumb, vt100) on light and dark backgrounds, and GNU
// screen's and tmux's TERM, which keep colours and bold.
var terminals = []struct {
	name    string
	env     []string
	profile termenv.Profile
	dark    bool // the background the renderer is told
}{
	{"NO_COLOR, COLORFGBG light", []string{"TERM=xterm-256color", "NO_COLOR=1", "COLORFGBG=0;15"}, termenv.Ascii, false},
	{"NO_COLOR, COLORFGBG dark", []string{"TERM=xterm-256color", "NO_COLOR=1", "COLORFGBG=15;0"}, termenv.Ascii, true},
	{"NO_COLOR, no COLORFGBG", []string{"TERM=xterm-256color", "NO_COLOR=1"}, termenv.Ascii, true},
	{"dumb, light", []string{"TERM=dumb", "COLORTERM=truecolor", "COLORFGBG=0;15"}, termenv.Ascii, false},
	{"dumb, dark", []string{"TERM=dumb", "COLORFGBG=15;0"}, termenv.Ascii, true},
	{"vt100, light", []string{"TERM=vt100", "COLORFGBG=0;15"}, termenv.Ascii, false},
	{"vt100, dark", []string{"TERM=vt100", "COLORFGBG=15;0"}, termenv.Ascii, true},
	{"no TERM", nil, termenv.Ascii, true},
	{"screen", []string{"TERM=screen"}, termenv.ANSI, true},
	{"screen, light", []string{"TERM=screen", "COLORFGBG=0;15"}, termenv.ANSI, false},
	{"screen with NO_COLOR", []string{"TERM=screen", "NO_COLOR=1"}, termenv.Ascii, true},
	{"screen with CLICOLOR=0", []string{"TERM=screen", "CLICOLOR=0"}, termenv.Ascii, true},
	{"screen.xterm-256color", []string{"TERM=screen.xterm-256color"}, termenv.ANSI256, true},
	{"tmux", []string{"TERM=tmux"}, termenv.ANSI, true},
	{"tmux-256color", []string{"TERM=tmux-256color"}, termenv.ANSI256, true},
	{"xterm-256color", []string{"TERM=xterm-256color"}, termenv.ANSI256, true},
	{"xterm", []string{"TERM=xterm"}, termenv.ANSI, true},
}

// TestSetTerminal checks the profile, bold and background the console gets
// from its terminal's environment.
func TestSetTerminal(t *testing.T) {
	for _, tc := range terminals {
		t.Run(tc.name, func(t *testing.T) {
			r := terminalRenderer(tc.env...)
			if p := r.ColorProfile(); p != tc.profile {
				t.Errorf("profile %s, want %s", p.Name(), tc.profile.Name())
			}
			if r.HasDarkBackground() != tc.dark {
				t.Errorf("dark background %v, want %v", r.HasDarkBackground(), tc.dark)
			}
			st := NewStyles(r)
			plain := tc.profile == termenv.Ascii
			if st.Plain != plain {
				t.Errorf("Plain %v, want %v", st.Plain, plain)
			}
			bold := st.Key.Render("k")
			if hasBold := strings.Contains(bold, "\x1b[1m") || strings.Contains(bold, "\x1b[1;"); hasBold == plain {
				t.Errorf("the setup key's bold style renders %q", bold)
			}
		})
	}
}

// TestQRFollowsTheTerminal reaches MFA setup on each terminal and reads the
// QR code as that terminal shows it: without colours its glyphs are ink in
// the text colour, which COLORFGBG says is dark on a light background; with
// colours it is black on white. The code's finder patterns must read dark
// rings on light, and zbarimg, where installed, must decode the URI.
func TestQRFollowsTheTerminal(t *testing.T) {
	zbar, _ := exec.LookPath("zbarimg")
	for _, tc := range terminals {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestService(t)
			e.register()
			d := &driver{t: t, m: New(e.ctx, e.svc, Options{Source: "test", Renderer: terminalRenderer(tc.env...), Now: e.clock.Now}).(*model)}
			d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
			d.run(d.m.Init())
			d.login(e, "alice", adminPassword)
			d.key("enter") // Add
			s, ok := d.m.scr.(*setup)
			if !ok || len(s.qr) == 0 {
				t.Fatalf("no QR code on MFA setup:\n%s", d.view())
			}
			view := d.view()
			for _, l := range s.qr {
				if !strings.Contains(view, l) {
					t.Fatalf("the view does not draw the QR row %q as is:\n%s", l, view)
				}
			}
			plain := tc.profile == termenv.Ascii
			// What a person sees: the terminal's text colour on its
			// background, or the block's own black on white.
			inkIsDark := !tc.dark
			if !plain {
				inkIsDark = true
				if !strings.Contains(view, s.c.st.QR.Render(s.qr[0])) {
					t.Errorf("the QR code is not drawn in its black-on-white style")
				}
			}
			if err := checkQR(s.qr, inkIsDark); err != nil {
				t.Errorf("the QR code reads wrong on this terminal: %v\n%s", err, strings.Join(s.qr, "\n"))
			}
			if err := checkQR(s.qr, !inkIsDark); err == nil {
				t.Errorf("the QR code reads right on the opposite theme too: the check checks nothing")
			}
			if zbar == "" {
				return
			}
			th := theme{bg: color.Gray{Y: 0x1e}, fg: color.Gray{Y: 0xd0}, coloured: !plain}
			if !tc.dark {
				th.bg, th.fg = color.Gray{Y: 0xfa}, color.Gray{Y: 0x20}
			}
			path := filepath.Join(t.TempDir(), "qr.png")
			writeScreenshot(t, path, s.qr, th)
			out, err := exec.Command(zbar, "--raw", "-q", path).Output()
			if got := strings.TrimSpace(string(out)); err != nil || got != s.en.URI {
				t.Errorf("zbarimg reads %q (%v), want %q", got, err, s.en.URI)
			}
		})
	}
	if zbar == "" && os.Getenv("CI") == "" {
		t.Log("zbarimg not installed: the finder patterns were checked, the codes not decoded (apt-get install zbar-tools)")
	}
}

// checkQR reads half-block QR rows, as qrcode.HalfBlocks draws them with a quiet
// zone of one module, into modules (ink is dark when inkIsDark) and checks
// what makes a code readable and right way round: a light quiet zone and
// three finder patterns, each a dark ring, a light ring and a dark centre
// inside a light separator.
func checkQR(lines []string, inkIsDark bool) error {
	width := utf8.RuneCountInString(lines[0])
	size := width - 2 // the code's modules; one quiet column each side
	px := make([][]bool, 2*len(lines))
	for i := range px {
		px[i] = make([]bool, width)
	}
	for y, l := range lines {
		for x, r := range []rune(l) {
			top, bottom := r == '█' || r == '▀', r == '█' || r == '▄'
			px[2*y][x], px[2*y+1][x] = top == inkIsDark, bottom == inkIsDark
		}
	}
	// Pixel row 0 is the upper half of the first line, above the code;
	// row 1 is the quiet zone, rows 2 to size+1 the code, size+2 the quiet
	// zone again.
	if len(px) < size+3 {
		return fmt.Errorf("%d rows of half blocks cannot hold a code %d modules wide", len(lines), size)
	}
	dark := func(x, y int) bool { return px[y+2][x+1] } // code coordinates
	for i := -1; i <= size; i++ {
		if dark(i, -1) || dark(i, size) || dark(-1, i) || dark(size, i) {
			return fmt.Errorf("the quiet zone is dark at module %d", i)
		}
	}
	for _, f := range [][2]int{{0, 0}, {size - 7, 0}, {0, size - 7}} {
		for dy := -1; dy <= 7; dy++ {
			for dx := -1; dx <= 7; dx++ {
				x, y := f[0]+dx, f[1]+dy
				if x < 0 || y < 0 || x >= size || y >= size {
					continue
				}
				ring := max(abs(dx-3), abs(dy-3))
				want := ring != 2 && ring != 4
				if dark(x, y) != want {
					return fmt.Errorf("the finder pattern at module %d,%d is %s at %d,%d", f[0], f[1], shade(!want), x, y)
				}
			}
		}
	}
	return nil
}

func abs(n int) int { return max(n, -n) }

func shade(dark bool) string {
	if dark {
		return "dark"
	}
	return "light"
}
