package sshserve

import (
	"bytes"
	"io"
	"strings"
	"sync"

	"github.com/charmbracelet/x/ansi"
)

// startWriter is a session's output. Bubble Tea starts a console with one
// write per escape sequence (cursor, alternate screen, bracketed paste) and
// draws the first frame only on its renderer's first tick, a frame (17 ms)
// later: seven SSH packets and a wait, paid by each of a crowd of users
// connecting at once. startWriter holds the sequences and sends them with
// the first frame, drawn as the renderer draws it, as soon as the console
// has a view: one packet, at once. The renderer's copy is not sent again.
type startWriter struct {
	w io.Writer

	mu    sync.Mutex
	state startState
	held  []byte // the start-up sequences, until they are sent
	early []byte // the frame sent early, until the renderer draws its first
}

type startState int

const (
	holding   startState = iota // no view yet: writes are held
	drewEarly                   // the first frame is out: the renderer's copy is not
	released                    // the held writes go before the next one
	passing                     // every write goes out as it comes
)

func (w *startWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := p
	switch w.state {
	case holding:
		w.held = append(w.held, p...)
		return len(p), nil
	case drewEarly:
		early := w.early
		w.state, w.early = passing, nil
		if bytes.Equal(p, early) {
			return len(p), nil
		}
		// A later view, or the same drawn before the renderer knew the
		// window: it repaints every line, on a cleared screen so that no
		// line of the early frame stays.
		out = append([]byte(ansi.EraseEntireScreen), p...)
	case released:
		w.state = passing
		out = append(w.held, p...)
		w.held = nil
	}
	if _, err := w.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// firstView sends the held sequences and view, the console's first, drawn
// for a width x height window. Without a window or a view to draw, the
// renderer draws the first frame and the sequences go with it.
func (w *startWriter) firstView(view string, width, height int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != holding {
		return
	}
	if view == "" || width <= 0 || height <= 0 {
		w.state = released
		return
	}
	w.early = firstFrame(view, width, height)
	out := append(w.held, w.early...)
	w.held, w.state = nil, drewEarly
	_, _ = w.w.Write(out) // a broken connection fails the renderer's next write too
}

// release sends what is still held: the console has ended.
func (w *startWriter) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) > 0 {
		_, _ = w.w.Write(w.held)
	}
	w.held, w.early, w.state = nil, nil, passing
}

// firstFrame is view as Bubble Tea v1.3.10's standard renderer draws its
// first frame on the alternate screen (standardRenderer.flush): lines cut
// to the window, each erased to its end, the cursor left below the last.
func firstFrame(view string, width, height int) []byte {
	lines := strings.Split(view, "\n")
	if len(lines) > height {
		lines = lines[len(lines)-height:]
	}
	var b bytes.Buffer
	b.Grow(len(view) + len(lines)*8 + 16)
	b.WriteString(ansi.CursorHomePosition + "\r")
	for i, line := range lines {
		line = ansi.Truncate(line, width, "")
		b.WriteString(line)
		if ansi.StringWidth(line) < width {
			b.WriteString(ansi.EraseLineRight)
		}
		if i < len(lines)-1 {
			b.WriteString("\r\n")
		}
	}
	b.WriteString(ansi.CursorPosition(0, len(lines)))
	return b.Bytes()
}
