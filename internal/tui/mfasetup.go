package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/qrcode"
)

// setup enrols an authenticator: it shows the QR code, the account name and
// the setup key, takes the first code, and then shows the recovery codes
// once. It is also the only screen of a forced set-up.
type setup struct {
	base
	en      core.Enrollment // zeroed once set-up succeeds: the secret is never shown again
	qr      []string
	inkDark bool // QR glyph polarity; ctrl+t flips it where colours are off
	// showLink shows the otpauth URI as text (ctrl+l), for desktop
	// authenticators and password managers. It belongs to this page and this
	// enrolment: a new screen or a new enrolment starts with it hidden.
	showLink bool
	loaded   bool
	failed   bool // set-up could not start; the flash line says why
	// graceUntil is the enrolment deadline while Later is shown.
	graceUntil time.Time
	codes      []string // recovery codes, shown once after set-up

	input, submit, cancel, later, done int
}

func newSetup(c *Common) *setup {
	s := &setup{base: newBase(c), inkDark: !c.st.Plain || !c.st.DarkBackground}
	s.input = s.f.text("Code", "123456", 9, false) // room for "123 456" and spaces around a paste
	s.submit = s.f.button("Set up")
	s.cancel = s.f.button("Cancel")
	s.later = s.f.button("Later")
	s.done = s.f.button("Done")
	s.f.get(s.done).hidden = true
	s.f.get(s.later).hidden = true // shown while the account's enrolment deadline is ahead
	s.f.get(s.cancel).hidden = s.forced()
	return s
}

// forced is a set-up the account requires: nothing else can be reached.
func (s *setup) forced() bool { return s.c.sess.Stage() == core.StageSetupMFA }

type enrollmentMsg struct {
	stamp
	en  core.Enrollment
	err error
}

type enrolledMsg struct {
	stamp
	codes []string
	sess  core.Session
	err   error
}

func beginEnrollmentCmd(c *Common) tea.Cmd {
	ctx, svc, sess := c.ctx, c.svc, c.sess
	st := c.stamp()
	return func() tea.Msg {
		en, err := svc.BeginEnrollment(ctx, sess)
		return enrollmentMsg{stamp: st.answered(err), en: en, err: err}
	}
}

func confirmEnrollmentCmd(c *Common, code string) tea.Cmd {
	ctx, svc, sess := c.ctx, c.svc, c.sess
	st := c.stamp()
	return func() tea.Msg {
		codes, out, err := svc.ConfirmEnrollment(ctx, sess, code)
		return enrolledMsg{stamp: st.answered(err), codes: codes, sess: out, err: err}
	}
}

// graceMsg says whether a forced set-up may still be postponed.
type graceMsg struct {
	stamp
	grace core.MFAGrace
	ok    bool
	err   error
}

// skippedMsg is the answer to Later.
type skippedMsg struct {
	stamp
	sess  core.Session
	until time.Time
	err   error
}

func setupGraceCmd(c *Common) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		g, ok, err := svc.SetupGrace(ctx, sess)
		return graceMsg{stamp: st.answered(err), grace: g, ok: ok, err: err}
	}
}

func skipSetupCmd(c *Common, until time.Time) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		out, err := svc.SkipMFASetup(ctx, sess)
		return skippedMsg{stamp: st.answered(err), sess: out, until: until, err: err}
	}
}

func (s *setup) Init() tea.Cmd {
	if s.forced() {
		return tea.Batch(beginEnrollmentCmd(s.c), setupGraceCmd(s.c))
	}
	return beginEnrollmentCmd(s.c)
}

func (s *setup) Back() (tea.Cmd, bool) {
	if s.forced() && s.codes == nil {
		return nil, false // nowhere to go but the menu (Log out)
	}
	return gotoCmd(scrMyMFA), true
}

