package tui

import (
	"strings"

	"github.com/smartnumbers/smartmfa/internal/core"
)

func (s *userPage) View() string {
	st := s.c.st
	w := max(10, s.w-4)
	var b strings.Builder
	if !s.loaded {
		return "  " + st.Title.Render("User") + "\n\n  " + st.Hint.Render("Loading…")
	}
	u := s.u
	b.WriteString("  " + st.Title.Render("User "+s.username()) + "\n  " +
		st.Hint.Render("created "+formatTime(u.CreatedAt)+", updated "+formatTime(u.UpdatedAt)) + "\n\n")
	inputW := s.f.inputWidth()
	b.WriteString(s.f.fieldView(s.name, 12, inputW) + "\n")
	b.WriteString(s.f.fieldView(s.email, 12, inputW) + "\n")
	b.WriteString(s.f.choiceView(s.role, 12) + "\n")
	b.WriteString(s.f.checkView(s.disabled) + "\n")
	switch s.mode {
	case modePassword:
		b.WriteString("\n" + indentLines(st.Label.Render(wrap("A temporary password for "+s.username()+", to be changed at the next login:", w)), "  ") + "\n")
		b.WriteString(s.f.fieldView(s.pass, 12, inputW) + "\n")
		b.WriteString(s.f.fieldView(s.again, 12, inputW) + "\n")
		b.WriteString(s.codeView(s.passCode, inputW))
		b.WriteString(s.f.buttonsView(s.setPass, s.cancelPass) + s.busyView() + "\n")
	case modeEdit:
		b.WriteString(s.f.buttonsView(s.save, s.reset, s.back) + s.busyView() + "\n")
	default:
		b.WriteString("\n")
	}

	b.WriteString("\n  " + st.Title.Render("Multi-Factor Authentication") + "\n")
	state := core.MFAWord(u.MFA)
	if u.MFA == "pending" {
		state += " (set-up started, not finished)"
	}
	b.WriteString("  " + st.Label.Render(padRight("Status", 12)) + " " + st.Value.Render(state) + "\n")
	if s.mode == modeRemove {
		name := s.username()
		question := "Remove multi-factor authentication from " + name + "?"
		then := "Their next login asks for no code: " + name + " logs in with the password alone."
		if s.requireMFA {
			then = "The account requires MFA: at the next login " + name + " is sent to set up an authenticator again, and can do nothing else until then."
		}
		if s.self() {
			question = "Remove your own multi-factor authentication?"
			then = "Confirm with a current code from your app, or a recovery code."
		} else if s.ownMFA {
			then += " Confirm with a current code from your own app."
		}
		b.WriteString("\n" + indentLines(st.Error.Render(wrap(question, w)), "  ") + "\n")
		b.WriteString(indentLines(wrap(then, w), "  ") + "\n")
		b.WriteString(s.f.fieldView(s.reason, 12, inputW) + "\n")
		b.WriteString(s.codeView(s.removeCode, inputW))
		b.WriteString(s.f.buttonsView(s.cancelRemove, s.confirmRemove) + s.busyView())
	} else if !s.f.get(s.remove).hidden {
		b.WriteString(s.f.buttonsView(s.remove))
	}
	return b.String()
}

// codeView is the step-up code field, when it applies.
func (s *userPage) codeView(i, inputW int) string {
	if s.f.get(i).hidden {
		return ""
	}
	return s.f.fieldView(i, 12, inputW) + "\n"
}

func (s *userPage) busyView() string {
	if !s.busy {
		return ""
	}
	return "  " + s.c.st.Hint.Render("Working…")
}
