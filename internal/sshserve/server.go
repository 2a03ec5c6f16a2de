// Package sshserve serves smartmfa's console over SSH (charmbracelet/wish):
// every SSH session runs its own console program, with its own renderer and
// window, so that the users of a jump host reach the console without any
// access to the database or key files, which stay with the server's user.
//
// The SSH layer lets any client in. The console's own login (password, then
// code) is the authentication, and its lockouts are core's, shared with
// local use. This package adds what a server needs around the console: a
// terminal is required, keyboard idle timeout and session limit, caps on
// sessions overall and per address, a per-address backoff after repeated
// failed logins, panics contained to their session, and a graceful drain.
// Before login nothing a client declares grows the server: window sizes
// are clamped, only the environment the console reads is kept, a
// connection holds at most two session channels, and connections without
// a console have their own caps and a handshake deadline.
package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"
)

// Defaults for the zero fields of a Config.
const (
	DefaultIdleTimeout   = 10 * time.Minute
	DefaultWarning       = time.Minute
	DefaultSessionLimit  = time.Hour
	DefaultMaxSessions   = 100
	DefaultMaxPerAddress = 10
	DefaultFailedLogins  = 10
	DefaultBackoff       = time.Minute
	// Pending connections (see MaxPending): a real client finishes its
	// handshake and opens its console in well under a second; the only
	// person in that time is one comparing a new host key's fingerprint.
	DefaultPreSessionTimeout = 20 * time.Second
	// A handful of connections at once from one address are still
	// handshaking on a busy jump host; 32 in all is many times a crowd of
	// users connecting in the same second.
	DefaultMaxPendingPerAddress = 4
	DefaultMaxPending           = 32
	// Frames a second the consoles draw at most: the first frame waits at
	// most 17 ms, and a hundred idle consoles cost little.
	DefaultFPS = 60
)

// Config configures a Server. Zero fields take the defaults above; a
// negative duration or count turns that limit off.
type Config struct {
	// Console builds the console of one session. ctx ends with the session.
	Console func(ctx context.Context, s *Session) tea.Model
	// HostKey is the server's private host key (see LoadHostKey).
	HostKey gossh.Signer
	// Log receives one line as each session starts and ends, and the
	// server's warnings; never a password, code or secret. Nil discards.
	Log *slog.Logger

	IdleTimeout  time.Duration // without keyboard input, a session ends
	Warning      time.Duration // how long before the end a session is warned
	SessionLimit time.Duration // the longest a session lasts

	MaxSessions   int // sessions open at once
	MaxPerAddress int // sessions open at once from one IP address

	// After FailedLogins failed passwords or codes from one address, its
	// new sessions are refused, and its sessions not signed in are ended,
	// for Backoff, doubled for each further failure up to 15 minutes (or
	// Backoff, if longer). Failures are forgotten an hour after the last.
	FailedLogins int
	Backoff      time.Duration

	// A connection is pending while it has no console open: its SSH
	// handshake is not done, or it has not asked for a terminal and shell.
	// MaxPending caps them overall, MaxPendingPerAddress from one address;
	// one pending for PreSessionTimeout is closed (a handshake deadline).
	MaxPending           int
	MaxPendingPerAddress int
	PreSessionTimeout    time.Duration

	FPS int
}

func (c *Config) setDefaults() {
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	num := func(n *int, def int) {
		switch {
		case *n == 0:
			*n = def
		case *n < 0:
			*n = 0
		}
	}
	dur(&c.IdleTimeout, DefaultIdleTimeout)
	dur(&c.Warning, DefaultWarning)
	dur(&c.SessionLimit, DefaultSessionLimit)
	dur(&c.Backoff, DefaultBackoff)
	dur(&c.PreSessionTimeout, DefaultPreSessionTimeout)
	num(&c.MaxSessions, DefaultMaxSessions)
	num(&c.MaxPerAddress, DefaultMaxPerAddress)
	num(&c.FailedLogins, DefaultFailedLogins)
	num(&c.MaxPending, DefaultMaxPending)
	num(&c.MaxPendingPerAddress, DefaultMaxPendingPerAddress)
	num(&c.FPS, DefaultFPS)
	// A warning takes at most half of the time it warns about.
	for _, d := range []time.Duration{c.IdleTimeout, c.SessionLimit} {
		if d > 0 && c.Warning >= d {
			c.Warning = d / 2
		}
	}
}

