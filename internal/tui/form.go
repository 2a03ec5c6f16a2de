package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// ctrlKind is what a form control is.
type ctrlKind int

const (
	ctrlText   ctrlKind = iota
	ctrlButton          // Enter activates
	ctrlCheck           // Space (or Enter) toggles
	ctrlChoice          // Space, Enter, ← and → cycle
	ctrlArea            // a list the screen draws and drives itself
)

// control is one focusable thing on a screen.
type control struct {
	kind    ctrlKind
	label   string
	input   *textinput.Model // text fields only
	checked bool
	choices []string
	choice  int
	err     string // shown under a text field
	hidden  bool   // neither drawn nor focused
}

// coreField is the name core's input errors give this text field: its label
// in lower case ("account name", "username", "name"), and "password" for every
// password field ("New password", "Repeat").
func (c *control) coreField() string {
	if c.input.EchoMode == textinput.EchoPassword {
		return "password"
	}
	return strings.ToLower(c.label)
}

// form is a screen's focus ring: text fields, buttons, checkboxes and
// choices in Tab order. Moving past either end leaves the form, so that the
// root can put the focus on the top menu.
type form struct {
	c     *Common
	ctrls []*control
	focus int // index into ctrls, -1 when nothing has focus
	width int // of the screen, for messages under fields
	// inputW is the text fields' width, set by fitInputs when the screen
	// is sized, read by its View.
	inputW int
}

func newForm(c *Common) *form { return &form{c: c, focus: -1} }

// text adds a field for at most limit characters. The field itself takes one
// more, so that a longer paste is not cut silently: core refuses it and says
// what the limit is, and nothing is stored.
func (f *form) text(label, placeholder string, limit int, password bool) int {
	f.ctrls = append(f.ctrls, &control{kind: ctrlText, label: label, input: f.c.newInput(placeholder, limit+1, password)})
	return len(f.ctrls) - 1
}

func (f *form) button(label string) int {
	f.ctrls = append(f.ctrls, &control{kind: ctrlButton, label: label})
	return len(f.ctrls) - 1
}

func (f *form) check(label string, on bool) int {
	f.ctrls = append(f.ctrls, &control{kind: ctrlCheck, label: label, checked: on})
	return len(f.ctrls) - 1
}

func (f *form) choice(label string, choices ...string) int {
	f.ctrls = append(f.ctrls, &control{kind: ctrlChoice, label: label, choices: choices})
	return len(f.ctrls) - 1
}

func (f *form) area(label string) int {
	f.ctrls = append(f.ctrls, &control{kind: ctrlArea, label: label})
	return len(f.ctrls) - 1
}

func (f *form) get(i int) *control { return f.ctrls[i] }

func (f *form) value(i int) string { return f.ctrls[i].input.Value() }

func (f *form) setValue(i int, v string) { f.ctrls[i].input.SetValue(v) }

// focused is the index of the focused control, -1 for none.
func (f *form) focused() int { return f.focus }

func (f *form) isFocused(i int) bool { return f.focus == i }

// typing reports whether a text field has the focus: then every printable
// key belongs to it.
func (f *form) typing() bool {
	return f.focus >= 0 && f.ctrls[f.focus].kind == ctrlText
}

// setFocus focuses control i (blurring the others); -1 blurs all.
func (f *form) setFocus(i int) {
	for j, c := range f.ctrls {
		if c.kind == ctrlText {
			if j == i {
				c.input.Focus()
			} else {
				c.input.Blur()
			}
		}
	}
	f.focus = i
}

// move steps the focus by +1 or -1 over visible controls. It returns false,
// with nothing focused, when the step leaves the form.
func (f *form) move(step int) bool {
	for i := f.focus + step; i >= 0 && i < len(f.ctrls); i += step {
		if !f.ctrls[i].hidden {
			f.setFocus(i)
			return true
		}
	}
	f.setFocus(-1)
	return false
}

// enter focuses the first (or last) visible control; false if there is none.
func (f *form) enter(first bool) bool {
	if first {
		f.focus = -1
		return f.move(1)
	}
	f.focus = len(f.ctrls)
	return f.move(-1)
}

// ensureFocus keeps the focus on a visible control after controls were
// hidden, or focuses the first when none has it.
func (f *form) ensureFocus() {
	if f.focus >= 0 && f.focus < len(f.ctrls) && !f.ctrls[f.focus].hidden {
		return
	}
	f.enter(true)
}

// fitInputs sizes the text fields to a screen w columns wide: 40 columns
// at most and 8 at least, leaving reserved for the labels and margins.
func (f *form) fitInputs(w, reserved int) {
	f.inputW = min(40, max(8, w-reserved))
	f.setInputWidth(f.inputW)
}

// inputWidth is the text fields' width, as fitInputs set it.
func (f *form) inputWidth() int { return max(8, f.inputW) }

// setInputWidth sizes every text field to w columns, cursor included.
func (f *form) setInputWidth(w int) {
	for _, c := range f.ctrls {
		if c.kind == ctrlText && c.input.Width != max(1, w-1) {
			c.input.Width = max(1, w-1)
			pos := c.input.Position()
			c.input.SetValue(c.input.Value()) // recomputes the visible part
			c.input.SetCursor(pos)
		}
	}
}

// formEvent says what a key did to the form.
type formEvent int

