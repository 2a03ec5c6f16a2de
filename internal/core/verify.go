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
// runs inside the caller's transaction: a TOTP code's step is advanced by a
// conditional UPDATE (replay guard), a recovery code is spent, and a failure
// is counted, locked and audited. It returns how the user proved themselves.
// A failure comes back as commitThen, so the counter commits with it.
func (s *Service) checkCode(ctx context.Context, q db.Querier, sess Session, u db.User, m db.MFA, code string, kind codeKind) (string, error) {
	now := s.now()
	if m.Failures >= disableMFAAfter {
		return "", ErrMFADisabled
	}
	if err := lockedErr(m.LockedUntil, now); err != nil {
		return "", err
	}
	ok, reused, how, err := false, false, "", error(nil)
	switch kind {
	case codeTOTP:
		ok, reused, err = s.checkTOTP(ctx, q, u, m, code)
		how = "authenticator code"
		if errors.Is(err, ErrWrongKey) {
			// Fail closed, and leave a trace: a secret that does not decrypt
			// for its own row was tampered with or copied from another.
			e := event{account: u.AccountID, action: ActionSecretUnreadable, target: u, detail: "the stored TOTP secret does not decrypt"}
			if aerr := s.audit(ctx, q, sess, e); aerr != nil {
				return "", aerr
			}
			return "", commitThen{err}
		}
	case codeRecovery:
		if m.State == "active" {
			ok, err = s.spendRecoveryCode(ctx, q, sess, u, code)
			how = "recovery code"
		}
	}
	if err != nil || ok {
		return how, err
	}
	n, err := db.CountMFAFailure(ctx, q, u.ID, now.UnixNano(), lockout)
	if err != nil {
		return "", err
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

// detailReused starts the audit detail of a replayed code; the notice before
// an SSH login's code prompt reads it back (see ExternalStatus).
const detailReused = "code of a time step already used"

// checkTOTP matches a code and advances the accepted step; of two processes
// sending one code, AcceptStep lets exactly one through. reused says the
// code matched a step already used: a replay, or the same code typed twice.
func (s *Service) checkTOTP(ctx context.Context, q db.Querier, u db.User, m db.MFA, code string) (ok, reused bool, err error) {
	secret, err := s.keys.open(m.Secret, m.KeyID, u.AccountID, u.ID)
	if err != nil {
		return false, false, err
	}
	step, ok, err := matchTOTP(secret, code, s.now(), totpParams{Digits: m.Digits, Period: m.Period, Alg: Algorithm(m.Algorithm)}, m.LastStep)
	if err != nil || !ok {
		return false, err == nil && step != 0, err
	}
	now := s.now()
	ok, err = db.AcceptStep(ctx, q, u.ID, step, now.UnixNano(), disableMFAAfter)
	if err != nil || ok {
		return ok, false, err
	}
	// The guard refused it: the step was used, or attempts elsewhere locked
	// the user since m was read.
	if err := s.lockedSince(ctx, q, u.ID, now); err != nil {
		return false, false, err
	}
	return false, true, nil
}

// lockedSince is the refusal of a code whose guard found the user locked or
// disabled by attempts after their row was read; nil when it did not.
func (s *Service) lockedSince(ctx context.Context, q db.Querier, userID int64, now time.Time) error {
	m, err := db.MFAByUser(ctx, q, userID)
	if err != nil {
		return err
	}
	if m.Failures >= disableMFAAfter {
		return ErrMFADisabled
	}
	return lockedErr(m.LockedUntil, now)
}

// spendRecoveryCode marks a matching unused recovery code used.
func (s *Service) spendRecoveryCode(ctx context.Context, q db.Querier, sess Session, u db.User, code string) (bool, error) {
	codes, err := db.UnusedRecoveryCodes(ctx, q, u.ID)
	if err != nil {
		return false, err
	}
	want := hashRecovery(u.ID, code)
	for _, c := range codes {
		if subtle.ConstantTimeCompare(c.Hash, want) == 1 {
			used, err := db.UseRecoveryCode(ctx, q, c.ID, s.now().UnixNano(), disableMFAAfter)
			if err == nil && !used {
				err = s.lockedSince(ctx, q, u.ID, s.now())
			}
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
