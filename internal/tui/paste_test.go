package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// paste sends text as the terminal's bracketed paste delivers it: one key
// message holding every rune, control characters included.
func (d *driver) paste(s string) {
	d.t.Helper()
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
}

// TestPastedControlCharactersRefused: a paste holding an escape sequence is
// refused with core's message under the field, and the field keeps what it
// had; bubbles would otherwise drop the escape and keep "Ac[31mme". Saving
// afterwards changes nothing.
func TestPastedControlCharactersRefused(t *testing.T) {
	e := newTestService(t)
	admin := e.register()
	bob := e.addUser(admin, "bob", "Bob", core.RoleUser)
	d := e.drive(80, 24)
	d.login(e, "alice", adminPassword)
	d.send(gotoMsg{to: scrUser, userID: bob.ID})
	u := d.m.scr.(*userPage)
	u.f.setFocus(u.name)
	events := e.auditCount(admin)

	d.paste("Ac\x1b[31mme")
	if got := u.f.value(u.name); got != "Bob" {
		t.Fatalf("the name field holds %q after the paste, want %q unchanged", got, "Bob")
	}
	d.expect("Name may not contain control or escape characters.")
	if got := u.f.get(u.name).err; got != "Name may not contain control or escape characters." {
		t.Errorf("the message under the field is %q", got)
	}
	u.f.setFocus(u.save)
	d.key("enter")
	d.expect("Nothing to save")
	if got, err := e.svc.GetUser(e.ctx, admin, bob.ID); err != nil || got.DisplayName != "Bob" {
		t.Fatalf("bob's name is %q (%v) after the refused paste", got.DisplayName, err)
	}
	if n := e.auditCount(admin); n != events {
		t.Errorf("%d audit events were written", n-events)
	}

	// The next key typed clears the message and types as usual.
	u.f.setFocus(u.name)
	d.typeText("by")
	if got := u.f.value(u.name); got != "Bobby" || u.f.get(u.name).err != "" {
		t.Errorf("typing after the refusal: %q, message %q", got, u.f.get(u.name).err)
	}
	// A clean paste goes in whole.
	d.paste(" Tables")
	if got := u.f.value(u.name); got != "Bobby Tables" {
		t.Errorf("a clean paste: %q", got)
	}
}

// TestPastedControlCharactersEveryField: each kind of field refuses a paste
// with a control character with the sentence core would give on submit, and
// keeps its value; a tab or newline is not turned into a space either.
func TestPastedControlCharactersEveryField(t *testing.T) {
	e := newTestService(t)
	d := e.drive(80, 24)
	d.send(gotoMsg{to: scrRegister})
	r := d.m.scr.(*register)
	for _, c := range []struct {
		field int
		paste string
		want  string
	}{
		{r.account, "Acme\x1b]0;pwned\x07", "Account name may not contain control or escape characters."},
		{r.account, "Acme\nCorp", "Account name may not contain control or escape characters."},
		{r.account, "Acme\u009b31m", "Account name may not contain control or escape characters."},
		{r.user, "alice\t", "Username may hold only letters, digits and . _ - @ +."},
		{r.pass, "long password\r\n", "Password may not contain control characters (tab, newline, escape)."},
		{r.again, "long\tpassword", "Password may not contain control characters (tab, newline, escape)."},
	} {
		r.f.setFocus(c.field)
		r.f.setValue(c.field, "x")
		d.paste(c.paste)
		if got := r.f.value(c.field); got != "x" {
			t.Errorf("paste %+q: the field holds %+q, want %q", c.paste, got, "x")
		}
		if got := r.f.get(c.field).err; got != c.want {
			t.Errorf("paste %+q: message %q, want %q", c.paste, got, c.want)
		}
	}
	// Registering with what the fields hold creates nothing from the refused pastes.
	for _, i := range []int{r.account, r.user, r.pass, r.again} {
		r.f.setValue(i, "")
		r.f.get(i).err = ""
	}
	r.f.setFocus(r.account)
	d.paste("Ac\x1b[31mme")
	d.key("tab")
	d.typeText("alice")
	d.key("tab")
	d.typeText(adminPassword)
	d.key("tab")
	d.typeText(adminPassword)
	d.key("enter")
	if open, err := e.svc.RegistrationOpen(e.ctx); err != nil || !open {
		t.Fatalf("an account was registered from a refused paste: open %v, %v", open, err)
	}
	if !strings.Contains(d.view(), "Account name is required.") {
		t.Errorf("the screen does not say the account name is missing:\n%s", d.view())
	}
}

func (e *testEnv) auditCount(admin core.Session) int {
	e.t.Helper()
	ev, err := e.svc.ListAudit(e.ctx, admin, admin.AccountID(), 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ev)
}
