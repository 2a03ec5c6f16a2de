package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
)

func TestServeRefusesBadFlags(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--idle-timeout", "0"}, "--idle-timeout must be a positive duration"},
		{[]string{"--grace", "-1s"}, "--grace must be a positive duration"},
		{[]string{"--max-per-address", "0"}, "--max-per-address must be 1 or more"},
		{[]string{"--listen", "2222"}, "--listen takes host:port"},
		{[]string{"extra"}, "serve takes no arguments"},
		{[]string{"--idle-timeout", "ten"}, "invalid argument"},
	} {
		e.fail(exitUsage, tc.want, "", append([]string{"serve"}, tc.args...)...)
	}
}

// server is `smartmfa serve` running as its own process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	log    *logBuffer
	addr   string
	exited chan error
}

// logBuffer collects the server's standard error as it runs.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `smartmfa --db DB serve --listen 127.0.0.1:0 args...` and
// waits for it to say where it listens.
func startServe(t *testing.T, e *env, args ...string) *server {
	t.Helper()
	cmd := exec.Command(smartmfaBinary(t), append([]string{"--db", e.db, "serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"HOME=" + e.dir, "USER=tester", "PATH=" + os.Getenv("PATH")}
	s := launch(t, cmd)
	s.listening()
	return s
}

// launch starts a prepared serve command and keeps its log, killing it when
// the test ends; it returns without waiting for it to listen (a serve may be
// waiting for its store).
func launch(t *testing.T, cmd *exec.Cmd) *server {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, log: &logBuffer{}, exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			s.log.mu.Lock()
			s.log.b.WriteString(sc.Text() + "\n")
			s.log.mu.Unlock()
		}
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return s
}

// listening waits until the server says where it listens.
func (s *server) listening() {
	s.t.Helper()
	log := s.waitLog(`msg="serving the console"`)
	m := regexp.MustCompile(`msg="serving the console" address=(\S+)`).FindStringSubmatch(log)
	s.addr = m[1]
}

// waitLog polls the server's log until it holds want.
func (s *server) waitLog(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := s.log.String()
		if strings.Contains(log, want) {
			return log
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the server's log does not show %q:\n%s", want, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit status.
func (s *server) stop() int {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	return s.wait()
}

// wait returns the exit status once the server has exited.
func (s *server) wait() int {
	s.t.Helper()
	select {
	case err := <-s.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(15 * time.Second):
		s.t.Fatalf("serve has not exited after SIGTERM:\n%s", s.log)
	}
	return -1
}

// sshTerminal is an x/crypto/ssh session with an 80x24 terminal.
type sshTerminal struct {
	conn  *gossh.Client
	sess  *gossh.Session
	stdin io.Writer
	out   *logBuffer
	done  chan error
}

func openTerminal(t *testing.T, addr string) *sshTerminal {
	t.Helper()
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "tester",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	c := &sshTerminal{conn: conn, sess: sess, out: &logBuffer{}, done: make(chan error, 1)}
	w := writerFunc(func(p []byte) (int, error) {
		c.out.mu.Lock()
		defer c.out.mu.Unlock()
		return c.out.b.Write(p)
	})
	sess.Stdout, sess.Stderr = w, w
	if c.stdin, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- sess.Wait() }()
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *sshTerminal) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ansi.Strip(c.out.String()), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the session does not show %q:\n%s", want, ansi.Strip(c.out.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeHostKeyAndDrain starts the server twice on one database: the
// first start creates the host key 0600 and says where, the second reuses
// it. SIGTERM tells an open session, closes it after the grace, and exits 0.
func TestServeHostKeyAndDrain(t *testing.T) {
	e := newEnv(t)
	e.createAccount("Acme", "alice")
	keyPath := filepath.Join(e.dir, "ssh_host_ed25519_key")

	s := startServe(t, e, "--grace", "1s")
	log := s.waitLog("created host key")
	if !strings.Contains(log, "path="+keyPath) {
		t.Errorf("the log does not say where the host key is (%s):\n%s", keyPath, log)
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("the host key is mode %04o, want 0600", perm)
	}
	fingerprint := regexp.MustCompile(`fingerprint=(SHA256:\S+)`).FindStringSubmatch(log)
	if fingerprint == nil {
		t.Fatalf("no fingerprint in the log:\n%s", log)
	}

	c := openTerminal(t, s.addr)
	c.waitFor(t, "Log in")
	s.waitLog("session start")
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	c.waitFor(t, "The server is shutting down: this session closes in 1 second.")
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the session is still open after the grace")
	}
	c.waitFor(t, "the server shut down; connect again later.")
	if code := s.wait(); code != 0 {
		t.Errorf("serve exits %d after SIGTERM, want 0:\n%s", code, s.log)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the drain took %s with a 1 s grace", took)
	}
	log = s.log.String()
	for _, want := range []string{"shutting down", "reason=shutdown", "msg=stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not show %q:\n%s", want, log)
		}
	}

	again := startServe(t, e)
	log = again.waitLog("serving the console")
	if strings.Contains(log, "created host key") || !strings.Contains(log, "fingerprint="+fingerprint[1]) {
		t.Errorf("the second start does not reuse the host key %s:\n%s", fingerprint[1], log)
	}
	if code := again.stop(); code != 0 {
		t.Errorf("an idle serve exits %d after SIGTERM", code)
	}
}

func TestServeFailsOnBusyAddress(t *testing.T) {
	e := newEnv(t)
	s := startServe(t, e)
	r := e.run("", "serve", "--listen", s.addr)
	checkFailure(t, r, exitFailure, "cannot listen on "+s.addr, []string{"serve"})
	s.stop()
}

func TestServeRefusesOpenHostKey(t *testing.T) {
	e := newEnv(t)
	key := filepath.Join(e.dir, "open_key")
	if err := os.WriteFile(key, []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.fail(exitFailure, "may be read by other users (mode 0644)", "", "serve", "--host-key", key)
}

// TestServeNeverOffersRegister: serve builds core with NoRegistration, so
// an anonymous SSH client on an empty database sees a login screen without
// Register.
func TestServeNeverOffersRegister(t *testing.T) {
	e := newEnv(t)
	s := startServe(t, e)
	c := openTerminal(t, s.addr)
	c.waitFor(t, "Log in")
	c.waitFor(t, "Password")
	time.Sleep(300 * time.Millisecond) // Register would show once core has answered
	if screen := ansi.Strip(c.out.String()); strings.Contains(screen, "Register") {
		t.Errorf("the login screen on an empty database offers Register:\n%s", screen)
	}
	c.conn.Close()
	if code := s.stop(); code != 0 {
		t.Errorf("serve exits %d after SIGTERM", code)
	}
}
