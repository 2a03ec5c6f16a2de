package tui

import (
	"strings"

	"github.com/smartnumbers/smartmfa/internal/core"
)

func (s *addUser) View() string {
	st := s.c.st
	w := max(10, s.w-4)
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Add a user") + "\n\n")
	if s.added {
		return b.String() + s.resultView(w)
	}
	inputW := s.f.inputWidth()
	for _, i := range []int{s.username, s.name, s.email} {
		b.WriteString(s.f.fieldView(i, 12, inputW) + "\n")
	}
	b.WriteString(s.f.choiceView(s.role, 12) + "\n")
	b.WriteString(s.f.choiceView(s.how, 12) + "\n")
	for _, i := range []int{s.pass, s.again, s.code} {
		if !s.f.get(i).hidden {
			b.WriteString(s.f.fieldView(i, 12, inputW) + "\n")
		}
	}
	how := "A password is generated and shown once, for you to give to the user."
	if s.typed() {
		how = "Type the password you will give to the user, twice."
	}
	how += " It is temporary: the user chooses their own at the first login."
	if !s.f.get(s.code).hidden {
		how += " Confirm with a current code from your own app."
	}
	b.WriteString("\n" + indentLines(st.Hint.Render(wrap(how, w)), "  ") + "\n\n")
	b.WriteString(s.f.buttonsView(s.submit, s.cancel))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Adding…"))
	}
	return b.String()
}

// resultView says who was added and shows a generated password, this once.
func (s *addUser) resultView(w int) string {
	st := s.c.st
	name := clean(s.user.Username, core.MaxUsernameLen)
	role := "a user"
	if s.user.Role == core.RoleAdmin {
		role = "an administrator"
	}
	var b strings.Builder
	b.WriteString(indentLines(st.FlashOK.Render(wrap(name+" was added as "+role+".", w)), "  ") + "\n\n")
	if s.generated != "" {
		b.WriteString("  " + st.Label.Render("Temporary password") + "  " + st.Value.Render(s.generated) + "\n\n")
		b.WriteString(indentLines(wrap("Write it down now and give it to "+name+": it is shown only this once, "+
			"and smartmfa keeps no copy it can show again.", w), "  ") + "\n")
	} else {
		b.WriteString(indentLines(wrap("Give "+name+" the password you typed.", w), "  ") + "\n")
	}
	b.WriteString(indentLines(wrap("At the first login "+name+" must choose a password of their own.", w), "  ") + "\n\n")
	b.WriteString(s.f.buttonsView(s.done, s.another))
	return b.String()
}
