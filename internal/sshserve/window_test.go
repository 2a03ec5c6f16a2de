package sshserve

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Window sizes as a client declares them: clamped, whatever the client, and
// known to Bubble Tea's renderer from the start.

// TestHostileWindowSizeTouchesNoOtherSession: one window-change of 200 x
// 2147483647 before login once made the console pad its view to that many
// lines, and the failed allocation took the whole server down. The size is
// clamped; the other session goes on and new ones still open.
func TestHostileWindowSizeTouchesNoOtherSession(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	hostile, other := ts.open("xterm"), ts.open("xterm")
	hostile.waitFor("Log in")
	other.waitFor("Log in")
	if err := hostile.sess.WindowChange(2147483647, 200); err != nil {
		t.Fatal(err)
	}
	hostile.send("mallory")
	hostile.waitFor("mallory")

	other.send("bob")
	other.waitFor("bob")
	late := ts.open("xterm")
	late.waitFor("Log in")

	// A pty-req may declare the same size.
	c, err := ts.tryOpen("xterm", 2147483647, 2147483647)
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("Log in")
}

// TestWindowSizeIsClamped: sizes from the pty-req and every window-change
// reach the console clamped to maxWindow x maxWindow.
func TestWindowSizeIsClamped(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole})
	c, err := ts.tryOpen("xterm", 4000, 3000)
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 1000x1000")
	if err := c.sess.WindowChange(40, 5000); err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 1000x40")
	if err := c.sess.WindowChange(2147483647, 120); err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 120x1000")
}

// TestRendererKnowsTheFirstSize: Bubble Tea's renderer learns the window
// only from a WindowSizeMsg sent through the program. Without the first
// one it neither cut lines to the window nor erased the rest of a line
// that got shorter, so "Checking…" stayed beside the login button after
// the answer came, until the client's first resize.
func TestRendererKnowsTheFirstSize(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: func(context.Context, *Session) tea.Model { return wideModel{} }})
	c := ts.open("xterm")
	c.waitFor("wide")
	deadline := time.Now().Add(wait)
	for strings.Contains(c.out.String(), strings.Repeat("w", 81)) || !strings.Contains(c.out.String(), "\x1b[K") {
		if time.Now().After(deadline) {
			t.Fatalf("an 80-column session draws lines of 120 and never erases a line's end:\n%q", c.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wideModel draws a line wider than an 80-column window.
type wideModel struct{}

func (wideModel) Init() tea.Cmd                         { return nil }
func (m wideModel) Update(tea.Msg) (tea.Model, tea.Cmd) { return m, nil }
func (wideModel) View() string                          { return "wide\n" + strings.Repeat("w", 120) }
