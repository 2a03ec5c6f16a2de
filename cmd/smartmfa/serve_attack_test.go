package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// dialFrom opens an SSH terminal to addr from the loopback address local
// (all of 127/8 is this host on Linux), as a client elsewhere would.
func dialFrom(addr, local string, timeout time.Duration) (*sshTerminal, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: timeout}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = raw.SetDeadline(time.Now().Add(timeout))
	cc, chans, reqs, err := gossh.NewClientConn(raw, addr, &gossh.ClientConfig{User: "tester",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: timeout})
	if err != nil {
		raw.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	conn := gossh.NewClient(cc, chans, reqs)
	sess, err := conn.NewSession()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &sshTerminal{conn: conn, sess: sess, out: &logBuffer{}, done: make(chan error, 1)}
	w := writerFunc(func(p []byte) (int, error) {
		c.out.mu.Lock()
		defer c.out.mu.Unlock()
		return c.out.b.Write(p)
	})
	sess.Stdout, sess.Stderr = w, w
	if c.stdin, err = sess.StdinPipe(); err == nil {
		if err = sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err == nil {
			err = sess.Shell()
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	go func() { c.done <- sess.Wait() }()
	return c, nil
}

// shows waits until the terminal shows want, or the deadline passes.
func (c *sshTerminal) shows(want string, deadline time.Time) bool {
	for !strings.Contains(ansi.Strip(c.out.String()), want) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// TestServeBurstFromFiftyAddresses: 50 SSH clients from 127.0.0.2 to
// 127.0.0.51 send a password for alice at the same moment, the right one
// among them, to the real server with OWASP's argon2. At most five wrong
// ones are checked; the right one signs in or is answered as a wrong one.
func TestServeBurstFromFiftyAddresses(t *testing.T) {
	e := newEnv(t)
	bin := serveBin(t)
	e.createAccountWith(bin, "Acme", "alice")
	addr, stop := serveBinary(t, bin, e)
	defer stop()
	const n = 50
	right := 17
	terms := make([]*sshTerminal, n)
	for i := range n {
		c, err := dialFrom(addr, fmt.Sprintf("127.0.0.%d", i+2), 10*time.Second)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		t.Cleanup(func() { c.conn.Close() })
		c.waitFor(t, "Log in")
		fmt.Fprint(c.stdin, "alice\t")
		terms[i] = c
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range terms {
		wg.Go(func() {
			<-start
			pw := fmt.Sprintf("wrong-guess-%02d", i)
			if i == right {
				pw = adminPassword
			}
			fmt.Fprint(c.stdin, pw+"\r")
		})
	}
	close(start)
	wg.Wait()
	answered := func(c *sshTerminal) bool {
		out := ansi.Strip(c.out.String())
		return strings.Contains(out, "Invalid username or password") || strings.Contains(out, "Too many failed attempts") ||
			strings.Contains(out, "alice (admin)")
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range terms {
		for !answered(c) {
			if time.Now().After(deadline) {
				t.Fatalf("a client has no answer after 30 s:\n%s", ansi.Strip(c.out.String()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	checked := failedLogins(t, e.openCoreNoClose(t))
	rightOut := ansi.Strip(terms[right].out.String())
	t.Logf("50 passwords at once from 50 addresses: %d wrong ones checked; the right one: signed in %t",
		checked, strings.Contains(rightOut, "alice (admin)"))
	if checked > 5 {
		t.Errorf("%d wrong passwords were checked, want at most 5", checked)
	}
	if !strings.Contains(rightOut, "alice (admin)") && !strings.Contains(rightOut, "Too many failed attempts") {
		t.Errorf("the right password got an answer no wrong one gets:\n%s", rightOut)
	}
}

// openCoreNoClose opens the env's database, closed when the test ends.
func (e *env) openCoreNoClose(t *testing.T) *core.Service {
	svc := e.openCore()
	t.Cleanup(func() { svc.Close() })
	return svc
}

// BenchmarkServeLoginUnderAttack is a real login over SSH (the password sent,
// until the signed-in screen shows) to the real `serve` with OWASP's argon2,
// from 127.0.0.1 where alice signed in before, while "attacked": 200 TCP
// connections from 10 addresses that never finish their handshake, reopened
// as the server closes them, and 40 sessions from 40 addresses guessing
// unknown names as fast as they are answered (--login-failures is raised so
// that the per-address backoff does not stop them). "quiet" is the same login
// with neither, "guessing" with the guessers alone. It reports p50 and p99 in ms and the logins that failed
// within 10 s. SMARTMFA_SERVE_BINARY runs another build (an older one, to
// measure without a fix).
func BenchmarkServeLoginUnderAttack(b *testing.B) {
	bin := serveBin(b)
	for _, c := range []struct {
		name           string
		idle, guessers int
	}{{"quiet", 0, 0}, {"guessing", 0, 40}, {"attacked", 200, 40}} {
		b.Run(c.name, func(b *testing.B) {
			e := newEnv(b)
			e.createAccountWith(bin, "Acme", "alice")
			addr, stop := serveBinary(b, bin, e, "--login-failures", "1000000", "--max-per-address", "50")
			defer stop()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			if login(addr, "127.0.0.1") < 0 { // alice signs in here once: a place she uses
				b.Fatal("the first login failed")
			}
			for i := range c.idle {
				wg.Go(func() { holdIdle(ctx, addr, fmt.Sprintf("127.0.2.%d", i%10+1)) })
			}
			for i := range c.guessers {
				wg.Go(func() { guess(ctx, addr, fmt.Sprintf("127.0.1.%d", i+1), i) })
			}
			if c.idle+c.guessers > 0 {
				time.Sleep(2 * time.Second) // the guessers are in, the idle ones hold their places
			}
			var d []time.Duration
			failed := 0
			for b.Loop() {
				if t := login(addr, "127.0.0.1"); t < 0 {
					failed++
				} else {
					d = append(d, t)
				}
			}
			if len(d) > 0 {
				slices.Sort(d)
				b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
			}
			b.ReportMetric(float64(failed), "failed")
		})
	}
}

// serveBin is the binary these tests run: this build, or another one named
// by SMARTMFA_SERVE_BINARY (an older one, to measure without a fix).
func serveBin(tb testing.TB) string {
	if bin := os.Getenv("SMARTMFA_SERVE_BINARY"); bin != "" {
		return bin
	}
	return smartmfaBinary(tb)
}

// createAccountWith creates an account with bin, whose schema it then has.
func (e *env) createAccountWith(bin, name, admin string) {
	e.t.Helper()
	cmd := exec.Command(bin, "--db", e.db, "account", "create", name, "--admin", admin, "--password-stdin")
	cmd.Env = []string{"HOME=" + e.dir, "USER=tester", "PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader(adminPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("account create: %v\n%s", err, out)
	}
}

// serveBinary runs bin's serve on e's database and returns its address.
func serveBinary(b testing.TB, bin string, e *env, args ...string) (string, func()) {
	cmd := exec.Command(bin, append([]string{"--db", e.db, "serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"HOME=" + e.dir, "USER=tester", "PATH=" + os.Getenv("PATH")}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		buf := make([]byte, 64<<10)
		var all strings.Builder
		for {
			n, err := pr.Read(buf)
			all.Write(buf[:n])
			if i := strings.Index(all.String(), "address="); i >= 0 && len(found) == 0 && strings.Contains(all.String()[i:], " ") {
				found <- strings.Fields(all.String()[i+len("address="):])[0]
			}
			if err != nil {
				return
			}
			if all.Len() > 1<<20 {
				all.Reset()
			}
		}
	}()
	select {
	case addr := <-found:
		return addr, func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() }
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		b.Fatal("serve does not say where it listens")
	}
	return "", nil
}

// login signs alice in over SSH from local and returns how long the password
// took to be answered with the signed-in screen; -1 when it failed in 10 s.
func login(addr, local string) time.Duration {
	deadline := time.Now().Add(10 * time.Second)
	c, err := dialFrom(addr, local, 10*time.Second)
	if err != nil {
		return -1
	}
	defer c.conn.Close()
	if !c.shows("Log in", deadline) {
		return -1
	}
	t0 := time.Now()
	fmt.Fprint(c.stdin, "alice\t"+adminPassword+"\r")
	if !c.shows("alice (admin)", deadline) {
		return -1
	}
	return time.Since(t0)
}

// holdIdle keeps a TCP connection open that never says a word, and opens
// another whenever the server closes it.
func holdIdle(ctx context.Context, addr, local string) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: time.Second}
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		done := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, conn); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
		conn.Close()
	}
}

// guess keeps a session at the login screen sending a wrong password for a
// new unknown name every 40 ms (a name is locked after five), more than the
// server can hash: the screen takes the next one as soon as it answered.
func guess(ctx context.Context, addr, local string, i int) {
	for ctx.Err() == nil {
		c, err := dialFrom(addr, local, 10*time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if c.shows("Log in", time.Now().Add(10*time.Second)) {
			for n := 0; ctx.Err() == nil; n++ {
				// Shift+Tab to the username, Ctrl+U to clear it, a new name.
				if _, err := fmt.Fprintf(c.stdin, "\x1b[Z\x15ghost-%d-%d\tguess\r", i, n); err != nil {
					break
				}
				time.Sleep(40 * time.Millisecond)
			}
		}
		c.conn.Close()
	}
}
