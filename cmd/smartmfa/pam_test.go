package main

import (
	"context"
	"database/sql"
	"encoding/base32"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// pamUser is a user enrolled for the pam-verify tests.
type pamUser struct {
	name     string
	key      []byte   // the TOTP secret
	setupKey string   // as the console shows it, for oathtool
	recovery []string // the recovery codes
}

// code is the user's TOTP code at now plus steps.
func (u pamUser) code(steps int) string {
	return totpCode(u.key, time.Now().Add(time.Duration(steps)*30*time.Second))
}

// enrollPAM adds a user to an account and enrols them as the console would,
// returning their secret and recovery codes.
func (e *env) enrollPAM(account, name string) pamUser {
	e.t.Helper()
	e.addUser(account, name)
	ctx := context.Background()
	svc := e.openCore()
	defer svc.Close()
	sess, err := svc.Login(ctx, name, userPassword, "test")
	if err != nil {
		e.t.Fatalf("login %s: %v", name, err)
	}
	en, err := svc.BeginEnrollment(ctx, sess)
	if err != nil {
		e.t.Fatal(err)
	}
	u := pamUser{name: name, setupKey: en.SetupKey}
	u.key, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(en.SetupKey, " ", ""))
	if err != nil {
		e.t.Fatal(err)
	}
	// The code of the previous step confirms, so that this step and the
	// next are left for the test.
	if u.recovery, _, err = svc.ConfirmEnrollment(ctx, sess, u.code(-1)); err != nil {
		e.t.Fatalf("confirming enrolment: %v", err)
	}
	return u
}

// pamEnv is the environment pam_exec gives an auth line for user.
func (e *env) pamEnv(user string) func() {
	e.vars["PAM_TYPE"], e.vars["PAM_USER"], e.vars["PAM_RHOST"], e.vars["PAM_SERVICE"] = "auth", user, "203.0.113.5", "sshd"
	return func() {
		for _, k := range []string{"PAM_TYPE", "PAM_USER", "PAM_RHOST", "PAM_SERVICE"} {
			delete(e.vars, k)
		}
	}
}

// pam runs pam-verify for user with stdin and checks its status and that
// its one log line holds want.
func (e *env) pam(user, stdin string, status int, want string, args ...string) result {
	e.t.Helper()
	e.pamEnv(user)
	r := e.run(stdin, append([]string{"pam-verify"}, args...)...)
	if r.code != status || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
		e.t.Fatalf("pam-verify for %s with %q: exit %d, stderr %q, stdout %q; want exit %d and one line with %q",
			user, stdin, r.code, r.stderr, r.stdout, status, want)
	}
	if code := strings.TrimSpace(stdin); len(code) >= 6 && strings.Contains(r.stderr, code) {
		e.t.Fatalf("the log line holds the code: %q", r.stderr)
	}
	return r
}

func TestPAMVerifyCodes(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	bob := e.enrollPAM("acme", "bob")
	carol := e.enrollPAM("acme", "carol")

	e.pam("bob", bob.code(0), pamAccepted, `accepted "bob" from 203.0.113.5 (sshd): authenticator code`)
	e.pam("bob", bob.code(0), pamRefused, "wait for the next one")
	e.pam("bob", "000000", pamRefused, "invalid code")
	// As the app shows it, with the newline a hand-run echo adds.
	e.pam("bob", bob.code(1)[:3]+" "+bob.code(1)[3:]+"\n", pamAccepted, "authenticator code")
	e.pam("bob", bob.recovery[0], pamAccepted, "recovery code")
	e.pam("bob", bob.recovery[0], pamRefused, "invalid code")

	// Input that is no code is refused, counted by nobody.
	for _, in := range []string{"", "12345", "correct horse", "123456\n\n", "\x00123456"} {
		e.pam("carol", in, pamRefused, "the code enter the 6 digits")
	}
	e.pam("carol", strings.Repeat(" ", maxCodeInput-6)+carol.code(0), pamAccepted, "authenticator code")
	e.pam("carol", strings.Repeat(" ", maxCodeInput-5)+carol.code(1), pamRefused, "longer than 64 bytes")
	e.pam("carol", carol.code(1)+strings.Repeat("x", 10000), pamRefused, "longer than 64 bytes")

	// The audit trail names the place and the service.
	var events []jsonAuditEvent
	decode(t, e.ok("", "audit", "acme", "--json").stdout, &events)
	found := map[string]bool{}
	for _, ev := range events {
		if ev.Source == "pam:203.0.113.5 (sshd)" {
			found[ev.Action] = true
		}
	}
	for _, a := range []string{"login.succeeded", "mfa.code_failed", "mfa.recovery_code_used"} {
		if !found[a] {
			t.Errorf("no %s event from pam:203.0.113.5 (sshd) in %+v", a, events)
		}
	}
}

