package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are every style the console draws with, built from one program's
// renderer: an SSH session gets its own colour profile, never the process's.
// Colours are the 16 ANSI colours, which terminal themes adapt to their
// background, so the console reads on light and dark themes alike; with
// NO_COLOR (the Ascii profile) nothing is coloured and focus is shown by
// characters instead.
type Styles struct {
	r     *lipgloss.Renderer
	Plain bool // no colours and no attributes: focus must show in characters
	// DarkBackground is the terminal's theme, read only where colours are
	// off: the QR code's glyphs must then follow it.
	DarkBackground bool

	Bar, BarItem, BarActive, BarFocused, BarUser lipgloss.Style
	FlashOK, FlashErr                            lipgloss.Style
	Title, Label, LabelFocused, Hint, Error, Ok  lipgloss.Style
	Button, ButtonFocused                        lipgloss.Style
	Value, Key                                   lipgloss.Style
	Header, Row, RowSelected                     lipgloss.Style
	InputText, InputPlaceholder, Cursor          lipgloss.Style
	// QR draws the code dark on light whatever the terminal's theme.
	QR   lipgloss.Style
	Help help.Styles
}

// NewStyles builds the styles for one program.
func NewStyles(r *lipgloss.Renderer) *Styles {
	plain := r.ColorProfile() == termenv.Ascii
	s := &Styles{r: r, Plain: plain}
	if plain {
		s.DarkBackground = r.HasDarkBackground()
	}
	red, green, blue, gray := lipgloss.Color("1"), lipgloss.Color("2"), lipgloss.Color("4"), lipgloss.Color("8")

	s.Bar = r.NewStyle()
	s.BarItem = r.NewStyle()
	s.BarActive = r.NewStyle().Bold(true).Underline(true)
	s.BarFocused = r.NewStyle().Reverse(true).Bold(true)
	s.BarUser = r.NewStyle().Faint(true)

	s.FlashOK = r.NewStyle().Foreground(green).Bold(true)
	s.FlashErr = r.NewStyle().Foreground(red).Bold(true)

	s.Title = r.NewStyle().Bold(true).Foreground(blue)
	s.Label = r.NewStyle()
	s.LabelFocused = r.NewStyle().Bold(true)
	s.Hint = r.NewStyle().Foreground(gray)
	s.Error = r.NewStyle().Foreground(red)
	s.Ok = r.NewStyle().Foreground(green)
	s.Button = r.NewStyle()
	s.ButtonFocused = r.NewStyle().Reverse(true).Bold(true)
	s.Value = r.NewStyle().Bold(true)
	s.Key = r.NewStyle().Bold(true)

	s.Header = r.NewStyle().Bold(true).Underline(true)
	s.Row = r.NewStyle()
	s.RowSelected = r.NewStyle().Reverse(true)

	s.InputText = r.NewStyle()
	s.InputPlaceholder = r.NewStyle().Foreground(gray)
	s.Cursor = r.NewStyle()
	if plain {
		// The cursor is drawn reversed, which the Ascii profile drops: show a
		// block instead where the cursor sits after the text.
		s.Cursor = r.NewStyle().Transform(func(c string) string {
			if c == " " {
				return "█"
			}
			return c
		})
	}

	// Black on bright white: ANSI 0 and 15 stay dark and light in every
	// common theme; truecolor terminals get exact black and white.
	s.QR = r.NewStyle().Foreground(lipgloss.CompleteColor{TrueColor: "#000000", ANSI256: "16", ANSI: "0"}).
		Background(lipgloss.CompleteColor{TrueColor: "#FFFFFF", ANSI256: "231", ANSI: "15"})

	keyStyle := r.NewStyle().Bold(true)
	descStyle := r.NewStyle().Foreground(gray)
	sepStyle := r.NewStyle().Foreground(gray)
	s.Help = help.Styles{
		Ellipsis:       sepStyle,
		ShortKey:       keyStyle,
		ShortDesc:      descStyle,
		ShortSeparator: sepStyle,
		FullKey:        keyStyle,
		FullDesc:       descStyle,
		FullSeparator:  sepStyle,
	}
	return s
}

// SetTerminal sets a renderer's colour profile and background from its
// terminal's environment (getenv: the process's for the local console, the
// SSH session's for serve), without asking the terminal anything.
//
// The profile is termenv's (TERM, COLORTERM, NO_COLOR, CLICOLOR), with two
// corrections. termenv finds colours in TERM only by the words "color",
// "256color" and "ansi", so it takes screen and tmux, GNU screen's and
// tmux's TERM ("screen" is tmux's default before 3.3, and after it where
// tmux was built without a tmux terminfo entry), for terminals without
// colours or attributes: no bold, no reverse, focus drawn in brackets. Both
// draw the 16 ANSI colours and bold: they get ANSI. An empty TERM or dumb
// is Ascii whatever COLORTERM says. The background is COLORFGBG's
// (DarkBackground): without colours the QR code's glyphs follow it.
func SetTerminal(r *lipgloss.Renderer, getenv func(string) string) {
	term := getenv("TERM")
	switch {
	case term == "" || term == "dumb":
		r.SetColorProfile(termenv.Ascii)
	case r.ColorProfile() == termenv.Ascii && multiplexer(term) && !r.Output().EnvNoColor():
		r.SetColorProfile(termenv.ANSI)
	}
	r.SetHasDarkBackground(DarkBackground(getenv("COLORFGBG")))
}

// multiplexer reports whether TERM names GNU screen or tmux, or a terminal
// declared through them ("screen.xterm-256color", "tmux-direct").
func multiplexer(term string) bool {
	return term == "screen" || term == "tmux" || strings.HasPrefix(term, "screen.") || strings.HasPrefix(term, "screen-") ||
		strings.HasPrefix(term, "tmux-") || strings.HasPrefix(term, "tmux.")
}

// DarkBackground reads COLORFGBG ("15;0": light text on colour 0), which
// rxvt, Konsole and others set; without it the terminal is taken as dark, the
// common case. Callers set it on their renderer instead of asking the
// terminal. Without colours it decides which way round the QR code's glyphs go.
func DarkBackground(colorfgbg string) bool {
	parts := strings.Split(colorfgbg, ";")
	bg, err := strconv.Atoi(parts[len(parts)-1])
	if colorfgbg == "" || err != nil {
		return true
	}
	return bg < 7 || bg == 8
}
