package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// code is the second step of a login: a code from the authenticator app or
// a recovery code.
type code struct {
	base
	input, verify, cancel int
}

func newCode(c *Common) *code {
	s := &code{base: newBase(c)}
	s.input = s.f.text("Code", "123456 or abcde-12345", 16, false)
	s.verify = s.f.button("Verify")
	s.cancel = s.f.button("Cancel")
	return s
}

type codeResultMsg struct {
	stamp
	sess  core.Session
	flash string // how many recovery codes are left, after one was used
	err   error
}

func verifyLoginCmd(c *Common, code string) tea.Cmd {
	ctx, svc, sess := c.ctx, c.svc, c.sess
	st := c.stamp()
	return func() tea.Msg {
		out, err := svc.VerifyLoginCode(ctx, sess, code)
		msg := codeResultMsg{stamp: st.answered(err), sess: out, err: err}
		if err == nil && out.UsedRecoveryCode() {
			msg.flash = "You signed in with a recovery code."
			if status, err := svc.MyMFA(ctx, out); err == nil {
				msg.flash = recoveryLeft(status.RecoveryLeft)
			}
		}
		return msg
	}
}

// recoveryLeft is the flash after a sign-in with a recovery code.
func recoveryLeft(n int) string {
	switch n {
	case 0:
		return "You signed in with your last recovery code. Delete and add MFA again on My MFA to get new ones."
	case 1:
		return "You signed in with a recovery code; 1 is left."
	}
	return fmt.Sprintf("You signed in with a recovery code; %d are left.", n)
}

func logoutCmd() tea.Msg { return logoutMsg{} }

func (s *code) Back() (tea.Cmd, bool) { return logoutCmd, true }

func (s *code) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case codeResultMsg:
		s.busy = false
		if msg.err != nil {
			s.f.setValue(s.input, "")
			s.f.setFocus(s.input)
			s.f.get(s.input).err = s.c.describe(msg.err)
			return s, nil
		}
		return s, sessionCmd(msg.sess, false, msg.flash)
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		switch {
		case ev == evPress && s.f.isFocused(s.cancel):
			return s, logoutCmd
		case ev == evSubmit, ev == evPress:
			return s, s.verifyCmd()
		}
		return s, cmd
	}
	return s, nil
}

func (s *code) verifyCmd() tea.Cmd {
	v := strings.TrimSpace(s.f.value(s.input))
	if s.busy || v == "" {
		return nil
	}
	s.busy = true
	s.f.clearErrors()
	return verifyLoginCmd(s.c, v)
}

func (s *code) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.setInputWidth(min(24, max(8, s.w-10)))
}

func (s *code) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.f.typing() {
		return []key.Binding{with(k.Enter, "enter", "verify")}
	}
	return s.formHelp()
}

func (s *code) View() string {
	st := s.c.st
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Multi-factor authentication") + "\n\n")
	text := "Enter the 6-digit code your authenticator app shows for " + clean(s.c.svc.Issuer(), 64) + ":" +
		clean(s.c.sess.Username(), core.MaxUsernameLen) + ", or one of your recovery codes."
	b.WriteString(indentLines(wrap(text, max(10, s.w-4)), "  ") + "\n\n")
	b.WriteString(s.f.fieldView(s.input, 5, min(24, max(8, s.w-10))) + "\n\n")
	b.WriteString(s.f.buttonsView(s.verify, s.cancel))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Checking…"))
	}
	lost := "Lost your phone? Use one of the recovery codes you wrote down, or ask your account administrator to remove your MFA."
	b.WriteString("\n\n" + indentLines(st.Hint.Render(wrap(lost, max(10, s.w-4))), "  "))
	return b.String()
}