func TestPAMVerifyLocksWithTheConsole(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	bob := e.enrollPAM("acme", "bob")
	for range 5 {
		e.pam("bob", "000000", pamRefused, "invalid code")
	}
	e.pam("bob", bob.code(0), pamRefused, "too many failed attempts")

	svc := e.openCore()
	defer svc.Close()
	ctx := context.Background()
	sess, err := svc.Login(ctx, "bob", userPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.VerifyLoginCode(ctx, sess, bob.code(0)); !errors.Is(err, core.ErrLocked) {
		t.Fatalf("the console after five wrong codes at SSH login: %v, want a lock", err)
	}

	// The notice before the next prompt says why and how long.
	e.pamEnv("bob")
	r := e.run("", "pam-verify", "--notice")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "smartmfa: your last code was wrong (5 wrong in a row)") ||
		!strings.Contains(r.stdout, "too many wrong codes: wait") {
		t.Fatalf("notice: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestPAMVerifyPolicy(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob") // no MFA
	e.createAccount("globex", "gina")
	e.addUser("globex", "hank")

	e.pam("bob", "", pamAccepted, "no MFA, not required by the account")
	e.pam("nobody", "123456", pamRefused, "no smartmfa user of that name")
	e.pam("nobody", "", pamAccepted, "not a smartmfa user, allowed", "--allow-unknown")

	e.ok("", "account", "require-mfa", "acme", "on")
	e.pam("bob", "123456", pamRefused, "your account requires multi-factor authentication")
	e.pamEnv("bob")
	r := e.run("", "pam-verify", "--notice", "--setup-hint", "ssh -p 2222 jump.example")
	if r.code != 0 || !strings.Contains(r.stdout, "set it up with ssh -p 2222 jump.example, then log in here again") {
		t.Fatalf("notice for bob: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	e.pamEnv("hank")
	if r := e.run("", "pam-verify", "--notice"); r.code != 0 || !strings.Contains(r.stdout, "you have no MFA yet: press Enter") {
		t.Fatalf("notice for hank: exit %d, stdout %q", r.code, r.stdout)
	}
	e.pamEnv("nobody")
	if r := e.run("", "pam-verify", "--notice"); r.code != 0 || r.stdout != "" {
		t.Fatalf("notice for an unknown user: exit %d, stdout %q", r.code, r.stdout)
	}

	e.ok("", "user", "disable", "hank", "--yes")
	e.pam("hank", "", pamRefused, "the user is disabled", "--allow-unknown")
}

func TestPAMVerifyEnvironment(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	for _, c := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"not from PAM", map[string]string{}, `PAM_TYPE is ""`},
		{"account stack", map[string]string{"PAM_TYPE": "account", "PAM_USER": "alice"}, `PAM_TYPE is "account"`},
		{"session stack", map[string]string{"PAM_TYPE": "open_session", "PAM_USER": "alice"}, `PAM_TYPE is "open_session"`},
		{"no user", map[string]string{"PAM_TYPE": "auth"}, "PAM_USER is not set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.vars = map[string]string{"HOME": e.dir}
			for k, v := range c.vars {
				e.vars[k] = v
			}
			r := e.run("123456", "pam-verify")
			if r.code != pamMisused || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, pamMisused, c.want)
			}
		})
	}
	e.vars = map[string]string{"HOME": e.dir}
	e.pamEnv("alice")
	for _, bad := range []string{"0s", "-1s", "3m"} {
		if r := e.run("", "pam-verify", "--timeout", bad); r.code != exitUsage || !strings.Contains(r.stderr, "--timeout") {
			t.Errorf("--timeout %s: exit %d, %q", bad, r.code, r.stderr)
		}
	}
	if r := e.run("", "pam-verify", "extra"); r.code != exitUsage {
		t.Errorf("an argument: exit %d, %q", r.code, r.stderr)
	}

	// Without --db, SMARTMFA_DB, else the service's database: never HOME's.
	delete(e.vars, "HOME")
	e.vars["SMARTMFA_DB"] = e.db
	e.pamEnv("alice")
	if r := e.runRaw("", "pam-verify"); r.code != pamAccepted {
		t.Errorf("SMARTMFA_DB: exit %d, %q", r.code, r.stderr)
	}
	delete(e.vars, "SMARTMFA_DB")
	if _, err := os.Stat(defaultPAMDatabase); err == nil {
		t.Skipf("%s exists here", defaultPAMDatabase)
	}
	if r := e.runRaw("", "pam-verify"); r.code != pamUnavailable || !strings.Contains(r.stderr, defaultPAMDatabase+" cannot be found") {
		t.Errorf("default database: exit %d, %q", r.code, r.stderr)
	}
}

