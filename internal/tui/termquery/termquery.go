// Package termquery keeps Bubble Tea v1 from querying the terminal while the
// program starts.
//
// bubbletea v1.3.10 calls lipgloss.HasDarkBackground in its package init. On
// a terminal (stdout a TTY, TERM not screen*, tmux* or dumb) termenv then
// writes an OSC 11 and a cursor-position query and waits up to 5 s for an
// answer. A pseudo-terminal with nothing behind it that answers (docker -t in
// a script, expect, a test harness) stalls every start of smartmfa, every
// subcommand included, for those 5 s. The console never needs the answer: it
// sets its renderer's background itself.
//
// This package hides the terminal from that one query: its init sets TERM to
// "dumb", which termenv takes as "cannot be queried", and Restore puts the
// real value back. Package tui calls Restore from its own init, which Go runs
// after bubbletea's because tui imports bubbletea.
//
// Why this init runs before bubbletea's: Go initialises packages in import
// path order, each as soon as its imports are initialised. This package
// imports only "os", so it becomes ready the moment os is initialised; from
// then on no package whose path sorts after this one ("os/signal",
// "golang.org/...") can be initialised before it. bubbletea imports os/signal,
// which imports os, so bubbletea cannot start before this package has run.
// TestConsoleStartsWithoutWaitingForTheTerminal in cmd/smartmfa runs the
// binary on a terminal that never answers and fails if anything waits.
package termquery

import "os"

// The TERM this process started with. Written once by init, before any
// goroutine exists, and read by Restore.
var (
	term    string
	hadTerm bool
	hidden  bool
)

func init() { hide() }

func hide() {
	term, hadTerm = os.LookupEnv("TERM")
	hidden = os.Setenv("TERM", "dumb") == nil
}

// Restore puts back the TERM the process started with. Only the first call
// does anything.
func Restore() {
	if !hidden {
		return
	}
	hidden = false
	if hadTerm {
		os.Setenv("TERM", term)
	} else {
		os.Unsetenv("TERM")
	}
}
