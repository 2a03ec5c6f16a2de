package core

import (
	"context"
	"errors"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Role is a user's role in their account.
type Role string

// The roles.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Stage is how far a login has come.
type Stage int

// The stages of a Session.
const (
	StageNone        Stage = iota
	StageCode              // password accepted; a TOTP or recovery code is required
	StageSetupMFA          // signed in only to set up MFA: the account requires it
	StageSignedIn          // fully signed in
	StageNewPassword       // the password was set by an administrator: a new one must be chosen
)

// Session is who is calling core. Its fields are unexported so that only core
// can make one: by Login, RegisterAccount, or LocalOperator.
type Session struct {
	userID      int64
	accountID   int64
	accountName string // as it was at login, for display
	username    string
	role        Role
	source      string
	stage       Stage
	operator    bool
	epoch       int64 // the user's session epoch at login; a new password raises it
	recovery    bool  // the login's code was a recovery code
}

// UsedRecoveryCode reports whether the login was completed with a recovery
// code, so the console can say how many are left.
func (s Session) UsedRecoveryCode() bool { return s.recovery }

// UserID is the signed-in user's id (0 for the local operator).
func (s Session) UserID() int64 { return s.userID }

// AccountID is the signed-in user's account.
func (s Session) AccountID() int64 { return s.accountID }

// AccountName is the name of the user's account at login, for display; core
// decides nothing by it.
func (s Session) AccountName() string { return s.accountName }

// Username is the signed-in user's name.
func (s Session) Username() string { return s.username }

// Role is the role the user had at login; core re-reads it for each action.
func (s Session) Role() Role { return s.role }

// Stage tells the caller which step comes next.
func (s Session) Stage() Stage { return s.stage }

// IsAdmin reports whether the session may open the administrator screens.
func (s Session) IsAdmin() bool { return s.operator || s.role == RoleAdmin && s.stage == StageSignedIn }

// Source is where the session comes from, as written in the audit trail.
func (s Session) Source() string { return s.source }

// LocalOperator is the session of the command line: whoever runs it holds the
// database and key files and so can already do anything; it acts on every
// account and is audited as source (for example "local:alice").
func LocalOperator(source string) Session {
	return Session{username: "operator", source: source, stage: StageSignedIn, operator: true, role: RoleAdmin}
}

// current re-reads the caller under the transaction, so that a user demoted or
// disabled since login loses their rights at once.
func (s *Service) current(ctx context.Context, q db.Querier, sess Session, allowed ...Stage) (db.User, error) {
	stageOK := false
	for _, st := range allowed {
		stageOK = stageOK || sess.stage == st
	}
	if !stageOK {
		return db.User{}, ErrForbidden
	}
	if sess.operator {
		return db.User{Role: string(RoleAdmin)}, nil
	}
	u, err := db.UserByID(ctx, q, sess.userID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		// A store that failed says nothing of the caller's rights: "not
		// allowed" would send them away from a screen that works once it is back.
		return db.User{}, translate(err)
	}
	if err != nil || u.Disabled || u.AccountID != sess.accountID {
		return db.User{}, ErrForbidden
	}
	if u.SessionEpoch != sess.epoch {
		return db.User{}, ErrSessionEnded
	}
	return u, nil
}

// admin checks that the caller is a current administrator of accountID. An
// administrator of another account gets ErrNotFound: other accounts are invisible.
func (s *Service) admin(ctx context.Context, q db.Querier, sess Session, accountID int64) error {
	u, err := s.current(ctx, q, sess, StageSignedIn)
	if err != nil {
		return err
	}
	if !sess.operator && accountID != sess.accountID {
		return ErrNotFound
	}
	if Role(u.Role) != RoleAdmin {
		return ErrForbidden
	}
	return nil
}

// userInAccount loads a user the caller administers; users of other accounts
// are ErrNotFound, never forbidden-but-exists.
func (s *Service) userInAccount(ctx context.Context, q db.Querier, sess Session, userID int64) (db.User, error) {
	u, err := db.UserByID(ctx, q, userID)
	if err != nil {
		return db.User{}, translate(err)
	}
	if !sess.operator && u.AccountID != sess.accountID {
		return db.User{}, ErrNotFound
	}
	if err := s.admin(ctx, q, sess, u.AccountID); err != nil {
		return db.User{}, err
	}
	return u, nil
}
