package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// A code asked for by another program: sshd has already checked the user's
// key and asks smartmfa only for the second factor, through pam_exec and
// `smartmfa pam-verify`. The code is checked by checkCode, the console's own
// check, so the replay guard, the failure counter and its lock, recovery
// codes and the audit trail are the console's; nothing here is a rule of its
// own but the policy for users without MFA (google-authenticator-libpam's
// nullok, decided by the account's require-MFA setting). Users without MFA
// whose account requires it set it up at the login itself: see pamenrol.go.

// Errors of VerifyExternalCode besides the code's own (ErrInvalidCode,
// ErrCodeReused, ErrMalformedCode, *LockedError, ErrMFADisabled).
var (
	// ErrMFARequired refuses a user without MFA whose account requires it.
	ErrMFARequired = errors.New("your account requires multi-factor authentication, which you have not set up")
	// ErrUnknownUser refuses a name that is no smartmfa user.
	ErrUnknownUser = fmt.Errorf("%w: no smartmfa user of that name", ErrNotFound)
	// ErrUserDisabled refuses a disabled user, with or without MFA.
	ErrUserDisabled = fmt.Errorf("%w: the user is disabled", ErrForbidden)
)

// ExternalCheck is one second-factor check asked by another program.
type ExternalCheck struct {
	Username string // the smartmfa user (the caller maps its own names first)
	Code     string // as typed: a TOTP code or a recovery code; ignored for a user who needs none
	Source   string // for the audit trail: PAMSource(rhost, service)
	// AllowUnknown lets a name that is no smartmfa user pass, for hosts that
	// also have local accounts smartmfa does not manage.
	AllowUnknown bool
}

// ExternalVerdict says why a check passed.
type ExternalVerdict int

// The ways an external check passes.
const (
	PassedCode     ExternalVerdict = iota + 1 // a current TOTP code
	PassedRecovery                            // a recovery code, now spent
	PassedNoMFA                               // no MFA, and the account does not require it
	PassedUnknown                             // no such user, and AllowUnknown
	PassedEnrolled                            // the first code of the set-up pam-enrol showed: MFA is now active
	PassedGrace                               // no MFA, required by the account only from a deadline still ahead
)

func (v ExternalVerdict) String() string {
	switch v {
	case PassedCode:
		return "authenticator code"
	case PassedRecovery:
		return "recovery code"
	case PassedNoMFA:
		return "no MFA, not required by the account"
	case PassedUnknown:
		return "not a smartmfa user, allowed"
	case PassedEnrolled:
		return "authenticator code, MFA set up"
	case PassedGrace:
		return "no MFA, required by the account from a later date"
	}
	return "refused"
}

// PAMSource is the audit source of a check asked through PAM: the remote
// host sshd names (PAM_RHOST) and the PAM service, "pam:203.0.113.5 (sshd)".
// Both are cleaned and cut: with UseDNS the host name is the client's choice.
func PAMSource(rhost, service string) string {
	rhost = CleanText(rhost, 64)
	if rhost == "" {
		rhost = "-"
	}
	service = CleanText(service, 32)
	if service == "" {
		service = "-"
	}
	return "pam:" + rhost + " (" + service + ")"
}

const pamPrefix = "pam:"

