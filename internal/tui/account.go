package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// account is the account details page: the counts and the policy checkbox
// that requires MFA of every user, with Save at the bottom right.
type account struct {
	base
	d      core.AccountDetails
	loaded bool

	require, save int
}

func newAccount(c *Common) *account {
	s := &account{base: newBase(c)}
	s.require = s.f.check("Require multi-factor authentication for all users in this account", false)
	s.save = s.f.button("Save")
	s.f.get(s.require).hidden = true
	s.f.get(s.save).hidden = true
	return s
}

type accountMsg struct {
	stamp
	d   core.AccountDetails
	err error
}

type requireSavedMsg struct {
	stamp
	on      bool
	without int
	err     error
}

func accountCmd(c *Common) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		d, err := svc.AccountDetails(ctx, sess, sess.AccountID())
		return accountMsg{stamp: st.answered(err), d: d, err: err}
	}
}

func setRequireCmd(c *Common, on bool) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		without, err := svc.SetRequireMFA(ctx, sess, sess.AccountID(), on)
		return requireSavedMsg{stamp: st.answered(err), on: on, without: without, err: err}
	}
}

func (s *account) Init() tea.Cmd { return accountCmd(s.c) }

func (s *account) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case accountMsg:
		if msg.err != nil {
			return s, flashCmd("Could not read the account: "+s.c.describe(msg.err), true)
		}
		first := !s.loaded
		s.d, s.loaded = msg.d, true
		if first {
			s.f.get(s.require).checked = msg.d.RequireMFA
		}
		s.f.get(s.require).hidden = false
		s.f.get(s.save).hidden = false
		s.refocus()
	case requireSavedMsg:
		s.busy = false
		if msg.err != nil {
			return s, flashCmd("Not saved: "+s.c.describe(msg.err), true)
		}
		text := "Saved: MFA is no longer required."
		if msg.on {
			text = "Saved: MFA is required now."
			if msg.without > 0 {
				text = fmt.Sprintf("Saved: MFA is required now; %s to set-up at next login.",
					usersCount(msg.without, "user without it goes", "users without it go"))
			}
		}
		return s, tea.Batch(flashCmd(text, false), accountCmd(s.c))
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		if ev == evPress && s.f.isFocused(s.save) && !s.busy {
			on := s.f.get(s.require).checked
			if on == s.d.RequireMFA {
				return s, flashCmd("Nothing to save: the setting is unchanged.", false)
			}
			s.busy = true
			return s, setRequireCmd(s.c, on)
		}
		return s, cmd
	}
	return s, nil
}

func usersCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (s *account) ShortHelp() []key.Binding {
	return s.formHelp()
}

func (s *account) View() string {
	st := s.c.st
	w := max(10, s.w-4)
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Account details") + "\n\n")
	if !s.loaded {
		return b.String() + "  " + st.Hint.Render("Loading…")
	}
	d := s.d
	row := func(label, value string) {
		b.WriteString("  " + st.Label.Render(padRight(label, 14)) + " " + st.Value.Render(value) + "\n")
	}
	row("Account name", clean(d.Name, core.MaxAccountNameLen))
	row("Created", formatTime(d.CreatedAt))
	row("Users", fmt.Sprintf("%d (%d enabled, %s)", d.Users, d.Enabled, usersCount(d.Admins, "administrator", "administrators")))
	row("With MFA", fmt.Sprintf("%d", d.WithMFA))
	row("Without MFA", usersCount(d.WithoutMFA, "enabled user", "enabled users"))
	b.WriteString("\n" + s.f.checkView(s.require) + "\n")
	on := s.f.get(s.require).checked
	switch {
	case on && !d.RequireMFA:
		text := "Every user will need MFA. "
		if d.WithoutMFA > 0 {
			text += fmt.Sprintf("%s no multi-factor authentication yet: after you save, they are sent to MFA setup at their next login and can do nothing else until they set it up.",
				usersCount(d.WithoutMFA, "user has", "users have"))
		} else {
			text += "Every enabled user already has it."
		}
		b.WriteString("\n" + indentLines(st.Error.Render(wrap(text, w)), "  ") + "\n")
	case !on && d.RequireMFA:
		b.WriteString("\n" + indentLines(st.Hint.Render(wrap("After you save, users can log in without multi-factor authentication unless they set it up.", w)), "  ") + "\n")
	case d.RequireMFA:
		b.WriteString("\n" + indentLines(st.Hint.Render(wrap("Users without MFA are sent to MFA setup when they log in.", w)), "  ") + "\n")
	}
	body := b.String()
	// Save sits at the bottom right of the page.
	btn := s.f.buttonView(s.save)
	if s.busy {
		btn = st.Hint.Render("Saving… ") + btn
	}
	pad := max(0, s.w-ansi.StringWidth(btn)-2)
	last := strings.Repeat(" ", pad) + btn
	if lineCount(body) >= s.h {
		return body + last // taller than the window: the root scrolls it
	}
	return padLines(body, s.h-1) + "\n" + last
}

// unsaved is a checkbox changed and not saved: leaving asks first.
func (s *account) unsaved() bool {
	return s.loaded && s.f.get(s.require).checked != s.d.RequireMFA
}
