package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
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
	ok, reused, how := false, false, ""
	switch kind {
	case codeTOTP:
		ok, reused, err = s.checkTOTP(ctx, q, u, m, secret, code)
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
	if reused {
		e.detail = fmt.Sprintf("%s (%d in a row)", detailReused, n)
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
	if reused {
		return "", commitThen{ErrCodeReused}
	}
	return "", commitThen{ErrInvalidCode}
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
// sending one code, AcceptStep lets exactly one through. reused says the
// code matched a step already used: a replay, or the same code typed twice.
func (s *Service) checkTOTP(ctx context.Context, q db.Querier, u db.User, m db.MFA, secret []byte, code string) (ok, reused bool, err error) {
	step, ok, err := matchTOTP(secret, code, s.now(), totpParams{Digits: m.Digits, Period: m.Period, Alg: Algorithm(m.Algorithm)}, m.LastStep)
	if err != nil || !ok {
		return false, err == nil && step != 0, err
	}
	ok, err = db.AcceptStep(ctx, q, u.ID, step)
	return ok, err == nil && !ok, err
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
