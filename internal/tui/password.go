package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// changePassword is where a signed-in user changes their own password with
// the current one. A wrong current password counts like a failed login;
// the change ends the user's other sessions, and this one carries on.
type changePassword struct {
	base
	current, pass, again, save, cancel int
}

func newChangePassword(c *Common) *changePassword {
	s := &changePassword{base: newBase(c)}
	s.current = s.f.text("Current password", "", core.MaxPasswordLen, true)
	s.pass = s.f.text("New password", "at least 8 characters", core.MaxPasswordLen, true)
	s.again = s.f.text("Repeat", "", core.MaxPasswordLen, true)
	s.save = s.f.button("Change password")
	s.cancel = s.f.button("Cancel")
	return s
}

type passwordChangedMsg struct {
	stamp
	sess core.Session
	err  error
}

func changePasswordCmd(c *Common, current, password string) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		out, err := svc.ChangePassword(ctx, sess, current, password)
		return passwordChangedMsg{stamp: st.answered(err), sess: out, err: err}
	}
}

func (s *changePassword) Back() (tea.Cmd, bool) { return gotoCmd(scrMyMFA), true }

func (s *changePassword) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case passwordChangedMsg:
		return s, s.changed(msg)
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		switch {
		case ev == evPress && s.f.isFocused(s.cancel):
			return s, gotoCmd(scrMyMFA)
		case ev == evSubmit && !s.f.isFocused(s.again):
			s.f.move(1)
		case ev == evSubmit, ev == evPress:
			return s, s.saveCmd()
		}
		return s, cmd
	}
	return s, nil
}

func (s *changePassword) saveCmd() tea.Cmd {
	if s.busy {
		return nil
	}
	s.f.clearErrors()
	switch {
	case s.f.value(s.current) == "":
		s.f.get(s.current).err = "Type your current password."
		s.f.setFocus(s.current)
		return nil
	case !s.f.samePasswords(s.pass, s.again):
		return nil
	}
	s.busy = true
	return changePasswordCmd(s.c, s.f.value(s.current), s.f.value(s.pass))
}

// changed shows a refusal under the field it concerns: the current password
// (wrong, or locked out: when to try again) or the new one (core's rules).
func (s *changePassword) changed(msg passwordChangedMsg) tea.Cmd {
	s.busy = false
	if msg.err == nil {
		for _, i := range []int{s.current, s.pass, s.again} {
			s.f.setValue(i, "")
		}
		return sessionCmd(msg.sess, false, "Your password was changed. Your other sessions have ended.")
	}
	text := s.c.describe(msg.err) // also tells the runner of a refused password
	switch {
	case errors.Is(msg.err, core.ErrInvalidCredentials):
		s.f.setValue(s.current, "")
		s.f.get(s.current).err = "That is not your current password."
		s.f.setFocus(s.current)
	case errors.Is(msg.err, core.ErrLocked):
		s.f.setValue(s.current, "")
		s.f.get(s.current).err = text
		s.f.setFocus(s.current)
	case errors.Is(msg.err, core.ErrInvalidInput):
		_, why, _ := fieldError(msg.err)
		s.f.retypePasswords(s.pass, s.again, why)
	default:
		return flashCmd(text, true)
	}
	return nil
}

func (s *changePassword) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.fitInputs(s.w, 22)
}

func (s *changePassword) ShortHelp() []key.Binding {
	k := s.c.keys
	switch {
	case s.f.isFocused(s.again):
		return []key.Binding{with(k.Enter, "enter", "change password"), with(k.Back, "esc", "cancel")}
	case s.f.typing():
		return []key.Binding{with(k.Enter, "enter", "next field"), with(k.Back, "esc", "cancel")}
	}
	return s.formHelp()
}

func (s *changePassword) View() string {
	st := s.c.st
	w := max(10, s.w-4)
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Change your password") + "\n\n")
	b.WriteString(indentLines(wrap("Type your current password, then the new one twice: at least 8 characters. "+
		"Your other sessions end when it changes; this one goes on.", w), "  ") + "\n\n")
	for _, i := range []int{s.current, s.pass, s.again} {
		b.WriteString(s.f.fieldView(i, 16, s.f.inputWidth()) + "\n")
	}
	b.WriteString("\n" + s.f.buttonsView(s.save, s.cancel))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Checking…"))
	}
	return b.String()
}

// passwordView is My MFA's way here: the password is the other half of how
// a user signs in, so it sits with the MFA (as on GitHub's "Password and
// authentication" and Keycloak's "Signing in" pages).
func (s *myMFA) passwordView() string {
	return "\n\n  " + s.c.st.Title.Render("Password") + "\n" + s.f.buttonsView(s.password)
}
