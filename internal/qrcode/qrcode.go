// Package qrcode draws QR codes as lines of half-block characters, two
// modules to a character cell, for a terminal: the console's MFA set-up and
// the QR that `smartmfa pam-enrol` prints into sshd's code prompt. It knows
// nothing of smartmfa but text in, lines out.
package qrcode

import (
	"strings"
	"unicode/utf8"

	"github.com/mdp/qrterminal/v3"
)

// MaxText bounds what is drawn as a QR code: far above any otpauth URI
// core builds, far below what QR holds at level L (qrterminal cannot report
// an overflow and would panic).
const MaxText = 1000

// HalfBlocks draws text as a QR code of half blocks, level L, with a quiet
// zone of one module: two modules per character cell, stacked. It returns
// nil for empty text or text longer than MaxText.
//
// qrterminal draws the light modules as ink (its glyphs are meant for light
// text on a dark terminal). With inkDark the glyphs are swapped so that ink
// is a dark module: what a block styled dark on light needs, and what a
// plain light-themed terminal shows right. Without it, a plain dark-themed
// terminal shows it right. Every row has the same width.
func HalfBlocks(text string, inkDark bool) []string {
	if text == "" || len(text) > MaxText {
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
