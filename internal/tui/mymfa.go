package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// myMFA shows the user's own MFA: Add when there is none, and when it is
// active since when, how many recovery codes are left, and Delete (with a
// code, confirmed in the flash line).
type myMFA struct {
	base
	status   core.MFAStatus
	loaded   bool
	deleting bool // the Delete dialog is open

	add, del, input, confirm, cancel int
	password                         int // Change password: see password.go
}

func newMyMFA(c *Common) *myMFA {
	s := &myMFA{base: newBase(c)}
	s.add = s.f.button("Add")
	s.del = s.f.button("Delete")
	s.input = s.f.text("Code", "123456 or abcde-12345", 16, false)
	s.confirm = s.f.button("Delete MFA")
	s.cancel = s.f.button("Cancel")
	s.password = s.f.button("Change password")
	s.show()
	return s
}

type mfaStatusMsg struct {
	stamp
	status core.MFAStatus
	err    error
}

type mfaDeletedMsg struct {
	stamp
	sess core.Session
	err  error
}

func mfaStatusCmd(c *Common) tea.Cmd {
	ctx, svc, sess := c.ctx, c.svc, c.sess
	st := c.stamp()
	return func() tea.Msg {
		status, err := svc.MyMFA(ctx, sess)
		return mfaStatusMsg{stamp: st.answered(err), status: status, err: err}
	}
}

func deleteMyMFACmd(c *Common, code string) tea.Cmd {
	ctx, svc, sess := c.ctx, c.svc, c.sess
	st := c.stamp()
	return func() tea.Msg {
		out, err := svc.DeleteMyMFA(ctx, sess, code)
		return mfaDeletedMsg{stamp: st.answered(err), sess: out, err: err}
	}
}

func (s *myMFA) Init() tea.Cmd { return mfaStatusCmd(s.c) }

// show hides the controls that do not apply to the current state.
func (s *myMFA) show() {
	active := s.loaded && s.status.State == "active"
	s.f.get(s.add).hidden = !s.loaded || active
	s.f.get(s.del).hidden = !active || s.deleting
	for _, i := range []int{s.input, s.confirm, s.cancel} {
		s.f.get(i).hidden = !s.deleting
	}
	s.f.get(s.password).hidden = !s.loaded || s.deleting
}

func (s *myMFA) Back() (tea.Cmd, bool) {
	if s.deleting {
		s.closeDelete()
		return nil, true
	}
	return nil, false
}

func (s *myMFA) closeDelete() {
	s.deleting = false
	s.f.setValue(s.input, "")
	s.f.clearErrors()
	s.show()
	s.f.setFocus(s.del)
}

func (s *myMFA) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case mfaStatusMsg:
		if msg.err != nil {
			return s, flashCmd("Could not read your MFA status: "+s.c.describe(msg.err), true)
		}
		s.status, s.loaded = msg.status, true
		s.show()
		s.refocus()
	case mfaDeletedMsg:
		s.busy = false
		if msg.err != nil {
			s.f.get(s.input).err = s.c.describe(msg.err)
			s.f.setValue(s.input, "")
			s.f.setFocus(s.input)
			return s, nil
		}
		s.deleting, s.loaded = false, false
		s.show()
		return s, tea.Batch(sessionCmd(msg.sess, true, "Multi-factor authentication has been deleted."), mfaStatusCmd(s.c))
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		switch {
		case ev == evPress && s.f.isFocused(s.add):
			return s, gotoCmd(scrSetup)
		case ev == evPress && s.f.isFocused(s.password):
			return s, gotoCmd(scrPassword)
		case ev == evPress && s.f.isFocused(s.del):
			s.deleting = true
			s.show()
			s.f.setFocus(s.input)
		case ev == evPress && s.f.isFocused(s.cancel):
			s.closeDelete()
		case ev == evSubmit, ev == evPress && s.f.isFocused(s.confirm):
			v := strings.TrimSpace(s.f.value(s.input))
			if s.busy || v == "" {
				return s, nil
			}
			s.busy = true
			s.f.clearErrors()
			return s, deleteMyMFACmd(s.c, v)
		}
		return s, cmd
	}
	return s, nil
}

func (s *myMFA) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.setInputWidth(min(24, max(8, s.w-10)))
}

func (s *myMFA) ShortHelp() []key.Binding {
	if s.f.typing() {
		return []key.Binding{with(s.c.keys.Enter, "enter", "delete MFA"), with(s.c.keys.Back, "esc", "cancel")}
	}
	return s.formHelp()
}

func (s *myMFA) View() string {
	st := s.c.st
	w := max(10, s.w-4)
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("My multi-factor authentication") + "\n\n")
	if !s.loaded {
		return b.String() + "  " + st.Hint.Render("Loading…")
	}
	user := clean(s.c.sess.Username(), core.MaxUsernameLen)
	if s.status.State != "active" {
		b.WriteString(indentLines(wrap("Multi-factor authentication is not set up for "+user+".", w), "  ") + "\n")
		b.WriteString(indentLines(st.Hint.Render(wrap("Add it to protect your account with a code from your phone: "+
			"you need Google Authenticator or any TOTP app.", w)), "  ") + "\n\n")
		b.WriteString(s.f.buttonsView(s.add) + s.passwordView())
		return b.String()
	}
	row := func(label, value string) {
		b.WriteString("  " + st.Label.Render(padRight(label, 15)) + " " + st.Value.Render(value) + "\n")
	}
	row("Status", "On since "+formatTime(s.status.EnabledAt))
	row("Recovery codes", fmt.Sprintf("%d left", s.status.RecoveryLeft))
	if !s.status.LockedUntil.IsZero() {
		row("Locked until", formatTime(s.status.LockedUntil)+" (too many wrong codes)")
	}
	if s.status.LoginDisabled {
		b.WriteString("  " + st.Error.Render(wrap("Login with MFA is disabled after too many wrong codes: an administrator must remove it.", w)) + "\n")
	}
	b.WriteString("\n")
	if !s.deleting {
		b.WriteString(s.f.buttonsView(s.del) + s.passwordView())
		return b.String()
	}
	b.WriteString(indentLines(wrap("To delete your multi-factor authentication, enter a current code from your app or a recovery code.", w), "  ") + "\n\n")
	b.WriteString(s.f.fieldView(s.input, 4, min(24, max(8, s.w-10))) + "\n\n")
	b.WriteString(s.f.buttonsView(s.confirm, s.cancel))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Checking…"))
	}
	return b.String()
}
