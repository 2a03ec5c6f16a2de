package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Login checks a username and password. The returned session's Stage says what
// comes next: StageCode (enter a code), StageSetupMFA (the account requires
// MFA and the user has none) or StageSignedIn. Unknown users, wrong passwords
// and disabled users all get ErrInvalidCredentials after the same work.
func (s *Service) Login(ctx context.Context, username, password, source string) (Session, error) {
	now := s.now()
	sess := Session{source: source}
	var u db.User
	err := checkUsername(username)
	if err == nil {
		u, err = db.UserByUsername(ctx, s.db, username)
	}
	if err != nil && !errors.Is(err, db.ErrNotFound) && !errors.Is(err, ErrInvalidInput) {
		return sess, translate(err)
	}
	if utf8.RuneCountInString(password) > MaxPasswordLen {
		// An input error: audited, not counted, for known and unknown names alike.
		s.dummyVerify(ctx, "")
		return sess, s.loginFailed(ctx, sess, u, username, failTooLong)
	}
	if err != nil {
		// An unknown name locks exactly like a real one: a lockout must not
		// tell which users exist.
		t, err := db.ThrottleByName(ctx, s.db, throttleKey(username))
		if err != nil {
			return sess, translate(err)
		}
		if err := lockedErr(t.LockedUntil, now); err != nil {
			return sess, err
		}
		s.dummyVerify(ctx, "")
		return sess, s.loginFailed(ctx, sess, db.User{}, username, failUnknownUser)
	}
	if err := lockedErr(u.PwLockedUntil, now); err != nil {
		return sess, err
	}
	ok, err := s.verifyPassword(ctx, u.PasswordHash, password) // never inside a transaction
	if err != nil {
		return sess, err
	}
	if !ok {
		return sess, s.loginFailed(ctx, sess, u, username, failWrongPassword)
	}
	if u.Disabled {
		return sess, s.loginFailed(ctx, sess, u, username, failDisabled)
	}
	err = s.tx(ctx, func(q db.Querier) error {
		u, err = db.UserByID(ctx, q, u.ID)
		if err != nil {
			return err
		}
		if err := lockedErr(u.PwLockedUntil, now); err != nil {
			return err
		}
		if u.PwFailures > 0 {
			if err := db.SetPasswordFailures(ctx, q, u.ID, 0, 0); err != nil {
				return err
			}
		}
		acct, err := db.AccountByID(ctx, q, u.AccountID)
		if err != nil {
			return err
		}
		sess = Session{userID: u.ID, accountID: u.AccountID, username: u.Username, role: Role(u.Role), source: source,
			epoch: u.SessionEpoch}
		switch {
		case u.MFAState == "active":
			sess.stage = StageCode
			return nil // the login is audited when the code is accepted
		case acct.RequireMFA:
			sess.stage = StageSetupMFA
		default:
			sess.stage = StageSignedIn
		}
		return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionLogin, target: u,
			detail: map[Stage]string{StageSetupMFA: "password; MFA setup required", StageSignedIn: "password"}[sess.stage]})
	})
	if err != nil {
		return Session{source: source}, err
	}
	return sess, nil
}

// failure is why a login failed, as the audit trail says it, and whether it
// counts toward a lockout: input errors and a disabled user do not.
type failure struct {
	reason  string
	counted bool
}

var (
	failUnknownUser   = failure{"unknown user", true}
	failWrongPassword = failure{"wrong password", true}
	failTooLong       = failure{"password too long", false}
	failDisabled      = failure{"user disabled", false}
)

// loginFailed audits a failed login as typed and, when f counts, adds it to
// the user's failure counter, or to the unknown name's.
func (s *Service) loginFailed(ctx context.Context, sess Session, u db.User, typed string, f failure) error {
	now := s.now()
	return s.tx(ctx, func(q db.Querier) error {
		e := event{account: u.AccountID, action: ActionLoginFailed, target: u, detail: f.reason}
		if u.ID == 0 {
			e.target = db.User{Username: typed}
		}
		switch {
		case !f.counted:
		case u.ID == 0:
			key := throttleKey(typed)
			t, err := db.ThrottleByName(ctx, q, key)
			if err != nil {
				return err
			}
			t.Failures++
			t.LockedUntil = lockUntil(now, t.Failures)
			if err := db.PutThrottle(ctx, q, key, t, now.UnixNano(), now.Add(-24*time.Hour).UnixNano()); err != nil {
				return err
			}
		default:
			cur, err := db.UserByID(ctx, q, u.ID)
			if err != nil {
				return err
			}
			n := cur.PwFailures + 1
			if err := db.SetPasswordFailures(ctx, q, cur.ID, n, lockUntil(now, n)); err != nil {
				return err
			}
			e.detail = fmt.Sprintf("%s (%d in a row)", f.reason, n)
		}
		e.actor = e.target.Username
		if err := s.audit(ctx, q, sess, e); err != nil {
			return err
		}
		return commitThen{ErrInvalidCredentials}
	})
}

// Logout records the end of a session in the audit trail. Sessions live with
// their caller, so there is nothing else to end; a session that never signed
// in leaves no trace.
func (s *Service) Logout(ctx context.Context, sess Session) error {
	if sess.operator || sess.userID == 0 || sess.stage == StageNone {
		return nil
	}
	return s.tx(ctx, func(q db.Querier) error {
		target := db.User{ID: sess.userID, Username: sess.username}
		return s.audit(ctx, q, sess, event{account: sess.accountID, action: ActionLogout, target: target})
	})
}

// throttleKey is the bounded, case-folded form of a typed username.
func throttleKey(typed string) string {
	return strings.ToLower(typed[:min(len(typed), MaxUsernameLen)])
}

// VerifyLoginCode completes a login at StageCode with a TOTP code or a
// recovery code, and returns the signed-in session.
func (s *Service) VerifyLoginCode(ctx context.Context, sess Session, code string) (Session, error) {
	if sess.stage != StageCode {
		return sess, ErrForbidden
	}
	code, kind, err := parseCode(code)
	if err != nil {
		return sess, err
	}
	out := sess
	err = s.tx(ctx, func(q db.Querier) error {
		u, m, err := s.activeMFA(ctx, q, sess)
		if err != nil {
			return err
		}
		how, err := s.checkCode(ctx, q, sess, u, m, code, kind)
		if err != nil {
			return err
		}
		out.stage = StageSignedIn
		return s.audit(ctx, q, out, event{account: u.AccountID, action: ActionLogin, target: u, detail: "password and " + how})
	})
	if err != nil {
		return sess, err
	}
	return out, nil
}

// activeMFA loads the caller and their active authenticator.
func (s *Service) activeMFA(ctx context.Context, q db.Querier, sess Session) (db.User, db.MFA, error) {
	u, err := db.UserByID(ctx, q, sess.userID)
	if err != nil || u.Disabled {
		return u, db.MFA{}, ErrForbidden
	}
	if u.SessionEpoch != sess.epoch {
		return u, db.MFA{}, ErrSessionEnded
	}
	m, err := db.MFAByUser(ctx, q, u.ID)
	if errors.Is(err, db.ErrNotFound) || err == nil && m.State != "active" {
		return u, m, ErrNoMFA
	}
	return u, m, err
}
