package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// account is the account details page: the counts and the policy checkbox
// that requires MFA of every user, with the optional date from which it is
// required (the enrolment deadline) beside it, and Save at the bottom right.
type account struct {
	base
	d      core.AccountDetails
	loaded bool
	resync bool   // a save succeeded: take the stored date into the field again
	saved  string // the stored deadline as the field shows it ("" for none)

	require, from, save int
}

func newAccount(c *Common) *account {
	s := &account{base: newBase(c)}
	s.require = s.f.check("Require multi-factor authentication for all users in this account", false)
	s.from = s.f.text("From (UTC)", "YYYY-MM-DD", len(time.DateOnly), false)
	s.save = s.f.button("Save")
	for _, i := range []int{s.require, s.from, s.save} {
		s.f.get(i).hidden = true
	}
	return s
}

// deadlineText is a deadline as the date field shows it.
func deadlineText(g core.MFAGrace) string {
	if g.Until.IsZero() {
		return ""
	}
	return g.Until.UTC().Format(time.DateOnly)
}

// parseFrom reads the date field: zero for empty (MFA required now), else the
// start of that day, UTC, which must be ahead of now. problem is the sentence
// shown under the field when it does not read.
func parseFrom(text string, now time.Time) (from time.Time, problem string) {
	if text == "" {
		return time.Time{}, ""
	}
	t, err := time.ParseInLocation(time.DateOnly, text, time.UTC)
	if err != nil {
		return time.Time{}, "Enter the date as YYYY-MM-DD (UTC), for example 2026-12-31, or leave it empty for now."
	}
	if !t.After(now) {
		return time.Time{}, "That date is not in the future: leave it empty to require MFA now."
	}
	return t, ""
}

type accountMsg struct {
	stamp
	d   core.AccountDetails
	err error
}

type requireSavedMsg struct {
	stamp
	on      bool
	from    time.Time
	without int
	err     error
}

func accountCmd(c *Common) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		d, err := svc.AccountDetails(ctx, sess, sess.AccountID())
		return accountMsg{stamp: st.answered(err), d: d, err: err}
	}
}

func setRequireCmd(c *Common, on bool, from time.Time) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		without, err := svc.SetRequireMFAFrom(ctx, sess, sess.AccountID(), on, from)
		return requireSavedMsg{stamp: st.answered(err), on: on, from: from, without: without, err: err}
	}
}

func (s *account) Init() tea.Cmd { return accountCmd(s.c) }

func (s *account) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case accountMsg:
		if msg.err != nil {
			return s, flashCmd("Could not read the account: "+s.c.describe(msg.err), true)
		}
		sync := !s.loaded || s.resync
		s.d, s.loaded, s.resync = msg.d, true, false
		s.saved = deadlineText(msg.d.Grace)
		if sync {
			s.f.get(s.require).checked = msg.d.RequireMFA
			s.f.setValue(s.from, s.saved)
		}
		s.f.get(s.require).hidden = false
		s.f.get(s.save).hidden = false
		s.showFrom()
	case requireSavedMsg:
		s.busy = false
		if msg.err != nil {
			var in *core.InputError
			if errors.As(msg.err, &in) && in.Field == "date" {
				s.f.get(s.from).err = s.c.describe(msg.err)
				return s, nil
			}
			return s, flashCmd("Not saved: "+s.c.describe(msg.err), true)
		}
		s.resync = true
		return s, tea.Batch(flashCmd(savedText(msg), false), accountCmd(s.c))
	case tea.KeyMsg:
		ev, cmd := s.f.update(msg)
		s.showFrom()
		if (ev == evPress && s.f.isFocused(s.save) || ev == evSubmit && s.f.isFocused(s.from)) && !s.busy {
			return s, s.submit()
		}
		return s, cmd
	}
	return s, nil
}

// showFrom shows the date field only while the checkbox is ticked: a date
// goes only with requiring MFA.
func (s *account) showFrom() {
	s.f.get(s.from).hidden = !s.loaded || !s.f.get(s.require).checked
	s.refocus()
}

// submit saves the checkbox and the date, once the date reads.
func (s *account) submit() tea.Cmd {
	on := s.f.get(s.require).checked
	text := strings.TrimSpace(s.f.value(s.from))
	s.f.get(s.from).err = ""
	if on == s.d.RequireMFA && (!on || text == s.saved) {
		return flashCmd("Nothing to save: the setting is unchanged.", false)
	}
	var from time.Time
	if on {
		var problem string
		if from, problem = parseFrom(text, s.c.now()); problem != "" {
			s.f.get(s.from).err = problem
			s.f.setFocus(s.from)
			return nil
		}
	}
	s.busy = true
	return setRequireCmd(s.c, on, from)
}

