package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"

	"github.com/smartnumbers/smartmfa/internal/tui"
)

// Session is one SSH session's console, as the server gives it to
// Config.Console. Its methods may be called from any goroutine.
type Session struct {
	// Source names the session in the audit trail: "ssh:<address>", the
	// client's IP address and port, and on a jump host the local user who
	// connected: "ssh:127.0.0.1:50022 (alice)". Core counts failed passwords
	// by the place it names, so one local user's sign-ins never make the
	// host a trusted place for another's guesses.
	Source string
	// Renderer is the session's own renderer: the colour profile of the
	// client's terminal (its TERM, NO_COLOR) and its background (COLORFGBG,
	// else dark). It never queries the terminal.
	Renderer *lipgloss.Renderer
	// Styles are the console's styles for Renderer's colour profile and
	// background, built once per pair and shared (tui.Options.Styles).
	Styles *tui.Styles

	srv   *Server
	addr  string // what the per-address limits count it under (clientKey)
	start time.Time
	done  chan struct{} // closed when the console has ended

	ctx        context.Context // the console's; ends with the session
	cancel     context.CancelFunc
	input      *io.PipeReader // the console's input, copied from the session
	inputW     *io.PipeWriter
	closeInput func()       // ends the console's input; safe to call again
	out        *startWriter // the console's output: see startWriter

	sizes   sync.Mutex // held while a size is sent: the program gets them in order
	mu      sync.Mutex
	program *tea.Program
	window  ssh.Window // the latest size of the client's window
	user    string     // who signed in last, for the log
	in      bool       // someone is signed in now: a login backoff spares the session
	why     endReason
	detail  string // what the end sentence needs, e.g. a backoff's length
}

// SignedIn tells the server who signed in on this session, for its log.
// It, SignedOut and LoginFailed are the console's callbacks
// (tui.Options.OnSignIn and the others): they never block.
func (s *Session) SignedIn(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.in = username, true
}

// SignedOut tells the server the session's user logged out: from now on the
// session is one more anonymous login screen.
func (s *Session) SignedOut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.in = false
}

// LoginFailed tells the server that a password or code was refused on this
// session. It counts towards the backoff of the session's address.
func (s *Session) LoginFailed() { s.srv.loginFailed(s.addr) }

func (s *Session) signedIn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.in
}

// endReason is why a session ended, when the server ended it.
type endReason int

const (
	endNone     endReason = iota // the user quit, or the connection closed
	endIdle                      // no keyboard input for the idle timeout
	endLimit                     // the session lasted its longest
	endShutdown                  // the server shut down
	endBackoff                   // too many failed logins from the address
	endPanic                     // the console panicked
)

func (r endReason) String() string {
	return [...]string{"quit", "idle", "limit", "shutdown", "backoff", "panic"}[r]
}

// setEnd records why the session ends; the first reason stays.
func (s *Session) setEnd(why endReason, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.why == endNone {
		s.why, s.detail = why, detail
	}
}

// ending reports whether the session has a reason to end.
func (s *Session) ending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why != endNone
}

func (s *Session) reason() (endReason, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why, s.detail, s.user
}

// send hands a message to the console, unless it has not started or has
// ended.
func (s *Session) send(msg tea.Msg) {
	s.mu.Lock()
	p := s.program
	s.mu.Unlock()
	if p != nil {
		p.Send(msg)
	}
}

// end asks the console to stop for a reason of the server's, and stops it
// anyway if it has not within two seconds.
func (s *Session) end(why endReason, detail string) {
	s.setEnd(why, detail)
	s.closeInput()
	go func() {
		s.send(endMsg{})
		select {
		case <-s.done:
		case <-time.After(2 * time.Second):
			s.cancel()
		}
	}()
}

// followWindow passes the client's window changes to the console until the
// channel closes. It must always drain the channel: an unread change blocks
// the session's requests.
func (s *Session) followWindow(windows <-chan ssh.Window) {
	// The first is the pty-req's own size, which the session started with
	// (newSession) and sendFirstSize sends: sent again, it would only make
	// Bubble Tea's renderer draw the whole screen once more.
	first := true
	for w := range windows {
		if first {
			first = false
			continue
		}
		w.Width, w.Height = clampWindow(w.Width), clampWindow(w.Height)
		s.sizes.Lock()
		s.mu.Lock()
		s.window = w
		p := s.program
		s.mu.Unlock()
		if p != nil {
			p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
		}
		s.sizes.Unlock()
	}
}

