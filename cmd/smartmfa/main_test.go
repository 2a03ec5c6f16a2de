package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// Passwords the tests set; none is on core's common-password list.
const (
	adminPassword = "correct-horse-battery-1"
	userPassword  = "staple-orbit-lantern-2"
	// tempPassword is what `user add` sets in tests: temporary, replaced
	// by the user at the first login.
	tempPassword = "given-by-the-admin-3"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	dbtest.DropDatabase() // the Postgres tests' database, if they made one
	os.Exit(code)
}

// smartmfaBinary builds smartmfa once per test run, only for the tests that need a
// real process (concurrency, a real terminal).
func smartmfaBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "smartmfa-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "smartmfa")
		// Stamped as the release stamps it, so that --version and the man
		// page can be checked on a real build.
		cmd := exec.Command("go", "build", "-o", binPath, "-ldflags", "-X main.version="+testVersion+
			" -X main.commit="+testCommit+" -X main.date="+testDate, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// result is what one invocation printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// env is a private database in a temporary directory with a fixed environment.
type env struct {
	t    testing.TB
	dir  string
	db   string
	vars map[string]string
}

func newEnv(t testing.TB) *env {
	dir := t.TempDir()
	return &env{t: t, dir: dir, db: filepath.Join(dir, "smartmfa.db"),
		vars: map[string]string{"HOME": dir, "USER": "tester"}}
}

// runRaw runs the command line in-process with exactly args.
func (e *env) runRaw(stdin string, args ...string) result {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return e.vars[k] }
	code := run(args, strings.NewReader(stdin), &stdout, &stderr, getenv)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// run runs a command on the env's database.
func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	return e.runRaw(stdin, append([]string{"--db", e.db}, args...)...)
}

// ok runs a command that must succeed and print nothing on stderr.
func (e *env) ok(stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 || r.stderr != "" {
		e.t.Fatalf("%q: exit %d, stderr %q, stdout %q", args, r.code, r.stderr, r.stdout)
	}
	return r
}

// fail runs a command that must exit with code and print one line on stderr
// holding want, and nothing on stdout.
func (e *env) fail(code int, want, stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	checkFailure(e.t, r, code, want, args)
	return r
}

func checkFailure(t testing.TB, r result, code int, want string, args []string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%q: exit %d, want %d; stderr %q", args, r.code, code, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "smartmfa: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("%q: stderr is not one line starting with \"smartmfa: \": %q", args, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("%q: stderr %q does not contain %q", args, r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("%q: stdout %q, want nothing", args, r.stdout)
	}
	for _, secret := range []string{adminPassword, userPassword, "SQL", "sqlite", "goroutine"} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("%q: stderr %q contains %q", args, r.stderr, secret)
		}
	}
}

// decode parses --json output into v, failing on anything else in it.
func decode(t testing.TB, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
}

// createAccount makes account name with administrator admin.
func (e *env) createAccount(name, admin string) {
	e.t.Helper()
	e.ok(adminPassword+"\n", "account", "create", name, "--admin", admin, "--password-stdin")
}

// addUser adds a plain user to an account with a temporary password, and
// has the user replace it with userPassword as their first login asks.
func (e *env) addUser(account, username string, extra ...string) {
	e.t.Helper()
	e.ok(tempPassword+"\n", append([]string{"user", "add", account, username, "--password-stdin"}, extra...)...)
	ctx := context.Background()
	svc := e.openCore()
	defer svc.Close()
	sess, err := svc.Login(ctx, username, tempPassword, "test")
	if err != nil || sess.Stage() != core.StageNewPassword {
		e.t.Fatalf("first login of %s: stage %d, %v; want StageNewPassword", username, sess.Stage(), err)
	}
	if _, err := svc.ChooseNewPassword(ctx, sess, userPassword); err != nil {
		e.t.Fatalf("%s choosing a password: %v", username, err)
	}
}

// accountNames lists the accounts through the command line.
func (e *env) accountNames() []string {
	e.t.Helper()
	var accounts []jsonAccount
	decode(e.t, e.ok("", "account", "list", "--json").stdout, &accounts)
	names := []string{}
	for _, a := range accounts {
		names = append(names, a.Name)
	}
	return names
}

// openCore opens the env's database directly, to check what the commands did
// or to do what no command does.
func (e *env) openCore() *core.Service {
	e.t.Helper()
	svc, err := core.Open(context.Background(), e.db, filepath.Join(e.dir, keyFileName), core.Config{})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// enrollMFA sets up MFA for a user the way the console will: log in, begin,
// and confirm with a code computed from the setup key.
func (e *env) enrollMFA(username, password string) {
	e.t.Helper()
	ctx := context.Background()
	svc := e.openCore()
	defer svc.Close()
	sess, err := svc.Login(ctx, username, password, "test")
	if err != nil {
		e.t.Fatalf("login %s: %v", username, err)
	}
	en, err := svc.BeginEnrollment(ctx, sess)
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(en.SetupKey, " ", ""))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := svc.ConfirmEnrollment(ctx, sess, totpCode(key, time.Now())); err != nil {
		e.t.Fatalf("confirming enrolment: %v", err)
	}
}

// totpCode is RFC 6238 with SHA1, 6 digits and 30 s, written out here so the
// test does not trust core's own implementation.
func totpCode(key []byte, t time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1000000)
}

// operator is the session tests use when they call core directly.
func (e *env) operator() core.Session { return core.LocalOperator("local:test") }
