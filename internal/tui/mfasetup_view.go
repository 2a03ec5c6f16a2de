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
	if s.showLink {
		// The link goes under everything at the page's full width, on lines
		// of its own, so that a selection copies nothing else.
		if page, ok := s.qrLayout("\n\n" + s.linkView(s.w)); ok {
			return page
		}
		if _, ok := s.qrLayout(""); ok {
			return s.textView(s.w, textLinkForQR) // the link in the QR code's place
		}
	} else if page, ok := s.qrLayout(""); ok {
		return page
	}
	if len(s.qr) > 0 {
		return s.textView(s.w, textQRTooBig)
	}
	return s.textView(s.w, textBesideQR)
}

// qrLayout is the page with the QR code and its text, and then below, if
// it fits the window; false if it does not.
func (s *setup) qrLayout(below string) (string, bool) {
	qrH := len(s.qr)
	if qrH == 0 {
		return "", false
	}
	qrW := ansi.StringWidth(s.qr[0])
	// Beside the QR code: the text needs keyWidth columns.
	if rw := s.w - qrW - 2; rw >= keyWidth && s.h >= qrH {
		page := lipgloss.JoinHorizontal(lipgloss.Top, s.qrView(), "  ", s.textView(rw, textBesideQR)) + below
		if lineCount(page) <= s.h {
			return page, true
		}
	}
	// Under it, in a narrow but tall window.
	if s.w >= max(qrW, keyWidth) {
		page := s.qrView() + "\n\n" + s.textView(s.w, textBesideQR) + below
		if lineCount(page) <= s.h {
			return page, true
		}
	}
	return "", false
}

// linkView is the otpauth URI under its label, in lines of at most w
// columns that start at the left edge and hold nothing else.
func (s *setup) linkView(w int) string {
	st := s.c.st
	w = max(10, w)
	lines := uriLines(clean(s.en.URI, 0), w)
	for i, l := range lines {
		lines[i] = st.Key.Render(l)
	}
	return st.Hint.Render(wrap("Setup link (otpauth URI), for desktop authenticators and password managers", w)) + "\n" +
		strings.Join(lines, "\n")
}

// uriLines cuts a URI into lines of at most w columns. It has no spaces to
// wrap at: lines break before its query's ? and &, so that each parameter
// reads whole, and a part longer than a line is cut where the line ends.
func uriLines(uri string, w int) []string {
	var parts []string
	for len(uri) > 0 {
		i := strings.IndexAny(uri[1:], "?&") + 1
		if i == 0 {
			i = len(uri)
		}
		parts = append(parts, uri[:i])
		uri = uri[i:]
	}
	var lines []string
	line := ""
	for _, p := range parts {
		if ansi.StringWidth(line+p) > w && line != "" {
			lines = append(lines, line)
			line = ""
		}
		line += p
		for ansi.StringWidth(line) > w {
			lines = append(lines, ansi.Truncate(line, w, ""))
			line = ansi.TruncateLeft(line, w, "")
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
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
	return qrW + 2 + keyWidth, max(qrH, lineCount(s.textView(keyWidth, textBesideQR))) + chrome
}

// textMode is where the set-up text stands and what it says in place of
// the scan instructions.
type textMode int

const (
	textBesideQR  textMode = iota // beside or under the QR code: scan it
	textQRTooBig                  // the QR code does not fit: the size it needs
	textLinkForQR                 // the link, shown, took the QR code's place
)

// textView is everything but the QR code, w columns wide. Without the QR
// code (every mode but textBesideQR) it holds the link when it is shown.
func (s *setup) textView(w int, mode textMode) string {
	st := s.c.st
	w = max(10, w)
	var b strings.Builder
	b.WriteString(st.Title.Render("Set up multi-factor authentication") + "\n\n")
	switch mode {
	case textQRTooBig:
		needW, needH := s.needSize()
		b.WriteString(st.Error.Render(wrap(sizeNotice("The QR code does not fit", needW, needH, s.c.width, s.c.height), w)) + "\n")
		b.WriteString(wrap("Enlarge the window, or add the account to your authenticator app by hand:", w) + "\n\n")
	case textLinkForQR:
		b.WriteString(wrap("Copy the setup link into a desktop authenticator or password manager, or add the account by hand. "+
			"Hide the link to see the QR code again.", w) + "\n\n")
	default:
		b.WriteString(wrap("Install Google Authenticator or any TOTP app, tap + and scan the QR code, or add the account by hand:", w) + "\n\n")
	}
	b.WriteString(st.Hint.Render("Account") + "\n")
	b.WriteString(st.Value.Render(wrap(clean(s.en.Account, 0), w)) + "\n")
	b.WriteString(st.Hint.Render("Setup key (time based)") + "\n")
	b.WriteString(st.Key.Render(wrap(s.en.SetupKey, w)) + "\n\n")
	if s.showLink && (mode != textBesideQR || len(s.qr) == 0) {
		b.WriteString(s.linkView(w) + "\n\n")
	}
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
