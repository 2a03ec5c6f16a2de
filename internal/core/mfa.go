package core

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Enrollment is what a user needs to add smartmfa to an authenticator app.
// It is shown during set-up only: the secret is never shown again after it.
type Enrollment struct {
	Issuer   string
	Account  string // the label apps show: Issuer:username
	URI      string // otpauth URI for the QR code
	SetupKey string // base32 secret in groups of four, for typing
	secret   []byte
}

// MFAStatus is what the My MFA page shows.
type MFAStatus struct {
	State         string // "none", "pending" or "active"
	EnabledAt     time.Time
	RecoveryLeft  int
	LockedUntil   time.Time
	LoginDisabled bool // 100 wrong codes in a row: only an admin can reset
}

// MyMFA reports the caller's own MFA state.
func (s *Service) MyMFA(ctx context.Context, sess Session) (MFAStatus, error) {
	if _, err := s.current(ctx, s.db, sess, StageSignedIn, StageSetupMFA); err != nil || sess.operator {
		return MFAStatus{}, cmpErr(err, ErrForbidden)
	}
	m, err := db.MFAByUser(ctx, s.db, sess.userID)
	if errors.Is(err, db.ErrNotFound) {
		return MFAStatus{State: "none"}, nil
	}
	if err != nil {
		return MFAStatus{}, translate(err)
	}
	st := MFAStatus{State: m.State, LoginDisabled: m.Failures >= disableMFAAfter}
	if m.EnabledAt > 0 {
		st.EnabledAt = time.Unix(0, m.EnabledAt).UTC()
	}
	if m.LockedUntil > s.now().UnixNano() {
		st.LockedUntil = time.Unix(0, m.LockedUntil).UTC()
	}
	codes, err := db.UnusedRecoveryCodes(ctx, s.db, sess.userID)
	st.RecoveryLeft = len(codes)
	return st, translate(err)
}

// BeginEnrollment draws a new secret for the caller and stores it, encrypted,
// as pending. Starting again replaces a pending secret; an active one must be
// deleted first.
func (s *Service) BeginEnrollment(ctx context.Context, sess Session) (Enrollment, error) {
	var en Enrollment
	err := s.tx(ctx, func(q db.Querier) error {
		u, err := s.current(ctx, q, sess, StageSignedIn, StageSetupMFA)
		if err != nil || sess.operator {
			return cmpErr(err, ErrForbidden)
		}
		if u.MFAState == "active" {
			return ErrMFAActive
		}
		secret, err := newSecret(s.cfg.Rand, s.cfg.Issuer, u.Username)
		if err != nil {
			return err
		}
		if err := s.putPendingSecret(ctx, q, u, secret); err != nil {
			return err
		}
		// Recovery codes an SSH login showed with an earlier secret belong
		// to that secret's display, not to this one.
		if err := db.DeletePendingRecoveryCodes(ctx, q, u.ID); err != nil {
			return err
		}
		en = s.enrollment(u, secret)
		return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionMFASetupStarted, target: u})
	})
	return en, err
}

// putPendingSecret stores secret, encrypted for its row, as the user's
// pending authenticator.
func (s *Service) putPendingSecret(ctx context.Context, q db.Querier, u db.User, secret []byte) error {
	sealed, keyID, err := s.keys.seal(s.cfg.Rand, secret, u.AccountID, u.ID)
	if err != nil {
		return err
	}
	return db.PutPendingMFA(ctx, q, db.MFA{UserID: u.ID, Secret: sealed, KeyID: keyID, Algorithm: string(SHA1),
		Digits: totpDigits, Period: totpPeriod, CreatedAt: s.now().UnixNano()})
}

// enrollment is what the user is shown to add secret to an app.
func (s *Service) enrollment(u db.User, secret []byte) Enrollment {
	return Enrollment{Issuer: s.cfg.Issuer, Account: s.cfg.Issuer + ":" + u.Username,
		URI: otpauthURI(s.cfg.Issuer, u.Username, secret), SetupKey: groupKey(secret), secret: secret}
}

// confirmMFA activates a user's pending authenticator with its first code,
// checked by checkCode (the replay guard, the counter and its lock, the
// audit of a failure), and has storeCodes put the recovery codes in place.
// Both the console's set-up and an SSH login's confirm here.
func (s *Service) confirmMFA(ctx context.Context, q db.Querier, sess Session, u db.User, m db.MFA, code, detail string,
	storeCodes func() error) error {
	if _, err := s.checkCode(ctx, q, sess, u, m, code, codeTOTP); err != nil {
		return err
	}
	if err := db.ActivateMFA(ctx, q, u.ID, s.now().UnixNano()); err != nil {
		return err
	}
	if err := storeCodes(); err != nil {
		return err
	}
	return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionMFAEnabled, target: u, detail: detail})
}

