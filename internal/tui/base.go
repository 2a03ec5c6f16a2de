package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// base is what most screens share: the Common, one form as the focus ring,
// and the size the root gave them.
type base struct {
	c    *Common
	f    *form
	w, h int
	busy bool // a core call is running: its button does not fire twice
	// active is whether the screen, not the top menu, has the focus: a
	// screen that is still loading gets it once its controls show.
	active bool
}

func newBase(c *Common) base { return base{c: c, f: newForm(c)} }

func (b *base) SetSize(w, h int) {
	b.w, b.h = max(0, w), max(0, h)
	b.f.width = b.w
}

func (b *base) Focus(step int) bool {
	b.active = b.f.move(step)
	return b.active
}

func (b *base) Enter(first bool) bool {
	b.active = true
	return b.f.enter(first)
}

func (b *base) Blur() {
	b.active = false
	b.f.setFocus(-1)
}

// refocus puts the focus back on a visible control after controls were
// shown or hidden, unless the top menu has it.
func (b *base) refocus() {
	if b.active {
		b.f.ensureFocus()
	}
}

func (b *base) Typing() bool             { return b.f.typing() }
func (b *base) Back() (tea.Cmd, bool)    { return nil, false }
func (b *base) Init() tea.Cmd            { return nil }
func (b *base) ShortHelp() []key.Binding { return b.formHelp() }

func (b *base) FullHelp() [][]key.Binding {
	k := b.c.keys
	return [][]key.Binding{b.formHelp(), {k.Next, k.Prev, with(k.Back, "esc", "back or to the menu")}}
}

// formHelp names what Enter or Space does on the focused control.
func (b *base) formHelp() []key.Binding {
	k := b.c.keys
	i := b.f.focused()
	if i < 0 {
		return nil
	}
	c := b.f.get(i)
	switch c.kind {
	case ctrlButton:
		return []key.Binding{with(k.Enter, "enter", lowerFirst(c.label))}
	case ctrlCheck:
		return []key.Binding{with(k.Toggle, "space", "toggle")}
	case ctrlChoice:
		return []key.Binding{with(k.Toggle, "space/←/→", "change")}
	}
	return nil
}

// lowerFirst makes a button label read as an action in the help line.
func lowerFirst(s string) string {
	if s == "" || len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s // an acronym such as MFA
	}
	return string(s[0]|0x20) + s[1:]
}
