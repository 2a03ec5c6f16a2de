package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// needOathtool skips where oathtool is missing, except in CI.
func needOathtool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("oathtool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("oathtool is needed for the copy round trip (.ci/run installs it)")
		}
		t.Skip("oathtool is not installed: skipping the copy round trip")
	}
}

// enrolled is a user with MFA seeded on the SQLite store, and how they log in.
type enrolled struct{ name, password, setupKey string }

// enrollKey sets up MFA for a user as the console does and returns the setup
// key shown. The previous step's code confirms, so that the current one is
// left for the login on the target. confirm false leaves the set-up pending.
func enrollKey(t *testing.T, e *env, name, password string, confirm bool) string {
	t.Helper()
	ctx := context.Background()
	svc := e.openCore()
	defer svc.Close()
	sess, err := svc.Login(ctx, name, password, "test")
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	en, err := svc.BeginEnrollment(ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	if confirm {
		if _, _, err := svc.ConfirmEnrollment(ctx, sess, oathtool(t, en.SetupKey, "now - 30 seconds")); err != nil {
			t.Fatalf("confirming the enrolment of %s: %v", name, err)
		}
	}
	return en.SetupKey
}

// TestPostgresCopyRoundTrip is issue 12's round trip: users seeded on SQLite
// through the commands and core, copied by `smartmfa copy`, all log in on
// the PostgreSQL store with their password and a code oathtool computes,
// with the same key file.
func TestPostgresCopyRoundTrip(t *testing.T) {
	target := dbtest.RequirePostgres(t)
	needOathtool(t)
	e := newEnv(t)
	ctx := context.Background()
	e.createAccount("acme", "alice")
	e.ok("", "account", "require-mfa", "acme", "on")
	users := []enrolled{{name: "alice", password: adminPassword}}
	for _, name := range []string{"bob", "carol"} {
		e.addUser("acme", name)
		users = append(users, enrolled{name: name, password: userPassword})
	}
	for i := range users {
		users[i].setupKey = enrollKey(t, e, users[i].name, users[i].password, true)
	}
	// dave begins a set-up on SQLite and finishes it on PostgreSQL.
	e.addUser("acme", "dave")
	daveKey := enrollKey(t, e, "dave", userPassword, false)
	// Demo users share one password hash (shared:<id>).
	e.ok("", "demo", "--users", "40")
	var demo []jsonUser
	decode(t, e.ok("", "user", "list", "Demo", "--json").stdout, &demo)
	trail := func(svc *core.Service) []core.AuditEvent {
		t.Helper()
		events, err := svc.ListAudit(ctx, e.operator(), -1, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	src := e.openCore()
	before := trail(src)
	src.Close()

	r := e.runRaw("", "copy", "--from", e.db, "--to", target)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("copy: exit %d, stderr %q", r.code, r.stderr)
	}
	keyPath := filepath.Join(e.dir, keyFileName)
	for _, want := range []string{"users                   45\n", "mfa                     4\n", "accounts                2\n",
		"recovery_codes          30\n", "the same key file: copy \"" + keyPath + "\" to it"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("copy's output lacks %q:\n%s", want, r.stdout)
		}
	}

	svc, err := core.Open(ctx, target, keyPath, core.Config{})
	if err != nil {
		t.Fatalf("opening the target with the source's key file: %v", err)
	}
	defer svc.Close()
	for _, u := range users {
		sess, err := svc.Login(ctx, u.name, u.password, "test")
		if err != nil || sess.Stage() != core.StageCode {
			t.Fatalf("%s on the target: stage %d, %v; want a code asked", u.name, sess.Stage(), err)
		}
		code := oathtool(t, u.setupKey, "")
		if sess, err = svc.VerifyLoginCode(ctx, sess, code); err != nil || sess.Stage() != core.StageSignedIn {
			t.Errorf("%s's code on the target: stage %d, %v; want signed in", u.name, sess.Stage(), err)
		}
		// The replay guard moved too: the code just used is refused.
		again, err := svc.Login(ctx, u.name, u.password, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.VerifyLoginCode(ctx, again, code); err == nil {
			t.Errorf("%s's code was accepted twice on the target", u.name)
		}
	}
	sess, err := svc.Login(ctx, "dave", userPassword, "test")
	if err != nil || sess.Stage() != core.StageSetupMFA {
		t.Fatalf("dave on the target: stage %d, %v; want MFA set-up (acme requires it)", sess.Stage(), err)
	}
	if _, _, err := svc.ConfirmEnrollment(ctx, sess, oathtool(t, daveKey, "")); err != nil {
		t.Errorf("dave finishing on the target the set-up begun on SQLite: %v", err)
	}
	for _, name := range []string{"demo-admin", demo[len(demo)-1].Username} {
		if _, err := svc.Login(ctx, name, demoPassword, "test"); err != nil {
			t.Errorf("demo user %s on the target: %v", name, err)
		}
	}
	// The trail moved whole, and the target's own events follow it.
	after := trail(svc)
	if len(after) <= len(before) {
		t.Fatalf("%d events on the target after its logins, %d copied", len(after), len(before))
	}
	for i, want := range before {
		got := after[len(after)-len(before)+i] // newest first: the copied ones come last
		if got.ID != want.ID || got.Action != want.Action || !got.At.Equal(want.At) || got.Source != want.Source {
			t.Errorf("copied event %+v became %+v", want, got)
		}
	}
	if after[0].ID <= before[0].ID || after[0].Source != "test" {
		t.Errorf("newest event on the target %+v, want one of its logins after event %d", after[0], before[0].ID)
	}
}

// checkCopyRefused checks a refused copy: one line on stderr holding want,
// the exit code, nothing on stdout, and neither the DSN's password nor SQL.
func checkCopyRefused(t *testing.T, r result, code int, want string) {
	t.Helper()
	if r.code != code || r.stdout != "" || !strings.HasPrefix(r.stderr, "smartmfa: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and one line", r.code, r.stdout, r.stderr, code)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q lacks %q", r.stderr, want)
	}
	for _, bad := range []string{"hunter2", "SELECT", "LOCK", "COPY", "SQLSTATE", "pgx", "sqlite"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr %q holds %q", r.stderr, bad)
		}
	}
}

