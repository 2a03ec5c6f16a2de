package sshserve

import (
	"net"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
)

// acceptConn counts a new connection and refuses it beyond twice the
// session caps (connections that never open a console are bounded too), or
// while the server drains. The client sees the connection closed: there is
// no channel yet to say why.
func (s *Server) acceptConn(ctx ssh.Context, conn net.Conn) net.Conn {
	key := clientKey(conn.RemoteAddr(), conn.LocalAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining ||
		s.cfg.MaxSessions > 0 && s.conns >= 2*s.cfg.MaxSessions ||
		s.cfg.MaxPerAddress > 0 && s.connsPerAddr[key] >= 2*s.cfg.MaxPerAddress {
		s.log.Info("connection refused", "address", conn.RemoteAddr().String(), "draining", s.draining)
		return nil
	}
	s.conns++
	s.connsPerAddr[key]++
	tc := &trackedConn{Conn: conn, srv: s, key: key}
	if s.cfg.PreSessionTimeout > 0 {
		tc.preSession = time.Now().Add(s.cfg.PreSessionTimeout)
		_ = conn.SetDeadline(tc.preSession)
	}
	ctx.SetValue(connKey{}, tc)
	return tc
}

func (s *Server) connClosed(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns--
	if s.connsPerAddr[key]--; s.connsPerAddr[key] <= 0 {
		delete(s.connsPerAddr, key)
	}
}

// trackedConn is a connection counted by the server. While it has no
// console open, no deadline set on it (by the SSH library's idle timeout)
// goes past the pre-session timeout, so a connection that stalls in its
// handshake, never opens a console or stays after its console ended is
// closed soon.
type trackedConn struct {
	net.Conn
	srv *Server
	key string // see clientKey

	closeOnce  sync.Once
	mu         sync.Mutex
	channels   int       // session channels open on the connection
	consoles   int       // consoles open on the connection
	preSession time.Time // the deadline while none is; zero while one is
}

// openChannel counts a new session channel, unless limit are open.
func (c *trackedConn) openChannel(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.channels >= limit {
		return false
	}
	c.channels++
	return true
}

func (c *trackedConn) closeChannel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.channels--
}

func (c *trackedConn) consoleOpened() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.consoles++
	c.preSession = time.Time{}
}

func (c *trackedConn) consoleClosed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.consoles--; c.consoles == 0 && c.srv.cfg.PreSessionTimeout > 0 {
		c.preSession = time.Now().Add(c.srv.cfg.PreSessionTimeout)
		_ = c.Conn.SetDeadline(c.preSession)
	}
}

func (c *trackedConn) clamp(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.preSession.IsZero() && (t.IsZero() || t.After(c.preSession)) {
		return c.preSession
	}
	return t
}

func (c *trackedConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clamp(t)) }

func (c *trackedConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.srv.connClosed(c.key) })
	return err
}
