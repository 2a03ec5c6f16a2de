package main

import (
	"context"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"

	"github.com/smartnumbers/smartmfa/internal/tui"
)

// console opens the console on the terminal: core on the --db and
// --key-file paths as every command opens it, and one Bubble Tea program on
// the alternate screen, so that a setup key does not stay on the terminal
// after the console closes.
func (a *app) console(ctx context.Context) error {
	svc, err := a.openService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()

	r := lipgloss.NewRenderer(os.Stdout)
	// Set the profile and background instead of letting lipgloss ask the
	// terminal: the answer would race Bubble Tea for the input, and a
	// terminal that never answers would stall for 5 s (see
	// internal/tui/termquery). serve sets its sessions' the same way.
	tui.SetTerminal(r, a.getenv)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	svc.WarmSearch(ctx)
	m := tui.New(ctx, svc, tui.Options{Source: a.operator().Source(), Renderer: r})
	// 120 frames a second, the most Bubble Tea v1 draws: the first frame and
	// every search result wait at most 8 ms for the renderer's tick.
	_, err = tea.NewProgram(m, tea.WithContext(ctx), tea.WithAltScreen(), tea.WithFPS(120),
		tea.WithInput(os.Stdin), tea.WithOutput(os.Stdout)).Run()
	if err != nil {
		return failf("the console stopped: %s", oneLine(err.Error()))
	}
	return nil
}

// onTerminal reports whether the console can run: standard input and output
// are this invocation's terminal.
func (a *app) onTerminal() bool {
	in, ok1 := a.stdin.(*os.File)
	out, ok2 := a.stdout.(*os.File)
	return ok1 && ok2 && term.IsTerminal(in.Fd()) && term.IsTerminal(out.Fd())
}