// ConfirmEnrollment activates the pending authenticator with its first code
// and returns the recovery codes, to be shown once, and the session, now fully
// signed in when it was limited to set-up.
func (s *Service) ConfirmEnrollment(ctx context.Context, sess Session, code string) ([]string, Session, error) {
	code, kind, err := parseCode(code)
	if err != nil || kind != codeTOTP {
		return nil, sess, ErrMalformedCode
	}
	codes, err := newRecoveryCodes(s.cfg.Rand)
	if err != nil {
		return nil, sess, err
	}
	out := sess
	err = s.tx(ctx, func(q db.Querier) error {
		u, err := s.current(ctx, q, sess, StageSignedIn, StageSetupMFA)
		if err != nil || sess.operator {
			return cmpErr(err, ErrForbidden)
		}
		m, err := db.MFAByUser(ctx, q, u.ID)
		if errors.Is(err, db.ErrNotFound) || err == nil && m.State != "pending" {
			return ErrNoEnrollment
		}
		if err != nil {
			return err
		}
		err = s.confirmMFA(ctx, q, sess, u, m, code, "", func() error {
			return db.ReplaceRecoveryCodes(ctx, q, u.ID, recoveryHashes(u.ID, codes))
		})
		if err != nil {
			return err
		}
		out.stage = StageSignedIn
		return s.trustOrigin(ctx, q, out)
	})
	if err != nil {
		return nil, sess, attemptErr(err)
	}
	return codes, out, nil
}

// DeleteMyMFA removes the caller's own authenticator after a current code or a
// recovery code. Where the account requires MFA the returned session is back
// at StageSetupMFA.
func (s *Service) DeleteMyMFA(ctx context.Context, sess Session, code string) (Session, error) {
	code, kind, err := parseCode(code)
	if err != nil {
		return sess, err
	}
	out := sess
	err = s.tx(ctx, func(q db.Querier) error {
		if _, err := s.current(ctx, q, sess, StageSignedIn); err != nil || sess.operator {
			return cmpErr(err, ErrForbidden)
		}
		return s.deleteOwnMFA(ctx, q, &out, code, kind, "")
	})
	if err != nil {
		return sess, attemptErr(err)
	}
	return out, nil
}

// deleteOwnMFA removes the caller's authenticator once code proves it is
// theirs, wherever they asked, and moves the session to set-up where the
// account requires MFA.
func (s *Service) deleteOwnMFA(ctx context.Context, q db.Querier, sess *Session, code string, kind codeKind, detail string) error {
	u, m, err := s.activeMFA(ctx, q, *sess)
	if err != nil {
		return err
	}
	how, err := s.checkCode(ctx, q, *sess, u, m, code, kind)
	if err != nil {
		return err
	}
	if err := db.DeleteMFA(ctx, q, u.ID); err != nil {
		return err
	}
	acct, err := db.AccountByID(ctx, q, u.AccountID)
	if err != nil {
		return err
	}
	if acct.RequireMFA {
		sess.stage = StageSetupMFA
	}
	return s.audit(ctx, q, *sess, event{account: u.AccountID, action: ActionMFADeleted, target: u,
		detail: strings.TrimPrefix(detail+"; confirmed with "+how, "; ")})
}

// CheckReason checks the reason given for removing a user's MFA, so that a
// command refuses a bad one before it asks for confirmation.
func CheckReason(reason string) error { return checkText("reason", reason, 200, false) }

// RemoveUserMFA removes the MFA of a user in the caller's account: how an
// administrator lets a user who lost their phone log in again. An
// administrator with MFA confirms with their own current code (step-up); one
// removing their own MFA here confirms with it as on My MFA, and gets back the
// session that follows (set-up, where the account requires MFA).
func (s *Service) RemoveUserMFA(ctx context.Context, sess Session, userID int64, reason, code string) (Session, error) {
	if err := CheckReason(reason); err != nil {
		return sess, err
	}
	out := sess
	err := s.tx(ctx, func(q db.Querier) error {
		u, err := s.userInAccount(ctx, q, sess, userID)
		if err != nil {
			return err
		}
		if !sess.operator && u.ID == sess.userID {
			c, kind, err := parseStepUp(code)
			if err != nil {
				return err
			}
			return s.deleteOwnMFA(ctx, q, &out, c, kind, reason)
		}
		if u.MFAState == "" {
			return ErrNoMFA
		}
		how, err := s.stepUp(ctx, q, sess, code)
		if err != nil {
			return err
		}
		if err := db.DeleteMFA(ctx, q, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionMFARemoved, target: u,
			detail: strings.TrimPrefix(reason+how, "; ")})
	})
	if err != nil {
		return sess, attemptErr(err)
	}
	return out, nil
}

// stepUp asks an administrator acting on another user for a current code of
// their own authenticator, when they have one; the operator of the command
// line and administrators without MFA have nothing to give. It returns how
// they confirmed, for the audit trail.
func (s *Service) stepUp(ctx context.Context, q db.Querier, sess Session, code string) (string, error) {
	if sess.operator {
		return "", nil
	}
	u, m, err := s.activeMFA(ctx, q, sess)
	if errors.Is(err, ErrNoMFA) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	c, kind, err := parseStepUp(code)
	if err != nil {
		return "", err
	}
	how, err := s.checkCode(ctx, q, sess, u, m, c, kind)
	if err != nil {
		return "", err
	}
	return "; confirmed with the administrator's " + how, nil
}

// parseStepUp asks for the code when none was given.
func parseStepUp(code string) (string, codeKind, error) {
	if code == "" {
		return "", 0, ErrStepUpRequired
	}
	return parseCode(code)
}
