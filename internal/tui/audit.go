package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// auditBatch is how many events are read at a time; more are read as the
// list scrolls towards the oldest.
const auditBatch = 200

// audit shows the account's audit trail, newest first, with the selected
// event's detail under the list.
type audit struct {
	base
	events  []core.AuditEvent
	sel     int
	top     int  // first row shown
	loading bool // a batch is being read
	failed  bool // the last read failed
	end     bool // the oldest event is loaded
	list    int
}

func newAudit(c *Common) *audit {
	s := &audit{base: newBase(c)}
	s.list = s.f.area("Events")
	return s
}

type auditMsg struct {
	stamp
	events []core.AuditEvent
	err    error
}

func auditCmd(c *Common, before int64) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		ev, err := svc.ListAudit(ctx, sess, sess.AccountID(), before, auditBatch)
		return auditMsg{stamp: st.answered(err), events: ev, err: err}
	}
}

func (s *audit) Init() tea.Cmd {
	s.loading = true
	return auditCmd(s.c, 0)
}

// more reads the next batch of older events when the selection nears the
// end of what is loaded.
func (s *audit) more() tea.Cmd {
	if s.loading || s.end || s.sel < len(s.events)-s.rows()*2 {
		return nil
	}
	s.loading = true
	return auditCmd(s.c, s.events[len(s.events)-1].ID)
}

func (s *audit) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case auditMsg:
		s.loading, s.failed = false, msg.err != nil
		if msg.err != nil {
			return s, flashCmd("Could not read the audit trail: "+s.c.describe(msg.err), true)
		}
		s.events = append(s.events, msg.events...)
		s.end = len(msg.events) < auditBatch
		return s, s.more()
	case tea.KeyMsg:
		k := s.c.keys
		switch {
		case key.Matches(msg, k.Down):
			s.sel++
		case key.Matches(msg, k.Up):
			s.sel--
		case key.Matches(msg, k.PageDn):
			s.sel += s.rows()
		case key.Matches(msg, k.PageUp):
			s.sel -= s.rows()
		case key.Matches(msg, k.Home):
			s.sel = 0
		case key.Matches(msg, k.End):
			s.sel = len(s.events) - 1
		default:
			return s, nil
		}
		s.sel = min(max(s.sel, 0), max(len(s.events)-1, 0))
		s.top = s.visibleTop()
		return s, s.more()
	}
	return s, nil
}

// visibleTop is the first row to show so that the selection is on screen,
// moving the list as little as possible.
func (s *audit) visibleTop() int {
	top, n := s.top, s.rows()
	if s.sel < top {
		top = s.sel
	}
	if s.sel >= top+n {
		top = s.sel - n + 1
	}
	return max(0, top)
}

// rows is how many events fit: the page less the title, header and detail.
func (s *audit) rows() int { return max(1, s.h-5) }

func (s *audit) ShortHelp() []key.Binding {
	k := s.c.keys
	return []key.Binding{with(k.Up, "↑/↓", "scroll"), with(k.PageDn, "pgdn/pgup", "page"), with(k.Home, "home/end", "newest/oldest")}
}

func (s *audit) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDn}, {with(k.Home, "home", "newest"), with(k.End, "end", "oldest loaded")}}
}

func (s *audit) View() string {
	st := s.c.st
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Audit trail") + "  " + st.Hint.Render("newest first, times in UTC") + "\n")
	const timeW, actorW, actionW, targetW = 16, 12, 22, 12
	detailW := max(0, s.w-2-timeW-actorW-actionW-targetW-4)
	header := padRight("Time", timeW) + " " + padRight("Actor", actorW) + " " + padRight("Action", actionW) + " " +
		padRight("Target", targetW) + " " + padRight("Detail", detailW)
	b.WriteString("  " + st.Header.Render(strings.TrimRight(header, " ")) + "\n")
	if len(s.events) == 0 {
		msg := "No events."
		switch {
		case s.loading:
			msg = "Loading…"
		case s.failed:
			msg = "Not loaded: open the page again to retry."
		}
		return b.String() + "  " + st.Hint.Render(msg)
	}
	n, top := s.rows(), s.visibleTop()
	for i := top; i < min(len(s.events), top+n); i++ {
		e := s.events[i]
		line := padRight(e.At.UTC().Format("2006-01-02 15:04"), timeW) + " " + padRight(clean(e.Actor, 64), actorW) + " " +
			padRight(clean(string(e.Action), 64), actionW) + " " + padRight(clean(e.TargetName, 64), targetW) + " " +
			padRight(clean(e.Detail, 0), detailW)
		line = strings.TrimRight(line, " ")
		if i == s.sel {
			b.WriteString("> " + st.RowSelected.Render(line) + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	body := padLines(b.String(), max(1, s.h-2))
	e := s.events[s.sel]
	detail := clean(e.Detail, 0)
	if detail == "" {
		detail = "-"
	}
	info := "Event " + strconv.Itoa(s.sel+1) + " of " + strconv.Itoa(len(s.events))
	if !s.end {
		info += "+"
	}
	info += " · " + e.At.UTC().Format("2006-01-02 15:04:05") + " · source " + clean(e.Source, 64) + " · " + detail
	return body + "\n" + indentLines(st.Hint.Render(padLines(wrap(info, max(10, s.w-4)), 2)), "  ")
}
