package core

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Login checks a username and password. The returned session's Stage says what
// comes next: StageCode (enter a code), StageNewPassword (the password was set
// by an administrator), StageSetupMFA (the account requires MFA and the user
// has none) or StageSignedIn. Unknown users, wrong passwords and disabled users
// all get ErrInvalidCredentials after the same work; every attempt is counted
// before its password is checked (see reserve).
func (s *Service) Login(ctx context.Context, username, password, source string) (Session, error) {
	sess := Session{source: source}
	var u db.User
	if checkUsername(username) == nil {
		var err error
		if u, err = db.UserByUsername(ctx, s.db, username); err != nil && !errors.Is(err, db.ErrNotFound) {
			return sess, unavailable(err)
		}
	}
	a, f, err := s.tryPassword(ctx, username, u, password, source)
	if err != nil {
		return sess, err
	}
	if f == "" && u.Disabled {
		f = failDisabled // counted like a wrong password: the lock must not tell a right one
	}
	err = s.tx(ctx, func(q db.Querier) error {
		if err := s.settlePassword(ctx, q, sess, a, u, username, f); err != nil {
			return err
		}
		u, err := db.UserByID(ctx, q, u.ID)
		if err != nil {
			return err
		}
		acct, err := db.AccountByID(ctx, q, u.AccountID)
		if err != nil {
			return err
		}
		sess = Session{userID: u.ID, accountID: u.AccountID, accountName: acct.Name, username: u.Username, role: Role(u.Role),
			source: source, epoch: u.SessionEpoch}
		sess.stage = nextStage(u, acct, false)
		return s.signedIn(ctx, q, sess, u, map[Stage]string{StageSetupMFA: "password; MFA setup required",
			StageNewPassword: "temporary password; a new one must be chosen", StageSignedIn: "password"}[sess.stage])
	})
	if err != nil {
		return Session{source: source}, attemptErr(err)
	}
	return sess, nil
}

// nextStage is where a user goes once the steps before are done: their code
// (unless codeDone), then a new password in place of a temporary one, then
// MFA set-up where the account requires it.
func nextStage(u db.User, acct db.Account, codeDone bool) Stage {
	switch {
	case u.MFAState == "active" && !codeDone:
		return StageCode
	case u.MustChangePassword:
		return StageNewPassword
	case acct.RequireMFA && u.MFAState != "active":
		return StageSetupMFA
	}
	return StageSignedIn
}

// signedIn audits a login that reached sess's stage, and at StageSignedIn
// trusts its origin. A login waiting for its code is audited when the code
// is accepted.
func (s *Service) signedIn(ctx context.Context, q db.Querier, sess Session, u db.User, detail string) error {
	if sess.stage == StageCode {
		return nil
	}
	if sess.stage == StageSignedIn {
		if err := s.trustOrigin(ctx, q, sess); err != nil {
			return err
		}
	}
	return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionLogin, target: u, detail: detail})
}

// Why a password was refused, as the audit trail says it. Every one of them
// is counted: a refusal that did not count would tell a right password.
const (
	failUnknownUser   = "unknown user"
	failWrongPassword = "wrong password"
	failTooLong       = "password too long"
	failDisabled      = "user disabled"
	failLockedAfter   = "locked by other attempts while the password was checked"
)

// tryPassword reserves an attempt on typed's counter, then checks password
// against u's hash: u zero is an unknown name, checked against a dummy hash for
// the same time. It returns why the password was refused, "" when it is right.
func (s *Service) tryPassword(ctx context.Context, typed string, u db.User, password, source string) (attempt, string, error) {
	origin := originOf(source)
	a, err := s.reserve(ctx, typed, u, origin)
	if err != nil {
		return a, "", err
	}
	why, err := s.checkAttempt(ctx, u, password, s.priority(a, origin))
	if why != "" {
		s.failing.failed(origin, s.now())
	}
	return a, why, err
}

// checkAttempt checks a reserved attempt's password; see tryPassword.
func (s *Service) checkAttempt(ctx context.Context, u db.User, password string, prio int) (string, error) {
	switch {
	case utf8.RuneCountInString(password) > MaxPasswordLen:
		return failTooLong, nil // it cannot be right: no hash is spent on it
	case u.ID == 0:
		s.dummyVerify(ctx, password, prio)
		return failUnknownUser, ctx.Err()
	}
	ok, err := s.verifyPassword(ctx, u.PasswordHash, password, prio)
	if err != nil && ctx.Err() != nil {
		return "", ctx.Err()
	}
	if !ok {
		return failWrongPassword, nil // a hash that cannot be read refuses like a wrong password
	}
	return "", nil
}

