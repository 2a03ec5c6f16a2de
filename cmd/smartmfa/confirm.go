package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// errDeclined is the operator answering no: nothing changed, and the exit
// status says so (1), as gh does when a confirmation is refused.
var errDeclined = failure{"cancelled; nothing was changed"}

// yesFlag adds --yes to a command whose change costs someone their login or
// their MFA, and
// the check that a script passed it.
func (a *app) yesFlag(c *cobra.Command, yes *bool) {
	c.Flags().BoolVar(yes, "yes", false, "do not ask for confirmation (for scripts)")
	c.PreRunE = func(cmd *cobra.Command, _ []string) error { return a.requireYes(cmd, *yes) }
}

// requireYes refuses, before anything is opened, a destructive command that
// cannot ask: with no terminal on standard input a script must say --yes,
// rather than hang on a prompt or have "no" read from its input.
func (a *app) requireYes(cmd *cobra.Command, yes bool) error {
	if yes {
		return nil
	}
	if _, ok := terminalFd(a.stdin); !ok {
		return usageError{fmt.Sprintf("%s asks for confirmation and standard input is not a terminal: pass --yes to go ahead without asking", commandName(cmd))}
	}
	return nil
}

// confirm asks question on the terminal unless --yes was given; only "y" or
// "yes" goes on. The question names what changes, so that the operator can
// see a wrong name before it is too late.
func (a *app) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	answer, err := readAnswer(a.stdin)
	if err != nil {
		fmt.Fprintln(a.stderr)
		return errDeclined
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errDeclined
}

// readAnswer reads one line byte by byte, so that nothing after it is taken
// from standard input, and at most 64 bytes of it are kept.
func readAnswer(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			if b.Len() < 64 {
				b.WriteByte(buf[0])
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return b.String(), io.ErrUnexpectedEOF
		}
		if err != nil {
			return "", err
		}
	}
}
