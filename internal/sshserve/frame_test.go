package sshserve

import (
	"io"
	"log/slog"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// countingModel counts the calls the frame makes to the console.
type countingModel struct{ updates, views int }

func (m *countingModel) Init() tea.Cmd { return nil }

func (m *countingModel) Update(tea.Msg) (tea.Model, tea.Cmd) {
	m.updates++
	return m, nil
}

func (m *countingModel) View() string {
	m.views++
	return "Log in"
}

// TestSameSizeIsNotRedrawn: the first size comes again through the program
// (sendFirstSize) only for Bubble Tea's renderer; the console, which has
// it, is neither updated nor drawn again. A new size reaches it.
func TestSameSizeIsNotRedrawn(t *testing.T) {
	srv := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sess := &Session{srv: srv, out: &startWriter{w: io.Discard}}
	inner := &countingModel{}
	f := newFrame(inner, sess, &srv.cfg, lipgloss.NewRenderer(io.Discard))
	f.size = tea.WindowSizeMsg{Width: 80, Height: 24}
	f.Init()
	first := f.View()
	f.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if view := f.View(); view != first || inner.updates != 1 || inner.views != 1 {
		t.Errorf("the same size again: view %q (first %q), %d updates and %d views of the console, want 1 and 1",
			view, first, inner.updates, inner.views)
	}
	f.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	f.View()
	if inner.updates != 2 || inner.views != 2 {
		t.Errorf("a new size: %d updates and %d views of the console, want 2 and 2", inner.updates, inner.views)
	}
}
