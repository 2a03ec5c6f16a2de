package sshserve

import (
	"io"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/smartnumbers/smartmfa/internal/tui"
)

// styleCache holds the console's styles for each colour profile and
// background a session has had: at most eight sets, each built once.
// Building them took a fifth of a console's start, for styles that come
// out the same for every session with the same terminal.
type styleCache struct {
	mu   sync.Mutex
	sets map[styleKey]*tui.Styles
}

type styleKey struct {
	profile termenv.Profile
	dark    bool
}

// stylesFor is the console's styles for r's colour profile and
// background. They are drawn through a renderer of the server's own, with
// the same profile and background: a session's renderer writes to its
// session, which shared styles must not hold.
func (s *Server) stylesFor(r *lipgloss.Renderer) *tui.Styles {
	key := styleKey{r.ColorProfile(), r.HasDarkBackground()}
	c := &s.styles
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.sets[key]; st != nil {
		return st
	}
	own := lipgloss.NewRenderer(io.Discard)
	own.SetColorProfile(key.profile)
	own.SetHasDarkBackground(key.dark)
	st := tui.NewStyles(own)
	if c.sets == nil {
		c.sets = map[styleKey]*tui.Styles{}
	}
	c.sets[key] = st
	return st
}
