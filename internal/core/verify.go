package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// checkCode is the one verification used by login, enrolment and deletion. It
// runs inside the caller's transaction. Like a password, a code is first
// counted as a failure by the one statement that checks the lock
// (db.ReserveMFAAttempt), so however many sessions, processes or hosts race,
// no more than lockAfter codes are checked before the lock; the reserved row
// stays locked until the transaction ends. A right code then takes its
// reservation back: a TOTP code's step is advanced by a conditional UPDATE
// (the replay guard), a recovery code is spent. A wrong one stays counted and
// is audited. It returns how the user proved themselves. A failure comes
// back as commitThen, so the counter commits with it.
func (s *Service) checkCode(ctx context.Context, q db.Querier, sess Session, u db.User, m db.MFA, code string, kind codeKind) (string, error) {
	now := s.now()
	var secret []byte
	if kind == codeTOTP {
		var err error
		if secret, err = s.keys.open(m.Secret, m.KeyID, u.AccountID, u.ID); errors.Is(err, ErrWrongKey) {
			// Fail closed, and leave a trace: a secret that does not decrypt
			// for its own row was tampered with or copied from another.
			e := event{account: u.AccountID, action: ActionSecretUnreadable, target: u, detail: "the stored TOTP secret does not decrypt"}
			if aerr := s.audit(ctx, q, sess, e); aerr != nil {
				return "", aerr
			}
			return "", commitThen{err}
		} else if err != nil {
			return "", err
		}
	}
	n, admitted, err := db.ReserveMFAAttempt(ctx, q, u.ID, now.UnixNano(), lockout, disableMFAAfter)
	if err != nil {
		return "", err
	}
	if !admitted {
		return "", s.refusal(ctx, q, u.ID, now)
	}
	ok, how := false, ""
	var why error // why a code was refused, when more can be said than "wrong"
	switch kind {
	case codeTOTP:
		ok, why, err = s.checkTOTP(ctx, q, u, m, secret, code, n)
		how = "authenticator code"
	case codeRecovery:
		if m.State == "active" {
			ok, err = s.spendRecoveryCode(ctx, q, sess, u, code)
			how = "recovery code"
		}
	}
	if err != nil || ok {
		return how, err
	}
	e := event{account: u.AccountID, actorID: u.ID, actor: u.Username, action: ActionCodeFailed, target: u,
		detail: fmt.Sprintf("wrong code (%d in a row)", n)}
	var drift *ClockDriftError
	switch {
	case errors.Is(why, ErrCodeReused):
		e.detail = fmt.Sprintf("%s (%d in a row)", detailReused, n)
	case errors.As(why, &drift):
		e.detail += "; " + driftDetail(drift, m.Period)
	}
	if err := s.audit(ctx, q, sess, e); err != nil {
		return "", err
	}
	if n == disableMFAAfter {
		e.action, e.detail = ActionMFALoginDisabled, fmt.Sprintf("%d wrong codes in a row", n)
		if err := s.audit(ctx, q, sess, e); err != nil {
			return "", err
		}
	}
	if why != nil {
		return "", commitThen{why}
	}
	return "", commitThen{ErrInvalidCode}
}

// driftDetail is the audit trail's account of a clock drift: the measure,
// never the code. refusalOf reads it back.
func driftDetail(d *ClockDriftError, period int) string {
	dir := "ahead"
	if !d.Ahead() {
		dir = "behind"
	}
	steps := int64(d.Drift.Abs() / (time.Duration(period) * time.Second))
	return fmt.Sprintf("the phone's clock is %v %s (%d steps)", d.Drift.Abs(), dir, steps)
}

var driftDetailRE = regexp.MustCompile(`the phone's clock is (\S+) (ahead|behind) \(\d+ steps\)$`)

// refusalOf reads the detail of a failed-code audit event back into the
// refusal it records (ErrCodeReused, a *ClockDriftError or ErrInvalidCode),
// for the notice before an SSH login's next code prompt (ExternalStatus).
func refusalOf(detail string) error {
	if strings.HasPrefix(detail, detailReused) {
		return ErrCodeReused
	}
	if m := driftDetailRE.FindStringSubmatch(detail); m != nil {
		if d, err := time.ParseDuration(m[1]); err == nil {
			if m[2] == "behind" {
				d = -d
			}
			return &ClockDriftError{Drift: d}
		}
	}
	return ErrInvalidCode
}