// VerifyExternalCode checks the second factor of a user whom another program
// has already authenticated. A user with MFA must give a current code or an
// unused recovery code; a user without MFA passes only where their account
// does not require it, or requires it from a deadline still ahead (PassedGrace),
// or with the first code of the set-up that BeginExternalEnrollment showed
// them, which activates their MFA and the
// recovery codes shown last; an unknown or disabled user is refused. It returns why
// the check passed, or why not: the code's own errors as the console gets
// them, ErrMFARequired, ErrUnknownUser, ErrUserDisabled, or ErrUnavailable
// when the attempt could not be recorded. Every answer but a malformed code,
// a lock and an unknown name that passes is audited.
func (s *Service) VerifyExternalCode(ctx context.Context, c ExternalCheck) (ExternalVerdict, error) {
	code, kind, codeErr := parseCode(c.Code)
	var verdict ExternalVerdict
	sess := Session{source: c.Source}
	err := s.tx(ctx, func(q db.Querier) error {
		u, err := s.externalUser(ctx, q, c.Username)
		if errors.Is(err, ErrUnknownUser) {
			if c.AllowUnknown {
				verdict = PassedUnknown
				return nil
			}
			if aerr := s.auditUnknownName(ctx, q, sess, c.Username); aerr != nil {
				return aerr
			}
			return commitThen{err}
		}
		if err != nil {
			return err
		}
		sess = Session{userID: u.ID, accountID: u.AccountID, username: u.Username, source: c.Source}
		refuse := func(err error, detail string) error {
			e := event{account: u.AccountID, action: ActionLoginFailed, target: u, detail: detail}
			if aerr := s.audit(ctx, q, sess, e); aerr != nil {
				return aerr
			}
			return commitThen{err}
		}
		if u.Disabled {
			return refuse(ErrUserDisabled, "SSH login: user disabled")
		}
		acct, err := db.AccountByID(ctx, q, u.AccountID)
		if err != nil {
			return err
		}
		detail := ""
		if u.MFAState != "active" {
			enrolling, err := externalEnrolling(ctx, q, u)
			grace, inGrace := mfaGrace(acct, s.now())
			switch {
			case err != nil:
				return err
			case !acct.RequireMFA:
				verdict = PassedNoMFA
			case inGrace && (!enrolling || codeErr != nil):
				// Before the deadline a user without MFA passes as if it were
				// not required; one who typed the first code of a set-up
				// pam-enrol showed finishes it below.
				verdict = PassedGrace
				detail = fmt.Sprintf(" (%s left, required from %s)", plural(grace.DaysLeft, "day"),
					grace.Until.Format("2006-01-02 15:04 MST"))
			case !enrolling:
				return refuse(ErrMFARequired, "SSH login: the account requires MFA and the user has none")
			default:
				if err := s.confirmExternalEnrollment(ctx, q, sess, u, code, kind, codeErr); err != nil {
					return err
				}
				verdict = PassedEnrolled
			}
		} else {
			if codeErr != nil {
				return codeErr // changes nothing and counts nothing, as in the console
			}
			m, err := db.MFAByUser(ctx, q, u.ID)
			if err != nil {
				return err
			}
			if _, err := s.checkCode(ctx, q, sess, u, m, code, kind); err != nil {
				return err
			}
			verdict = PassedCode
			if kind == codeRecovery {
				verdict = PassedRecovery
			}
		}
		return s.audit(ctx, q, sess, event{account: u.AccountID, action: ActionLogin, target: u,
			detail: "SSH login: " + verdict.String() + detail})
	})
	if err != nil {
		return 0, attemptErr(err)
	}
	return verdict, nil
}

// externalUser loads the user of a name given by another program.
func (s *Service) externalUser(ctx context.Context, q db.Querier, name string) (db.User, error) {
	if checkUsername(name) != nil {
		return db.User{}, ErrUnknownUser
	}
	u, err := db.UserByUsername(ctx, q, name)
	if errors.Is(err, db.ErrNotFound) {
		return u, ErrUnknownUser
	}
	return u, err
}

// ExternalStatus is what a user should know before typing a code at an SSH
// login, while it can still be shown (after the last prompt, sshd drops what
// PAM modules say when the login fails).
type ExternalStatus struct {
	Known       bool      // a smartmfa user, enabled
	HasMFA      bool      // MFA active: a code is needed
	Enrolling   bool      // a set-up shown at SSH login (pam-enrol) awaits its first code
	RequireMFA  bool      // the account requires MFA (perhaps only from RequiredFrom)
	LockedUntil time.Time // zero when codes are not locked
	MFADisabled bool      // too many wrong codes: an administrator must remove MFA
	// LastRefusal is why the user's latest code at an SSH login was refused
	// (ErrCodeReused or ErrInvalidCode), when it was the latest check of
	// their codes, within the last recentRefusal; else nil.
	LastRefusal error
	Failures    int // wrong codes in a row
	// RequiredFrom is the account's enrolment deadline while it is still
	// ahead and the user has no MFA: until it they pass without a code.
	// DaysLeft counts the days to it (core.DaysLeft, at least 1). Zero
	// otherwise.
	RequiredFrom time.Time
	DaysLeft     int
}

