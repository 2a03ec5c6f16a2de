package tui

import (
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// BenchmarkUsersKeystroke is the console's share of a search keystroke: the
// key's Update, the page of results' Update and the redraw, core's query
// left out (core has its own benchmark). It must stay far under a frame.
func BenchmarkUsersKeystroke(b *testing.B) {
	e := newTestService(b)
	e.register()
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUsers})
	s := d.m.scr.(*users)
	page := core.UserPage{Next: 1}
	for i := range s.pageSize() {
		page.Users = append(page.Users, core.User{ID: int64(i + 1), Username: fmt.Sprintf("user%07d", i),
			DisplayName: "Some Body", Role: core.RoleUser, MFA: "active"})
	}
	key := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'u'}}
	b.ResetTimer()
	for range b.N {
		d.m.Update(key) // sends no query while one is in flight: measure the model only
		s.inFlight = false
		d.m.Update(usersMsg{stamp: d.m.c.stamp(), seq: s.seq, page: page})
		_ = d.m.View()
		s.f.setValue(s.search, "")
	}
}
