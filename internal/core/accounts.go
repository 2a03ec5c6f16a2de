package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Account is an account of the numbering system with its MFA policy.
type Account struct {
	ID         int64
	Name       string
	RequireMFA bool
	// RequireMFAFrom is the enrolment deadline: until it, users without MFA
	// are shown the set-up but may postpone it; zero means none (MFA is
	// required at once where RequireMFA is set).
	RequireMFAFrom time.Time
	CreatedAt      time.Time
}

// AccountDetails adds the counts the account page shows.
type AccountDetails struct {
	Account
	Users      int // all users
	Enabled    int // users not disabled
	WithMFA    int // users with active MFA
	WithoutMFA int // enabled users without active MFA: redirected when MFA is required
	Admins     int // enabled administrators
	// Grace is the enrolment deadline while it is still ahead (users without
	// MFA may postpone its set-up); zero otherwise.
	Grace MFAGrace
}

// NewAccount is an account to create with its first user, an administrator.
type NewAccount struct {
	Name  string
	Admin NewUser
}

func toAccount(a db.Account) Account {
	out := Account{ID: a.ID, Name: a.Name, RequireMFA: a.RequireMFA, CreatedAt: time.Unix(0, a.CreatedAt).UTC()}
	if a.RequireMFAFrom != 0 {
		out.RequireMFAFrom = time.Unix(0, a.RequireMFAFrom).UTC()
	}
	return out
}

// MFAGrace is the time a user without MFA has left to set it up, where their
// account requires MFA from a deadline still ahead.
type MFAGrace struct {
	Until    time.Time // the deadline: from it on, set-up is forced
	DaysLeft int       // whole days until it, a part day counted as one: at least 1
}

// mfaGrace reports whether users without MFA of acct may still postpone its
// set-up at now: the account requires MFA and its deadline is after now. At
// the deadline itself set-up is forced.
func mfaGrace(acct db.Account, now time.Time) (MFAGrace, bool) {
	if !acct.RequireMFA || acct.RequireMFAFrom <= now.UnixNano() {
		return MFAGrace{}, false
	}
	until := time.Unix(0, acct.RequireMFAFrom).UTC()
	return MFAGrace{Until: until, DaysLeft: DaysLeft(until, now)}, true
}

