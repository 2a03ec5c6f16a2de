package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/mdp/qrterminal/v3"
)

// maxQRText bounds what is drawn as a QR code: far above any otpauth URI
// core builds, far below what QR holds at level L (qrterminal cannot report
// an overflow and would panic).
const maxQRText = 1000

// renderQR draws text as a QR code of half blocks, level L, with a quiet
// zone of one module: two modules per character cell, stacked.
//
// qrterminal draws the light modules as ink (its glyphs are meant for light
// text on a dark terminal). With inkDark the glyphs are swapped so that ink
// is a dark module: what a block styled dark on light needs, and what a
// plain light-themed terminal shows right. Every row has the same width.
func renderQR(text string, inkDark bool) []string {
	if text == "" || len(text) > maxQRText {
		return nil
	}
	var b strings.Builder
	cfg := qrterminal.Config{Level: qrterminal.L, Writer: &b, HalfBlocks: true, QuietZone: 1,
		BlackChar: " ", WhiteChar: "█", BlackWhiteChar: "▄", WhiteBlackChar: "▀"}
	if inkDark {
		cfg.BlackChar, cfg.WhiteChar, cfg.BlackWhiteChar, cfg.WhiteBlackChar = "█", " ", "▀", "▄"
	}
	qrterminal.GenerateWithConfig(text, cfg) // never Generate: it queries the terminal
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) == 0 {
		return nil
	}
	if inkDark {
		// An odd quiet zone starts with a row whose upper half lies outside
		// the code and is drawn "dark": as ink that would be a bar touching
		// the quiet zone. Draw it light, like the quiet zone.
		lines[0] = strings.Repeat(cfg.WhiteChar, utf8.RuneCountInString(lines[0]))
	}
	return lines
}
