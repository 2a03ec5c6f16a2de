package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// Common is what every screen of one program shares: the context and core
// service it calls, the signed-in session, styles, keys and the window size.
// It is built per program and only touched from the program's Update, so it
// needs no lock; commands copy what they need before they run.
type Common struct {
	ctx    context.Context
	svc    *core.Service
	sess   core.Session
	source string // audit source: local:<os user> or ssh:<address>
	st     *Styles
	keys   keyMap
	now    func() time.Time // for display only: core keeps its own clock
	epoch  int              // counts logouts; see stamp
	ended  bool             // core said the session ended: the root logs out
	width  int
	height int

	// What the program's runner is told of logins (see Options).
	signedIn      bool // onSignIn was called, and onSignOut not since
	onSignIn      func(username string)
	onSignOut     func()
	onLoginFailed func()
}

// screenID names a screen of the console.
type screenID int

const (
	scrLogin screenID = iota
	scrRegister
	scrCode
	scrMyMFA
	scrSetup
	scrAccount
	scrUsers
	scrUser
	scrAudit
	scrNewPassword
	scrAddUser  // an administrator adds a user
	scrPassword // a user changes their own password
)

// gotoMsg asks the root to show a screen; the root decides whether the
// session may see it.
type gotoMsg struct {
	to     screenID
	userID int64  // the user to open on scrUser
	err    string // why the screen was left, for the flash line
}

func gotoCmd(to screenID) tea.Cmd { return func() tea.Msg { return gotoMsg{to: to} } }

// gotoErrCmd leaves a screen that failed, saying why in the flash line.
func gotoErrCmd(to screenID, why string) tea.Cmd {
	return func() tea.Msg { return gotoMsg{to: to, err: why} }
}

// sessionMsg hands the root a new session: a login finished, set-up
// completed, or MFA was deleted. Stay asks the root to leave the current
// screen where it is (set-up shows the recovery codes after it); flash is
// the confirmation to show.
type sessionMsg struct {
	sess  core.Session
	stay  bool
	flash string
}

func sessionCmd(sess core.Session, stay bool, flash string) tea.Cmd {
	return func() tea.Msg { return sessionMsg{sess: sess, stay: stay, flash: flash} }
}

// stamp marks a core result with the login it was asked for. The root drops
// results from before a logout: a slow answer must not act for a user who
// has gone. It also tells the root whether the store answered (see answered).
type stamp struct {
	epoch     int
	storeDown bool
}

func (s stamp) epochOf() int { return s.epoch }

// answered marks the result of a call that returned err: the root clears
// "The store cannot be reached" from the flash line at the first answer
// that did not fail for that reason.
func (s stamp) answered(err error) stamp {
	s.storeDown = errors.Is(err, core.ErrUnreachable)
	return s
}

func (s stamp) reachedStore() bool { return !s.storeDown }

// stamp is the current login's mark, taken when a command is built.
func (c *Common) stamp() stamp { return stamp{epoch: c.epoch} }

// flashMsg shows a sentence in the flash line under the top menu.
type flashMsg struct {
	text string
	err  bool
}

func flashCmd(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return flashMsg{text: text, err: isErr} }
}

// clean makes user-supplied text safe to draw and bounded in length.
func clean(s string, max int) string { return core.CleanText(s, max) }

// newInput makes a text field styled for this program. The clipboard paste
// binding is removed: over SSH it would read the server's clipboard, and the
// terminal's own paste arrives as keys anyway.
func (c *Common) newInput(placeholder string, limit int, password bool) *textinput.Model {
	in := textinput.New()
	in.Prompt = ""
	if !c.st.Plain {
		in.Placeholder = placeholder // without colour it would look typed
	}
	in.CharLimit = limit
	in.TextStyle = c.st.InputText
	in.PlaceholderStyle = c.st.InputPlaceholder
	in.CompletionStyle = c.st.InputPlaceholder
	in.PromptStyle = c.st.InputText
	in.Cursor.Style = c.st.Cursor
	in.Cursor.TextStyle = c.st.InputText
	in.Cursor.SetMode(cursor.CursorStatic) // no blink timers: fewer redraws, stable tests
	in.KeyMap.Paste = key.NewBinding()
	in.KeyMap.AcceptSuggestion = key.NewBinding()
	if password {
		in.EchoMode = textinput.EchoPassword
		in.EchoCharacter = '•'
		if c.st.Plain {
			in.EchoCharacter = '*'
		}
	}
	return &in
}

// fit cuts a block of text to w columns and h lines, so that no screen can
// draw outside the window whatever it holds.
func fit(s string, w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	return strings.Join(lines, "\n")
}

// padRight pads or cuts s to exactly w columns (at most maxWindow).
func padRight(s string, w int) string {
	w = clampSize(w)
	if w == 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

// wrap breaks plain text into lines of at most w columns.
func wrap(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Wrap(s, w, " ")
}

// lineCount is how many lines a block of text takes.
func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

// formatTime shows a time from core in UTC, as the audit trail keeps it.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// padLines makes s exactly n lines long (at most maxWindow), cutting or
// adding empty lines.
func padLines(s string, n int) string {
	n = clampSize(n)
	if n == 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// sizeNotice says which window size something needs.
func sizeNotice(what string, needW, needH, w, h int) string {
	return fmt.Sprintf("%s: it needs at least %dx%d, this window is %dx%d.", what, needW, needH, w, h)
}
