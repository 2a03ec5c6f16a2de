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
// Enter opens, Tab, Shift+Tab and ↓ go back into the page. Esc stays: it
// brought the focus here, and pressed twice must not land in a form.
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
	case key.Matches(msg, k.Next), key.Matches(msg, k.Down):
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
	// Who is signed in, and where: the account's name goes first when the
	// window is narrow, then the user's.
	who := clean(m.c.sess.Username(), 32)
	if m.c.sess.Role() == core.RoleAdmin { // also during a forced set-up
		who += " (admin)"
	}
	for _, user := range []string{who + " · " + clean(m.c.sess.AccountName(), 32), who} {
		if gap := m.c.width - ansi.StringWidth(left) - ansi.StringWidth(user) - 1; gap >= 2 {
			return left + strings.Repeat(" ", gap) + st.BarUser.Render(user)
		}
	}
	return left
}

// shortFooter is the help line: the screen's keys and the global ones.
func (m *model) shortFooter() string {
	short, _, global := m.helpKeys()
	return m.help.ShortHelpView(append(short, withoutKeys(global, short)...))
}

// fullFooter is every key of the screen and the global ones, shown with ?.
func (m *model) fullFooter() string {
	_, full, global := m.helpKeys()
	return m.help.FullHelpView(append(full, withoutKeys(global, slices.Concat(full...))))
}

// helpKeys are the screen's keys, short and full, and the global ones.
func (m *model) helpKeys() (short []key.Binding, full [][]key.Binding, global []key.Binding) {
	k := m.c.keys
	if m.leave != nil {
		short = []key.Binding{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "leave without saving")),
			key.NewBinding(key.WithKeys("n"), key.WithHelp("n/esc", "stay"))}
		return short, [][]key.Binding{short}, []key.Binding{k.Quit}
	}
	if m.menuFocus {
		short = []key.Binding{with(k.Left, "←/→", "choose"), with(k.Enter, "enter", "open"), with(k.Next, "tab", "to the page")}
		full = [][]key.Binding{short}
	} else {
		short = m.scr.ShortHelp()
		full = m.scr.FullHelp()
	}
	global = []key.Binding{with(k.Next, "tab", "next")}
	if m.hasMenu() && !m.menuFocus {
		global = append(global, with(k.Back, "esc", "back/menu"))
	}
	helpKey := k.Help
	helpKey.SetEnabled(!m.scr.Typing() || m.menuFocus)
	if m.fullHelp {
		helpKey.SetHelp("?", "less")
	}
	return short, full, append(global, helpKey, k.Quit)
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
