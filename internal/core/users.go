package core

import (
	"context"
	"errors"
	"fmt"
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

// MFAWord is the one word every surface shows for an MFA state ("none",
// "pending" or "active"): the console, the commands' tables and their JSON
// all say on, pending or off, the words --mfa on|off filters by.
func MFAWord(state string) string {
	switch state {
	case "active":
		return "on"
	case "pending":
		return "pending"
	}
	return "off"
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

// cmpErr keeps a specific error (such as ErrSessionEnded) over a general one.
func cmpErr(err, general error) error {
	if err != nil {
		return err
	}
	return general
}
