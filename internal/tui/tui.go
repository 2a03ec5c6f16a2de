// Package tui is smartmfa's console: Bubble Tea screens to log in, enrol an
// authenticator, and administer an account's MFA policy, users and audit
// trail. It calls internal/core for everything and never the store. Each
// program gets its own Common (styles from its own renderer, keys, session),
// so one process can serve many consoles over SSH.
package tui

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/tui/termquery"
)

func init() {
	// bubbletea's init has run by now (this package imports it): give the
	// process its TERM back. See package termquery.
	termquery.Restore()
}

// Minimum window in which the console draws anything but a notice.
const (
	minWidth  = 30
	minHeight = 8
)

// maxWindow is the most columns and lines the console draws. A client over
// SSH may declare a window of 2^32-1 lines: nothing the console allocates
// may grow with that, so larger sizes count as this one.
const maxWindow = 1000

// clampSize keeps a window dimension within 0..maxWindow.
func clampSize(n int) int { return min(max(n, 0), maxWindow) }

// Options configure one console program.
type Options struct {
	// Source is written in the audit trail for this console's actions:
	// "local:<os user>" or "ssh:<address>".
	Source string
	// Renderer is the program's own renderer (its colour profile and
	// background); nil uses lipgloss's default, on os.Stdout. Set its
	// background (SetHasDarkBackground) first: without colours the console
	// reads it to draw the QR code the right way round, and lipgloss would
	// otherwise ask the terminal, racing the program for its input.
	Renderer *lipgloss.Renderer
	// Styles, if set, are the program's styles: NewStyles of a renderer
	// with Renderer's colour profile and background. Nothing changes
	// styles once built, so a server builds them once per profile and
	// background and its sessions share them; building them was the
	// largest part of starting a console.
	Styles *Styles
	// Now is the clock used for display (lock countdowns); time.Now if nil.
	Now func() time.Time

	// The console tells whoever runs it of logins as they happen (serve
	// counts failures per address and names users in its log). Each is
	// called from the program's Update: it must return at once and never
	// call back into the program synchronously (tea.Program.Send from
	// there deadlocks). Nil ones are skipped.
	//
	// OnSignIn: a user has signed in (the session reached
	// core.StageSignedIn). OnSignOut: that user logged out or the session
	// ended. OnLoginFailed: a password or code was refused, wherever the
	// console asked for it (login, code at login, set-up, Delete MFA, any
	// step-up prompt).
	OnSignIn      func(username string)
	OnSignOut     func()
	OnLoginFailed func()
}

// New builds the console's root model for one program. ctx bounds every core
// call it makes: cancel it when the session ends.
func New(ctx context.Context, svc *core.Service, opts Options) tea.Model {
	r := opts.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	st := opts.Styles
	if st == nil {
		st = NewStyles(r)
	}
	c := &Common{ctx: ctx, svc: svc, source: opts.Source, st: st, keys: newKeyMap(), now: now,
		onSignIn: opts.OnSignIn, onSignOut: opts.OnSignOut, onLoginFailed: opts.OnLoginFailed}
	h := help.New()
	h.Styles = c.st.Help
	m := &model{c: c, help: h}
	m.cur, m.scr = scrLogin, newLogin(c)
	return m
}

// model is the root: it owns the window size, global keys, the top menu,
// the flash line under it and the help footer, and swaps screens on
// gotoMsg. Everything else belongs to the screens.
type model struct {
	c         *Common
	cur       screenID
	scr       screen
	menuFocus bool // the top menu has the focus, not the screen
	menuSel   int  // the highlighted menu item while it has the focus
	flash     flashMsg
	help      help.Model
	fullHelp  bool
	users     *users      // the users page a user page was opened from
	scroll    int         // the first line of the page in sight (see scrolled)
	leave     *leaveAsked // a move away from unsaved changes, waiting for y or n
}

// screen is one page of the console. Update returns the screen itself
// (screens are pointers); Focus and Enter report false when the focus
// leaves the screen, so that the root can move it to the top menu.
type screen interface {
	Init() tea.Cmd
	Update(tea.Msg) (screen, tea.Cmd)
	View() string
	SetSize(w, h int)
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	Focus(step int) bool // Tab (+1) or Shift+Tab (-1)
	Enter(first bool) bool
	Blur()
	Typing() bool          // a text field has the focus
	Back() (tea.Cmd, bool) // Esc; false when the screen has nothing to go back to
}

