package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/db"
)

// pam-verify is sshd's second factor: pam_exec runs it after the user's key,
// with the code typed at pam_exec's prompt on standard input. It reads its
// environment and input, asks core, and turns the answer into an exit status
// and one log line; every rule is core's (VerifyExternalCode).

// pam-verify's exit statuses. pam_exec turns every one but 0 into
// PAM_SYSTEM_ERR ("System error" in sshd's log, and the login is refused);
// they differ so that the number pam_exec logs says whose fault it was.
const (
	pamAccepted    = 0 // the code is right, or the user needs none
	pamRefused     = 1 // a wrong, reused or malformed code, a lock, a user refused by the policy
	pamMisused     = 2 // a wrong command line, or not run by pam_exec in the auth stack
	pamUnavailable = 3 // nothing could be checked: store, key, map file or time ran out (fail closed)
)

// defaultPAMDatabase is the database without --db or SMARTMFA_DB: pam_exec
// passes no HOME, and this is where the README's service keeps it.
const defaultPAMDatabase = "/var/lib/smartmfa/smartmfa.db"

// maxCodeInput is the most standard input pam-verify reads: a recovery code
// with its dash is 11 bytes; anything longer than this is not a code.
const maxCodeInput = 64

// exitStatus ends a command with a status it has already reported.
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// pamOptions are the flags of pam-verify and pam-enrol, and how they run.
type pamOptions struct {
	command      string // "pam-verify" or "pam-enrol", for the log line
	mapFile      string
	allowUnknown bool
	timeout      time.Duration
	notice       bool
	setupHint    string
	qr           string // pam-enrol: "dark" or "light", the terminals' background
	syslogSocket string // "" is the system's; tests listen on their own
	quiet        bool   // log to syslog only
	// optional steps (the notice, pam-enrol) never refuse a login: they
	// exit 0 whatever happens, and log their failures to syslog only.
	optional bool
}

// pamRequest is what pam_exec tells about the login.
type pamRequest struct {
	unixUser string // PAM_USER
	user     string // the smartmfa user it maps to
	rhost    string // PAM_RHOST
	service  string // PAM_SERVICE
}

func (r pamRequest) String() string {
	who := quote(r.unixUser)
	if r.user != "" && r.user != r.unixUser {
		who += " (smartmfa user " + quote(r.user) + ")"
	}
	return who + " from " + core.CleanText(r.rhost, 64) + " (" + core.CleanText(r.service, 32) + ")"
}

// pamOutcome is a verdict and the sentence the log gets for it.
type pamOutcome struct {
	status int
	msg    string
}

func (a *app) pamVerifyCommand() *cobra.Command {
	o := pamOptions{}
	cmd := &cobra.Command{
		Use:   "pam-verify",
		Short: "Check an SSH login's code, run by sshd through pam_exec",
		Long: `pam-verify is the second factor of SSH logins to this host: sshd runs it
through pam_exec after the user's key, with the code the user typed at the
prompt on standard input. The user is PAM_USER (or its line in --map); the
code is checked with the console's rules (each code once, the same lockouts,
recovery codes, the audit trail, with the source pam:<PAM_RHOST>). A user
without MFA passes only where their account does not require MFA.

/etc/pam.d/sshd, in place of "@include common-auth":

  auth optional  pam_exec.so stdout quiet /usr/bin/smartmfa pam-enrol
  auth optional  pam_echo.so smartmfa: enter the 6-digit code from your authenticator app
  auth optional  pam_exec.so stdout quiet /usr/bin/smartmfa pam-verify --notice
  auth required  pam_exec.so stdout quiet expose_authtok /usr/bin/smartmfa pam-verify
  auth optional  pam_permit.so

--notice prints what the user should know before the prompt (why their
last code was refused, a lock, where to set up MFA) and always exits 0.
Where pam-enrol showed a user the MFA set-up, the code they type is its
first code: it sets MFA up, and pam-verify says so on standard output
(shown with the motd where the line has stdout; its log line then goes to
syslog only).

It runs as the owner of the database: started as root, it becomes that user
before it opens anything, so every file it creates is theirs. It creates
neither the database nor the key file. It writes one line to syslog (authpriv)
and standard error, never a code.

Exit status: 0 accepted, 1 refused, 2 wrong command line or environment,
3 nothing could be checked (the store, the key, the map file, the time).`,
		Example: `  # sshd runs it; in /etc/pam.d/sshd, after the pam-enrol and pam_echo lines
  # (smartmfa sshd-check says what is missing):
  # auth optional  pam_exec.so stdout quiet /usr/bin/smartmfa pam-verify --notice
  # auth required  pam_exec.so stdout quiet expose_authtok /usr/bin/smartmfa pam-verify`,
		Args:          exactArgs(),
		SilenceErrors: true,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			o.optional = o.notice
			if o.notice {
				return a.pamRun(cmd.Context(), o, a.pamNotice)
			}
			return a.pamRun(cmd.Context(), o, a.pamCheck)
		}),
	}
	addPAMFlags(cmd, &o)
	f := cmd.Flags()
	f.BoolVar(&o.allowUnknown, "allow-unknown", false, "let users who are not smartmfa users pass (hosts with local accounts smartmfa does not manage)")
	f.BoolVar(&o.notice, "notice", false, "print what the user should know before the code prompt, and exit 0 (for a pam_exec stdout line)")
	f.StringVar(&o.setupHint, "setup-hint", "", "the `command` users run to set up MFA, for --notice (default \"ssh -p 2222 <this host>\")")
	return cmd
}

