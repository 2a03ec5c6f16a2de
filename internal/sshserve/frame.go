package sshserve

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// frame wraps one session's console. It owns what the server adds around
// the console: the idle timeout on keyboard input and the session limit with
// their warnings, the server's notices, and containing a panic of the
// console to its own session. The console never knows it is there.
type frame struct {
	inner tea.Model
	sess  *Session
	cfg   *Config
	note  lipgloss.Style

	size          tea.WindowSizeMsg // the window when the session started
	width, height int
	lastKey       time.Time // the last keyboard input
	warning       warning   // what the bottom line shows, if anything
	notice        string    // the server's notice; shown before any warning
	stopped       bool      // the session is ending: the console is not called again
	drawn         bool      // the first view has gone to the session's output
	last          string    // the last view
	same          bool      // nothing has changed since the last view
	stopClock     func()    // stops the timer schedule set, if any
}

type warning int

const (
	noWarning warning = iota
	idleWarning
	limitWarning
)

// checkMsg asks the frame to look at the clock: warn, or end the session.
type checkMsg struct{}

// noticeMsg shows a sentence from the server on the bottom line.
type noticeMsg struct{ text string }

// endMsg ends the session; its reason is already set.
type endMsg struct{}

// panicMsg carries a panic out of one of the console's commands.
type panicMsg struct {
	value any
	stack []byte
}

func newFrame(inner tea.Model, sess *Session, cfg *Config, r *lipgloss.Renderer) *frame {
	return &frame{inner: inner, sess: sess, cfg: cfg, lastKey: sess.start,
		note: r.NewStyle().Reverse(true).Bold(true)}
}

// Init starts the console and the clock.
func (f *frame) Init() (cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			cmd = f.crash(r, debug.Stack())
		}
	}()
	// The first size goes in before the console starts, so that no later
	// change can overtake it.
	f.width, f.height = clampWindow(f.size.Width), clampWindow(f.size.Height)
	inner, sized := f.inner.Update(f.size)
	f.inner = inner
	f.schedule(time.Now())
	return tea.Batch(guard(f.sess, sized), guard(f.sess, f.inner.Init()))
}

// Update keeps the time of the last key, handles the frame's own messages
// and passes everything else on, with the console's commands guarded.
func (f *frame) Update(msg tea.Msg) (m tea.Model, cmd tea.Cmd) {
	f.same = false
	if f.stopped {
		switch msg := msg.(type) {
		case endMsg:
			return f, tea.Quit
		case panicMsg:
			f.crash(msg.value, msg.stack) // logged, though the session is ending anyway
		}
		return f, nil
	}
	if f.sess.ending() {
		// The server ended the session (a backoff, say) from inside the
		// console's own Update: keys already read must not reach it.
		f.stopped = true
		return f, tea.Quit
	}
	defer func() {
		if r := recover(); r != nil {
			m, cmd = f, f.crash(r, debug.Stack())
		}
	}()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		w, h := clampWindow(msg.Width), clampWindow(msg.Height)
		if w == f.width && h == f.height {
			// The console has this size (sendFirstSize sends the first again,
			// for Bubble Tea's renderer): nothing to redraw.
			f.same = true
			return f, nil
		}
		f.width, f.height = w, h
	case tea.KeyMsg:
		f.lastKey = time.Now()
		if f.warning == idleWarning {
			f.warning = noWarning
		}
	case checkMsg:
		return f, f.check(time.Now())
	case noticeMsg:
		f.notice = msg.text
		return f, nil
	case endMsg:
		f.stopped = true
		return f, tea.Quit
	case panicMsg:
		return f, f.crash(msg.value, msg.stack)
	}
	var inner tea.Model
	inner, cmd = f.inner.Update(msg)
	f.inner = inner
	return f, guard(f.sess, cmd)
}

// View is the console's view with the notice or warning, if any, on its
// last line, where it is seen whichever screen is open.
func (f *frame) View() string {
	if f.stopped {
		return ""
	}
	if !f.same {
		f.last = f.draw()
	}
	if !f.drawn {
		// The first view is Bubble Tea's, right after Init: send it now,
		// not on the renderer's first tick (see startWriter).
		f.drawn = true
		f.sess.out.firstView(f.last, f.width, f.height)
	}
	return f.last
}

