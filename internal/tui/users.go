package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// users lists the account's users: a search that filters as you type, MFA
// and role filters, how many users match, and a table a page at a time.
// Enter (in the search, a filter or the table) or Update opens the selected
// user; Add user opens the form that adds one.
type users struct {
	base
	search, mfa, role, table, update, add int

	rows   []core.User
	sel    int
	after  int64   // cursor of the page shown
	next   int64   // cursor of the following page, 0 on the last
	prev   []int64 // cursors of the pages before, for PgUp
	loaded bool
	failed bool // the last search failed: the list is not the search's answer

	// How many users match, counted with the first page of a search (and
	// when the page is shown anew), and kept while paging.
	matches   int
	atLeast   bool // matches is a lower bound (see core.UserPage)
	counted   bool
	wantCount bool // the next query counts: the search changed since the last count

	// Searches run one at a time; keys typed meanwhile only bump seq, and
	// the newest query is sent when the running one returns. Results of an
	// older query are dropped.
	seq      int
	inFlight bool
	pending  bool
	selLast  bool // select the last row of the coming page (↑ from a page's top)
}

var (
	mfaChoices  = []string{"all", "on", "off"}
	roleChoices = []string{"all", "admin", "user"}
)

func newUsers(c *Common) *users {
	s := &users{base: newBase(c)}
	s.search = s.f.text("Search", "username, name or email", core.MaxSearchLen, false)
	s.mfa = s.f.choice("MFA", mfaChoices...)
	s.role = s.f.choice("Role", roleChoices...)
	s.table = s.f.area("Users")
	s.update = s.f.button("Update")
	s.add = s.f.button("Add user")
	return s
}

type usersMsg struct {
	stamp
	seq     int
	page    core.UserPage
	counted bool // the page carries the count of matches
	err     error
}

func searchUsersCmd(c *Common, seq int, q core.UserQuery) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		page, err := svc.SearchUsers(ctx, sess, sess.AccountID(), q)
		return usersMsg{stamp: st.answered(err), seq: seq, page: page, counted: q.Count, err: err}
	}
}

// Init runs the search, again when the page is shown anew: a query that was
// in flight when the page was left answered elsewhere and is forgotten, and
// users may have been added or changed meanwhile.
func (s *users) Init() tea.Cmd {
	s.inFlight, s.pending, s.wantCount = false, false, true
	return s.query(false)
}

// pageSize is how many rows fit under the search, filters and header.
func (s *users) pageSize() int { return max(1, s.h-5) }

// query asks for the page at s.after with the current filters; reset goes
// back to the first page.
func (s *users) query(reset bool) tea.Cmd {
	if reset {
		s.after, s.prev, s.sel, s.wantCount = 0, nil, 0, true
	}
	s.seq++
	if s.inFlight {
		s.pending = true
		return nil
	}
	return s.send()
}

func (s *users) send() tea.Cmd {
	s.inFlight, s.pending = true, false
	q := core.UserQuery{Term: s.f.value(s.search), After: s.after, Limit: s.pageSize(), Count: s.wantCount}
	if v := mfaChoices[s.f.get(s.mfa).choice]; v != "all" {
		q.MFA = v
	}
	if v := roleChoices[s.f.get(s.role).choice]; v != "all" {
		q.Role = core.Role(v)
	}
	return searchUsersCmd(s.c, s.seq, q)
}

func (s *users) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case usersMsg:
		s.inFlight = false
		if msg.seq == s.seq {
			s.failed = msg.err != nil
			if msg.err != nil {
				return s, flashCmd("Search failed: "+s.c.describe(msg.err), true)
			}
			s.rows, s.next, s.loaded = msg.page.Users, msg.page.Next, true
			if msg.counted {
				s.matches, s.atLeast, s.counted, s.wantCount = msg.page.Matches, msg.page.MatchesAtLeast, true, false
			}
			if s.selLast {
				s.sel, s.selLast = len(s.rows)-1, false
			}
			s.sel = min(max(s.sel, 0), max(len(s.rows)-1, 0))
		}
		if s.pending {
			return s, s.send()
		}
	case tea.KeyMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *users) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	// ↑/↓ and Enter choose and open a user from the search and the
	// filters as from the table, so the focus need not move to the list.
	onFilter := s.f.isFocused(s.mfa) || s.f.isFocused(s.role)
	inList := s.f.isFocused(s.search) || s.f.isFocused(s.table) || onFilter
	switch {
	case onFilter && key.Matches(msg, k.Enter):
		return s.open() // Space and ←/→ change a filter; Enter opens, as from the search
	case key.Matches(msg, k.Enter) && s.f.isFocused(s.add):
		return gotoCmd(scrAddUser)
	case inList && key.Matches(msg, k.Down):
		return s.move(1)
	case inList && key.Matches(msg, k.Up):
		return s.move(-1)
	case key.Matches(msg, k.PageDn):
		return s.nextPage()
	case key.Matches(msg, k.PageUp):
		return s.prevPage(false)
	case s.f.isFocused(s.table) && key.Matches(msg, k.Enter):
		return s.open()
	}
	ev, cmd := s.f.update(msg)
	switch {
	case ev == evChanged:
		return tea.Batch(cmd, s.query(true))
	case ev == evSubmit, ev == evPress && s.f.isFocused(s.update):
		return s.open()
	}
	return cmd
}

// move steps the selection, turning the page at either end.
func (s *users) move(step int) tea.Cmd {
	n := s.sel + step
	switch {
	case n >= len(s.rows):
		return s.nextPage()
	case n < 0:
		return s.prevPage(true)
	}
	s.sel = n
	return nil
}

func (s *users) nextPage() tea.Cmd {
	if s.next == 0 {
		return nil
	}
	s.prev = append(s.prev, s.after)
	s.after, s.sel = s.next, 0
	return s.query(false)
}

func (s *users) prevPage(selLast bool) tea.Cmd {
	if len(s.prev) == 0 {
		return nil
	}
	s.after = s.prev[len(s.prev)-1]
	s.prev = s.prev[:len(s.prev)-1]
	s.sel, s.selLast = 0, selLast
	return s.query(false)
}

func (s *users) open() tea.Cmd {
	if s.sel < 0 || s.sel >= len(s.rows) {
		return nil
	}
	id := s.rows[s.sel].ID
	return func() tea.Msg { return gotoMsg{to: scrUser, userID: id} }
}

func (s *users) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.fitInputs(s.w, 12)
}

func (s *users) ShortHelp() []key.Binding {
	k := s.c.keys
	switch {
	case s.f.isFocused(s.search), s.f.isFocused(s.table):
		return []key.Binding{with(k.Up, "↑/↓", "select"), with(k.Enter, "enter", "open"), with(k.PageDn, "pgdn/up", "page")}
	case s.f.isFocused(s.mfa), s.f.isFocused(s.role):
		return append(s.formHelp(), with(k.Up, "↑/↓", "select"), with(k.Enter, "enter", "open"))
	}
	return s.formHelp()
}
