package core

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Setting passwords: an administrator's temporary ones (reset, generated),
// and a user's own (changed with the current one, or chosen in place of a
// temporary one).

// Generated passwords: groups of four characters of Crockford's base32, the
// recovery codes' alphabet (no i, l, o or u to misread), 80 random bits.
const (
	generatedGroups   = 4
	generatedGroupLen = 4
)

// GeneratePassword draws a temporary password for an administrator to give
// to a user, such as "k7qm-3xwp-9trd-hv2c": 80 random bits, easy to read out
// and type. It is never stored or audited in clear; the user replaces it at
// the first login.
func (s *Service) GeneratePassword() (string, error) {
	buf := make([]byte, generatedGroups*generatedGroupLen)
	if _, err := io.ReadFull(s.cfg.Rand, buf); err != nil {
		return "", fmt.Errorf("generating a password: %w", err)
	}
	var b strings.Builder
	for i, c := range buf {
		if i > 0 && i%generatedGroupLen == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[c&31]) // 32 symbols: no modulo bias
	}
	pw := b.String()
	if err := checkPassword(pw); err != nil { // cannot happen: 19 characters, no common word
		return "", err
	}
	return pw, nil
}

// ResetPassword sets a temporary password for another user the caller
// administers: its user must choose a new one at the next login. An
// administrator with MFA confirms with their own current code (step-up), so a
// console left open is not enough to take over another user's account. Your
// own password is changed with ChangePassword, which asks for it.
func (s *Service) ResetPassword(ctx context.Context, sess Session, userID int64, password, code string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	if !sess.operator && userID == sess.userID {
		return ErrOwnPassword
	}
	if _, err := s.GetUser(ctx, sess, userID); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	return attemptErr(s.tx(ctx, func(q db.Querier) error {
		u, err := s.userInAccount(ctx, q, sess, userID)
		if err != nil {
			return err
		}
		how, err := s.stepUp(ctx, q, sess, code)
		if err != nil {
			return err
		}
		if err := db.SetPasswordHash(ctx, q, u.ID, hash, true, s.now().UnixNano()); err != nil {
			return err
		}
		// Locked out where they sign in is often why they asked.
		if err := db.ResetOriginCounters(ctx, q, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionPasswordReset, target: u,
			detail: "temporary: to be changed at the next login" + how})
	}))
}

// ChangePassword changes the caller's own password after checking the old one;
// a wrong old password counts toward the lockout like a failed login. Every
// other session of the user ends; the returned one carries on.
func (s *Service) ChangePassword(ctx context.Context, sess Session, oldPassword, newPassword string) (Session, error) {
	if err := checkPassword(newPassword); err != nil {
		return sess, err
	}
	if newPassword == oldPassword { // both are the caller's own words: this tells nothing
		return sess, inputErr("password", "must differ from your current one")
	}
	u, err := s.current(ctx, s.db, sess, StageSignedIn)
	if err != nil || sess.operator {
		return sess, cmpErr(err, ErrForbidden)
	}
	a, why, err := s.tryPassword(ctx, u.Username, u, oldPassword, sess.source)
	if err != nil {
		return sess, err
	}
	var hash string
	if why == "" {
		if hash, err = s.hashPassword(ctx, newPassword); err != nil {
			return sess, err
		}
	}
	out := sess
	err = s.tx(ctx, func(q db.Querier) error {
		if err := s.settlePassword(ctx, q, sess, a, u, u.Username, why); err != nil {
			return err
		}
		return s.setOwnPassword(ctx, q, &out, u, hash, "")
	})
	if err != nil {
		return sess, attemptErr(err)
	}
	return out, nil
}

// ChooseNewPassword replaces the temporary password an administrator set, at
// StageNewPassword, and moves the session on: signed in, or to MFA set-up
// where the account requires it.
func (s *Service) ChooseNewPassword(ctx context.Context, sess Session, newPassword string) (Session, error) {
	if err := checkPassword(newPassword); err != nil {
		return sess, err
	}
	u, err := s.current(ctx, s.db, sess, StageNewPassword)
	if err != nil {
		return sess, err
	}
	// The administrator knows the temporary password: it cannot stay.
	if same, err := s.verifyPassword(ctx, u.PasswordHash, newPassword, prioTrusted); err != nil || same {
		return sess, cmpErr(err, inputErr("password", "must differ from the temporary one an administrator set"))
	}
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return sess, err
	}
	out := sess
	err = s.tx(ctx, func(q db.Querier) error {
		u, err := s.current(ctx, q, sess, StageNewPassword)
		if err != nil {
			return err
		}
		if err := s.setOwnPassword(ctx, q, &out, u, hash, "replaced the temporary password"); err != nil {
			return err
		}
		acct, err := db.AccountByID(ctx, q, u.AccountID)
		if err != nil {
			return err
		}
		u.MustChangePassword = false
		out.stage = nextStage(u, acct, true)
		return s.signedIn(ctx, q, out, u, "password and new password")
	})
	if err != nil {
		return sess, err
	}
	return out, nil
}

// setOwnPassword stores a password the user chose and carries their session
// over the new epoch, which ends their other sessions.
func (s *Service) setOwnPassword(ctx context.Context, q db.Querier, sess *Session, u db.User, hash, detail string) error {
	if err := db.SetPasswordHash(ctx, q, u.ID, hash, false, s.now().UnixNano()); err != nil {
		return err
	}
	cur, err := db.UserByID(ctx, q, u.ID)
	if err != nil {
		return err
	}
	sess.epoch = cur.SessionEpoch
	return s.audit(ctx, q, *sess, event{account: u.AccountID, action: ActionPasswordChanged, target: u, detail: detail})
}