// DaysLeft is how many days are left before until, a part day counted as a
// whole one (23 hours left is "1 day left", 24 hours and a second is 2), so
// that a deadline still ahead never shows 0; 0 once until has come.
func DaysLeft(until, now time.Time) int {
	d := until.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

// accountKey is the key under which account names are unique: NFC, full case
// folding and compatibility forms (db.NameKey), so that ACME, acme and Ａcme
// are one account.
func accountKey(name string) string { return db.NameKey(name) }

// RegisterAccount creates an account from the login screen and signs its
// first user in. It is open only for the very first account, unless the
// service was configured with OpenRegistration, and never with NoRegistration.
func (s *Service) RegisterAccount(ctx context.Context, source string, in NewAccount) (Session, error) {
	in.Admin.Role = RoleAdmin
	if err := s.checkNewAccount(&in); err != nil {
		return Session{}, err
	}
	hash, err := s.hashPassword(ctx, in.Admin.Password)
	if err != nil {
		return Session{}, err
	}
	var sess Session
	err = s.tx(ctx, func(q db.Querier) error {
		if s.cfg.NoRegistration {
			return ErrRegistrationClosed
		}
		if !s.cfg.OpenRegistration {
			n, err := db.CountAccounts(ctx, q)
			if err != nil {
				return err
			}
			if n > 0 {
				return ErrRegistrationClosed
			}
		}
		u, err := s.insertAccount(ctx, q, Session{source: source}, in, hash)
		if err != nil {
			return err
		}
		sess = Session{userID: u.ID, accountID: u.AccountID, accountName: in.Name, username: u.Username, role: RoleAdmin,
			source: source, stage: StageSignedIn, epoch: u.SessionEpoch}
		return nil
	})
	return sess, err
}

// RegistrationOpen reports whether the login screen may offer Register.
func (s *Service) RegistrationOpen(ctx context.Context) (bool, error) {
	if s.cfg.NoRegistration {
		return false, nil
	}
	if s.cfg.OpenRegistration {
		return true, nil
	}
	n, err := db.CountAccounts(ctx, s.db)
	return n == 0, translate(err)
}

// CreateAccount creates an account and its first administrator (operator only).
func (s *Service) CreateAccount(ctx context.Context, sess Session, in NewAccount) (Account, error) {
	if !sess.operator {
		return Account{}, ErrForbidden
	}
	in.Admin.Role = RoleAdmin
	if err := s.checkNewAccount(&in); err != nil {
		return Account{}, err
	}
	hash, err := s.hashPassword(ctx, in.Admin.Password)
	if err != nil {
		return Account{}, err
	}
	var out Account
	err = s.tx(ctx, func(q db.Querier) error {
		u, err := s.insertAccount(ctx, q, sess, in, hash)
		if err != nil {
			return err
		}
		a, err := db.AccountByID(ctx, q, u.AccountID)
		out = toAccount(a)
		return err
	})
	return out, err
}

// checkNewAccount validates a new account and puts its name in the form
// it is stored in (NFC).
func (s *Service) checkNewAccount(in *NewAccount) error {
	in.Name = normalizeName(in.Name)
	if err := CheckAccountName(in.Name); err != nil {
		return err
	}
	return checkNewUser(in.Admin)
}

// CheckAccountName validates an account name before anything is asked or
// stored: a name people tell apart by sight (checkName), so no invisible
// characters and no mixed scripts.
func CheckAccountName(name string) error {
	return checkName("account name", name, MaxAccountNameLen, true)
}

func (s *Service) insertAccount(ctx context.Context, q db.Querier, sess Session, in NewAccount, hash string) (db.User, error) {
	now := s.now().UnixNano()
	id, err := db.InsertAccount(ctx, q, in.Name, accountKey(in.Name), now)
	if errors.Is(err, db.ErrConflict) {
		return db.User{}, fmt.Errorf("account %q %w", in.Name, ErrExists)
	}
	if err != nil {
		return db.User{}, err
	}
	u, err := s.insertUser(ctx, q, id, in.Admin, hash, false) // the first administrator chose it
	if err != nil {
		return db.User{}, err
	}
	if sess.userID == 0 && !sess.operator {
		sess = Session{userID: u.ID, accountID: id, username: u.Username, source: sess.source}
	}
	if err := s.audit(ctx, q, sess, event{account: id, action: ActionAccountCreated, detail: "account " + in.Name}); err != nil {
		return db.User{}, err
	}
	return u, s.audit(ctx, q, sess, event{account: id, action: ActionUserCreated, target: u, detail: "role admin"})
}

// ListAccounts lists every account (operator only).
func (s *Service) ListAccounts(ctx context.Context, sess Session) ([]Account, error) {
	if !sess.operator {
		return nil, ErrForbidden
	}
	rows, err := db.ListAccounts(ctx, s.db)
	out := make([]Account, len(rows))
	for i, a := range rows {
		out[i] = toAccount(a)
	}
	return out, translate(err)
}

// FindAccount looks an account up by name; an administrator finds only their own.
func (s *Service) FindAccount(ctx context.Context, sess Session, name string) (Account, error) {
	a, err := db.AccountByNameKey(ctx, s.db, accountKey(name))
	if err != nil {
		return Account{}, translate(err)
	}
	if err := s.admin(ctx, s.db, sess, a.ID); err != nil {
		return Account{}, err
	}
	return toAccount(a), nil
}

// GetAccount returns an account the caller administers, without counting its
// users (which takes most of a second at a million).
func (s *Service) GetAccount(ctx context.Context, sess Session, accountID int64) (Account, error) {
	if err := s.admin(ctx, s.db, sess, accountID); err != nil {
		return Account{}, err
	}
	a, err := db.AccountByID(ctx, s.db, accountID)
	return toAccount(a), translate(err)
}

// AccountDetails returns an account with its user and MFA counts.
func (s *Service) AccountDetails(ctx context.Context, sess Session, accountID int64) (AccountDetails, error) {
	if err := s.admin(ctx, s.db, sess, accountID); err != nil {
		return AccountDetails{}, err
	}
	a, err := db.AccountByID(ctx, s.db, accountID)
	if err != nil {
		return AccountDetails{}, translate(err)
	}
	c, err := db.CountAccountUsers(ctx, s.db, accountID)
	grace, _ := mfaGrace(a, s.now())
	return AccountDetails{Account: toAccount(a), Users: c.Users, Enabled: c.Active, WithMFA: c.WithMFA,
		WithoutMFA: c.WithoutMFA, Admins: c.Admins, Grace: grace}, translate(err)
}

// SetRequireMFA turns the account's MFA requirement on or off, at once. It
// returns how many enabled users have no MFA yet: they go to MFA setup at
// their next login.
func (s *Service) SetRequireMFA(ctx context.Context, sess Session, accountID int64, on bool) (int, error) {
	return s.SetRequireMFAFrom(ctx, sess, accountID, on, time.Time{})
}

// SetRequireMFAFrom turns the account's MFA requirement on or off with an
// enrolment deadline: with from zero MFA is required at once; with from ahead,
// users without MFA are shown the set-up at login but may postpone it until
// from. from must be in the future, and only goes with on. It returns how many
// enabled users have no MFA yet: the users the requirement (and its deadline)
// affects.
func (s *Service) SetRequireMFAFrom(ctx context.Context, sess Session, accountID int64, on bool, from time.Time) (int, error) {
	if err := s.admin(ctx, s.db, sess, accountID); err != nil {
		return 0, err
	}
	if err := checkMFADeadline(on, from, s.now()); err != nil {
		return 0, err
	}
	var fromNanos int64
	if !from.IsZero() {
		fromNanos = from.UnixNano()
	}
	var c db.AccountCounts
	err := s.tx(ctx, func(q db.Querier) error {
		if err := s.admin(ctx, q, sess, accountID); err != nil {
			return err
		}
		// The kept counts read in microseconds: counted at the change itself.
		var err error
		if c, err = db.CountAccountUsers(ctx, q, accountID); err != nil {
			return err
		}
		a, err := db.AccountByID(ctx, q, accountID)
		if err != nil || a.RequireMFA == on && a.RequireMFAFrom == fromNanos {
			return err
		}
		if err := db.SetRequireMFAFrom(ctx, q, accountID, on, fromNanos); err != nil {
			return err
		}
		detail := fmt.Sprintf("require MFA: %s -> %s; %d enabled users without MFA",
			describePolicy(a.RequireMFA, a.RequireMFAFrom), describePolicy(on, fromNanos), c.WithoutMFA)
		return s.audit(ctx, q, sess, event{account: accountID, action: ActionRequireMFA, detail: detail})
	})
	return c.WithoutMFA, err
}

// checkMFADeadline refuses a deadline that is not ahead, or one given with
// the requirement off.
func checkMFADeadline(on bool, from, now time.Time) error {
	switch {
	case from.IsZero():
		return nil
	case !on:
		return inputErr("date", "from which MFA is required goes only with requiring MFA")
	case !from.After(now):
		return inputErr("date", "%s is not in the future: leave it empty to require MFA now",
			from.UTC().Format(time.DateOnly))
	}
	return nil
}

// describePolicy is an account's MFA requirement as the audit trail says it:
// "true", "false", or "true from 2026-12-06 00:00 UTC".
func describePolicy(on bool, from int64) string {
	if !on || from == 0 {
		return fmt.Sprint(on)
	}
	return "true from " + time.Unix(0, from).UTC().Format("2006-01-02 15:04 MST")
}