// TestPAMVerifyFailsClosed: whatever keeps the code from being checked and
// recorded refuses the login, and creates nothing.
func TestPAMVerifyFailsClosed(t *testing.T) {
	t.Run("no database", func(t *testing.T) {
		e := newEnv(t)
		e.pam("alice", "123456", pamUnavailable, "smartmfa.db cannot be found")
		if ents, _ := os.ReadDir(e.dir); len(ents) != 0 {
			t.Errorf("pam-verify created %v", ents)
		}
	})
	t.Run("no key", func(t *testing.T) {
		e := newEnv(t)
		e.createAccount("acme", "alice")
		os.Remove(filepath.Join(e.dir, keyFileName))
		e.pam("alice", "", pamUnavailable, "the key file is missing")
		if _, err := os.Stat(filepath.Join(e.dir, keyFileName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pam-verify created a key file: %v", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		e := newEnv(t)
		e.createAccount("acme", "alice")
		bob := e.enrollPAM("acme", "bob")
		other := filepath.Join(t.TempDir(), "other.key")
		if _, err := core.CreateKeyring(other, strings.NewReader(strings.Repeat("k", 32))); err != nil {
			t.Fatal(err)
		}
		e.pam("bob", bob.code(0), pamUnavailable, "does not hold key", "--key-file", other)
	})
	t.Run("not a database", func(t *testing.T) {
		e := newEnv(t)
		e.createAccount("acme", "alice")
		os.WriteFile(e.db, []byte(strings.Repeat("not sqlite ", 1000)), 0o600)
		e.pam("alice", "", pamUnavailable, "is not a smartmfa database")
	})
	t.Run("locked database", func(t *testing.T) {
		e := newEnv(t)
		e.createAccount("acme", "alice")
		bob := e.enrollPAM("acme", "bob")
		// Another process holds the write lock for longer than pam-verify waits.
		holder, err := sql.Open("sqlite", "file:"+e.db+"?_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		tx, err := holder.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		start := time.Now()
		e.pam("bob", bob.code(0), pamUnavailable, "no answer within 1s", "--timeout", "1s")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("refusing took %v", d)
		}
		tx.Rollback()
		// Nothing was spent: the code still works once the lock is gone.
		e.pam("bob", bob.code(0), pamAccepted, "authenticator code")
	})
	t.Run("stdin that never ends", func(t *testing.T) {
		e := newEnv(t)
		e.createAccount("acme", "alice")
		e.pamEnv("alice")
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		defer r.Close()
		var stdout, stderr strings.Builder
		start := time.Now()
		code := run([]string{"--db", e.db, "pam-verify", "--timeout", "1s"}, r, &stdout, &stderr, func(k string) string { return e.vars[k] })
		if code != pamUnavailable || !strings.Contains(stderr.String(), "no answer within 1s") || time.Since(start) > 3*time.Second {
			t.Fatalf("exit %d after %v, %q", code, time.Since(start), stderr.String())
		}
	})
}

func TestPAMVerifyMapFile(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	bob := e.enrollPAM("acme", "bob")
	mapFile := filepath.Join(t.TempDir(), "users.map")
	write := func(text string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(mapFile, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(mapFile, mode); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() != 0 {
		// The map must be root's; a test that is not root cannot make one.
		write("bsmith bob\n", 0o644)
		e.pam("bsmith", "", pamUnavailable, "must belong to root", "--map", mapFile)
		t.Skip("the rest needs root to own the map file")
	}
	write("# unix smartmfa\n\nbsmith   bob\nroot alice\n", 0o644)
	e.pam("bsmith", bob.code(0), pamAccepted, `"bsmith" (smartmfa user "bob") from 203.0.113.5 (sshd): authenticator code`, "--map", mapFile)
	// A name the map does not hold is itself.
	e.pam("alice", "", pamAccepted, "no MFA", "--map", mapFile)
	// The map says who answers for whom: bob's name is not bsmith's.
	e.pam("nobody", "", pamRefused, "no smartmfa user", "--map", mapFile)

	for _, c := range []struct {
		name, text string
		mode       os.FileMode
		uid        int
		want       string
	}{
		{"not root's", "bsmith bob\n", 0o644, 65534, "must belong to root"},
		{"group-writable", "bsmith bob\n", 0o664, 0, "can be written by others (mode 0664)"},
		{"world-writable", "bsmith bob\n", 0o646, 0, "can be written by others"},
		{"one field", "bsmith\n", 0o644, 0, "line 1: want"},
		{"three fields", "# x\nbsmith bob extra\n", 0o644, 0, "line 2: want"},
		{"twice", "bsmith bob\nbsmith carol\n", 0o644, 0, `line 2: "bsmith" is mapped twice`},
	} {
		t.Run(c.name, func(t *testing.T) {
			write(c.text, c.mode)
			if err := os.Chown(mapFile, c.uid, 0); err != nil {
				t.Fatal(err)
			}
			e.pam("bsmith", bob.code(1), pamUnavailable, c.want, "--map", mapFile)
		})
	}
	os.Remove(mapFile)
	e.pam("bsmith", "", pamUnavailable, "cannot be read", "--map", mapFile)
	dir := t.TempDir()
	e.pam("bsmith", "", pamUnavailable, "is not a regular file", "--map", dir)
}

// TestPAMVerifyLogsToSyslog: one line at authpriv, with the level of the
// outcome, and never the code.
func TestPAMVerifyLogsToSyslog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	read := func() string {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no syslog line: %v", err)
		}
		return string(buf[:n])
	}
	e := newEnv(t)
	e.createAccount("acme", "alice")
	bob := e.enrollPAM("acme", "bob")
	code := bob.code(0)
	// authpriv is facility 10: 10*8 + info (6), notice (5), err (3).
	for _, c := range []struct {
		stdin  string
		status int
		prio   string
		want   string
	}{
		{code, pamAccepted, "<86>", "accepted"},
		{code, pamRefused, "<85>", "refused"},
	} {
		e.pam("bob", c.stdin, c.status, c.want, "--syslog-socket", sock)
		line := read()
		if !strings.HasPrefix(line, c.prio) || !strings.Contains(line, "smartmfa") || !strings.Contains(line, c.want) || strings.Contains(line, code) {
			t.Errorf("syslog line %q; want %s and %q, without the code", line, c.prio, c.want)
		}
	}
	e.pam("bob", code, pamUnavailable, "failed closed", "--syslog-socket", sock, "--key-file", filepath.Join(e.dir, "none"))
	if line := read(); !strings.HasPrefix(line, "<83>") {
		t.Errorf("syslog line %q; want <83>", line)
	}
}

func TestReadCode(t *testing.T) {
	for _, c := range []struct {
		in, want string
		err      bool
	}{
		{"123456", "123456", false},
		{"123456\n", "123456", false},
		{"123456\r\n", "123456", false},
		{"", "", false},
		{strings.Repeat("1", maxCodeInput), strings.Repeat("1", maxCodeInput), false},
		{strings.Repeat("1", maxCodeInput+1), "", true},
	} {
		got, err := readCode(strings.NewReader(c.in))
		if got != c.want || (err != nil) != c.err {
			t.Errorf("readCode(%q) = %q, %v", c.in, got, err)
		}
	}
}

func TestNoticeLines(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		st   core.ExternalStatus
		want []string
	}{
		{"unknown", core.ExternalStatus{}, nil},
		{"all well", core.ExternalStatus{Known: true, HasMFA: true}, nil},
		{"reused", core.ExternalStatus{Known: true, HasMFA: true, Failures: 1, LastRefusal: core.ErrCodeReused},
			[]string{"your last code had already been used: wait for the next code your app shows."}},
		{"locked", core.ExternalStatus{Known: true, HasMFA: true, Failures: 6, LastRefusal: core.ErrInvalidCode, LockedUntil: now.Add(61 * time.Second)},
			[]string{"your last code was wrong (6 wrong in a row); check the account in your app.",
				"too many wrong codes: wait 1m1s; a code typed before then is refused."}},
		{"clock ahead", core.ExternalStatus{Known: true, HasMFA: true, Failures: 1, LastRefusal: &core.ClockDriftError{Drift: 2 * time.Minute}},
			[]string{"your last code was wrong (1 wrong in a row).", "your phone's clock is about 2 minutes ahead: set it to automatic time."}},
		{"clock behind", core.ExternalStatus{Known: true, HasMFA: true, Failures: 2, LastRefusal: &core.ClockDriftError{Drift: -time.Minute}},
			[]string{"your last code was wrong (2 wrong in a row).", "your phone's clock is about 1 minute behind: set it to automatic time."}},
		{"disabled", core.ExternalStatus{Known: true, HasMFA: true, MFADisabled: true},
			[]string{"codes are disabled after too many wrong ones: ask an administrator to remove your MFA."}},
		{"required", core.ExternalStatus{Known: true, RequireMFA: true},
			[]string{"your account requires multi-factor authentication and you have not set it up:",
				"set it up with ssh -p 2222 jump, then log in here again."}},
		{"required from a deadline", core.ExternalStatus{Known: true, RequireMFA: true, RequiredFrom: now.AddDate(0, 0, 3), DaysLeft: 3},
			[]string{"your account requires multi-factor authentication from 2030-01-04 (3 days left):",
				"press Enter at the prompt for now, and set it up with ssh -p 2222 jump."}},
		{"one day left", core.ExternalStatus{Known: true, RequireMFA: true, RequiredFrom: now.Add(time.Hour), DaysLeft: 1},
			[]string{"your account requires multi-factor authentication from 2030-01-01 (1 day left):",
				"press Enter at the prompt for now, and set it up with ssh -p 2222 jump."}},
	} {
		got := noticeLines(c.st, "ssh -p 2222 jump", now)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestPAMNoticeFailsQuietly: the notice line is optional and pam_exec shows
// its standard error to the user: a failure exits 0 and prints nothing.
func TestPAMNoticeFailsQuietly(t *testing.T) {
	e := newEnv(t)
	e.pamEnv("alice")
	r := e.run("", "pam-verify", "--notice")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("notice without a database: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if ents, _ := os.ReadDir(e.dir); len(ents) != 0 {
		t.Errorf("the notice created %v", ents)
	}
}
