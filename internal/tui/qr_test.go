package tui

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/qrcode"
)

// enrollmentFor begins an enrolment for a new user and returns it.
func enrollmentFor(t *testing.T, username string) core.Enrollment {
	t.Helper()
	e := newTestService(t)
	admin := e.register()
	e.addUser(admin, username, "", core.RoleUser)
	sess, err := e.svc.Login(e.ctx, username, userPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.BeginEnrollment(e.ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// TestQRFitsBesideTheKey checks the budget of DESIGN.md: for a 16-character
// username the code is 39x20 cells, which leaves the 39 columns the setup
// key needs in an 80-column window, and the menu, flash and help lines in 24.
func TestQRFitsBesideTheKey(t *testing.T) {
	en := enrollmentFor(t, "abcdefghijklmnop")
	lines := qrcode.HalfBlocks(en.URI, true)
	w, h := utf8.RuneCountInString(lines[0]), len(lines)
	t.Logf("URI of %d characters: QR of %dx%d cells", len(en.URI), w, h)
	if w+2+keyWidth > 80 || h+3 > 24 {
		t.Fatalf("a %dx%d QR code does not fit 80x24 with the setup key", w, h)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n != w {
			t.Fatalf("row %d is %d cells wide, row 0 is %d", i, n, w)
		}
	}
}

// theme is how a terminal shows the console: its background, its text
// colour, and whether the QR block is drawn in explicit colours.
type theme struct {
	name     string
	bg, fg   color.Gray
	coloured bool // the block is black on white, whatever the theme
	inkDark  bool // the glyph polarity the console chooses there
}

// TestQRScansOnDarkAndLightThemes draws the QR code as a screenshot of a
// terminal would show it, for dark and light themes with and without
// colours, and has zbarimg read it back.
func TestQRScansOnDarkAndLightThemes(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg (zbar-tools) is needed to check that the QR code scans")
		}
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	en := enrollmentFor(t, "abcdefghijklmnop")
	dark, light := color.Gray{Y: 0x1e}, color.Gray{Y: 0xfa}
	themes := []theme{
		{name: "colour on a dark theme", bg: dark, fg: color.Gray{Y: 0xd0}, coloured: true, inkDark: true},
		{name: "colour on a light theme", bg: light, fg: color.Gray{Y: 0x20}, coloured: true, inkDark: true},
		{name: "NO_COLOR on a dark theme", bg: dark, fg: color.Gray{Y: 0xd0}, inkDark: false},
		{name: "NO_COLOR on a light theme", bg: light, fg: color.Gray{Y: 0x20}, inkDark: true},
	}
	for _, th := range themes {
		t.Run(th.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "qr.png")
			writeScreenshot(t, path, qrcode.HalfBlocks(en.URI, th.inkDark), th)
			out, err := exec.Command(zbar, "--raw", "-q", path).Output()
			if err != nil {
				t.Fatalf("zbarimg could not read the code: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != en.URI {
				t.Fatalf("zbarimg read %q, want %q", got, en.URI)
			}
		})
	}
}

// writeScreenshot paints QR lines as a terminal would: each cell 6x12
// pixels, a half block filling its upper or lower half with the ink colour,
// and three cells of the terminal's background around the block.
func writeScreenshot(t *testing.T, path string, lines []string, th theme) {
	t.Helper()
	const cw, ch, margin = 6, 12, 3
	ink, paper := th.fg, th.bg
	if th.coloured {
		ink, paper = color.Gray{Y: 0}, color.Gray{Y: 0xff}
	}
	cols := utf8.RuneCountInString(lines[0])
	img := image.NewGray(image.Rect(0, 0, (cols+2*margin)*cw, (len(lines)+2*margin)*ch))
	for i := range img.Pix {
		img.Pix[i] = th.bg.Y
	}
	fill := func(x, y, w, h int, c color.Gray) {
		for py := y; py < y+h; py++ {
			for px := x; px < x+w; px++ {
				img.SetGray(px, py, c)
			}
		}
	}
	for row, l := range lines {
		col := 0
		for _, r := range l {
			x, y := (col+margin)*cw, (row+margin)*ch
			top, bottom := paper, paper
			switch r {
			case '█':
				top, bottom = ink, ink
			case '▀':
				top = ink
			case '▄':
				bottom = ink
			}
			fill(x, y, cw, ch/2, top)
			fill(x, y+ch/2, cw, ch/2, bottom)
			col++
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