const (
	evNone    formEvent = iota
	evSubmit            // Enter in a text field: the screen's main action
	evPress             // Enter on a button
	evChanged           // a text field, checkbox or choice changed
)

// update handles a key for the focused control and says what happened.
func (f *form) update(msg tea.KeyMsg) (formEvent, tea.Cmd) {
	if f.focus < 0 {
		return evNone, nil
	}
	c := f.ctrls[f.focus]
	k := f.c.keys
	switch c.kind {
	case ctrlText:
		if key.Matches(msg, k.Enter) {
			return evSubmit, nil
		}
		// The input would drop control characters from a paste (and turn tabs
		// and newlines into spaces) and keep the rest: refuse the whole
		// paste instead, with the sentence core gives on submit.
		if msg.Type == tea.KeyRunes {
			if err := core.CheckControlChars(c.coreField(), string(msg.Runes)); err != nil {
				_, c.err, _ = fieldError(err)
				return evNone, nil
			}
		}
		before := c.input.Value()
		var cmd tea.Cmd
		*c.input, cmd = c.input.Update(msg)
		if c.input.Value() != before {
			c.err = ""
			return evChanged, cmd
		}
		return evNone, cmd
	case ctrlButton:
		if key.Matches(msg, k.Enter) {
			return evPress, nil
		}
	case ctrlCheck:
		if key.Matches(msg, k.Toggle, k.Enter) {
			c.checked = !c.checked
			return evChanged, nil
		}
	case ctrlChoice:
		n := len(c.choices)
		switch {
		case n == 0:
		case key.Matches(msg, k.Toggle, k.Enter, k.Right):
			c.choice = (c.choice + 1) % n
			return evChanged, nil
		case key.Matches(msg, k.Left):
			c.choice = (c.choice + n - 1) % n
			return evChanged, nil
		}
	}
	return evNone, nil
}

// samePasswords checks that a password was typed the same twice; when not,
// it says so under the second field, empties it and puts the focus there.
func (f *form) samePasswords(pass, again int) bool {
	if f.value(pass) == f.value(again) {
		return true
	}
	f.get(again).err = "The two passwords do not match."
	f.setValue(again, "")
	f.setFocus(again)
	return false
}

// retypePasswords empties a password typed twice after core refused it, and
// says why under the first field, which gets the focus.
func (f *form) retypePasswords(pass, again int, why string) {
	f.setValue(pass, "")
	f.setValue(again, "")
	f.get(pass).err = why
	f.setFocus(pass)
}

// clearErrors removes every message under the fields.
func (f *form) clearErrors() {
	for _, c := range f.ctrls {
		c.err = ""
	}
}

// gutter marks the focused row with a character, visible without colour,
// and with focusMark for the root's scrolling.
func (f *form) gutter(i int) string {
	if f.focus == i {
		return focusMark + "> "
	}
	return "  "
}

// fieldView draws a labelled text field with its error under it:
// "> Label     value".
func (f *form) fieldView(i, labelWidth, inputWidth int) string {
	return f.fieldViewIn(i, labelWidth, inputWidth, f.width)
}

// fieldViewIn is fieldView in a column of width columns.
func (f *form) fieldViewIn(i, labelWidth, inputWidth, width int) string {
	c := f.ctrls[i]
	st := f.c.st
	label := st.Label
	if f.focus == i {
		label = st.LabelFocused
	}
	line := f.gutter(i) + label.Render(padRight(c.label, labelWidth)) + " " + c.input.View()
	if c.err != "" {
		indent := strings.Repeat(" ", 2+labelWidth+1)
		line += "\n" + indentLines(st.Error.Render(wrap(c.err, max(10, inputWidth, width-len(indent)-1))), indent)
	}
	return line
}

// buttonView draws a button; the focused one is bracketed differently so it
// shows without colour too.
func (f *form) buttonView(i int) string {
	c := f.ctrls[i]
	if f.focus == i {
		return focusMark + f.c.st.ButtonFocused.Render("[>"+c.label+"<]")
	}
	return f.c.st.Button.Render("[ " + c.label + " ]")
}

// buttonsView draws several buttons on one line.
func (f *form) buttonsView(ids ...int) string {
	var parts []string
	for _, i := range ids {
		if !f.ctrls[i].hidden {
			parts = append(parts, f.buttonView(i))
		}
	}
	return "  " + strings.Join(parts, "  ")
}

// checkView draws "> [x] label".
func (f *form) checkView(i int) string {
	c := f.ctrls[i]
	box := "[ ]"
	if c.checked {
		box = "[x]"
	}
	label := f.c.st.Label
	if f.focus == i {
		label = f.c.st.LabelFocused
	}
	return f.gutter(i) + box + " " + label.Render(c.label)
}

// choiceView draws "> Label  ‹ value ›".
func (f *form) choiceView(i, labelWidth int) string {
	c := f.ctrls[i]
	label := f.c.st.Label
	if f.focus == i {
		label = f.c.st.LabelFocused
	}
	v := ""
	if len(c.choices) > 0 {
		v = c.choices[c.choice]
	}
	return f.gutter(i) + label.Render(padRight(c.label, labelWidth)) + " ‹ " + f.c.st.Value.Render(v) + " ›"
}

// indentLines prefixes every line of s.
func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