// refusal is the answer to a code the store refused unchecked: the user is
// locked, or their MFA login disabled.
func (s *Service) refusal(ctx context.Context, q db.Querier, userID int64, now time.Time) error {
	m, err := db.MFAByUser(ctx, q, userID)
	if err != nil {
		return err
	}
	if m.Failures >= disableMFAAfter {
		return ErrMFADisabled
	}
	if err := lockedErr(m.LockedUntil, now); err != nil {
		return err
	}
	return &LockedError{Until: now} // the guard refused it: never admit on a later read
}

// detailReused starts the audit detail of a replayed code; the notice before
// an SSH login's code prompt reads it back (see ExternalStatus).
const detailReused = "code of a time step already used"

// checkTOTP matches a code and advances the accepted step; of two processes
// sending one code, AcceptStep lets exactly one through. A refused code comes
// back with why: ErrCodeReused for a code of a step already used (a replay,
// or the same code typed twice), a *ClockDriftError for a code a phone with
// a wrong clock would show (see explainDrift), nil for a wrong one. failures
// is the count of wrong codes in a row, this one included.
func (s *Service) checkTOTP(ctx context.Context, q db.Querier, u db.User, m db.MFA, secret []byte, code string,
	failures int) (ok bool, why error, err error) {
	now := s.now()
	p := totpParams{Digits: m.Digits, Period: m.Period, Alg: Algorithm(m.Algorithm)}
	step, ok, err := matchTOTP(secret, code, now, p, m.LastStep)
	switch {
	case err != nil:
		return false, nil, err
	case !ok && step != 0:
		return false, ErrCodeReused, nil
	case !ok:
		why, err := explainDrift(secret, code, now, p, m.LastStep, failures)
		return false, why, err
	}
	ok, err = db.AcceptStep(ctx, q, u.ID, step)
	if err != nil || ok {
		return ok, nil, err
	}
	return false, ErrCodeReused, nil
}

// explainDrift looks a refused TOTP code up to driftSearch steps either side
// of now, beyond the accepted window, and returns a *ClockDriftError when it
// is the code of one of those steps; nil otherwise. It never accepts the code
// and never moves the last accepted step: a clock that is off is the user's
// to fix, and moving the step to a later one would refuse their right codes.
//
// It is no oracle for a guesser beyond the normal check. It runs only for a
// well-formed code that has already failed that check and whose attempt was
// reserved and counted before anything was checked (db.ReserveMFAAttempt), so
// it adds no attempt and the lock and the disabling after disableMFAAfter
// apply unchanged. What it could add is the knowledge that a guess is the
// code of a later step, to be sent again when that step comes: so a later
// step is explained only for the first lockAfter wrong codes in a row. The
// count goes back to zero only on a success, which a guesser does not have,
// so they get at most lockAfter such answers between two of the user's own
// sign-ins, each worth driftSearch-totpSkew steps against the up to
// disableMFAAfter guesses of 2*totpSkew+1 steps the normal check allows. An
// earlier step is always explained: its code will never be accepted again
// (steps only move forward), and one at or before the last accepted step is
// not explained at all, since that code was seen before (typed again, not a
// clock).
func explainDrift(secret []byte, code string, now time.Time, p totpParams, lastStep int64, failures int) (why, err error) {
	d, ok, err := driftTOTP(secret, code, now, p)
	if err != nil || !ok {
		return nil, err
	}
	if d > 0 && failures > lockAfter || d < 0 && timeStep(now, p.Period)+d <= lastStep {
		return nil, nil
	}
	return &ClockDriftError{Drift: time.Duration(d) * time.Duration(p.Period) * time.Second}, nil
}

// spendRecoveryCode marks a matching unused recovery code used and takes
// back the attempt's reservation.
func (s *Service) spendRecoveryCode(ctx context.Context, q db.Querier, sess Session, u db.User, code string) (bool, error) {
	codes, err := db.UnusedRecoveryCodes(ctx, q, u.ID)
	if err != nil {
		return false, err
	}
	want := hashRecovery(u.ID, code)
	for _, c := range codes {
		if subtle.ConstantTimeCompare(c.Hash, want) == 1 {
			used, err := db.UseRecoveryCode(ctx, q, c.ID, s.now().UnixNano())
			if err != nil || !used {
				return false, err
			}
			if err := db.ClearMFAFailures(ctx, q, u.ID); err != nil {
				return false, err
			}
			left := fmt.Sprintf("%d recovery codes left", len(codes)-1)
			return true, s.audit(ctx, q, sess, event{
				account: u.AccountID, action: ActionRecoveryUsed, target: u, detail: left})
		}
	}
	return false, nil
}
