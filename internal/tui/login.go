package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// login is the first screen: username and password, and Register while
// registration is open (always on an empty database).
type login struct {
	base
	user, pass, submit, register int
	regOpen                      bool
}

func newLogin(c *Common) *login {
	s := &login{base: newBase(c)}
	s.user = s.f.text("Username", "", core.MaxUsernameLen, false)
	s.pass = s.f.text("Password", "", core.MaxPasswordLen, true)
	s.submit = s.f.button("Log in")
	s.register = s.f.button("Register")
	s.f.get(s.register).hidden = true
	return s
}

type registrationOpenMsg struct{ open bool }

type loginResultMsg struct {
	stamp
	sess core.Session
	err  error
}

func registrationOpenCmd(c *Common) tea.Cmd {
	ctx, svc := c.ctx, c.svc
	return func() tea.Msg {
		open, err := svc.RegistrationOpen(ctx)
		return registrationOpenMsg{open: open && err == nil}
	}
}

func loginCmd(c *Common, username, password string) tea.Cmd {
	ctx, svc, src := c.ctx, c.svc, c.source
	st := c.stamp()
	return func() tea.Msg {
		sess, err := svc.Login(ctx, username, password, src)
		return loginResultMsg{stamp: st.answered(err), sess: sess, err: err}
	}
}

func (s *login) Init() tea.Cmd { return registrationOpenCmd(s.c) }

func (s *login) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case registrationOpenMsg:
		s.regOpen = msg.open
		s.f.get(s.register).hidden = !msg.open
	case loginResultMsg:
		s.busy = false
		if msg.err != nil {
			s.f.setValue(s.pass, "")
			s.f.setFocus(s.pass)
			return s, flashCmd(s.c.describe(msg.err), true)
		}
		return s, sessionCmd(msg.sess, false, "")
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		switch {
		case ev == evSubmit && s.f.isFocused(s.user) && s.f.value(s.pass) == "":
			s.f.setFocus(s.pass)
		case ev == evSubmit, ev == evPress && s.f.isFocused(s.submit):
			return s, s.login()
		case ev == evPress && s.f.isFocused(s.register):
			return s, gotoCmd(scrRegister)
		}
		return s, cmd
	}
	return s, nil
}

func (s *login) login() tea.Cmd {
	if s.busy {
		return nil
	}
	user, pass := strings.TrimSpace(s.f.value(s.user)), s.f.value(s.pass)
	if user == "" || pass == "" {
		return flashCmd("Enter your username and password.", true)
	}
	s.busy = true
	return loginCmd(s.c, user, pass)
}

func (s *login) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.f.typing() {
		return []key.Binding{with(k.Enter, "enter", "log in")}
	}
	return s.formHelp()
}

func (s *login) View() string {
	st := s.c.st
	inputW := s.f.inputWidth()
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Log in") + "\n\n")
	b.WriteString(s.f.fieldView(s.user, 9, inputW) + "\n")
	b.WriteString(s.f.fieldView(s.pass, 9, inputW) + "\n\n")
	b.WriteString(s.f.buttonsView(s.submit, s.register))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Checking…"))
	}
	b.WriteString("\n")
	if s.regOpen {
		b.WriteString("\n" + indentLines(st.Hint.Render(wrap("No account yet? Register creates one; its first user is its administrator.", max(10, s.w-4))), "  "))
	}
	return b.String()
}

func (s *login) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.fitInputs(s.w, 14)
}
