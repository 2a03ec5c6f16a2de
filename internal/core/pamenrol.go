package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// MFA set-up at an SSH login: `smartmfa pam-enrol` shows a user whose account
// requires MFA, and who has none, the QR code, the setup key and recovery
// codes before sshd's code prompt; `pam-verify` then takes the code typed
// there as the set-up's first code. The secret is the console's pending
// authenticator (an administrator sees the set-up in progress as for the
// console), and the first code is checked by checkCode like every other, so
// the replay guard, the counter and its lock, and the audit trail are the
// console's.

// ExternalEnrollment is an MFA set-up shown before the code prompt of an SSH
// login.
type ExternalEnrollment struct {
	Enrollment // the QR code's URI, the account and the setup key; zero when MFA is disabled
	// RecoveryCodes are valid once the first code confirms the set-up; they
	// are drawn at each showing and stored only hashed.
	RecoveryCodes []string
	// Again says the set-up was begun at an earlier login and is shown again
	// with the same secret.
	Again bool
	// Status has what the user should know first: a lock, or why their last
	// code was refused. With Status.MFADisabled nothing else is shown.
	Status ExternalStatus
}

// BeginExternalEnrollment starts the MFA set-up of a user whom another program
// has authenticated (sshd, by key), or shows again the one in progress, so
// that a reconnect shows the same QR code. It returns nil for a user who needs
// none: unknown or disabled, with MFA active, or in an account that does not
// require MFA. Each showing draws new recovery codes in place of the last ones
// shown and is audited with source.
func (s *Service) BeginExternalEnrollment(ctx context.Context, username, source string) (*ExternalEnrollment, error) {
	// Most logins are of users who need no set-up: they are told so by a
	// read, without queueing for the write lock.
	if _, need, err := s.needsExternalEnrollment(ctx, s.db, username); err != nil || !need {
		return nil, translate(err)
	}
	codes, err := newRecoveryCodes(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	var out *ExternalEnrollment
	err = s.tx(ctx, func(q db.Querier) error {
		u, need, err := s.needsExternalEnrollment(ctx, q, username)
		if err != nil || !need {
			return err
		}
		sess := Session{userID: u.ID, accountID: u.AccountID, username: u.Username, source: source}
		en := &ExternalEnrollment{Status: ExternalStatus{Known: true, RequireMFA: true, Enrolling: true}}
		acct, err := db.AccountByID(ctx, q, u.AccountID)
		if err != nil {
			return err
		}
		if g, ok := mfaGrace(acct, s.now()); ok {
			// Before the deadline an empty answer passes (VerifyExternalCode).
			en.Status.RequiredFrom, en.Status.DaysLeft = g.Until, g.DaysLeft
		}
		var secret []byte
		if u.MFAState == "pending" {
			m, err := db.MFAByUser(ctx, q, u.ID)
			if err != nil {
				return err
			}
			if err := s.codeStatus(ctx, q, &en.Status, u, m); err != nil {
				return err
			}
			if en.Status.MFADisabled {
				out = en // nothing to scan: an administrator must remove the set-up
				return nil
			}
			if secret, err = s.keys.open(m.Secret, m.KeyID, u.AccountID, u.ID); err != nil {
				return s.secretUnreadable(ctx, q, sess, u, err)
			}
			en.Again = true
		} else {
			if secret, err = newSecret(s.cfg.Rand, s.cfg.Issuer, u.Username); err != nil {
				return err
			}
			if err := s.putPendingSecret(ctx, q, u, secret); err != nil {
				return err
			}
		}
		if err := db.PutPendingRecoveryCodes(ctx, q, u.ID, recoveryHashes(u.ID, codes)); err != nil {
			return err
		}
		en.Enrollment, en.RecoveryCodes = s.enrollment(u, secret), codes
		detail := fmt.Sprintf("at SSH login: new secret shown, with %d recovery codes", len(codes))
		if en.Again {
			detail = fmt.Sprintf("at SSH login: same secret shown again, %d new recovery codes", len(codes))
		}
		out = en
		return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionMFASetupStarted, target: u, detail: detail})
	})
	if err != nil {
		return nil, attemptErr(err)
	}
	return out, nil
}

// needsExternalEnrollment loads the user of a name given by another program
// and tells whether they are to set MFA up at the login: enabled, without
// active MFA, in an account that requires it.
func (s *Service) needsExternalEnrollment(ctx context.Context, q db.Querier, username string) (db.User, bool, error) {
	u, err := s.externalUser(ctx, q, username)
	if errors.Is(err, ErrUnknownUser) {
		return u, false, nil
	}
	if err != nil || u.Disabled || u.MFAState == "active" {
		return u, false, err
	}
	acct, err := db.AccountByID(ctx, q, u.AccountID)
	return u, err == nil && acct.RequireMFA, err
}

// secretUnreadable fails closed on a stored secret that does not decrypt for
// its own row, and leaves a trace, as checkCode does.
func (s *Service) secretUnreadable(ctx context.Context, q db.Querier, sess Session, u db.User, err error) error {
	if !errors.Is(err, ErrWrongKey) {
		return err
	}
	e := event{account: u.AccountID, action: ActionSecretUnreadable, target: u, detail: "the stored TOTP secret does not decrypt"}
	if aerr := s.audit(ctx, q, sess, e); aerr != nil {
		return aerr
	}
	return commitThen{err}
}

// externalEnrolling tells a pending set-up that an SSH login showed with its
// recovery codes, which the login's first code may confirm. A set-up begun in
// the console has none: at SSH login it counts as no MFA.
func externalEnrolling(ctx context.Context, q db.Querier, u db.User) (bool, error) {
	if u.MFAState != "pending" {
		return false, nil
	}
	n, err := db.PendingRecoveryCodes(ctx, q, u.ID)
	return n > 0, err
}

// confirmExternalEnrollment takes an SSH login's code as the first code of the
// set-up pam-enrol showed: it activates the authenticator and the recovery
// codes shown last. As in the console's set-up, only a 6-digit code confirms.
func (s *Service) confirmExternalEnrollment(ctx context.Context, q db.Querier, sess Session, u db.User, code string, kind codeKind, codeErr error) error {
	if codeErr != nil || kind != codeTOTP {
		return ErrMalformedCode // changes nothing and counts nothing, as in the console
	}
	m, err := db.MFAByUser(ctx, q, u.ID)
	if err != nil {
		return err
	}
	return s.confirmMFA(ctx, q, sess, u, m, code, "at SSH login", func() error {
		n, err := db.ActivatePendingRecoveryCodes(ctx, q, u.ID)
		if err == nil && n == 0 {
			err = ErrNoEnrollment
		}
		return err
	})
}