// savedText is the flash line after a save.
func savedText(msg requireSavedMsg) string {
	switch {
	case !msg.on:
		return "Saved: MFA is no longer required."
	case !msg.from.IsZero():
		text := "Saved: MFA is required from " + msg.from.Format(time.DateOnly) + "."
		if msg.without > 0 {
			text = fmt.Sprintf("Saved: MFA required from %s; %s set-up.", msg.from.Format(time.DateOnly),
				usersCount(msg.without, "user without it may postpone", "users without it may postpone"))
		}
		return text
	case msg.without > 0:
		return fmt.Sprintf("Saved: MFA is required now; %s to set-up at next login.",
			usersCount(msg.without, "user without it goes", "users without it go"))
	}
	return "Saved: MFA is required now."
}

func usersCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (s *account) ShortHelp() []key.Binding {
	return s.formHelp()
}

func (s *account) View() string {
	st := s.c.st
	w := max(10, s.w-4)
	var b strings.Builder
	b.WriteString("  " + st.Title.Render("Account details") + "\n\n")
	if !s.loaded {
		return b.String() + "  " + st.Hint.Render("Loading…")
	}
	d := s.d
	row := func(label, value string) {
		b.WriteString("  " + st.Label.Render(padRight(label, 14)) + " " + st.Value.Render(value) + "\n")
	}
	row("Account name", clean(d.Name, core.MaxAccountNameLen))
	row("Created", formatTime(d.CreatedAt))
	row("Users", fmt.Sprintf("%d (%d enabled, %s)", d.Users, d.Enabled, usersCount(d.Admins, "administrator", "administrators")))
	row("With MFA", fmt.Sprintf("%d", d.WithMFA))
	row("Without MFA", usersCount(d.WithoutMFA, "enabled user", "enabled users"))
	b.WriteString("\n" + s.f.checkView(s.require) + "\n")
	on := s.f.get(s.require).checked
	if on {
		// The format beside the field, any error under it.
		field, errLines, _ := strings.Cut(s.f.fieldView(s.from, 10, dateInputWidth), "\n")
		b.WriteString("  " + field + "  " + st.Hint.Render("YYYY-MM-DD; empty: now") + "\n")
		if errLines != "" {
			b.WriteString(indentLines(errLines, "  ") + "\n")
		}
	}
	if text, warn := s.impact(on); text != "" {
		style := st.Hint
		if warn {
			style = st.Error
		}
		b.WriteString("\n" + indentLines(style.Render(wrap(text, w)), "  ") + "\n")
	}
	body := b.String()
	// Save sits at the bottom right of the page.
	btn := s.f.buttonView(s.save)
	if s.busy {
		btn = st.Hint.Render("Saving… ") + btn
	}
	pad := max(0, s.w-ansi.StringWidth(btn)-2)
	last := strings.Repeat(" ", pad) + btn
	if lineCount(body) >= s.h {
		return body + last // taller than the window: the root scrolls it
	}
	return padLines(body, s.h-1) + "\n" + last
}

// impact is the preview of what saving does, and whether it is a warning: how
// many users the requirement, and its date, affect.
func (s *account) impact(on bool) (string, bool) {
	d := s.d
	text := strings.TrimSpace(s.f.value(s.from))
	changed := on != d.RequireMFA || on && text != s.saved
	users := usersCount(d.WithoutMFA, "user has", "users have")
	switch {
	case !on && d.RequireMFA:
		return "After you save, users can log in without multi-factor authentication unless they set it up.", false
	case !on:
		return "", false
	case changed && text != "":
		from, problem := parseFrom(text, s.c.now())
		if problem != "" {
			return "", false // the field says why when Save is pressed
		}
		out := fmt.Sprintf("Every user will need MFA from %s (%s left). ", text,
			usersCount(core.DaysLeft(from, s.c.now()), "day", "days"))
		if d.WithoutMFA == 0 {
			return out + "Every enabled user already has it.", true
		}
		return out + fmt.Sprintf("%s no multi-factor authentication yet: after you save, they are shown MFA setup at login and may choose Later until then; from %s they can do nothing else until they set it up.",
			users, text), true
	case changed:
		out := "Every user will need MFA. "
		if d.WithoutMFA == 0 {
			return out + "Every enabled user already has it.", true
		}
		return out + fmt.Sprintf("%s no multi-factor authentication yet: after you save, they are sent to MFA setup at their next login and can do nothing else until they set it up.",
			users), true
	case !d.Grace.Until.IsZero():
		return fmt.Sprintf("MFA is required from %s (%s left): until then %s may choose Later at MFA setup.",
			s.saved, usersCount(d.Grace.DaysLeft, "day", "days"), usersCount(d.WithoutMFA, "user without MFA", "users without MFA")), false
	}
	return "Users without MFA are sent to MFA setup when they log in.", false
}

// dateInputWidth is the date field's width: a date and the cursor.
const dateInputWidth = len(time.DateOnly) + 1

func (s *account) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.setInputWidth(dateInputWidth)
}

// unsaved is a checkbox or date changed and not saved: leaving asks first.
func (s *account) unsaved() bool {
	if !s.loaded {
		return false
	}
	on := s.f.get(s.require).checked
	return on != s.d.RequireMFA || on && strings.TrimSpace(s.f.value(s.from)) != s.saved
}