// settlePassword ends an attempt of tryPassword inside the caller's
// transaction: nil lets a right password go on; a refusal is audited and
// returned as commitThen, so that its count and its event commit.
func (s *Service) settlePassword(ctx context.Context, q db.Querier, sess Session, a attempt, u db.User, typed, why string) error {
	err := a.settle(ctx, q, s.now(), why == "")
	switch {
	case errors.Is(err, ErrLocked):
		why = failLockedAfter
	case err != nil:
		return err
	case why == "":
		return nil
	default:
		err = ErrInvalidCredentials
	}
	if u.ID == 0 {
		if aerr := s.auditUnknownName(ctx, q, sess, typed); aerr != nil {
			return aerr
		}
		return commitThen{err}
	}
	e := event{account: u.AccountID, actorID: u.ID, actor: u.Username, action: ActionLoginFailed, target: u,
		detail: fmt.Sprintf("%s (%d counted)", why, a.n)}
	if aerr := s.audit(ctx, q, sess, e); aerr != nil {
		return aerr
	}
	return commitThen{err}
}

// auditUnknownName counts a failed login of a name that does not exist in
// the hour's one event: a flood of names adds a row an hour, not a row a try.
func (s *Service) auditUnknownName(ctx context.Context, q db.Querier, sess Session, typed string) error {
	now := s.now()
	name := CleanText(typed, MaxUsernameLen)
	e := db.AuditEvent{At: now.UnixNano(), ActorName: name, Action: string(ActionLoginFailed), TargetName: name,
		Source: CleanText(sess.source, 128)}
	detail := func(times int, first int64) string {
		if times == 1 {
			return failUnknownUser
		}
		return fmt.Sprintf("%d failed logins of unknown users since %s; the newest shown", times,
			time.Unix(0, first).UTC().Format("15:04:05 MST"))
	}
	if err := db.BumpAggregate(ctx, q, "unknown-user", now.Truncate(time.Hour).UnixNano(), e, detail); err != nil {
		return fmt.Errorf("writing the audit trail: %w", err)
	}
	return nil
}

// attemptErr turns a failure of the store (a full disk, a store gone away,
// a lock held too long) into ErrUnavailable: a password or code that could
// not be recorded is refused, a right one like a wrong one. Every answer of
// the rules themselves passes as it is.
func attemptErr(err error) error {
	if errors.Is(err, db.ErrStorage) || errors.Is(err, db.ErrBusy) || errors.Is(err, ErrBusy) {
		return unavailable(err)
	}
	return err
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

// VerifyLoginCode completes a login at StageCode with a TOTP code or a
// recovery code. The returned session is signed in, or must first choose a
// new password in place of a temporary one.
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
		// The account's requirement cannot apply: the user's MFA is active.
		out.stage = nextStage(u, db.Account{}, true)
		out.recovery = kind == codeRecovery
		return s.signedIn(ctx, q, out, u, "password and "+how)
	})
	if err != nil {
		return sess, attemptErr(err)
	}
	return out, nil
}

// activeMFA loads the caller and their active authenticator.
func (s *Service) activeMFA(ctx context.Context, q db.Querier, sess Session) (db.User, db.MFA, error) {
	u, m, ok, err := db.UserWithMFA(ctx, q, sess.userID)
	if err != nil || u.Disabled {
		return u, db.MFA{}, ErrForbidden
	}
	if u.SessionEpoch != sess.epoch {
		return u, db.MFA{}, ErrSessionEnded
	}
	if !ok || m.State != "active" {
		return u, m, ErrNoMFA
	}
	return u, m, nil
}

// SetupGrace reports, for a session at StageSetupMFA, whether its user may
// still postpone setting up MFA: their account requires it from a deadline
// that is still ahead. ok false means the set-up is forced.
func (s *Service) SetupGrace(ctx context.Context, sess Session) (grace MFAGrace, ok bool, err error) {
	if sess.stage != StageSetupMFA || sess.operator {
		return MFAGrace{}, false, nil
	}
	acct, err := db.AccountByID(ctx, s.db, sess.accountID)
	if err != nil {
		return MFAGrace{}, false, translate(err)
	}
	grace, ok = mfaGrace(acct, s.now())
	return grace, ok, nil
}

// SkipMFASetup signs in a session at StageSetupMFA without MFA, while its
// account's enrolment deadline is still ahead ("Later" on the set-up page);
// from the deadline on it returns ErrMFARequired and the session stays where
// it was. The user is sent to the set-up again at their next login.
func (s *Service) SkipMFASetup(ctx context.Context, sess Session) (Session, error) {
	out := sess
	err := s.tx(ctx, func(q db.Querier) error {
		u, err := s.current(ctx, q, sess, StageSetupMFA)
		if err != nil || sess.operator {
			return cmpErr(err, ErrForbidden)
		}
		if u.MFAState == "active" {
			return ErrForbidden // set up meanwhile: that session moved on by itself
		}
		acct, err := db.AccountByID(ctx, q, u.AccountID)
		if err != nil {
			return err
		}
		grace, ok := mfaGrace(acct, s.now())
		if !ok {
			return ErrMFARequired
		}
		out.stage = StageSignedIn
		return s.signedIn(ctx, q, out, u, fmt.Sprintf("MFA setup postponed (%s left, required from %s)",
			plural(grace.DaysLeft, "day"), grace.Until.Format("2006-01-02 15:04 MST")))
	})
	if err != nil {
		return sess, err
	}
	return out, nil
}

// plural is "1 day", "2 days".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
