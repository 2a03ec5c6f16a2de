package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// userColumns are the widths of the users table but the name's, which takes
// what is left.
const (
	colUsername = 18
	colRole     = 6
	colMFA      = 8
	colState    = 8
)

func (s *users) View() string {
	st := s.c.st
	var b strings.Builder
	b.WriteString(s.f.fieldView(s.search, 6, s.f.inputWidth()) + "\n")
	filters := s.f.choiceView(s.mfa, 6) + "   " + s.f.choiceView(s.role, 4)
	if s.counted && s.matches > 0 {
		filters += "   " + st.Hint.Render(matchesText(s.matches, s.atLeast))
	}
	b.WriteString(filters + "\n\n")

	nameW := max(4, s.w-2-colUsername-colRole-colMFA-colState-4)
	header := padRight("Username", colUsername) + " " + padRight("Name", nameW) + " " +
		padRight("Role", colRole) + " " + padRight("MFA", colMFA) + " " + padRight("Status", colState)
	b.WriteString(s.f.gutter(s.table) + st.Header.Render(strings.TrimRight(header, " ")) + "\n")
	switch {
	case s.failed && !s.loaded:
		b.WriteString("  " + st.Hint.Render("Not loaded: type to search again.") + "\n")
	case !s.loaded:
		b.WriteString("  " + st.Hint.Render("Searching…") + "\n")
	case len(s.rows) == 0:
		b.WriteString("  " + st.Hint.Render("No users match.") + "\n")
	}
	listFocused := s.f.isFocused(s.table) || s.f.isFocused(s.search)
	for i, u := range s.rows {
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		}
		line := padRight(clean(u.Username, core.MaxUsernameLen), colUsername) + " " +
			padRight(clean(u.DisplayName, core.MaxDisplayNameLen), nameW) + " " +
			padRight(string(u.Role), colRole) + " " + padRight(core.MFAWord(u.MFA), colMFA) + " " + padRight(state, colState)
		line = strings.TrimRight(line, " ")
		switch {
		case i == s.sel && listFocused:
			b.WriteString("> " + st.RowSelected.Render(line) + "\n")
		case i == s.sel:
			b.WriteString("* " + st.Row.Render(line) + "\n")
		default:
			b.WriteString("  " + st.Row.Render(line) + "\n")
		}
	}
	body := padLines(b.String(), max(1, s.h-1))
	status := fmt.Sprintf("Page %d", len(s.prev)+1)
	if s.next != 0 {
		status += " · pgdn: next page"
	}
	if len(s.prev) > 0 {
		status += " · pgup: previous"
	}
	foot := s.f.buttonsView(s.update, s.add) + "  " + st.Hint.Render(status)
	if s.h <= 1 {
		return foot
	}
	return body + "\n" + ansi.Truncate(foot, max(0, s.w), "")
}

// matchesText says how many users match: exactly, or as far as it was
// counted (see core.UserPage).
func matchesText(n int, atLeast bool) string {
	users := "users match"
	if n == 1 {
		users = "user matches"
	}
	switch {
	case atLeast && n > core.MaxMatchCount:
		return "more than " + thousands(core.MaxMatchCount) + " users match"
	case atLeast:
		return "at least " + thousands(n) + " " + users
	}
	return thousands(n) + " " + users
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