// Server is an SSH server of consoles.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ssh     *ssh.Server
	backoff *backoff
	styles  styleCache

	mu             sync.Mutex
	sessions       map[*Session]struct{}
	perAddr        map[string]int
	conns          int
	connsPerAddr   map[string]int
	pending        map[*trackedConn]struct{} // connections without a console
	pendingPerAddr map[string]int
	refused        int       // connections refused since the last log line
	refusedLogged  time.Time // when that line was written
	draining       bool

	running sync.WaitGroup // sessions admitted and not yet released
}

// connKey holds a connection's *trackedConn in its ssh.Context.
type connKey struct{}

// New builds a server from cfg; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Console == nil || cfg.HostKey == nil {
		return nil, errors.New("sshserve: a Config needs a Console and a HostKey")
	}
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Log, sessions: map[*Session]struct{}{},
		perAddr: map[string]int{}, connsPerAddr: map[string]int{}, pending: map[*trackedConn]struct{}{},
		pendingPerAddr: map[string]int{}}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.FailedLogins > 0 && cfg.Backoff > 0 {
		s.backoff = newBackoff(cfg.FailedLogins, cfg.Backoff, max(15*time.Minute, cfg.Backoff))
	}
	opts := []ssh.Option{
		func(srv *ssh.Server) error {
			srv.AddHostKey(cfg.HostKey)
			srv.ConnCallback = s.acceptConn
			// Only session channels: the library rejects every other type.
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.filterSessions(ssh.DefaultSessionHandler)}
			// Anything but a console (sftp and the like) is refused with a sentence.
			srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{"default": s.refuseSubsystem}
			return nil
		},
		wish.WithMiddleware(func(ssh.Handler) ssh.Handler { return s.handle }),
	}
	// The connection's own limits only back up the session's: a connection
	// outlives its console by a little.
	if cfg.IdleTimeout > 0 {
		opts = append(opts, wish.WithIdleTimeout(cfg.IdleTimeout+time.Minute))
	}
	if cfg.SessionLimit > 0 {
		opts = append(opts, wish.WithMaxTimeout(cfg.SessionLimit+time.Minute))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("sshserve: %w", err)
	}
	s.ssh = srv
	return s, nil
}

// Serve accepts connections on ln until Shutdown or Close; it returns nil
// after either.
func (s *Server) Serve(ln net.Listener) error {
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Sessions is the number of consoles open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown drains the server: it stops accepting connections and new
// sessions, tells every open session that the server is shutting down, and
// ends those still open after grace. It returns when they have ended.
func (s *Server) Shutdown(grace time.Duration) error {
	s.mu.Lock()
	s.draining = true
	open := make([]*Session, 0, len(s.sessions))
	for se := range s.sessions {
		open = append(open, se)
	}
	s.mu.Unlock()

	stopped := make(chan error, 1)
	go func() {
		// Closes the listeners at once, then waits for the connections,
		// which the end of this function closes.
		stopped <- s.ssh.Shutdown(context.Background())
	}()
	for _, se := range open {
		go se.send(noticeMsg{text: fmt.Sprintf("The server is shutting down: this session closes in %s.", humanDuration(grace))})
	}
	all := make(chan struct{})
	go func() {
		s.running.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(grace):
		for _, se := range open {
			se.end(endShutdown, "")
		}
		select {
		case <-all:
		case <-time.After(3 * time.Second): // end() kills a console after 2 s
		}
	}
	err := s.ssh.Close()
	if e := <-stopped; err == nil && !errors.Is(e, ssh.ErrServerClosed) {
		err = e
	}
	return err
}

// Close stops the server at once, closing every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	return s.ssh.Close()
}
