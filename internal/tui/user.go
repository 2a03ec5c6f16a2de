package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// userPage updates one user of the account: name, email, role, disabled,
// a temporary password, and the Multi-Factor Authentication section whose
// Remove MFA asks for a confirmation that names the user. An administrator
// with MFA confirms both with a code of their own (core's step-up); their own
// MFA goes only with its code, and their own password is not reset here.
type userPage struct {
	base
	id     int64
	u      core.User
	loaded bool
	mode   userMode
	ownMFA bool // the signed-in administrator has MFA: their code confirms
	// requireMFA is the account's policy: after Remove MFA the user goes to
	// MFA setup, not in with the password alone.
	requireMFA bool

	name, email, role, disabled, save, reset, back          int
	pass, again, passCode, setPass, cancelPass              int
	remove, reason, removeCode, confirmRemove, cancelRemove int
}

type userMode int

const (
	modeEdit userMode = iota
	modePassword
	modeRemove
)

var userRoles = []string{string(core.RoleUser), string(core.RoleAdmin)}

func newUser(c *Common, id int64) *userPage {
	s := &userPage{base: newBase(c), id: id}
	s.name = s.f.text("Name", "", core.MaxDisplayNameLen, false)
	s.email = s.f.text("Email", "", core.MaxEmailLen, false)
	s.role = s.f.choice("Role", userRoles...)
	s.disabled = s.f.check("Disabled: cannot log in", false)
	s.save = s.f.button("Save")
	s.reset = s.f.button("Reset password")
	s.back = s.f.button("Back")
	s.pass = s.f.text("New password", "at least 8 characters", core.MaxPasswordLen, true)
	s.again = s.f.text("Repeat", "", core.MaxPasswordLen, true)
	s.passCode = s.f.text("Your code", "from your own app", 16, false)
	s.setPass = s.f.button("Set password")
	s.cancelPass = s.f.button("Cancel")
	s.remove = s.f.button("Remove MFA")
	s.reason = s.f.text("Reason", "optional, for the audit trail", 200, false)
	s.removeCode = s.f.text("Your code", "from your own app", 16, false)
	// Cancel first: Enter from the fields lands on it, so removing is a
	// choice of its own.
	s.cancelRemove = s.f.button("Cancel")
	s.confirmRemove = s.f.button("Remove MFA")
	s.show()
	return s
}

// Init loads the user, whether the administrator has MFA of their own, and
// whether the account requires MFA.
func (s *userPage) Init() tea.Cmd {
	return tea.Batch(getUserCmd(s.c, s.id, ""), mfaStatusCmd(s.c), policyCmd(s.c))
}

// self is whether the page shows the signed-in administrator.
func (s *userPage) self() bool { return s.u.ID == s.c.sess.UserID() }

// show hides what does not apply: everything until the user is loaded, the
// edit buttons in a dialog, Remove MFA for a user without MFA.
func (s *userPage) show() {
	edit := s.loaded && s.mode == modeEdit
	for _, i := range []int{s.name, s.email, s.role, s.disabled} {
		s.f.get(i).hidden = !s.loaded
	}
	for _, i := range []int{s.save, s.reset, s.back} {
		s.f.get(i).hidden = !edit
	}
	s.f.get(s.reset).hidden = !edit || s.self() // your own password is changed with the current one
	for _, i := range []int{s.pass, s.again, s.setPass, s.cancelPass} {
		s.f.get(i).hidden = s.mode != modePassword
	}
	s.f.get(s.passCode).hidden = s.mode != modePassword || !s.ownMFA
	s.f.get(s.remove).hidden = !edit || s.u.MFA == "none"
	for _, i := range []int{s.reason, s.confirmRemove, s.cancelRemove} {
		s.f.get(i).hidden = s.mode != modeRemove
	}
	s.f.get(s.removeCode).hidden = s.mode != modeRemove || !s.ownMFA && !s.self()
}

