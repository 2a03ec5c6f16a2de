package tui

import (
	"strings"
)

// focusMark marks the line of the focused control in a screen's view (the
// form puts it there), so that the root can keep that line in sight when the
// page is taller than the window. It is a CSI sequence no terminal acts on,
// and the root removes it before drawing.
const focusMark = "\x1b[9999m"

// flashLines is how many lines the flash line may wrap to.
const flashLines = 3

// layout gives the screen the space left by the menu, flash and footer.
func (m *model) layout() {
	w, h := m.c.width, m.c.height
	m.help.Width = w
	m.scr.SetSize(w, max(0, h-1-max(1, lineCount(m.flashView()))-lineCount(m.shortFooter())))
}

// View draws the menu, the flash line, the screen and the help footer,
// never more than the window holds. A page taller than the space scrolls to
// keep its focused control in sight; full help that would push the page off
// is drawn in its place until ? closes it.
func (m *model) View() string {
	w, h := m.c.width, m.c.height
	if w <= 0 || h <= 0 {
		return ""
	}
	if w < minWidth || h < minHeight {
		return fit(wrap(sizeNotice("The window is too small", minWidth, minHeight, w, h), w), w, h)
	}
	flash := m.flashView()
	flashH := max(1, lineCount(flash)) // an empty flash line still takes its line
	footer := m.shortFooter()
	bodyH := h - 1 - flashH - lineCount(footer)
	body := m.scr.View()
	if m.fullHelp {
		full := m.fullFooter()
		if lineCount(body)+lineCount(full) <= h-1-flashH {
			footer = full
			bodyH = h - 1 - flashH - lineCount(full)
		} else {
			body, m.scroll = full, 0 // the help in place of the page, which stays as it was
		}
	}
	parts := []string{m.barView(), flash}
	if bodyH > 0 {
		parts = append(parts, padLines(fit(m.scrolled(body, bodyH), w, bodyH), bodyH))
	}
	if footer != "" {
		parts = append(parts, footer)
	}
	return fit(strings.Join(parts, "\n"), w, h)
}

// scrolled is the part of a page that shows in h lines: from m.scroll, moved
// just enough to show the focused line and the two under it (a field's
// message, a dialog's buttons). View keeps m.scroll so that the page does not
// jump back while the focus moves within sight.
func (m *model) scrolled(page string, h int) string {
	lines := strings.Split(page, "\n")
	focus := -1
	for i, l := range lines {
		if strings.Contains(l, focusMark) {
			focus = i
			lines[i] = strings.ReplaceAll(l, focusMark, "")
		}
	}
	if len(lines) <= h {
		m.scroll = 0
		return strings.Join(lines, "\n")
	}
	if focus >= 0 {
		last := min(focus+2, len(lines)-1)
		m.scroll = min(m.scroll, focus)
		m.scroll = max(m.scroll, last-h+1)
	}
	m.scroll = min(max(m.scroll, 0), len(lines)-h)
	return strings.Join(lines[m.scroll:m.scroll+h], "\n")
}

// flashView is the lines under the menu: the last confirmation or error,
// wrapped to the window rather than cut, in at most flashLines lines. It is
// one empty line when there is nothing to say, so that pages do not move.
func (m *model) flashView() string {
	text := m.flash.text
	if m.leave != nil {
		text = "Unsaved changes on this page. Leave without saving? y: leave, n: stay"
	}
	if text == "" {
		return ""
	}
	style := m.c.st.FlashOK
	if m.flash.err || m.leave != nil {
		style = m.c.st.FlashErr
	}
	lines := strings.Split(wrap(text, max(10, m.c.width)), "\n")
	if len(lines) > flashLines {
		lines = lines[:flashLines]
		lines[flashLines-1] = padRight(lines[flashLines-1]+" …", m.c.width)
	}
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return strings.Join(lines, "\n")
}