// sendFirstSize sends the program the window as it is now. Bubble Tea's
// renderer learns the window only from a WindowSizeMsg sent through the
// program (the console has it from the frame already): without one it
// neither cuts lines to the window nor erases the end of a line that got
// shorter, and the pty-req's size may reach followWindow before there is a
// program. Sent under sizes, it cannot overtake a later change.
func (s *Session) sendFirstSize(p *tea.Program) {
	s.sizes.Lock()
	defer s.sizes.Unlock()
	s.mu.Lock()
	w := s.window
	s.mu.Unlock()
	p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height}) // if the program never runs, Send returns as the session ends
}

// newSession prepares the console of an SSH session, before it is admitted:
// whatever ends it from outside must be in place once others can see it.
func newSession(srv *Server, sess ssh.Session, pty ssh.Pty, key string) *Session {
	ctx, cancel := context.WithCancel(sess.Context())
	// The console reads a pipe, not the session: closing the pipe ends
	// Bubble Tea's input at once, where a read of the session could not be
	// cancelled and would hold every ending for half a second.
	pr, pw := io.Pipe()
	return &Session{Source: sourceOf(sess.RemoteAddr(), key), srv: srv, addr: key, start: time.Now(),
		done: make(chan struct{}), ctx: ctx, cancel: cancel, input: pr,
		closeInput: sync.OnceFunc(func() { pw.Close() }), inputW: pw,
		window: ssh.Window{Width: clampWindow(pty.Window.Width), Height: clampWindow(pty.Window.Height)}}
}

// run runs the session's console until it ends. A panic that escapes the
// frame (in building the console, say) ends the session like any other.
func (s *Session) run(sess ssh.Session) {
	defer close(s.done)
	defer s.closeInput()
	defer func() {
		if r := recover(); r != nil {
			s.srv.log.Error("session panic", "source", s.Source, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			s.setEnd(endPanic, "")
		}
	}()
	go func() {
		// Bubble Tea reads its input 256 bytes at a time: io.Copy's 32 KB
		// buffer would only add to what every open session holds.
		_, _ = io.CopyBuffer(s.inputW, sess, make([]byte, 512))
		s.closeInput()
	}()
	cfg := &s.srv.cfg
	s.Renderer = newRenderer(sess)
	s.Styles = s.srv.stylesFor(s.Renderer)
	s.out = &startWriter{w: sess}
	defer s.out.release()
	f := newFrame(cfg.Console(s.ctx, s), s, cfg, s.Renderer)
	p := tea.NewProgram(f, tea.WithContext(s.ctx), tea.WithInput(s.input), tea.WithOutput(s.out),
		tea.WithAltScreen(), tea.WithoutSignalHandler(), tea.WithFPS(cfg.FPS),
		tea.WithEnvironment(sess.Environ()))

	s.mu.Lock()
	s.program = p
	w := s.window
	s.mu.Unlock()
	// The size known now is the console's first; followWindow sends every
	// later change, now that the program is set.
	f.size = tea.WindowSizeMsg{Width: w.Width, Height: w.Height}
	go s.sendFirstSize(p)

	if _, err := p.Run(); errors.Is(err, tea.ErrProgramPanic) {
		// Bubble Tea caught it (in a command the frame could not guard)
		// and printed the stack on the server's output.
		s.srv.log.Error("session panic", "source", s.Source, "panic", "caught by Bubble Tea")
		s.setEnd(endPanic, "")
	}
}

// sentence is what the user reads when the server ended the session.
func (s *Server) sentence(why endReason, detail string) string {
	switch why {
	case endIdle:
		return fmt.Sprintf("closed after %s without input.", humanDuration(s.cfg.IdleTimeout))
	case endLimit:
		return fmt.Sprintf("closed: a session lasts at most %s. Connect again to go on.", humanDuration(s.cfg.SessionLimit))
	case endShutdown:
		return "the server shut down; connect again later."
	case endBackoff:
		return detail
	case endPanic:
		return "this session stopped on an internal error, which has been logged. Connect again to go on."
	}
	return ""
}

// newRenderer builds the session's renderer from the client's terminal type
// and environment, as the local console builds its own from the process's
// (tui.SetTerminal). The background is set, never asked: asking the
// terminal would race the console for its input and stall on a terminal
// that does not answer.
func newRenderer(sess ssh.Session) *lipgloss.Renderer {
	env := environ(sess.Environ()) // TERM is the pty-req's
	r := lipgloss.NewRenderer(sess, termenv.WithEnvironment(env), termenv.WithUnsafe(), termenv.WithColorCache(true))
	tui.SetTerminal(r, env.Getenv)
	return r
}

// environ is a session's environment as termenv reads it.
type environ []string

func (e environ) Environ() []string { return e }

func (e environ) Getenv(key string) string {
	v := ""
	for _, kv := range e {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val // the last one wins, as TERM from the pty comes last
		}
	}
	return v
}