// name is the user as sentences name them.
func (s *userPage) username() string { return clean(s.u.Username, core.MaxUsernameLen) }

func (s *userPage) Back() (tea.Cmd, bool) {
	if s.mode != modeEdit {
		s.closeDialog(s.reset)
		return nil, true
	}
	return gotoCmd(scrUsers), true
}

// closeDialog returns to editing with the focus on focus.
func (s *userPage) closeDialog(focus int) {
	if s.mode == modeRemove {
		focus = s.remove
	}
	s.mode = modeEdit
	for _, i := range []int{s.pass, s.again, s.passCode, s.reason, s.removeCode} {
		s.f.setValue(i, "")
	}
	s.f.clearErrors()
	s.show()
	s.f.setFocus(focus)
	s.f.ensureFocus()
}

func (s *userPage) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case userMsg:
		if msg.err != nil {
			return s, gotoErrCmd(scrUsers, "Could not open the user: "+s.c.describe(msg.err))
		}
		// The fields hold the text as drawn: cleaned, and compared cleaned
		// on Save, so that only what the administrator typed is sent.
		s.u, s.loaded = msg.u, true
		s.u.DisplayName, s.u.Email = clean(msg.u.DisplayName, 0), clean(msg.u.Email, 0)
		s.f.setValue(s.name, s.u.DisplayName)
		s.f.setValue(s.email, s.u.Email)
		s.f.get(s.role).choice = 0
		if msg.u.Role == core.RoleAdmin {
			s.f.get(s.role).choice = 1
		}
		s.f.get(s.disabled).checked = msg.u.Disabled
		s.show()
		s.refocus()
		if msg.flash != "" {
			return s, flashCmd(msg.flash, false)
		}
	case mfaStatusMsg:
		s.ownMFA = msg.err == nil && msg.status.State == "active"
		s.show()
		s.refocus()
	case policyMsg:
		s.requireMFA = msg.requireMFA
	case userDoneMsg:
		return s, s.done(msg)
	case tea.KeyMsg:
		if key.Matches(msg, s.c.keys.RemoveMFA) {
			return s, s.openRemove()
		}
		ev, cmd := s.f.update(msg)
		switch ev {
		case evSubmit: // Enter in a field goes to the next one; only a button acts
			s.f.move(1)
			s.f.ensureFocus()
		case evPress:
			return s, s.activate()
		}
		return s, cmd
	}
	return s, nil
}

// openRemove opens the Remove MFA dialog, from its button or Ctrl+R.
func (s *userPage) openRemove() tea.Cmd {
	if s.busy || s.mode != modeEdit || s.f.get(s.remove).hidden {
		return nil
	}
	s.mode = modeRemove
	s.f.get(s.confirmRemove).label = "Remove MFA from " + s.username()
	if s.self() {
		s.f.get(s.confirmRemove).label = "Remove my MFA"
	}
	s.show()
	s.f.setFocus(s.reason)
	return nil
}

// unsaved is a field changed and not saved, or a password typed and not
// set: leaving asks first.
func (s *userPage) unsaved() bool {
	if !s.loaded {
		return false
	}
	if s.mode == modePassword && (s.f.value(s.pass) != "" || s.f.value(s.again) != "") {
		return true
	}
	return strings.TrimSpace(s.f.value(s.name)) != s.u.DisplayName ||
		strings.TrimSpace(s.f.value(s.email)) != s.u.Email ||
		core.Role(userRoles[s.f.get(s.role).choice]) != s.u.Role ||
		s.f.get(s.disabled).checked != s.u.Disabled
}

