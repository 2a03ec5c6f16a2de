package sshserve

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
)

// flood holds idle TCP connections to addr from 127.0.0.2 onwards, perHost
// from each of hosts addresses, and opens each again as soon as the server
// closes it, as a slowloris attack does: none ever says a word of SSH.
type flood struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	dials  atomic.Int64 // connections opened
	open   atomic.Int64 // connections open now
}

func startFlood(t testing.TB, addr string, hosts, perHost int) *flood {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flood{cancel: cancel}
	t.Cleanup(f.stop)
	for h := range hosts {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+h))}}
		for range perHost {
			f.wg.Go(func() {
				buf := make([]byte, 256)
				for ctx.Err() == nil {
					conn, err := d.DialContext(ctx, "tcp", addr)
					if err != nil {
						time.Sleep(time.Millisecond) // out of ports for a moment
						continue
					}
					f.dials.Add(1)
					f.open.Add(1)
					stop := context.AfterFunc(ctx, func() { conn.Close() })
					for { // the server's version line, then nothing until it closes
						if _, err := conn.Read(buf); err != nil {
							break
						}
					}
					stop()
					conn.Close()
					f.open.Add(-1)
				}
			})
		}
	}
	return f
}

func (f *flood) stop() {
	f.cancel()
	f.wg.Wait()
}

// reachScreen connects once from 127.0.0.1, opens a terminal and waits for
// the console to show want, all within limit; it returns how long that
// took.
func reachScreen(addr, want string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(limit)
	conn, err := net.DialTimeout("tcp", addr, limit)
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	sc, chans, reqs, err := gossh.NewClientConn(conn, addr, &gossh.ClientConfig{User: "tester",
		HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		return 0, fmt.Errorf("handshake: %w", err)
	}
	client := gossh.NewClient(sc, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return 0, fmt.Errorf("session: %w", err)
	}
	out := &syncBuffer{}
	sess.Stdout, sess.Stderr = out, out
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		return 0, fmt.Errorf("pty: %w", err)
	}
	if err := sess.Shell(); err != nil {
		return 0, fmt.Errorf("shell: %w", err)
	}
	for !strings.Contains(ansi.Strip(out.String()), want) {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no %q after %s; the session shows %q", want, limit, ansi.Strip(out.String()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start), nil
}

// TestSlowlorisLeavesRoomForRealUsers: 200 connections that never finish
// the SSH handshake, from 10 addresses, once filled the connection cap and
// kept every real user out as long as they were reopened. Connections
// without a console have their own caps, per address and overall, so a
// user from another address reaches the login screen within 2 s.
func TestSlowlorisLeavesRoomForRealUsers(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	f := startFlood(t, ts.addr, 10, 20)
	deadline := time.Now().Add(wait)
	for f.dials.Load() < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("the flood opened only %d connections", f.dials.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the flood at its steady state
	took, err := reachScreen(ts.addr, "Log in", 2*time.Second)
	if err != nil {
		t.Fatalf("a real user under the flood (%d connections opened): %v", f.dials.Load(), err)
	}
	t.Logf("the login screen in %s under a flood of %d connections opened, %d pending on the server",
		took.Round(time.Millisecond), f.dials.Load(), ts.srv.pendingCount())
}

func (s *Server) pendingCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// idleConn is a TCP connection from host that says nothing; closed tells
// when the server has closed it.
type idleConn struct {
	net.Conn
	closed chan struct{}
}

func dialIdle(t *testing.T, host, addr string) *idleConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(host)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &idleConn{Conn: conn, closed: make(chan struct{})}
	go func() {
		defer close(c.closed)
		buf := make([]byte, 256)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	return c
}

// isClosed waits for the server to close c.
func (c *idleConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	case <-time.After(wait):
		return false
	}
}

// isOpen reports whether c is still open now.
func (c *idleConn) isOpen() bool {
	select {
	case <-c.closed:
		return false
	default:
		return true
	}
}

// TestPendingCapsMakeRoomFairly: beyond its per-address cap an address is
// refused; at the overall cap a newcomer from an address holding fewer
// pending connections takes the place of the oldest one of the address
// holding the most.
func TestPendingCapsMakeRoomFairly(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole, MaxPending: 4, MaxPendingPerAddress: 2})
	settle := func(want int) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for ts.srv.pendingCount() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d connections pending, want %d", ts.srv.pendingCount(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	var a, b [2]*idleConn
	for i := range 2 {
		a[i] = dialIdle(t, "127.0.0.2", ts.addr)
		settle(2*i + 1)
		b[i] = dialIdle(t, "127.0.0.3", ts.addr)
		settle(2*i + 2)
	}
	if !dialIdle(t, "127.0.0.2", ts.addr).isClosed() {
		t.Fatal("a third pending connection from 127.0.0.2 is kept; its cap is 2")
	}
	c1 := dialIdle(t, "127.0.0.4", ts.addr) // takes the place of the oldest, a[0]
	if !a[0].isClosed() {
		t.Fatal("a newcomer did not take the place of the oldest pending connection")
	}
	c2 := dialIdle(t, "127.0.0.4", ts.addr) // 127.0.0.3 holds the most: b[0] goes
	if !b[0].isClosed() {
		t.Fatal("a newcomer did not take the place of the address holding the most")
	}
	if !dialIdle(t, "127.0.0.4", ts.addr).isClosed() {
		t.Fatal("a third pending connection from 127.0.0.4 is kept")
	}
	settle(4)
	for i, c := range []*idleConn{a[1], b[1], c1, c2} {
		if !c.isOpen() {
			t.Fatalf("pending connection %d, within the caps, was closed", i)
		}
	}
	// A real client from another address still gets in, and its console
	// takes it out of the pending count.
	if _, err := reachScreen(ts.addr, "size 80x24", wait); err != nil {
		t.Fatal(err)
	}
}

// TestHandshakeDeadline: a connection that never says a word of SSH is
// closed after PreSessionTimeout.
func TestHandshakeDeadline(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole, PreSessionTimeout: 300 * time.Millisecond})
	start := time.Now()
	c := dialIdle(t, "127.0.0.2", ts.addr)
	if !c.isClosed() {
		t.Fatalf("a silent connection is still open after %s", wait)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("a silent connection was closed after %s, before its deadline", took)
	}
}
