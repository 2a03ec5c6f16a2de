package core

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReplayRefused(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	w.clock.Advance(5 * time.Minute)

	code := w.code(secret, 0)
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), code); err != nil {
		t.Fatalf("first use: %v", err)
	}
	out, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), code)
	if !errors.Is(err, ErrInvalidCode) || out.Stage() != StageCode {
		t.Fatalf("second use of one code: %v, stage %d; want ErrInvalidCode", err, out.Stage())
	}
	if m := w.mfaRow(w.bob.ID); m.Failures != 1 {
		t.Errorf("a replay counts as a failure: failures = %d, want 1", m.Failures)
	}

	// A later step (the app's clock runs ahead) makes every earlier one stale.
	w.clock.Advance(5 * time.Minute)
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), w.code(secret, 1)); err != nil {
		t.Fatalf("code of step +1: %v", err)
	}
	for _, off := range []int64{0, -1} {
		if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), w.code(secret, off)); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("code of step %+d after step +1: %v, want ErrInvalidCode", off, err)
		}
	}
	// The stored step is the later one.
	if m := w.mfaRow(w.bob.ID); m.LastStep != timeStep(w.clock.Now(), totpPeriod)+1 {
		t.Errorf("last_step = %d, want the +1 step", m.LastStep)
	}
}

// TestEnrolmentCodeIsSpent: the code that confirms enrolment cannot log in.
func TestEnrolmentCodeIsSpent(t *testing.T) {
	w := newWorld(t)
	sess := w.login("bob", StageSignedIn)
	en, err := w.BeginEnrollment(w.ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	code := w.code(en.secret, 0)
	if _, _, err := w.ConfirmEnrollment(w.ctx, sess, code); err != nil {
		t.Fatal(err)
	}
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), code); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("enrolment code reused at login: %v, want ErrInvalidCode", err)
	}
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), w.code(en.secret, -1)); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("step before the enrolment code at login: %v, want ErrInvalidCode", err)
	}
}

// Environment of TestHelperProcess.
const (
	envHelper  = "SMARTMFA_TEST_HELPER"
	envDB      = "SMARTMFA_TEST_DB"
	envKey     = "SMARTMFA_TEST_KEY"
	envTime    = "SMARTMFA_TEST_TIME"
	envSecret  = "SMARTMFA_TEST_SECRET"
	envStart   = "SMARTMFA_TEST_START"
	envOp      = "SMARTMFA_TEST_OP"
	envRecover = "SMARTMFA_TEST_RECOVERY"
)

// TestHelperProcess is not a test: TestConcurrentProcesses runs the test
// binary again with envHelper set, and this is what each child does. It opens
// the database itself, computes the code from the secret and the shared time,
// says "ready", waits for the start file and sends the code.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		return
	}
	fmt.Println(helperMain())
	os.Exit(0)
}

