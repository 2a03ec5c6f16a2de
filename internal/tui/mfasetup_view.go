package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// keyWidth is the width of a setup key in groups of four: 32 base32
// characters and 7 spaces. The text beside the QR code needs that much.
const keyWidth = 39

func (s *setup) View() string {
	st := s.c.st
	if s.codes != nil {
		return s.codesView()
	}
	if !s.loaded {
		status := "Preparing…"
		if s.failed {
			status = "Set-up could not start. Log out and in again, or try later."
		}
		return "  " + st.Title.Render("Set up multi-factor authentication") + "\n\n  " + st.Hint.Render(status)
	}
	qrW, qrH := 0, len(s.qr)
	if qrH > 0 {
		qrW = ansi.StringWidth(s.qr[0])
	}
	// Beside the QR code: the text needs keyWidth columns.
	if rw := s.w - qrW - 2; qrH > 0 && rw >= keyWidth && s.h >= qrH {
		text := s.textView(rw, false)
		if lineCount(text) <= s.h {
			return lipgloss.JoinHorizontal(lipgloss.Top, s.qrView(), "  ", text)
		}
	}
	// Under it, in a narrow but tall window.
	if qrH > 0 && s.w >= max(qrW, keyWidth) {
		text := s.textView(s.w, false)
		if qrH+1+lineCount(text) <= s.h {
			return s.qrView() + "\n\n" + text
		}
	}
	return s.textView(s.w, qrH > 0)
}

// qrView is the QR code: dark on an explicit light background wherever
// colours are on, so that it scans on dark and light themes alike.
func (s *setup) qrView() string {
	block := strings.Join(s.qr, "\n")
	if s.c.st.Plain {
		return block
	}
	return s.c.st.QR.Render(block)
}

// needSize is the window the QR code and its text need.
func (s *setup) needSize() (int, int) {
	qrW, qrH := ansi.StringWidth(s.qr[0]), len(s.qr)
	chrome := max(0, s.c.height-s.h) // menu, flash line and help
	return qrW + 2 + keyWidth, max(qrH, lineCount(s.textView(keyWidth, false))) + chrome
}

// textView is everything but the QR code, w columns wide. noQR replaces the
// scan instructions with the size the QR code needs.
func (s *setup) textView(w int, noQR bool) string {
	st := s.c.st
	w = max(10, w)
	var b strings.Builder
	b.WriteString(st.Title.Render("Set up multi-factor authentication") + "\n\n")
	if noQR {
		needW, needH := s.needSize()
		b.WriteString(st.Error.Render(wrap(sizeNotice("The QR code does not fit", needW, needH, s.c.width, s.c.height), w)) + "\n")
		b.WriteString(wrap("Enlarge the window, or add the account to your authenticator app by hand:", w) + "\n\n")
	} else {
		b.WriteString(wrap("Install Google Authenticator or any TOTP app, tap + and scan the QR code, or add the account by hand:", w) + "\n\n")
	}
	b.WriteString(st.Hint.Render("Account") + "\n")
	b.WriteString(st.Value.Render(wrap(clean(s.en.Account, 0), w)) + "\n")
	b.WriteString(st.Hint.Render("Setup key (time based)") + "\n")
	b.WriteString(st.Key.Render(wrap(s.en.SetupKey, w)) + "\n\n")
	b.WriteString(wrap("Then enter the code the app shows:", w) + "\n")
	b.WriteString(s.f.fieldViewIn(s.input, 4, setupInputWidth, w) + "\n\n")
	b.WriteString(strings.TrimPrefix(s.f.buttonsView(s.submit, s.cancel, s.later), "  "))
	if s.busy {
		b.WriteString("  " + st.Hint.Render("Checking…"))
	}
	return b.String()
}

func (s *setup) codesView() string {
	st := s.c.st
	w := max(10, s.w-4)
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Recovery codes") + "\n\n")
	b.WriteString(indentLines(wrap("Write these recovery codes down or keep them in a password manager. "+
		"Each one logs you in once if you lose your phone. They are shown only now.", w), "  ") + "\n\n")
	cols := 2
	if s.w < 34 {
		cols = 1
	}
	for i := 0; i < len(s.codes); i += cols {
		row := "    "
		for j := i; j < min(i+cols, len(s.codes)); j++ {
			row += st.Key.Render(s.codes[j]) + "    "
		}
		b.WriteString(strings.TrimRight(row, " ") + "\n")
	}
	b.WriteString("\n" + s.f.buttonsView(s.done))
	return b.String()
}

// setupInputWidth is the code field's width: "123 456" and the cursor.
const setupInputWidth = 9

func (s *setup) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.setInputWidth(setupInputWidth)
}
