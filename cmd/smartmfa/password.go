package main

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/charmbracelet/x/term"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// maxStdinPassword bounds a password read from standard input: the longest
// password core accepts, 1024 characters of up to 4 bytes each. Reading stops
// there, so a huge or endless input is refused at once instead of filling
// memory or waiting for a newline that never comes.
const maxStdinPassword = 4 * core.MaxPasswordLen

// errNotTerminal is returned when a password is needed, stdin cannot prompt
// and the caller did not say the password comes on stdin.
var errNotTerminal = failure{"standard input is not a terminal; pass --password-stdin and write the password as one line on standard input"}

// newPassword gets a password about to be set for whose: one line of standard
// input with --password-stdin, otherwise typed twice without echo on the
// terminal, so that a typo does not lock the user out.
func (a *app) newPassword(fromStdin bool, whose string) (string, error) {
	if fromStdin {
		return readPasswordLine(a.stdin)
	}
	fd, ok := terminalFd(a.stdin)
	if !ok {
		return "", errNotTerminal
	}
	first, err := a.promptPassword(fd, fmt.Sprintf("New password for %s: ", core.CleanText(whose, 64)))
	if err != nil {
		return "", err
	}
	second, err := a.promptPassword(fd, "Repeat the password: ")
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare([]byte(first), []byte(second)) != 1 {
		return "", failf("the two passwords do not match; nothing was changed")
	}
	return first, nil
}

// readPasswordLine reads one line from r and strips its line ending (\n or
// \r\n) and nothing else: spaces are part of the password, exactly as typed.
func readPasswordLine(r io.Reader) (string, error) {
	br := bufio.NewReader(io.LimitReader(r, maxStdinPassword+2)) // +2 for "\r\n"
	line, err := br.ReadString('\n')
	switch {
	case err == nil:
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	case !errors.Is(err, io.EOF):
		return "", failf("reading the password from standard input failed")
	case line == "":
		return "", failf("standard input is empty; write the password as one line on standard input")
	}
	if len(line) > maxStdinPassword {
		return "", failf("the password on standard input is longer than %d bytes; a password has at most %d characters", maxStdinPassword, core.MaxPasswordLen)
	}
	return line, nil
}

// terminalFd returns the descriptor of r when it is a terminal one can prompt on.
func terminalFd(r io.Reader) (uintptr, bool) {
	f, ok := r.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(f.Fd()) {
		return 0, false
	}
	return f.Fd(), true
}

// promptPassword asks on stderr and reads from the terminal without echo. An
// interrupt while it waits restores the terminal first: otherwise the shell
// would be left not echoing what the operator types.
func (a *app) promptPassword(fd uintptr, prompt string) (string, error) {
	fmt.Fprint(a.stderr, prompt)
	state, stateErr := term.GetState(fd)
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			if stateErr == nil {
				_ = term.Restore(fd, state)
			}
			fmt.Fprintln(a.stderr)
			os.Exit(130)
		case <-done:
		}
	}()
	pw, err := term.ReadPassword(fd)
	signal.Stop(sigs)
	close(done)
	fmt.Fprintln(a.stderr) // the newline the operator typed was not echoed
	if errors.Is(err, io.EOF) && len(pw) == 0 {
		return "", failf("no password was entered")
	}
	if err != nil {
		return "", failf("reading the password from the terminal failed")
	}
	return string(pw), nil
}