func (s *setup) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case enrollmentMsg:
		if msg.err != nil {
			if errors.Is(msg.err, core.ErrMFAActive) {
				return s, gotoErrCmd(scrMyMFA, s.c.describe(msg.err))
			}
			s.failed = true
			return s, flashCmd("Could not start set-up: "+s.c.describe(msg.err), true)
		}
		s.en, s.loaded, s.showLink = msg.en, true, false
		s.qr = qrcode.HalfBlocks(s.en.URI, s.inkDark)
	case enrolledMsg:
		return s, s.enrolled(msg)
	case graceMsg:
		// A failure leaves Later hidden: the set-up stays forced, as it is
		// without a deadline.
		later := s.f.get(s.later)
		later.hidden = msg.err != nil || !msg.ok || s.codes != nil
		if !later.hidden {
			later.label = fmt.Sprintf("Later (%s left)", usersCount(msg.grace.DaysLeft, "day", "days"))
			s.graceUntil = msg.grace.Until
			return s, flashCmd(fmt.Sprintf("Your account requires MFA from %s: set it up now or choose Later.",
				msg.grace.Until.Format(time.DateOnly)), false)
		}
	case skippedMsg:
		s.busy = false
		if msg.err != nil {
			if errors.Is(msg.err, core.ErrMFARequired) {
				s.f.get(s.later).hidden = true
				s.refocus()
				return s, flashCmd("The date to set up MFA has come: set it up now.", true)
			}
			return s, flashCmd("Could not postpone set-up: "+s.c.describe(msg.err), true)
		}
		return s, sessionCmd(msg.sess, false, fmt.Sprintf("MFA set-up postponed: it is required from %s.",
			msg.until.Format(time.DateOnly)))
	case tea.KeyMsg:
		if key.Matches(msg, s.c.keys.InvertQR) && s.c.st.Plain && s.qr != nil {
			s.inkDark = !s.inkDark
			s.qr = qrcode.HalfBlocks(s.en.URI, s.inkDark)
			return s, nil
		}
		if key.Matches(msg, s.c.keys.SetupLink) {
			s.showLink = !s.showLink && s.linkAvailable()
			return s, nil
		}
		ev, cmd := s.f.update(msg)
		switch {
		case ev == evPress && s.f.isFocused(s.done):
			return s, gotoCmd(scrMyMFA)
		case ev == evPress && s.f.isFocused(s.cancel):
			return s, gotoCmd(scrMyMFA)
		case ev == evPress && s.f.isFocused(s.later) && !s.busy:
			s.busy = true
			return s, skipSetupCmd(s.c, s.graceUntil)
		case ev == evSubmit, ev == evPress && s.f.isFocused(s.submit):
			return s, s.confirm()
		}
		return s, cmd
	}
	return s, nil
}

func (s *setup) confirm() tea.Cmd {
	v := strings.TrimSpace(s.f.value(s.input))
	if s.busy || !s.loaded {
		return nil
	}
	if v == "" {
		s.f.get(s.input).err = "Enter the 6-digit code the app shows."
		return nil
	}
	s.busy = true
	s.f.clearErrors()
	return confirmEnrollmentCmd(s.c, v)
}

func (s *setup) enrolled(msg enrolledMsg) tea.Cmd {
	s.busy = false
	switch {
	case errors.Is(msg.err, core.ErrNoEnrollment):
		// Another session replaced or removed this enrolment: start over.
		s.loaded, s.qr, s.showLink = false, nil, false
		s.f.setValue(s.input, "")
		return tea.Batch(flashCmd("Set-up was started again elsewhere: scan the new code.", true), beginEnrollmentCmd(s.c))
	case msg.err != nil:
		in := s.f.get(s.input)
		in.err = s.c.describe(msg.err)
		var drift *core.ClockDriftError
		if errors.Is(msg.err, core.ErrInvalidCode) && !errors.As(msg.err, &drift) {
			in.err = "That code is not valid. Check the account in the app and the phone's time, then try again."
		}
		s.f.setValue(s.input, "")
		s.f.setFocus(s.input)
		return nil
	}
	s.en, s.qr, s.showLink = core.Enrollment{}, nil, false
	s.codes = msg.codes
	for _, i := range []int{s.input, s.submit, s.cancel, s.later} {
		s.f.get(i).hidden = true
	}
	s.f.get(s.done).hidden = false
	s.f.setFocus(s.done)
	return sessionCmd(msg.sess, true, "Multi-factor authentication has been set up.")
}

func (s *setup) ShortHelp() []key.Binding {
	k := s.c.keys
	var out []key.Binding
	if s.f.typing() {
		out = append(out, with(k.Enter, "enter", "set up"))
	} else {
		out = s.formHelp()
	}
	return append(out, s.setupKeys()...)
}

func (s *setup) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{append(s.formHelp(), s.setupKeys()...), {k.Next, k.Prev, with(k.Back, "esc", "back or to the menu")}}
}

// setupKeys are the set-up page's own keys while a key is on it: the link
// before the QR's inversion, so that a narrow footer cuts the latter first.
func (s *setup) setupKeys() []key.Binding {
	k := s.c.keys
	var out []key.Binding
	if s.linkAvailable() {
		if s.showLink {
			out = append(out, with(k.SetupLink, "ctrl+l", "hide link"))
		} else {
			out = append(out, k.SetupLink)
		}
	}
	if s.c.st.Plain && s.qr != nil {
		out = append(out, k.InvertQR)
	}
	return out
}

// linkAvailable is whether there is an enrolment's URI to show: not before
// set-up starts, nor once it is done (the secret is never shown again).
func (s *setup) linkAvailable() bool { return s.loaded && s.codes == nil && s.en.URI != "" }
