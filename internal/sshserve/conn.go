package sshserve

import (
	"net"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
)

// A connection is pending while it has no console open: its SSH handshake
// is not finished, or it has asked for no terminal and shell yet, or its
// consoles have ended. Pending connections cost the server without anyone
// having typed anything, so they have caps of their own (MaxPending,
// MaxPendingPerAddress), well below the session caps, and a deadline
// (PreSessionTimeout). A slowloris flood then fills only its own share.

// acceptConn counts a new connection, or refuses it: while the server
// drains, beyond twice the session caps, or beyond the pending caps. When
// the pending connections are at their overall cap, a newcomer from an
// address holding fewer of them takes the place of the oldest pending
// connection of the address holding the most: a flood from a few
// addresses cannot keep the others out. The client sees the connection
// closed: there is no channel yet to say why.
func (s *Server) acceptConn(ctx ssh.Context, conn net.Conn) net.Conn {
	key := clientKey(conn.RemoteAddr(), conn.LocalAddr())
	tc := &trackedConn{Conn: conn, srv: s, key: key}
	s.mu.Lock()
	why, victim := s.admitConn(tc)
	if why != "" {
		s.noteRefusal(conn.RemoteAddr(), why)
		s.mu.Unlock()
		return nil
	}
	if victim != nil {
		s.noteRefusal(victim.RemoteAddr(), "pending connection closed for a newcomer")
	}
	s.conns++
	s.connsPerAddr[key]++
	s.pend(tc)
	s.mu.Unlock()
	if victim != nil {
		victim.Close() // counts itself out through connClosed
	}
	ctx.SetValue(connKey{}, tc)
	return tc
}

// admitConn says why tc may not be accepted, if so, and which pending
// connection must make room for it, if any. s.mu is held.
func (s *Server) admitConn(tc *trackedConn) (why string, victim *trackedConn) {
	cfg := &s.cfg
	switch {
	case s.draining:
		return "draining", nil
	case cfg.MaxSessions > 0 && s.conns >= 2*cfg.MaxSessions:
		return "server full", nil
	case cfg.MaxPerAddress > 0 && s.connsPerAddr[tc.key] >= 2*cfg.MaxPerAddress:
		return "address full", nil
	case cfg.MaxPendingPerAddress > 0 && s.pendingPerAddr[tc.key] >= cfg.MaxPendingPerAddress:
		return "address has too many pending connections", nil
	case cfg.MaxPending > 0 && len(s.pending) >= cfg.MaxPending:
		victim = s.evictionVictim(tc.key)
		if victim == nil {
			return "too many pending connections", nil
		}
		s.unpend(victim)
	}
	return "", victim
}

// evictionVictim is the oldest pending connection of the address holding
// the most, if that address holds more than key does. s.mu is held.
func (s *Server) evictionVictim(key string) *trackedConn {
	var victim *trackedConn
	most := s.pendingPerAddr[key]
	for c := range s.pending {
		n := s.pendingPerAddr[c.key]
		if n > most || victim != nil && n == most && c.since.Before(victim.since) {
			victim, most = c, n
		}
	}
	return victim
}

// pend counts c as pending from now, and closes it if it stays so past the
// deadline. s.mu is held.
func (s *Server) pend(c *trackedConn) {
	if _, ok := s.pending[c]; ok || c.closed {
		return
	}
	c.since = time.Now()
	s.pending[c] = struct{}{}
	s.pendingPerAddr[c.key]++
	if s.cfg.PreSessionTimeout > 0 {
		c.mu.Lock()
		c.preSession = c.since.Add(s.cfg.PreSessionTimeout)
		c.deadline, c.deadlineSet = c.preSession, true
		_ = c.Conn.SetDeadline(c.preSession)
		c.mu.Unlock()
	}
}

// unpend stops counting c as pending. s.mu is held.
func (s *Server) unpend(c *trackedConn) {
	if _, ok := s.pending[c]; !ok {
		return
	}
	delete(s.pending, c)
	if s.pendingPerAddr[c.key]--; s.pendingPerAddr[c.key] <= 0 {
		delete(s.pendingPerAddr, c.key)
	}
	c.mu.Lock()
	c.preSession = time.Time{}
	c.mu.Unlock()
}

func (s *Server) connClosed(c *trackedConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.closed = true
	s.unpend(c)
	s.conns--
	if s.connsPerAddr[c.key]--; s.connsPerAddr[c.key] <= 0 {
		delete(s.connsPerAddr, c.key)
	}
}

// noteRefusal logs a refused connection: the first at once, then at most
// one line a second saying how many there were, so that a flood does not
// flood the log too. s.mu is held.
func (s *Server) noteRefusal(addr net.Addr, why string) {
	s.refused++
	if now := time.Now(); now.Sub(s.refusedLogged) >= time.Second {
		s.log.Info("connection refused", "address", addr.String(), "reason", why, "refused", s.refused)
		s.refused, s.refusedLogged = 0, now
	}
}

// trackedConn is a connection counted by the server. While it is pending,
// no deadline set on it (by the SSH library's idle timeout) goes past the
// pending deadline, so a connection that stalls in its handshake, never
// opens a console or stays after its console ended is closed soon.
type trackedConn struct {
	net.Conn
	srv *Server
	key string // see clientKey

	// Guarded by srv.mu.
	consoles int       // consoles open on the connection
	since    time.Time // when it became pending
	closed   bool

	closeOnce   sync.Once
	mu          sync.Mutex
	channels    int       // session channels open on the connection
	preSession  time.Time // the deadline while pending; zero while not
	deadline    time.Time // the deadline last set on both directions
	deadlineSet bool      // deadline is known: SetDeadline may skip a near repeat
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
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	c.consoles++
	c.srv.unpend(c)
}

func (c *trackedConn) consoleClosed() {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	if c.consoles--; c.consoles == 0 {
		c.srv.pend(c)
	}
}

// clamp keeps t at or before the pending deadline, if any. c.mu is held.
func (c *trackedConn) clamp(t time.Time) time.Time {
	if !c.preSession.IsZero() && (t.IsZero() || t.After(c.preSession)) {
		return c.preSession
	}
	return t
}

// deadlineSlack is how much later than the one set a deadline may be asked
// for without being moved: the SSH library asks before every read and write,
// each time a little later, and moving it costs the runtime's timers. A
// connection closed up to a second before its idle limit loses nothing.
const deadlineSlack = time.Second

func (c *trackedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t = c.clamp(t)
	if c.deadlineSet && !t.IsZero() && !c.deadline.IsZero() && !t.Before(c.deadline) && t.Sub(c.deadline) < deadlineSlack {
		return nil
	}
	c.deadline, c.deadlineSet = t, true
	return c.Conn.SetDeadline(t)
}

func (c *trackedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadlineSet = false // the two directions may differ now
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *trackedConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadlineSet = false
	return c.Conn.SetWriteDeadline(t)
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.srv.connClosed(c) })
	return err
}
