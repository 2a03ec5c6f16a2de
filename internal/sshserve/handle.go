package sshserve

import (
	"fmt"
	"net"
	"runtime/debug"
	"time"

	"github.com/charmbracelet/ssh"
)

// handle serves one SSH session: it refuses what is not a console, admits
// the session within the limits, and runs its console.
func (s *Server) handle(sess ssh.Session) {
	source := "ssh:" + sess.RemoteAddr().String()
	pty, windows, hasPty := sess.Pty()
	followed := false
	if hasPty {
		// Window changes must be read even for a refused session: an unread
		// one blocks the session's requests.
		defer func() {
			if !followed {
				go func() {
					for range windows {
					}
				}()
			}
		}()
	}
	defer func() {
		// A panic here, outside any console, must not take the server down.
		if r := recover(); r != nil {
			s.log.Error("session panic", "source", source, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			fmt.Fprintf(sess.Stderr(), "smartmfa: %s\n", s.sentence(endPanic, ""))
			_ = sess.Exit(1)
		}
	}()

	if sess.RawCommand() != "" {
		s.refuse(sess, source, "command", fmt.Sprintf("this server runs only the smartmfa console: connect without a command (ssh -p %s host).", localPort(sess)))
		return
	}
	if !hasPty {
		s.refuse(sess, source, "no terminal", "the smartmfa console needs a terminal: connect with ssh -t, or without -T.")
		return
	}
	tc, _ := sess.Context().Value(connKey{}).(*trackedConn)
	var key string
	if tc != nil {
		key = tc.key
	} else {
		key = clientKey(sess.RemoteAddr(), sess.LocalAddr())
	}
	se := newSession(s, sess, pty, key)
	defer se.cancel()
	if why, sentence := s.admit(se); why != "" {
		s.refuse(sess, source, why, sentence)
		return
	}
	defer s.release(se)
	if tc != nil {
		tc.consoleOpened()
		defer tc.consoleClosed()
	}
	followed = true
	go se.followWindow(windows)

	s.log.Info("session start", "source", source, "client", se.addr, "term", pty.Term, "size", fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height))
	se.run(sess)
	why, detail, user := se.reason()
	logged := why.String()
	if why == endNone && sess.Context().Err() != nil {
		logged = "disconnected"
	}
	s.log.Info("session end", "source", source, "user", user, "duration", time.Since(se.start).Round(time.Millisecond).String(),
		"reason", logged)
	if text := s.sentence(why, detail); text != "" {
		fmt.Fprintf(sess.Stderr(), "smartmfa: %s\n", text)
		_ = sess.Exit(1)
		return
	}
	_ = sess.Exit(0)
}

// refuse ends a session that gets no console, with the sentence why.
func (s *Server) refuse(sess ssh.Session, source, why, sentence string) {
	s.log.Info("session refused", "source", source, "reason", why)
	fmt.Fprintf(sess.Stderr(), "smartmfa: %s\n", sentence)
	_ = sess.Exit(1)
}

func (s *Server) refuseSubsystem(sess ssh.Session) {
	s.refuse(sess, "ssh:"+sess.RemoteAddr().String(), "subsystem "+sess.Subsystem(),
		fmt.Sprintf("this server runs only the smartmfa console, no subsystem such as sftp: connect with ssh -p %s host.", localPort(sess)))
}

func localPort(sess ssh.Session) string {
	_, port, err := net.SplitHostPort(sess.LocalAddr().String())
	if err != nil {
		return "PORT"
	}
	return port
}

// admit registers a session within the limits, or says why it may not open:
// a short reason for the log and the sentence for the user.
func (s *Server) admit(se *Session) (why, sentence string) {
	var wait time.Duration
	if s.backoff != nil {
		wait = s.backoff.blocked(se.addr, time.Now())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.draining:
		return "draining", "the server is shutting down; connect again later."
	case wait > 0:
		return "backoff", backoffSentence(se.addr, wait)
	case s.cfg.MaxSessions > 0 && len(s.sessions) >= s.cfg.MaxSessions:
		return "server full", fmt.Sprintf("the server has its most sessions open (%d); try again later.", s.cfg.MaxSessions)
	case s.cfg.MaxPerAddress > 0 && s.perAddr[se.addr] >= s.cfg.MaxPerAddress:
		return "address full", fmt.Sprintf("%d sessions from %s are open, the most allowed; close one and try again.",
			s.perAddr[se.addr], se.addr)
	}
	s.sessions[se] = struct{}{}
	s.perAddr[se.addr]++
	s.running.Add(1)
	return "", ""
}

func (s *Server) release(se *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, se)
	if s.perAddr[se.addr]--; s.perAddr[se.addr] <= 0 {
		delete(s.perAddr, se.addr)
	}
	s.running.Done()
}

// loginFailed counts a failed login from addr; when the address must now
// wait, its sessions not signed in are ended.
func (s *Server) loginFailed(addr string) {
	if s.backoff == nil {
		return
	}
	wait, n := s.backoff.fail(addr, time.Now())
	if wait <= 0 {
		return
	}
	s.log.Warn("login backoff", "address", addr, "failures", n, "wait", wait.String())
	s.mu.Lock()
	var victims []*Session
	for se := range s.sessions {
		if se.addr == addr {
			victims = append(victims, se)
		}
	}
	s.mu.Unlock()
	for _, se := range victims {
		if !se.signedIn() {
			se.end(endBackoff, backoffSentence(addr, wait))
		}
	}
}

func backoffSentence(addr string, wait time.Duration) string {
	return fmt.Sprintf("too many failed logins from %s; try again in %s.", addr, humanDuration(wait.Round(time.Second)))
}
