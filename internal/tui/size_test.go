package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestHostileWindowSizeIsClamped: a client may declare any window size (an
// SSH window-change carries two uint32). The console draws at most
// maxWindow columns and lines, so nothing it allocates grows with the
// declared size.
func TestHostileWindowSizeIsClamped(t *testing.T) {
	e := newTestService(t)
	d := e.drive(80, 24)
	for _, size := range []tea.WindowSizeMsg{
		{Width: 200, Height: 2147483647},
		{Width: 2147483647, Height: 50},
		{Width: 1 << 40, Height: 1 << 40},
		{Width: -5, Height: -5},
	} {
		d.send(size)
		v := d.view()
		lines := strings.Split(v, "\n")
		if len(lines) > maxWindow {
			t.Fatalf("at %dx%d the console draws %d lines, more than %d", size.Width, size.Height, len(lines), maxWindow)
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > maxWindow {
				t.Fatalf("at %dx%d the console draws a line of %d columns", size.Width, size.Height, w)
			}
		}
	}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.expect("Log in")
}

// TestPadLinesAndFitAreBounded: the helpers every screen draws through never
// allocate in proportion to the size they are asked for.
func TestPadLinesAndFitAreBounded(t *testing.T) {
	if n := lineCount(padLines("a", 1<<40)); n > maxWindow {
		t.Errorf("padLines makes %d lines", n)
	}
	if n := ansi.StringWidth(padRight("a", 1<<40)); n > maxWindow {
		t.Errorf("padRight makes %d columns", n)
	}
	if got := fit("a\nb", 1<<40, 1<<40); got != "a\nb" {
		t.Errorf("fit changes what fits: %q", got)
	}
}