func TestCopyRefusals(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	missing := filepath.Join(e.dir, "missing", "smartmfa.db")
	nowhere := filepath.Join(e.dir, "nowhere.db")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"from missing", []string{"--from", nowhere, "--to", "postgres://u:hunter2@127.0.0.1:1/db"}, exitFailure,
			`the SQLite store "` + nowhere + `" does not exist`},
		{"from in a missing directory", []string{"--from", missing, "--to", "postgres:"}, exitFailure, "does not exist"},
		{"from a directory", []string{"--from", e.dir, "--to", "postgres:"}, exitFailure, "is a directory, not a SQLite store"},
		{"from postgres", []string{"--from", "postgres://u:hunter2@db.example/x", "--to", "postgres:"}, exitFailure,
			"--from must be the SQLite file of the store to copy, not a PostgreSQL address"},
		{"to a file", []string{"--from", e.db, "--to", filepath.Join(e.dir, "other.db")}, exitFailure,
			"--to must be the PostgreSQL store to copy into"},
		{"to nowhere", []string{"--from", e.db, "--to", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2"}, exitFailure,
			"postgres://u@127.0.0.1:1/db: the store cannot be reached; try again"},
		{"to a URL that is none", []string{"--from", e.db, "--to", "postgres://u:hunter2@[::1/db"}, exitFailure,
			"the PostgreSQL address is not a valid connection URL"},
		{"no --to", []string{"--from", e.db}, exitUsage, `required flag(s) "to" not set`},
		{"an argument", []string{"--from", e.db, "--to", "postgres:", "extra"}, exitUsage, "copy takes no arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkCopyRefused(t, e.runRaw("", append([]string{"copy"}, c.args...)...), c.code, c.want)
		})
	}
	// Nothing was created where the refused sources were named.
	for _, p := range []string{nowhere, nowhere + "-wal", filepath.Dir(missing), filepath.Join(e.dir, "other.db")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused copy created %s", p)
		}
	}
}

// TestPostgresCopyRefusesNonEmptyTarget copies twice into one store: the
// second is refused with one sentence and leaves the first copy as it was.
func TestPostgresCopyRefusesNonEmptyTarget(t *testing.T) {
	target := dbtest.RequirePostgres(t)
	e := newEnv(t)
	e.createAccount("acme", "alice")
	store, err := db.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	err = store.WriteTx(context.Background(), func(q db.Querier) error {
		_, err := q.ExecContext(context.Background(), `INSERT INTO name_buckets (bucket, failures, locked_until, failed_at) VALUES (9, 1, 0, 1)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r := e.runRaw("", "copy", "--from", e.db, "--to", target)
	checkCopyRefused(t, r, exitFailure, ": the target store is not empty (its table name_buckets has rows); "+
		"copy writes only into an empty store, and changed nothing")
	var accounts int
	if err := store.QueryRowContext(context.Background(), `SELECT count(*) FROM accounts`).Scan(&accounts); err != nil || accounts != 0 {
		t.Errorf("a refused copy left %d accounts (%v)", accounts, err)
	}
}
