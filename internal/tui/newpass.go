package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// newPassword is where a user whose password an administrator set chooses
// their own before anything else; Log out is the only other way out.
type newPassword struct {
	base
	pass, again, save, logout int
}

func newNewPassword(c *Common) *newPassword {
	s := &newPassword{base: newBase(c)}
	s.pass = s.f.text("New password", "at least 8 characters", core.MaxPasswordLen, true)
	s.again = s.f.text("Repeat", "", core.MaxPasswordLen, true)
	s.save = s.f.button("Save password")
	s.logout = s.f.button("Log out")
	return s
}

type newPasswordMsg struct {
	stamp
	sess core.Session
	err  error
}

func chooseNewPasswordCmd(c *Common, password string) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		out, err := svc.ChooseNewPassword(ctx, sess, password)
		return newPasswordMsg{stamp: st.answered(err), sess: out, err: err}
	}
}

func (s *newPassword) Back() (tea.Cmd, bool) { return logoutCmd, true }

func (s *newPassword) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case newPasswordMsg:
		s.busy = false
		if msg.err != nil {
			if _, text, ok := fieldError(msg.err); ok {
				s.f.retypePasswords(s.pass, s.again, text)
				return s, nil
			}
			s.f.setValue(s.pass, "") // refused: both are typed again
			s.f.setValue(s.again, "")
			return s, flashCmd(s.c.describe(msg.err), true)
		}
		return s, sessionCmd(msg.sess, false, "Your new password is saved.")
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		switch {
		case ev == evPress && s.f.isFocused(s.logout):
			return s, logoutCmd
		case ev == evSubmit && s.f.isFocused(s.pass):
			s.f.setFocus(s.again)
		case ev == evSubmit, ev == evPress:
			return s, s.saveCmd()
		}
		return s, cmd
	}
	return s, nil
}

func (s *newPassword) saveCmd() tea.Cmd {
	if s.busy {
		return nil
	}
	s.f.clearErrors()
	if !s.f.samePasswords(s.pass, s.again) {
		return nil
	}
	s.busy = true
	return chooseNewPasswordCmd(s.c, s.f.value(s.pass))
}

func (s *newPassword) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.fitInputs(s.w, 18)
}

func (s *newPassword) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.f.typing() {
		return []key.Binding{with(k.Enter, "enter", "next / save")}
	}
	return s.formHelp()
}

func (s *newPassword) View() string {
	st := s.c.st
	inputW := s.f.inputWidth()
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Choose a new password") + "\n\n")
	text := "An administrator set your password. Choose one of your own to go on: at least 8 characters, not the one you were given."
	b.WriteString(indentLines(wrap(text, max(10, s.w-4)), "  ") + "\n\n")
	b.WriteString(s.f.fieldView(s.pass, 12, inputW) + "\n")
	b.WriteString(s.f.fieldView(s.again, 12, inputW) + "\n\n")
	b.WriteString(s.f.buttonsView(s.save, s.logout))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Saving…"))
	}
	return b.String()
}