// addPAMFlags adds the flags pam-verify and pam-enrol share.
func addPAMFlags(cmd *cobra.Command, o *pamOptions) {
	f := cmd.Flags()
	f.StringVar(&o.mapFile, "map", "", "`file` of \"unix-name smartmfa-name\" lines for users whose names differ (owned by root, writable by root only)")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "refuse when no answer comes within this `duration` (keep it well under sshd's LoginGraceTime)")
	f.StringVar(&o.syslogSocket, "syslog-socket", "", "")
	_ = f.MarkHidden("syslog-socket")
}

// pamStep is the work of one PAM command for one login.
type pamStep func(ctx context.Context, req pamRequest, o pamOptions) pamOutcome

// pamRun runs a PAM command's step for the login pam_exec describes, under
// the timeout, and reports it: one log line, and an exit status that
// refuses the login unless the step passed or is optional.
func (a *app) pamRun(ctx context.Context, o pamOptions, step pamStep) error {
	if o.command == "" {
		o.command = "pam-verify"
	}
	if o.timeout <= 0 || o.timeout > 2*time.Minute {
		return usageError{fmt.Sprintf("--timeout must be between 1s and 2m, not %v", o.timeout)}
	}
	// pam_exec's stdout option sends standard error to the user too: the
	// log line then goes to syslog only.
	o.quiet = o.quiet || o.optional || sameStream(a.stdout, a.stderr)
	req, err := pamEnvironment(a.getenv, o.command)
	if err != nil {
		// Even for an optional step: the status in sshd's log is how the
		// operator learns that a line is in the wrong place.
		a.pamLog(o, pamOutcome{pamMisused, err.Error()})
		return exitStatus{pamMisused}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	done := make(chan pamOutcome, 1)
	go func() { done <- step(ctx, req, o) }()
	var out pamOutcome
	select {
	case out = <-done:
	case <-ctx.Done():
		// Whatever is stuck (a lock held too long, a hung filesystem) is
		// left behind: the process exits with the refusal.
		out = pamOutcome{pamUnavailable, fmt.Sprintf("failed closed for %v: no answer within %v", req, o.timeout)}
	}
	if out.msg != "" {
		a.pamLog(o, out)
	}
	if out.status != pamAccepted && !o.optional {
		return exitStatus{out.status}
	}
	return nil // an optional step never refuses a login
}

// sameStream tells standard output and standard error that are one pipe:
// what pam_exec's stdout option makes of them, both shown to the user.
func sameStream(stdout, stderr io.Writer) bool {
	o, ok1 := stdout.(*os.File)
	e, ok2 := stderr.(*os.File)
	if !ok1 || !ok2 {
		return false
	}
	fo, err1 := o.Stat()
	fe, err2 := e.Stat()
	return err1 == nil && err2 == nil && fo.Mode()&os.ModeNamedPipe != 0 && os.SameFile(fo, fe)
}

// pamEnvironment reads what pam_exec passes to command.
func pamEnvironment(getenv func(string) string, command string) (pamRequest, error) {
	if t := getenv("PAM_TYPE"); t != "auth" {
		return pamRequest{}, fmt.Errorf("refused: %s runs from pam_exec in an auth line (PAM_TYPE is %q)", command, core.CleanText(t, 32))
	}
	r := pamRequest{unixUser: getenv("PAM_USER"), rhost: getenv("PAM_RHOST"), service: getenv("PAM_SERVICE")}
	if r.unixUser == "" {
		return r, errors.New("refused: PAM_USER is not set")
	}
	return r, nil
}

// pamCheck maps the user, opens the store as its owner, reads the code and
// asks core.
func (a *app) pamCheck(ctx context.Context, req pamRequest, o pamOptions) pamOutcome {
	svc, out, ok := a.pamOpen(ctx, &req, o)
	if !ok {
		return out
	}
	defer svc.Close()
	// The code is read only now, after the store is open: stdin is pam_exec's
	// pipe, already written and closed.
	code, err := readCode(a.stdin)
	if err != nil {
		return pamOutcome{pamRefused, fmt.Sprintf("refused %v: %v", req, err)}
	}
	verdict, err := svc.VerifyExternalCode(ctx, core.ExternalCheck{Username: req.user, Code: code,
		Source: core.PAMSource(req.rhost, req.service), AllowUnknown: o.allowUnknown})
	if err == nil {
		if verdict == core.PassedEnrolled {
			// Shown where pam_exec has stdout: at the start of an
			// interactive login, with the motd.
			fmt.Fprintln(a.stdout, "smartmfa: Multi-factor authentication has been set up.")
		}
		return pamOutcome{pamAccepted, fmt.Sprintf("accepted %v: %v", req, verdict)}
	}
	if ctx.Err() != nil || errors.Is(err, core.ErrUnavailable) || errors.Is(err, core.ErrWrongKey) || !isRefusal(err) {
		return pamOutcome{pamUnavailable, fmt.Sprintf("failed closed for %v: %s", req, describe(err))}
	}
	msg := describe(err)
	if errors.Is(err, core.ErrUnknownUser) || errors.Is(err, core.ErrUserDisabled) {
		msg = oneLine(err.Error()) // describe keeps only "not found" and "not allowed"
	}
	return pamOutcome{pamRefused, fmt.Sprintf("refused %v: %s", req, msg)}
}

// isRefusal tells core's answers about the user from failures of the store.
func isRefusal(err error) bool {
	for _, e := range []error{core.ErrInvalidCode, core.ErrInvalidInput, core.ErrLocked, core.ErrMFADisabled,
		core.ErrMFARequired, core.ErrUnknownUser, core.ErrUserDisabled} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// pamOpen maps the user and opens the store as the owner of the database.
// ok false carries the outcome to report.
func (a *app) pamOpen(ctx context.Context, req *pamRequest, o pamOptions) (*core.Service, pamOutcome, bool) {
	user, err := mapUser(o.mapFile, req.unixUser)
	if err != nil {
		return nil, pamOutcome{pamUnavailable, fmt.Sprintf("failed closed for %v: %v", req, err)}, false
	}
	req.user = user
	dbPath, keyPath := a.pamPaths()
	// Before anything is opened: root becomes the database's owner, so that
	// no -wal, -shm or other file it makes can lock that owner out. With
	// PostgreSQL there is no file: it becomes the key file's owner.
	what, owned := "database", dbPath
	if db.IsPostgres(dbPath) {
		what, owned = "key file", keyPath
	}
	if err := becomeOwnerOf(what, owned); err != nil {
		return nil, pamOutcome{pamUnavailable, fmt.Sprintf("failed closed for %v: %v", req, err)}, false
	}
	svc, err := core.OpenExisting(ctx, dbPath, keyPath, core.Config{Issuer: a.issuer})
	if err != nil {
		return nil, pamOutcome{pamUnavailable, fmt.Sprintf("failed closed for %v: %s", req, describe(err))}, false
	}
	return svc, pamOutcome{}, true
}

// pamPaths are the database and key file: --db, SMARTMFA_DB or the
// service's default, and --key-file or the key beside the database.
func (a *app) pamPaths() (dbPath, keyPath string) {
	dbPath = a.location()
	if dbPath == "" {
		dbPath = defaultPAMDatabase
	}
	keyPath = a.keyPath
	if keyPath == "" && db.IsPostgres(dbPath) {
		keyPath = filepath.Join(filepath.Dir(defaultPAMDatabase), keyFileName)
	} else if keyPath == "" {
		keyPath = filepath.Join(filepath.Dir(dbPath), keyFileName)
	}
	return dbPath, keyPath
}
