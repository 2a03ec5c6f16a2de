package tui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// menuItem is one entry of the top menu.
type menuItem struct {
	label  string
	to     screenID
	logout bool
}

// menuItems are the entries the session may use: administrators see the
// account, users and audit pages; a forced set-up sees only set-up and Log out.
func (m *model) menuItems() []menuItem {
	switch m.c.sess.Stage() {
	case core.StageSetupMFA:
		return []menuItem{{label: "MFA setup", to: scrSetup}, {label: "Log out", logout: true}}
	case core.StageSignedIn:
	default:
		return nil
	}
	items := []menuItem{{label: "My MFA", to: scrMyMFA}}
	if m.c.sess.IsAdmin() {
		items = append(items, menuItem{label: "Account", to: scrAccount}, menuItem{label: "Users", to: scrUsers},
			menuItem{label: "Audit", to: scrAudit})
	}
	return append(items, menuItem{label: "Log out", logout: true})
}

func (m *model) hasMenu() bool { return len(m.menuItems()) > 0 }

// activeItem is the menu entry of the current screen.
func (m *model) activeItem() int {
	cur := m.cur
	switch cur {
	case scrSetup:
		if m.c.sess.Stage() == core.StageSignedIn {
			cur = scrMyMFA
		}
	case scrUser, scrAddUser:
		cur = scrUsers
	case scrPassword:
		cur = scrMyMFA
	}
	for i, it := range m.menuItems() {
		if !it.logout && it.to == cur {
			return i
		}
	}
	return 0
}

// focusMenu moves the focus from the screen to the top menu.
func (m *model) focusMenu() {
	m.scr.Blur()
	m.menuFocus = true
	m.menuSel = m.activeItem()
}

// menuKey handles keys while the top menu has the focus: ← and → choose,
// Enter opens, Tab, Shift+Tab, Esc and ↓ go back into the page.
func (m *model) menuKey(msg tea.KeyMsg) tea.Cmd {
	k := m.c.keys
	items := m.menuItems()
	if len(items) == 0 {
		m.menuFocus = false
		return nil
	}
	m.menuSel = min(max(m.menuSel, 0), len(items)-1)
	switch {
	case key.Matches(msg, k.Left):
		m.menuSel = (m.menuSel + len(items) - 1) % len(items)
	case key.Matches(msg, k.Right):
		m.menuSel = (m.menuSel + 1) % len(items)
	case key.Matches(msg, k.Home):
		m.menuSel = 0
	case key.Matches(msg, k.End):
		m.menuSel = len(items) - 1
	case key.Matches(msg, k.Enter):
		it := items[m.menuSel]
		m.menuFocus = false
		if it.logout {
			return func() tea.Msg { return logoutMsg{} }
		}
		return m.navigate(it.to, 0, true)
	case key.Matches(msg, k.Next), key.Matches(msg, k.Back), key.Matches(msg, k.Down):
		m.menuFocus = false
		m.scr.Enter(true)
	case key.Matches(msg, k.Prev):
		m.menuFocus = false
		m.scr.Enter(false)
	case key.Matches(msg, k.Help):
		m.fullHelp = !m.fullHelp
	}
	return nil
}

// barView is the top line: the menu once signed in, the product's name before.
func (m *model) barView() string {
	st := m.c.st
	items := m.menuItems()
	if len(items) == 0 {
		return st.Title.Render("smartmfa") + st.Hint.Render(" · multi-factor authentication")
	}
	active := m.activeItem()
	var b strings.Builder
	for i, it := range items {
		label := " " + it.label + " "
		switch {
		case m.menuFocus && i == m.menuSel:
			if st.Plain {
				label = ">" + it.label + "<"
			}
			b.WriteString(st.BarFocused.Render(label))
		case i == active:
			if st.Plain {
				label = "[" + it.label + "]"
			}
			b.WriteString(st.BarActive.Render(label))
		default:
			b.WriteString(st.BarItem.Render(label))
		}
		if i < len(items)-1 {
			b.WriteString(st.Hint.Render("│"))
		}
	}
	left := b.String()
	user := clean(m.c.sess.Username(), 32)
	if m.c.sess.IsAdmin() {
		user += " (admin)"
	}
	gap := m.c.width - ansi.StringWidth(left) - ansi.StringWidth(user) - 1
	if gap < 2 {
		return left
	}
	return left + strings.Repeat(" ", gap) + st.BarUser.Render(user)
}

// flashView is the line under the menu: the last confirmation or error.
func (m *model) flashView() string {
	if m.flash.text == "" {
		return ""
	}
	if m.flash.err {
		return m.c.st.FlashErr.Render(m.flash.text)
	}
	return m.c.st.FlashOK.Render(m.flash.text)
}

// footerView is the help: the screen's keys and the global ones, or all of
// them with ?.
func (m *model) footerView() string {
	k := m.c.keys
	var short []key.Binding
	var full [][]key.Binding
	if m.menuFocus {
		short = []key.Binding{with(k.Left, "←/→", "choose"), with(k.Enter, "enter", "open"), with(k.Next, "tab", "to the page")}
		full = [][]key.Binding{short}
	} else {
		short = m.scr.ShortHelp()
		full = m.scr.FullHelp()
	}
	global := []key.Binding{with(k.Next, "tab", "next")}
	if m.hasMenu() {
		global = append(global, with(k.Back, "esc", "back/menu"))
	}
	helpKey := k.Help
	helpKey.SetEnabled(!m.scr.Typing() || m.menuFocus)
	if m.fullHelp {
		helpKey.SetHelp("?", "less")
	}
	global = append(global, helpKey, k.Quit)
	if m.fullHelp {
		return m.help.FullHelpView(append(full, withoutKeys(global, slices.Concat(full...))))
	}
	return m.help.ShortHelpView(append(short, withoutKeys(global, short)...))
}

// withoutKeys drops the bindings whose keys the screen already describes, so
// that Esc is not listed as both "cancel" and "back/menu".
func withoutKeys(global, screen []key.Binding) []key.Binding {
	taken := map[string]bool{}
	for _, b := range screen {
		if b.Enabled() {
			for _, k := range b.Keys() {
				taken[k] = true
			}
		}
	}
	return slices.DeleteFunc(global, func(b key.Binding) bool {
		return slices.ContainsFunc(b.Keys(), func(k string) bool { return taken[k] })
	})
}