// recentRefusal is how long a refused code at an SSH login is worth telling
// about at the next one; auditScan bounds the events read to find it.
const (
	recentRefusal = 15 * time.Minute
	auditScan     = 100
)

// ExternalStatus reports the state of a user's codes for the notice shown
// before the code prompt of an SSH login. It changes nothing. A name that is
// no enabled smartmfa user gets a zero status.
func (s *Service) ExternalStatus(ctx context.Context, username string) (ExternalStatus, error) {
	var st ExternalStatus
	u, err := s.externalUser(ctx, s.db, username)
	if errors.Is(err, ErrUnknownUser) || err == nil && u.Disabled {
		return st, nil
	}
	if err != nil {
		return st, translate(err)
	}
	acct, err := db.AccountByID(ctx, s.db, u.AccountID)
	if err != nil {
		return st, translate(err)
	}
	st.Known, st.RequireMFA = true, acct.RequireMFA
	enrolling, err := externalEnrolling(ctx, s.db, u)
	if err != nil {
		return st, translate(err)
	}
	st.HasMFA, st.Enrolling = u.MFAState == "active", enrolling && acct.RequireMFA
	if grace, ok := mfaGrace(acct, s.now()); ok && !st.HasMFA {
		st.RequiredFrom, st.DaysLeft = grace.Until, grace.DaysLeft
	}
	if !st.HasMFA && !st.Enrolling {
		return st, nil
	}
	m, err := db.MFAByUser(ctx, s.db, u.ID)
	if err != nil {
		return st, translate(err)
	}
	return st, translate(s.codeStatus(ctx, s.db, &st, u, m))
}

// codeStatus fills in the state of a user's codes: the counter, a lock, MFA
// disabled, and why the last code at an SSH login was refused.
func (s *Service) codeStatus(ctx context.Context, q db.Querier, st *ExternalStatus, u db.User, m db.MFA) error {
	now := s.now()
	st.Failures, st.MFADisabled = m.Failures, m.Failures >= disableMFAAfter
	if m.LockedUntil > now.UnixNano() {
		st.LockedUntil = time.Unix(0, m.LockedUntil).UTC()
	}
	if m.Failures == 0 {
		return nil // the latest check of a code passed
	}
	// The trail says why; the account's newest events are on its index, so
	// this reads a bounded number of them however large the account.
	events, err := db.ListAudit(ctx, q, u.AccountID, 0, auditScan)
	if err != nil {
		return err
	}
	since := now.Add(-recentRefusal).UnixNano()
	for _, e := range events {
		if e.TargetID != u.ID || e.At < since {
			continue
		}
		if e.Action == string(ActionCodeFailed) || e.Action == string(ActionLogin) {
			if e.Action == string(ActionCodeFailed) && strings.HasPrefix(e.Source, pamPrefix) {
				st.LastRefusal = refusalOf(e.Detail)
			}
			break
		}
	}
	return nil
}

// OpenExisting opens a Service on a database and a key file that must both
// exist already: it creates neither. `pam-verify` opens the store this way,
// so that a login to the host never starts an empty database or a key that
// the service user cannot read.
func OpenExisting(ctx context.Context, dbPath, keyPath string, cfg Config) (*Service, error) {
	if !db.IsPostgres(dbPath) {
		fi, err := os.Stat(dbPath)
		if err != nil {
			return nil, fmt.Errorf("the database %s cannot be found: %w", dbPath, errors.Unwrap(err))
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("the database %s is not a regular file", dbPath)
		}
	}
	keys, err := LoadKeyring(keyPath)
	if err != nil {
		return nil, err
	}
	store, err := db.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	ids, err := db.MFAKeyIDs(ctx, store)
	if err == nil {
		err = keys.holdsAll(ids, keyPath)
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	s := New(store, keys, cfg)
	return s, nil
}
