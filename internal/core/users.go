package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// User is a user as the console and the commands show it.
type User struct {
	ID          int64
	AccountID   int64
	Username    string
	DisplayName string
	Email       string
	Role        Role
	Disabled    bool
	MFA         string // "none", "pending" or "active"
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewUser is a user to create.
type NewUser struct {
	Username    string
	DisplayName string
	Email       string
	Role        Role
	Password    string
}

// UserUpdate holds the fields to change; nil leaves a field as it is.
type UserUpdate struct {
	DisplayName *string
	Email       *string
	Role        *Role
	Disabled    *bool
}

func toUser(u db.User) User {
	mfa := u.MFAState
	if mfa == "" {
		mfa = "none"
	}
	return User{ID: u.ID, AccountID: u.AccountID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Role: Role(u.Role), Disabled: u.Disabled, MFA: mfa,
		CreatedAt: time.Unix(0, u.CreatedAt).UTC(), UpdatedAt: time.Unix(0, u.UpdatedAt).UTC()}
}

func checkRole(r Role) error {
	if r != RoleAdmin && r != RoleUser {
		return inputErr("role", "must be admin or user")
	}
	return nil
}

func checkNewUser(nu NewUser) error {
	if err := CheckUserFields(nu); err != nil {
		return err
	}
	return checkPassword(nu.Password)
}

// CheckUserFields validates a new user's fields other than the password, so
// a caller can refuse bad input before asking for a password.
func CheckUserFields(nu NewUser) error {
	if err := checkUsername(nu.Username); err != nil {
		return err
	}
	if err := checkName("name", nu.DisplayName, MaxDisplayNameLen, false); err != nil {
		return err
	}
	if err := checkEmail(nu.Email); err != nil {
		return err
	}
	return checkRole(nu.Role)
}

// insertUser stores a new user; temporary marks a password someone else set,
// which its user replaces at the first login.
func (s *Service) insertUser(ctx context.Context, q db.Querier, accountID int64, nu NewUser, hash string, temporary bool) (db.User, error) {
	now := s.now().UnixNano()
	u := db.User{AccountID: accountID, Username: nu.Username, DisplayName: normalizeName(nu.DisplayName), Email: nu.Email,
		Role: string(nu.Role), PasswordHash: hash, MustChangePassword: temporary, CreatedAt: now, UpdatedAt: now}
	if err := db.InsertUser(ctx, q, &u); err != nil {
		if errors.Is(err, db.ErrConflict) {
			return u, fmt.Errorf("username %q %w", nu.Username, ErrExists)
		}
		return u, err
	}
	return u, nil
}

// CreateUser adds a user to an account the caller administers. The password
// is temporary, as every password an administrator sets: the user chooses
// their own at the first login. An administrator with MFA confirms with a
// current code of their own (step-up), as for a reset: a new user is a way
// in that outlasts the console it was made from, and a new administrator can
// take over every other user.
func (s *Service) CreateUser(ctx context.Context, sess Session, accountID int64, nu NewUser, code string) (User, error) {
	if nu.Role == "" {
		nu.Role = RoleUser
	}
	if err := checkNewUser(nu); err != nil {
		return User{}, err
	}
	if err := s.admin(ctx, s.db, sess, accountID); err != nil {
		return User{}, err // checked before the expensive hash, and again below
	}
	hash, err := s.hashPassword(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	var out db.User
	err = s.tx(ctx, func(q db.Querier) error {
		if err := s.admin(ctx, q, sess, accountID); err != nil {
			return err
		}
		// A taken username is refused before the code is asked for or spent.
		if _, err := db.UserByUsername(ctx, q, nu.Username); err == nil {
			return fmt.Errorf("username %q %w", nu.Username, ErrExists)
		} else if !errors.Is(err, db.ErrNotFound) {
			return err
		}
		how, err := s.stepUp(ctx, q, sess, code)
		if err != nil {
			return err
		}
		if out, err = s.insertUser(ctx, q, accountID, nu, hash, true); err != nil {
			return err
		}
		return s.audit(ctx, q, sess, event{account: accountID, action: ActionUserCreated, target: out,
			detail: "role " + string(nu.Role) + "; temporary password, to be changed at the first login" + how})
	})
	if err != nil {
		return User{}, err
	}
	return toUser(out), nil
}

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

// GetUser returns a user the caller administers, or the caller themselves.
func (s *Service) GetUser(ctx context.Context, sess Session, userID int64) (User, error) {
	if !sess.operator && userID == sess.userID {
		u, err := s.current(ctx, s.db, sess, StageSignedIn, StageSetupMFA)
		return toUser(u), err
	}
	u, err := s.userInAccount(ctx, s.db, sess, userID)
	return toUser(u), err
}

// FindUser looks a user up by username within what the caller administers.
func (s *Service) FindUser(ctx context.Context, sess Session, username string) (User, error) {
	if err := checkUsername(username); err != nil {
		return User{}, ErrNotFound
	}
	u, err := db.UserByUsername(ctx, s.db, username)
	if err != nil {
		return User{}, translate(err)
	}
	return s.GetUser(ctx, sess, u.ID)
}

// UpdateUser changes a user's name, email, role or disabled flag. An account
// always keeps one enabled administrator.
func (s *Service) UpdateUser(ctx context.Context, sess Session, userID int64, up UserUpdate) (User, error) {
	var out db.User
	err := s.tx(ctx, func(q db.Querier) error {
		u, err := s.userInAccount(ctx, q, sess, userID)
		if err != nil {
			return err
		}
		next, changes, err := applyUpdate(u, up)
		if err != nil || len(changes) == 0 {
			out = u
			return err
		}
		if Role(u.Role) == RoleAdmin && !u.Disabled && (Role(next.Role) != RoleAdmin || next.Disabled) {
			n, err := db.CountActiveAdmins(ctx, q, u.AccountID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return ErrLastAdmin
			}
		}
		next.UpdatedAt = s.now().UnixNano()
		if err := db.UpdateUserProfile(ctx, q, next); err != nil {
			return err
		}
		out = next
		return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionUserUpdated, target: u, detail: strings.Join(changes, "; ")})
	})
	return toUser(out), err
}