func helperMain() string {
	ctx := context.Background()
	nanos, err := strconv.ParseInt(os.Getenv(envTime), 10, 64)
	if err != nil {
		return "error: " + err.Error()
	}
	now := time.Unix(0, nanos).UTC()
	secret, err := hex.DecodeString(os.Getenv(envSecret))
	if err != nil {
		return "error: " + err.Error()
	}
	s, err := Open(ctx, os.Getenv(envDB), os.Getenv(envKey),
		Config{Now: func() time.Time { return now }, Password: cheapParams})
	if err != nil {
		return "error: " + err.Error()
	}
	defer s.Close()
	sess, err := s.Login(ctx, "bob", testPassword, "helper")
	if err != nil {
		return "error: login: " + err.Error()
	}
	op := os.Getenv(envOp)
	if op == "delete" {
		// Sign in with this process's own recovery code, so only the
		// deletion races.
		if sess, err = s.VerifyLoginCode(ctx, sess, os.Getenv(envRecover)); err != nil {
			return "error: recovery: " + err.Error()
		}
	}
	code := codeAt(secret, timeStep(now, totpPeriod))
	fmt.Println("ready")
	for {
		if _, err := os.Stat(os.Getenv(envStart)); err == nil {
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	if op == "delete" {
		_, err = s.DeleteMyMFA(ctx, sess, code)
	} else {
		_, err = s.VerifyLoginCode(ctx, sess, code)
	}
	switch {
	case err == nil:
		return "result: ok"
	case errors.Is(err, ErrInvalidCode):
		return "result: invalid code"
	case errors.Is(err, ErrNoMFA):
		return "result: no mfa"
	}
	return "result: " + err.Error()
}

// TestConcurrentProcesses sends one valid code from two processes at the same
// moment: exactly one succeeds. A second login is refused as a replay; a
// second deletion finds the MFA already gone.
func TestConcurrentProcesses(t *testing.T) {
	for op, loser := range map[string]string{"login": "invalid code", "delete": "no mfa"} {
		t.Run(op, func(t *testing.T) {
			w := newWorld(t)
			secret, recovery := w.enrollUser("bob")
			w.clock.Advance(time.Hour)
			start := filepath.Join(t.TempDir(), "start")

			type child struct {
				cmd *exec.Cmd
				out *bufio.Scanner
			}
			var children []child
			for i := range 2 {
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), envHelper+"=1", envDB+"="+w.dbPath, envKey+"="+w.keyPath,
					envTime+"="+strconv.FormatInt(w.clock.Now().UnixNano(), 10), envSecret+"="+hex.EncodeToString(secret),
					envStart+"="+start, envOp+"="+op, envRecover+"="+recovery[i])
				cmd.Stderr = os.Stderr
				pipe, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				children = append(children, child{cmd, bufio.NewScanner(pipe)})
			}
			readLine := func(c child) string {
				if c.out.Scan() {
					return c.out.Text()
				}
				return "eof"
			}
			for i, c := range children {
				if l := readLine(c); l != "ready" {
					t.Fatalf("child %d: %q before ready", i, l)
				}
			}
			if err := os.WriteFile(start, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			results := map[string]int{}
			for i, c := range children {
				l := readLine(c)
				if err := c.cmd.Wait(); err != nil {
					t.Errorf("child %d: %v", i, err)
				}
				results[strings.TrimPrefix(l, "result: ")]++
			}
			if results["ok"] != 1 || results[loser] != 1 {
				t.Fatalf("results %v; want exactly one ok and one %s", results, loser)
			}
			step := timeStep(w.clock.Now(), totpPeriod)
			switch op {
			case "login":
				if m := w.mfaRow(w.bob.ID); m.LastStep != step || m.Failures != 1 {
					t.Errorf("mfa row: last_step %d failures %d; want %d and 1", m.LastStep, m.Failures, step)
				}
			case "delete":
				if n := w.count("mfa"); n != 0 {
					t.Errorf("%d mfa rows left, want 0", n)
				}
			}
		})
	}
}

// TestReusedCodeIsNamed: a code whose step was used says so (and counts, as
// any wrong code); a wrong one does not claim to be reused.
func TestReusedCodeIsNamed(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	code := w.code(secret, 0)
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), code); err != nil {
		t.Fatal(err)
	}
	_, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), code)
	if !errors.Is(err, ErrCodeReused) || !errors.Is(err, ErrInvalidCode) {
		t.Errorf("the same code again: %v, want ErrCodeReused", err)
	}
	_, err = w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), w.wrongCode(secret))
	if !errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrCodeReused) {
		t.Errorf("a wrong code: %v, want ErrInvalidCode only", err)
	}
	if m := w.mfaRow(w.bob.ID); m.Failures != 2 {
		t.Errorf("%d failures counted, want 2", m.Failures)
	}
}

// TestCodesAsTheAppShowsThem: "123 456" as Google Authenticator shows it, and
// a paste with spaces around it, are the code.
func TestCodesAsTheAppShowsThem(t *testing.T) {
	w := newWorld(t)
	secret, recovery := w.enrollUser("bob")
	for _, form := range []func(string) string{
		func(c string) string { return c[:3] + " " + c[3:] },
		func(c string) string { return "  " + c + " " },
		func(c string) string { return "\t" + c[:3] + " " + c[3:] + " " },
	} {
		w.clock.Advance(totpPeriod * time.Second)
		typed := form(w.code(secret, 0))
		if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), typed); err != nil {
			t.Errorf("code typed %q: %v", typed, err)
		}
	}
	sess, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), " "+recovery[0]+" ")
	if err != nil || !sess.UsedRecoveryCode() {
		t.Errorf("recovery code with spaces around: %v (recovery %t)", err, sess.UsedRecoveryCode())
	}
}
