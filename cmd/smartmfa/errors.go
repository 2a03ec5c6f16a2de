package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// Exit codes: scripts tell a wrong command line from a failed operation.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a wrong command line: an unknown command or flag, a wrong
// number of arguments, or a value outside its choices. It exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// failure is an error whose message is already the sentence to print.
type failure struct{ msg string }

func (e failure) Error() string { return e.msg }

// failf makes a failure from a format; arguments that come from the user
// must already be quoted with quote.
func failf(format string, args ...any) error { return failure{fmt.Sprintf(format, args...)} }

// quote shows a user-supplied name inside a message: cleaned of control
// characters, cut, and quoted so that spaces and empty names are visible.
func quote(s string) string { return fmt.Sprintf("%q", core.CleanText(s, 64)) }

// exitCode prints err as one line on stderr and returns the exit code.
func (a *app) exitCode(cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var pe *fs.PathError // writing the output failed (a full disk): not the command line's fault
	if errors.As(err, &ue) || !a.ran && !errors.As(err, &pe) {
		msg := oneLine(err.Error())
		if cmd != nil {
			msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
		}
		fmt.Fprintf(a.stderr, "smartmfa: %s\n", msg)
		return exitUsage
	}
	fmt.Fprintf(a.stderr, "smartmfa: %s\n", describe(err))
	return exitFailure
}

// describe turns an error into the one sentence the operator reads. Core's
// domain errors already say what happened; input errors get their field
// named as a subject. Nothing here adds a password or secret: core errors
// never hold one.
func describe(err error) string {
	var f failure
	var in *core.InputError
	switch {
	case errors.As(err, &f):
		return f.msg
	case errors.As(err, &in):
		return fmt.Sprintf("the %s %s", in.Field, in.Msg)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, core.ErrNotFound):
		return "not found"
	case errors.Is(err, core.ErrForbidden):
		return "not allowed"
	}
	return oneLine(err.Error())
}

// oneLine keeps an error to the single line promised on stderr, whatever a
// lower layer put in it.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return core.CleanText(s, 300)
}
