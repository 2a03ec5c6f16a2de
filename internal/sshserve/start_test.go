package sshserve

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// writeLog keeps each write apart, as each would be one SSH packet.
type writeLog struct {
	mu     sync.Mutex
	writes [][]byte
}

func (l *writeLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, bytes.Clone(p))
	return len(p), nil
}

func (l *writeLog) all() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.writes)
}

// viewModel draws a fixed view, handing its first to a startWriter as the
// frame does.
type viewModel struct {
	out   *startWriter
	view  string
	drawn bool
}

func (m *viewModel) Init() tea.Cmd { return nil }

func (m *viewModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) { return m, nil }

func (m *viewModel) View() string {
	if !m.drawn {
		m.drawn = true
		m.out.firstView(m.view, 80, 24)
	}
	return m.view
}

// TestFirstFrameInOneWrite: the start-up sequences and the first frame go
// out in one write, before the renderer's first tick, and the renderer's
// own copy of the frame is not sent again: firstFrame draws as Bubble
// Tea's renderer does.
func TestFirstFrameInOneWrite(t *testing.T) {
	log := &writeLog{}
	out := &startWriter{w: log}
	view := "  Log in\n\n  Username  [        ]\n" + strings.Repeat("x", 100) + "\nend"
	p := tea.NewProgram(&viewModel{out: out, view: view}, tea.WithInput(nil), tea.WithOutput(out),
		tea.WithAltScreen(), tea.WithoutSignalHandler(), tea.WithFPS(60))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	p.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	time.Sleep(100 * time.Millisecond) // a few ticks of the renderer
	writes := log.all()
	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(writes) != 1 {
		t.Fatalf("%d writes before the console ended, want 1: %q", len(writes), writes)
	}
	if !bytes.HasPrefix(writes[0], []byte("\x1b[?25l\x1b[?1049h")) || !bytes.Contains(writes[0], []byte("Log in")) {
		t.Errorf("the first write is not the start-up sequences and the frame: %q", writes[0])
	}
}

// TestStartWriter: the held sequences go out with the early frame; the
// renderer's same frame is dropped, a different one repaints a cleared
// screen; without a view the sequences wait for the renderer's first write,
// and an ended console sends what is still held.
func TestStartWriter(t *testing.T) {
	frame := string(firstFrame("Log in", 80, 24))
	for _, tc := range []struct {
		name   string
		view   string // "" sends no early frame
		writes []string
		want   []string
	}{
		{"same frame dropped", "Log in", []string{"seq", frame, "next"}, []string{"seq" + frame, "next"}},
		{"other frame repaints", "Log in", []string{"seq", "other"}, []string{"seq" + frame, "\x1b[2Jother"}},
		{"no view", "", []string{"seq", "frame", "next"}, []string{"seqframe", "next"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &writeLog{}
			w := &startWriter{w: log}
			w.Write([]byte(tc.writes[0]))
			w.firstView(tc.view, 80, 24)
			for _, s := range tc.writes[1:] {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			var got []string
			for _, b := range log.all() {
				got = append(got, string(b))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("sent %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("ended while holding", func(t *testing.T) {
		log := &writeLog{}
		w := &startWriter{w: log}
		w.Write([]byte("seq"))
		w.release()
		w.Write([]byte("after"))
		if got := log.all(); len(got) != 2 || string(got[0]) != "seq" || string(got[1]) != "after" {
			t.Errorf("sent %q, want the held sequences, then the rest", got)
		}
	})
}

// TestLoginScreenDrawnOnce: a new session's login screen comes in one
// frame, the one the console goes on showing: the renderer does not draw
// the early frame again, nor a corrected one after it.
func TestLoginScreenDrawnOnce(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	out := loginScreen(t, ts.addr)
	if n := bytes.Count(out, []byte(ansi.EraseEntireScreen)); n != 1 {
		t.Errorf("the screen is cleared %d times, want once at the start: %q", n, out)
	}
	if n := bytes.Count(out, []byte("Username")); n != 1 {
		t.Errorf("the login screen is drawn %d times, want once: %q", n, out)
	}
}
