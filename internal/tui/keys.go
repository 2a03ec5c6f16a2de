package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the console knows, one per program (bindings carry
// their enabled state, so they are never shared between programs).
type keyMap struct {
	Next, Prev     key.Binding // move focus
	Enter          key.Binding // activate the focused button, submit a form
	Back           key.Binding // leave a dialog or page; to the top menu
	Toggle         key.Binding // flip a checkbox or choice
	Up, Down       key.Binding // move in a list
	PageUp, PageDn key.Binding
	Home, End      key.Binding
	Left, Right    key.Binding // move in the top menu, change a choice
	Help           key.Binding
	Quit           key.Binding
	InvertQR       key.Binding
	SetupLink      key.Binding // on MFA set-up: show or hide the otpauth URI
	RemoveMFA      key.Binding // on a user's page
}

func newKeyMap() keyMap {
	return keyMap{
		Next:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next")),
		Prev:     key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous")),
		Enter:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "activate")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Toggle:   key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "toggle")),
		Up:       key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up")),
		Down:     key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "previous page")),
		PageDn:   key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "next page")),
		Home:     key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first")),
		End:      key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "last")),
		Left:     key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "left")),
		Right:    key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "right")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Quit:     key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		InvertQR: key.NewBinding(key.WithKeys("ctrl+t"), key.WithHelp("ctrl+t", "invert QR")),
		// Control keys, so that they work while a field has the focus. ctrl+l
		// ("link") is free: the code field's own keys are ctrl+a b d e f h k
		// n p u w, and ctrl+h i j m [ s q z are backspace, tab, enter, esc,
		// flow control and suspend on some terminals.
		SetupLink: key.NewBinding(key.WithKeys("ctrl+l"), key.WithHelp("ctrl+l", "show link")),
		RemoveMFA: key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "remove MFA")),
	}
}

// with returns b with its help text changed, for a screen that gives a
// key its own meaning ("enter" is "log in" on the login page).
func with(b key.Binding, keyHelp, desc string) key.Binding {
	b.SetHelp(keyHelp, desc)
	return b
}