// activate does what Enter on the focused control means.
func (s *userPage) activate() tea.Cmd {
	if s.busy {
		return nil
	}
	f := s.f.focused()
	switch {
	case f == s.back:
		return gotoCmd(scrUsers)
	case f == s.reset:
		s.mode = modePassword
		s.show()
		s.f.setFocus(s.pass)
	case f == s.remove:
		return s.openRemove()
	case f == s.cancelPass || f == s.cancelRemove:
		s.closeDialog(s.reset)
	case f == s.setPass:
		if !s.f.samePasswords(s.pass, s.again) {
			return nil
		}
		s.busy = true
		return resetPasswordCmd(s.c, s.id, s.f.value(s.pass), strings.TrimSpace(s.f.value(s.passCode)))
	case f == s.confirmRemove:
		s.busy = true
		return removeUserMFACmd(s.c, s.id, strings.TrimSpace(s.f.value(s.reason)), strings.TrimSpace(s.f.value(s.removeCode)))
	case f == s.save:
		return s.saveCmd()
	}
	return nil
}

// saveCmd sends the fields that changed.
func (s *userPage) saveCmd() tea.Cmd {
	var up core.UserUpdate
	changed := false
	if v := strings.TrimSpace(s.f.value(s.name)); v != s.u.DisplayName {
		up.DisplayName, changed = &v, true
	}
	if v := strings.TrimSpace(s.f.value(s.email)); v != s.u.Email {
		up.Email, changed = &v, true
	}
	if r := core.Role(userRoles[s.f.get(s.role).choice]); r != s.u.Role {
		up.Role, changed = &r, true
	}
	if d := s.f.get(s.disabled).checked; d != s.u.Disabled {
		up.Disabled, changed = &d, true
	}
	if !changed {
		return flashCmd("Nothing to save: no field was changed.", false)
	}
	s.f.clearErrors()
	s.busy = true
	return updateUserCmd(s.c, s.id, up)
}

func (s *userPage) done(msg userDoneMsg) tea.Cmd {
	s.busy = false
	if msg.err != nil {
		codeField := s.passCode
		if s.mode == modeRemove {
			codeField = s.removeCode
		}
		if field, text, ok := fieldError(msg.err); ok {
			fields := map[string]int{"name": s.name, "email": s.email, "password": s.pass, "reason": s.reason, "code": codeField}
			if i, ok := fields[field]; ok && !s.f.get(i).hidden {
				s.f.get(i).err = text
				s.f.setFocus(i)
				return nil
			}
		}
		if !s.f.get(codeField).hidden && (errors.Is(msg.err, core.ErrInvalidCode) || errors.Is(msg.err, core.ErrLocked) ||
			errors.Is(msg.err, core.ErrMFADisabled)) {
			s.f.setValue(codeField, "")
			s.f.get(codeField).err = s.c.describe(msg.err)
			s.f.setFocus(codeField)
			return nil
		}
		if errors.Is(msg.err, core.ErrNoMFA) {
			s.closeDialog(s.reset)
			return getUserCmd(s.c, s.id, "")
		}
		return flashCmd(s.c.describe(msg.err), true)
	}
	var text string
	switch msg.what {
	case "saved":
		text = "Saved " + s.username() + "."
	case "password":
		text = "The password of " + s.username() + " was reset: a temporary one, to be changed at the next login."
	case "mfa":
		text = "Multi-factor authentication was removed from " + s.username() + "."
		if s.self() {
			// Where the account requires MFA, the session is back at set-up.
			return sessionCmd(msg.sess, true, "Your multi-factor authentication was removed.")
		}
	}
	s.closeDialog(s.reset)
	return getUserCmd(s.c, s.id, text)
}

func (s *userPage) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.fitInputs(s.w, 18)
}

func (s *userPage) ShortHelp() []key.Binding {
	k := s.c.keys
	var keys []key.Binding
	if s.f.typing() {
		keys = []key.Binding{with(k.Enter, "enter", "next field")}
	} else {
		keys = s.formHelp()
	}
	if s.mode == modeEdit && !s.f.get(s.remove).hidden {
		keys = append(keys, k.RemoveMFA)
	}
	return keys
}
