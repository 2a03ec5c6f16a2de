package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// register creates an account with its first user, its administrator, and
// signs that user in.
type register struct {
	base
	account, user, pass, again, submit, cancel int
}

func newRegister(c *Common) *register {
	s := &register{base: newBase(c)}
	s.account = s.f.text("Account name", "", core.MaxAccountNameLen, false)
	s.user = s.f.text("Username", "", core.MaxUsernameLen, false)
	s.pass = s.f.text("Password", "at least 8 characters", core.MaxPasswordLen, true)
	s.again = s.f.text("Repeat password", "", core.MaxPasswordLen, true)
	s.submit = s.f.button("Register")
	s.cancel = s.f.button("Cancel")
	return s
}

type registeredMsg struct {
	stamp
	sess core.Session
	err  error
}

func registerCmd(c *Common, in core.NewAccount) tea.Cmd {
	ctx, svc, src := c.ctx, c.svc, c.source
	st := c.stamp()
	return func() tea.Msg {
		sess, err := svc.RegisterAccount(ctx, src, in)
		return registeredMsg{stamp: st.answered(err), sess: sess, err: err}
	}
}

func (s *register) Back() (tea.Cmd, bool) { return gotoCmd(scrLogin), true }

func (s *register) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case registeredMsg:
		s.busy = false
		if msg.err != nil {
			if field, text, ok := fieldError(msg.err); ok {
				if i := s.fieldIndex(field); i >= 0 {
					s.f.get(i).err = text
					s.f.setFocus(i)
					return s, nil
				}
			}
			return s, flashCmd(s.c.describe(msg.err), true)
		}
		return s, sessionCmd(msg.sess, false, "Account registered: you are its administrator.")
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		switch {
		case ev == evPress && s.f.isFocused(s.cancel):
			return s, gotoCmd(scrLogin)
		case ev == evSubmit && !s.f.isFocused(s.again):
			s.f.move(1)
		case ev == evSubmit, ev == evPress:
			return s, s.registerCmd()
		}
		return s, cmd
	}
	return s, nil
}

// fieldIndex maps the field core names in an input error to this form.
func (s *register) fieldIndex(field string) int {
	switch field {
	case "account name":
		return s.account
	case "username":
		return s.user
	case "password":
		return s.pass
	}
	return -1
}

func (s *register) registerCmd() tea.Cmd {
	if s.busy {
		return nil
	}
	s.f.clearErrors()
	if !s.f.samePasswords(s.pass, s.again) {
		return nil
	}
	s.busy = true
	in := core.NewAccount{Name: strings.TrimSpace(s.f.value(s.account)),
		Admin: core.NewUser{Username: strings.TrimSpace(s.f.value(s.user)), Password: s.f.value(s.pass)}}
	return registerCmd(s.c, in)
}

func (s *register) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.fitInputs(s.w, 20)
}

func (s *register) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.f.typing() {
		return []key.Binding{with(k.Enter, "enter", "next field")}
	}
	return s.formHelp()
}

func (s *register) View() string {
	st := s.c.st
	inputW := s.f.inputWidth()
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Register an account") + "\n\n")
	for _, i := range []int{s.account, s.user, s.pass, s.again} {
		b.WriteString(s.f.fieldView(i, 15, inputW) + "\n")
	}
	b.WriteString("\n" + s.f.buttonsView(s.submit, s.cancel))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Creating…"))
	}
	b.WriteString("\n\n" + indentLines(st.Hint.Render(wrap("You will be the account's administrator: you set its MFA policy and manage its users.", max(10, s.w-4))), "  "))
	return b.String()
}