// logoutMsg ends the session.
type logoutMsg struct{}

// Init starts the first screen.
func (m *model) Init() tea.Cmd {
	m.scr.Enter(true)
	return m.scr.Init()
}

// Update handles the root's own messages and hands the rest to the screen.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.width, m.c.height = clampSize(msg.Width), clampSize(msg.Height)
	case tea.KeyMsg:
		cmd = m.key(msg)
	case gotoMsg:
		cmd = m.navigate(msg.to, msg.userID, true)
		if msg.err != "" {
			m.flash = flashMsg{text: msg.err, err: true}
		}
	case sessionMsg:
		cmd = m.setSession(msg)
	case logoutMsg:
		if m.unsaved() {
			m.leave = &leaveAsked{logout: true}
			break
		}
		cmd = m.logout(flashMsg{text: "You have logged out."})
	case flashMsg:
		// A screen's own report of the ended session comes after the root's:
		// keep the root's, which stands alone on the login screen.
		if !strings.Contains(msg.text, sessionEndedText) {
			m.flash = msg
		}
	case interface {
		epochOf() int
		reachedStore() bool
	}:
		if msg.epochOf() == m.c.epoch {
			if msg.reachedStore() && m.flash.err && strings.Contains(m.flash.text, storeUnreachableText) {
				m.flash = flashMsg{} // core answered without the store failing: it is back
			}
			m.scr, cmd = m.scr.Update(msg)
		}
	default:
		m.scr, cmd = m.scr.Update(msg)
	}
	if m.c.ended { // a screen met ErrSessionEnded: nothing more can succeed
		m.c.ended = false
		cmd = tea.Batch(cmd, m.logout(flashMsg{text: sessionEndedText, err: true}))
	}
	m.layout()
	return m, cmd
}

// logout forgets the session, drops the answers still on their way for it,
// and shows the login screen with flash.
func (m *model) logout(flash flashMsg) tea.Cmd {
	old := m.c.sess
	svc, ctx := m.c.svc, m.c.ctx
	if m.c.signedIn {
		m.c.signedIn = false
		if m.c.onSignOut != nil {
			m.c.onSignOut()
		}
	}
	audit := func() tea.Msg {
		_ = svc.Logout(ctx, old) // the trail's record of it; the console is logged out either way
		return nil
	}
	m.c.sess = core.Session{}
	m.c.epoch++
	m.flash = flash
	return tea.Batch(audit, m.navigate(scrLogin, 0, false))
}

// key handles the global keys, the top menu, and focus moves; the rest goes
// to the screen. While a text field has the focus, printable keys are its.
func (m *model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.c.keys
	if key.Matches(msg, k.Quit) {
		return tea.Quit
	}
	if m.leave != nil {
		return m.answerLeave(msg)
	}
	if m.menuFocus {
		return m.menuKey(msg)
	}
	switch {
	case key.Matches(msg, k.Next), key.Matches(msg, k.Prev):
		step := 1
		if key.Matches(msg, k.Prev) {
			step = -1
		}
		if !m.scr.Focus(step) {
			if m.hasMenu() {
				m.focusMenu()
			} else {
				m.scr.Enter(step > 0) // no menu before login: wrap around
			}
		}
		return nil
	case key.Matches(msg, k.Back):
		if cmd, ok := m.scr.Back(); ok {
			return cmd
		}
		if m.hasMenu() {
			m.focusMenu()
		}
		return nil
	case key.Matches(msg, k.Help) && !m.scr.Typing():
		m.fullHelp = !m.fullHelp
		return nil
	}
	var cmd tea.Cmd
	m.scr, cmd = m.scr.Update(msg)
	return cmd
}

// setSession takes the session a screen obtained, with its confirmation,
// and moves to where the new stage belongs unless the screen may stay.
func (m *model) setSession(msg sessionMsg) tea.Cmd {
	prev := m.c.sess
	m.c.sess = msg.sess
	m.flash = flashMsg{text: msg.flash} // an error from before the change is over
	if s := msg.sess; s.Stage() == core.StageSignedIn && (!m.c.signedIn || s.Username() != prev.Username()) {
		m.c.signedIn = true
		if m.c.onSignIn != nil {
			m.c.onSignIn(s.Username())
		}
	}
	if msg.stay && m.allowed(m.cur) == m.cur {
		return nil
	}
	return m.navigate(m.landing(), 0, false)
}
