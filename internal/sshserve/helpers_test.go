package sshserve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/tui"
)

const adminPassword = "correct-horse-battery-1"

// wait is how long a test waits for something to show before it fails.
const wait = 10 * time.Second

// syncBuffer is a log that tests read while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testServer is a server on a random loopback port.
type testServer struct {
	t    testing.TB
	srv  *Server
	addr string
	log  *syncBuffer
	svc  *core.Service
}

// newService opens core on a fresh database with cheap password hashing,
// and registers account Acme with administrator alice.
func newService(t testing.TB) *core.Service {
	t.Helper()
	dir := t.TempDir()
	svc, err := core.Open(context.Background(), filepath.Join(dir, "smartmfa.db"), filepath.Join(dir, "smartmfa.key"),
		core.Config{Password: core.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	_, err = svc.RegisterAccount(context.Background(), "test", core.NewAccount{Name: "Acme",
		Admin: core.NewUser{Username: "alice", DisplayName: "Alice", Email: "alice@example.com", Password: adminPassword}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// tuiConsole is the real console on svc, wired as serve wires it.
func tuiConsole(svc *core.Service) func(context.Context, *Session) tea.Model {
	return func(ctx context.Context, s *Session) tea.Model {
		return tui.New(ctx, svc, tui.Options{Source: s.Source, Renderer: s.Renderer, Styles: s.Styles,
			OnSignIn: s.SignedIn, OnSignOut: s.SignedOut, OnLoginFailed: s.LoginFailed})
	}
}

var (
	hostKeyOnce sync.Once
	hostKey     gossh.Signer
)

// testHostKey is one host key, in memory, for every test server of the run.
func testHostKey(t testing.TB) gossh.Signer {
	hostKeyOnce.Do(func() {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err == nil {
			hostKey, err = gossh.NewSignerFromKey(priv)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	return hostKey
}

// startServer serves cfg on 127.0.0.1 (a random port) until the test ends.
// A nil Console is the real console on a fresh database.
func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	ts := &testServer{t: t, log: &syncBuffer{}}
	if cfg.Console == nil {
		ts.svc = newService(t)
		cfg.Console = tuiConsole(ts.svc)
	}
	cfg.HostKey = testHostKey(t)
	cfg.Log = slog.New(slog.NewTextHandler(ts.log, nil))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ts.srv, ts.addr = srv, ln.Addr().String()
	return ts
}

// client is one SSH connection with one session, as a user's ssh makes it.
type client struct {
	t      testing.TB
	conn   *gossh.Client
	sess   *gossh.Session
	stdin  io.WriteCloser
	out    *syncBuffer // stdout and stderr, as a terminal shows both
	exited chan error
}

// dial connects to ts without a session yet.
func dial(t testing.TB, addr string) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            "tester",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), // "none" auth: the console logs in
		Timeout:         wait,
	})
}

// open starts a session; term "" means no terminal. env is sent first.
func (ts *testServer) open(term string, env ...string) *client {
	ts.t.Helper()
	c, err := ts.tryOpen(term, 80, 24, env...)
	if err != nil {
		ts.t.Fatal(err)
	}
	return c
}

func (ts *testServer) tryOpen(term string, w, h int, env ...string) (*client, error) {
	conn, err := dial(ts.t, ts.addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c, err := startSession(ts.t, conn, term, w, h, env...)
	if err != nil {
		conn.Close()
		return nil, err
	}
	ts.t.Cleanup(c.close)
	return c, nil
}

func startSession(t testing.TB, conn *gossh.Client, term string, w, h int, env ...string) (*client, error) {
	sess, err := conn.NewSession()
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	c := &client{t: t, conn: conn, sess: sess, out: &syncBuffer{}, exited: make(chan error, 1)}
	sess.Stdout, sess.Stderr = c.out, c.out
	if c.stdin, err = sess.StdinPipe(); err != nil {
		return nil, err
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if err := sess.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("setenv %s: %w", k, err)
		}
	}
	if term != "" {
		if err := sess.RequestPty(term, h, w, gossh.TerminalModes{}); err != nil {
			return nil, fmt.Errorf("pty: %w", err)
		}
	}
	if err := sess.Shell(); err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	go func() { c.exited <- sess.Wait() }()
	return c, nil
}

func (c *client) close() {
	c.sess.Close()
	c.conn.Close()
}

// text is everything the session printed, without escape sequences.
func (c *client) text() string { return ansi.Strip(c.out.String()) }

// waitFor polls the output until it holds every one of want.
func (c *client) waitFor(want ...string) {
	c.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		text := c.text()
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the session does not show %q after %s; it shows:\n%s", missing, wait, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// send types keys: text as is, "\t" Tab, "\r" Enter.
func (c *client) send(keys string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, keys); err != nil {
		c.t.Fatalf("typing: %v", err)
	}
}

// exit waits for the session to end and returns its exit status.
func (c *client) exit() int {
	c.t.Helper()
	select {
	case err := <-c.exited:
		var ee *gossh.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitStatus()
		}
		c.t.Fatalf("session ended without a status: %v", err)
	case <-time.After(wait):
		c.t.Fatalf("the session is still open after %s; it shows:\n%s", wait, c.text())
	}
	return -1
}

// waitLog polls the server's log until it holds want.
func (ts *testServer) waitLog(want string) string {
	ts.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		log := ts.log.String()
		if strings.Contains(log, want) {
			return log
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("the log does not show %q after %s:\n%s", want, wait, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