// applyUpdate validates an update and lists its changes as "field: old -> new".
func applyUpdate(u db.User, up UserUpdate) (db.User, []string, error) {
	var changes []string
	if up.DisplayName != nil && normalizeName(*up.DisplayName) != u.DisplayName {
		name := normalizeName(*up.DisplayName)
		if err := checkName("name", name, MaxDisplayNameLen, false); err != nil {
			return u, nil, err
		}
		changes = append(changes, fmt.Sprintf("name: %q -> %q", u.DisplayName, name))
		u.DisplayName = name
	}
	if up.Email != nil && *up.Email != u.Email {
		if err := checkEmail(*up.Email); err != nil {
			return u, nil, err
		}
		changes = append(changes, fmt.Sprintf("email: %q -> %q", u.Email, *up.Email))
		u.Email = *up.Email
	}
	if up.Role != nil && string(*up.Role) != u.Role {
		if err := checkRole(*up.Role); err != nil {
			return u, nil, err
		}
		changes = append(changes, fmt.Sprintf("role: %s -> %s", u.Role, *up.Role))
		u.Role = string(*up.Role)
	}
	if up.Disabled != nil && *up.Disabled != u.Disabled {
		changes = append(changes, fmt.Sprintf("disabled: %t -> %t", u.Disabled, *up.Disabled))
		u.Disabled = *up.Disabled
	}
	return u, changes, nil
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

// cmpErr keeps a specific error (such as ErrSessionEnded) over a general one.
func cmpErr(err, general error) error {
	if err != nil {
		return err
	}
	return general
}
