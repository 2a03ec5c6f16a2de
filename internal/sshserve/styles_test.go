package sshserve

import (
	"io"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/smartnumbers/smartmfa/internal/tui"
)

// TestStylesSharedPerTerminal: sessions whose terminals have the same colour
// profile and background share one set of styles, which draws as the
// session's own renderer would; other terminals get their own.
func TestStylesSharedPerTerminal(t *testing.T) {
	srv := &Server{}
	session := func(p termenv.Profile, dark bool) *lipgloss.Renderer {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(p)
		r.SetHasDarkBackground(dark)
		return r
	}
	a, b := session(termenv.ANSI256, true), session(termenv.ANSI256, true)
	if srv.stylesFor(a) != srv.stylesFor(b) {
		t.Error("two sessions with the same terminal have styles of their own")
	}
	for _, r := range []*lipgloss.Renderer{session(termenv.ANSI256, false), session(termenv.Ascii, true)} {
		if srv.stylesFor(r) == srv.stylesFor(a) {
			t.Errorf("%s, dark %v: the styles of another terminal", r.ColorProfile().Name(), r.HasDarkBackground())
		}
	}
	for _, r := range []*lipgloss.Renderer{a, session(termenv.Ascii, false), session(termenv.TrueColor, true)} {
		shared, own := srv.stylesFor(r), tui.NewStyles(r)
		if got, want := shared.Title.Render("Log in")+shared.QR.Render("▀"), own.Title.Render("Log in")+own.QR.Render("▀"); got != want {
			t.Errorf("%s: shared styles draw %q, the session's own %q", r.ColorProfile().Name(), got, want)
		}
		if shared.DarkBackground != own.DarkBackground || shared.Plain != own.Plain {
			t.Errorf("%s: shared styles take the background or colours differently", r.ColorProfile().Name())
		}
	}
}
