package core

import (
	"errors"
	"fmt"
	"time"
)

// Domain errors. Callers match them with errors.Is and show the message.
var (
	ErrInvalidCredentials = errors.New("invalid username or password")
	ErrInvalidCode        = errors.New("invalid code")
	ErrNotFound           = errors.New("not found")
	ErrForbidden          = errors.New("not allowed")
	ErrExists             = errors.New("already exists")
	ErrLastAdmin          = errors.New("an account must keep at least one enabled administrator")
	ErrMFAActive          = errors.New("multi-factor authentication is already set up")
	ErrNoMFA              = errors.New("multi-factor authentication is not set up")
	ErrNoEnrollment       = errors.New("no multi-factor set-up is in progress; start again with Add")
	ErrMFADisabled        = errors.New("multi-factor login is disabled after too many wrong codes; an administrator must remove MFA")
	ErrRegistrationClosed = errors.New("registration of new accounts is closed; ask an administrator")
	ErrBusy               = errors.New("the database is busy; try again")
	ErrSessionEnded       = errors.New("your session has ended because the password was changed; log in again")
	ErrKeyMissing         = errors.New("the key file is missing")
	ErrWrongKey           = errors.New("the key file does not match the database")
)

// ErrCodeReused is a code of a time step already used: a replay, or the code
// typed a second time. It is an ErrInvalidCode, counted like any wrong code.
var ErrCodeReused = fmt.Errorf("%w: that code was just used; wait for the next one", ErrInvalidCode)

// ClockDriftError is a well-formed code that was wrong now but is the code of
// a step a little earlier or later: the phone's clock is off. It is an
// ErrInvalidCode, refused and counted like any wrong code; it only says why.
//
// Drift is how far the phone's clock is measured to be ahead (negative:
// behind), in whole time steps, so at 30 s a step it is known to about 30 s.
// The message gives it in whole minutes, rounded to the nearest (half up),
// and at least 1, with "about" because of that rounding; "1 minute" reads as
// one. Outside the accepted window the drift is at least 2 steps, 60 s, so
// no offset is ever shown as 0 minutes.
type ClockDriftError struct{ Drift time.Duration }

// Minutes is the drift's size in whole minutes, as the message gives it.
func (e *ClockDriftError) Minutes() int {
	d := e.Drift.Abs()
	return max(1, int((d+30*time.Second)/time.Minute))
}

// Ahead reports whether the phone's clock is ahead of the server's.
func (e *ClockDriftError) Ahead() bool { return e.Drift > 0 }

// amount is the drift's size as the message says it: "about 1 minute",
// "about 3 minutes".
func (e *ClockDriftError) amount() string {
	if m := e.Minutes(); m != 1 {
		return fmt.Sprintf("about %d minutes", m)
	}
	return "about 1 minute"
}

// Offset says how far off the phone's clock is and which way: "about 1
// minute ahead", "about 3 minutes behind".
func (e *ClockDriftError) Offset() string {
	if e.Ahead() {
		return e.amount() + " ahead"
	}
	return e.amount() + " behind"
}

func (e *ClockDriftError) Error() string {
	if e.Ahead() {
		return "This code would be right " + e.amount() + " from now: your phone's clock is " + e.Offset() +
			". Set it to automatic time."
	}
	return "This code was right " + e.amount() + " ago: your phone's clock is " + e.Offset() + ". Set it to automatic time."
}

// Unwrap lets errors.Is(err, ErrInvalidCode) match: the code was refused.
func (e *ClockDriftError) Unwrap() error { return ErrInvalidCode }

// LockedError says a user is locked out until a time.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "too many failed attempts; try again at " + e.Until.Format("15:04:05 MST")
}

// Is lets errors.Is(err, ErrLocked) match any lock.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// ErrLocked matches every *LockedError.
var ErrLocked = errors.New("locked")

// RetryIn is how long the lock lasts from now, rounded up to a second.
func (e *LockedError) RetryIn(now time.Time) time.Duration {
	d := e.Until.Sub(now)
	if d < 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// InputError says which field of a request is wrong and why; nothing was changed.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Msg) }

// ErrInvalidInput matches every *InputError.
var ErrInvalidInput = errors.New("invalid input")

// Is lets errors.Is(err, ErrInvalidInput) match.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ErrUnavailable refuses an attempt that could not be recorded (a full disk,
// a store that went away): a password or code is never checked without its
// failure being counted first, and right and wrong ones get this same answer.
var ErrUnavailable = errors.New("the attempt could not be recorded, so it was not checked; try again later")

// unavailableError is ErrUnavailable with its cause kept for tests and logs.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string        { return ErrUnavailable.Error() }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *unavailableError) Unwrap() error        { return e.cause }

// unavailable refuses an attempt that could not be recorded. An attempt
// refused because the store went away also matches ErrUnreachable, so that
// the caller can say so.
func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return &unavailableError{cause: reachable(err)}
}

// ErrUnreachable says the store did not answer: a PostgreSQL server that is
// down, or the network or TLS to it failed. Nothing was read or changed, and
// the same request works once the store is back, so callers say so and keep
// running; an attempt met by it is refused unchecked (see ErrUnavailable).
var ErrUnreachable = errors.New("the store cannot be reached; try again")

// unreachableError is ErrUnreachable with the store's error kept: its text,
// which internal/db keeps free of SQL and passwords, may name the store or
// say what failed (TLS), and the driver's error stays in the chain for logs.
type unreachableError struct{ cause error }

func (e *unreachableError) Error() string        { return e.cause.Error() }
func (e *unreachableError) Is(target error) bool { return target == ErrUnreachable }
func (e *unreachableError) Unwrap() error        { return e.cause }

// ErrOwnPassword refuses an administrator's reset of their own password: a
// new password of one's own is chosen with the current one.
var ErrOwnPassword = fmt.Errorf("%w: your own password is changed with your current one, not reset", ErrForbidden)

// ErrStepUpRequired asks an administrator with MFA for their own current code
// before they act on another user's MFA or password.
var ErrStepUpRequired = &InputError{Field: "code", Msg: "enter a current code from your own authenticator app (or a recovery code) to confirm"}
