package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// The sentences the console shows for core's errors.

// storeUnreachableText is what every screen says when core could not reach
// the store (a PostgreSQL server down or cut off); the console keeps running.
const storeUnreachableText = "The store cannot be reached; try again."

const sessionEndedText = "Your session has ended because your password was changed. Log in again."

// describe turns an error from core into the sentence the user reads. Core's
// errors never hold a secret, SQL or a stack; what it does not name is still
// cut to one clean line. Every screen shows a refused password or code
// through it, so it is where the runner hears of each (OnLoginFailed),
// once per error shown.
func (c *Common) describe(err error) string {
	if c.onLoginFailed != nil && refused(err) {
		c.onLoginFailed()
	}
	return clean(c.sentenceFor(err), 300)
}

// refused reports whether err says a password or code was wrong. A lock
// is not: nothing was checked.
func refused(err error) bool {
	return errors.Is(err, core.ErrInvalidCredentials) || errors.Is(err, core.ErrInvalidCode) ||
		errors.Is(err, core.ErrMFADisabled)
}

func (c *Common) sentenceFor(err error) string {
	var locked *core.LockedError
	var in *core.InputError
	var drift *core.ClockDriftError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, core.ErrUnreachable):
		// Before the rest: a password or code refused because the store
		// went away was never checked, and the same action works once it is back.
		return storeUnreachableText
	case errors.As(err, &locked):
		return fmt.Sprintf("Too many failed attempts. Try again in %s.", humanDuration(locked.RetryIn(c.now())))
	case errors.Is(err, core.ErrMalformedCode):
		return sentence(core.ErrMalformedCode.Msg)
	case errors.As(err, &in):
		return sentence(in.Field + " " + in.Msg)
	case errors.Is(err, core.ErrInvalidCredentials):
		return "Invalid username or password."
	case errors.Is(err, core.ErrCodeReused):
		return "That code was just used. Wait for the next code in your app."
	case errors.As(err, &drift):
		return drift.Error() // core's sentence: how far off the phone's clock is, and what to do
	case errors.Is(err, core.ErrInvalidCode):
		return "That code is not valid. Check the app and try again."
	case errors.Is(err, core.ErrNotFound):
		return "Not found: it may have been removed."
	case errors.Is(err, core.ErrSessionEnded):
		c.ended = true // describe runs in Update: the root acts on it before the next message
		return sessionEndedText
	case errors.Is(err, core.ErrForbidden):
		return "You are not allowed to do that."
	case errors.Is(err, context.Canceled):
		return "Interrupted."
	}
	return sentence(oneLine(err.Error()))
}

// fieldError splits an input error into the field it names and its sentence.
func fieldError(err error) (field, msg string, ok bool) {
	var in *core.InputError
	if !errors.As(err, &in) {
		return "", "", false
	}
	if in.Field == "code" { // the field is named by its label already: "Your code", "Code"
		return in.Field, sentence(in.Msg), true
	}
	return in.Field, sentence(in.Field + " " + in.Msg), true
}

// sentence starts s with a capital and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// oneLine keeps the first line of an error, cleaned for the terminal.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return core.CleanText(s, 200)
}

// humanDuration writes a lock's length the way people say it.
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		d = time.Second
	}
	m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
	plural := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case m == 0:
		return plural(s, "second")
	case s == 0:
		return plural(m, "minute")
	}
	return plural(m, "minute") + " " + plural(s, "second")
}