func (f *frame) draw() (view string) {
	defer func() {
		if r := recover(); r != nil {
			// View cannot return a command: the quit comes as a message.
			if f.crash(r, debug.Stack()) != nil {
				go f.sess.send(endMsg{})
			}
			view = ""
		}
	}()
	view = f.inner.View()
	text := f.bottomLine()
	if text == "" || f.width <= 0 || f.height <= 0 {
		return view
	}
	lines := strings.Split(view, "\n")
	for len(lines) < f.height {
		lines = append(lines, "")
	}
	lines = lines[:f.height]
	line := ansi.Truncate(" "+text, f.width, "…")
	line += strings.Repeat(" ", max(0, f.width-ansi.StringWidth(line)))
	lines[f.height-1] = f.note.Render(line)
	return strings.Join(lines, "\n")
}

func (f *frame) bottomLine() string {
	switch {
	case f.notice != "":
		return f.notice
	case f.warning == idleWarning:
		return fmt.Sprintf("Idle for %s: this session closes in %s unless you press a key.",
			humanDuration(f.cfg.IdleTimeout-f.cfg.Warning), humanDuration(f.cfg.Warning))
	case f.warning == limitWarning:
		return fmt.Sprintf("Sessions last at most %s: this one closes in %s. Connect again to go on.",
			humanDuration(f.cfg.SessionLimit), humanDuration(f.cfg.Warning))
	}
	return ""
}

// check ends the session when the keyboard has been idle or the session has
// lasted too long, shows a warning in the last minute before either, and
// sets the clock for the next moment that changes something.
func (f *frame) check(now time.Time) tea.Cmd {
	idle, limit, warn := f.cfg.IdleTimeout, f.cfg.SessionLimit, f.cfg.Warning
	switch {
	case idle > 0 && now.Sub(f.lastKey) >= idle:
		return f.finish(endIdle)
	case limit > 0 && now.Sub(f.sess.start) >= limit:
		return f.finish(endLimit)
	case idle > 0 && f.lastKey.Add(idle).Sub(now) <= warn:
		f.warning = idleWarning
	case limit > 0 && f.sess.start.Add(limit).Sub(now) <= warn:
		f.warning = limitWarning
	default:
		f.warning = noWarning
	}
	f.schedule(now)
	return nil
}

// schedule sets the clock for the next moment after now at which a warning
// starts or the session ends. It is a timer, not a command: a command's
// goroutine would wait minutes in every open session, and tea.Tick's would
// hold the whole console until it fired, long after the session had gone.
// The timer stops with the session.
func (f *frame) schedule(now time.Time) {
	idle, limit, warn := f.cfg.IdleTimeout, f.cfg.SessionLimit, f.cfg.Warning
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if idle > 0 {
		consider(f.lastKey.Add(idle - warn))
		consider(f.lastKey.Add(idle))
	}
	if limit > 0 {
		consider(f.sess.start.Add(limit - warn))
		consider(f.sess.start.Add(limit))
	}
	if f.stopClock != nil {
		f.stopClock()
		f.stopClock = nil
	}
	if next.IsZero() {
		return
	}
	sess := f.sess
	t := time.AfterFunc(next.Sub(now), func() { sess.send(checkMsg{}) })
	unhook := context.AfterFunc(sess.ctx, func() { t.Stop() })
	f.stopClock = func() {
		t.Stop()
		unhook()
	}
}

// finish ends the session from inside the program.
func (f *frame) finish(why endReason) tea.Cmd {
	f.stopped = true
	f.sess.setEnd(why, "")
	f.sess.closeInput()
	return tea.Quit
}

// crash ends the session after a panic of the console and logs it; the
// console is never called again.
func (f *frame) crash(value any, stack []byte) tea.Cmd {
	f.sess.srv.log.Error("session panic", "source", f.sess.Source, "panic", fmt.Sprint(value), "stack", string(stack))
	if f.stopped {
		return nil
	}
	f.stopped = true
	f.sess.setEnd(endPanic, "")
	f.sess.closeInput()
	return tea.Quit
}

// guard wraps a command of the console so that a panic in it comes back as
// a panicMsg, which ends only this session. Batches are guarded command by
// command; tea.Sequence, which the console does not use, would not be.
func guard(sess *Session, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				msg = panicMsg{value: r, stack: debug.Stack()}
			}
		}()
		msg = cmd()
		switch m := msg.(type) {
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(m))
			for i, c := range m {
				out[i] = guard(sess, c)
			}
			return out
		case tea.QuitMsg:
			// The console is quitting: end its input now, or Bubble Tea waits
			// half a second for a read it cannot cancel.
			sess.closeInput()
		}
		return msg
	}
}

// humanDuration writes a limit the way people say it: "10 minutes",
// "1 hour", "90 seconds".
func humanDuration(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	case d < time.Second:
		return "1 second"
	}
	return unit(int64(d/time.Second), "second")
}
