package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// addUser is where an administrator adds a user to their account: username,
// name, email, role and a temporary password, generated and shown once or
// typed twice. The user replaces the password at the first login. An
// administrator with MFA confirms with a code of their own (core's step-up).
type addUser struct {
	base
	ownMFA bool // the administrator has MFA: their code confirms

	// Once the user is added the form gives way to the result: who was
	// added and, when it was generated, the password, shown this once.
	added     bool
	user      core.User
	generated string

	username, name, email, role, how, pass, again, code, submit, cancel int
	done, another                                                       int
}

// How the temporary password is chosen; generating is the default, so that
// nobody has to invent one.
var passwordChoices = []string{"generate one", "type one"}

func newAddUser(c *Common) *addUser {
	s := &addUser{base: newBase(c)}
	s.username = s.f.text("Username", "letters, digits, . _ - @ +", core.MaxUsernameLen, false)
	s.name = s.f.text("Name", "optional", core.MaxDisplayNameLen, false)
	s.email = s.f.text("Email", "optional", core.MaxEmailLen, false)
	s.role = s.f.choice("Role", userRoles...)
	s.how = s.f.choice("Password", passwordChoices...)
	s.pass = s.f.text("Temporary", "at least 8 characters", core.MaxPasswordLen, true)
	s.again = s.f.text("Repeat", "", core.MaxPasswordLen, true)
	s.code = s.f.text("Your code", "from your own app", 16, false)
	s.submit = s.f.button("Add user")
	s.cancel = s.f.button("Cancel")
	s.done = s.f.button("Done")
	s.another = s.f.button("Add another")
	s.show()
	return s
}

type userAddedMsg struct {
	stamp
	user      core.User
	generated string // the password drawn for the user, "" when typed
	err       error
}

// addUserCmd creates the user; with an empty password it draws one first.
func addUserCmd(c *Common, nu core.NewUser, code string) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		var generated string
		if nu.Password == "" {
			pw, err := svc.GeneratePassword()
			if err != nil {
				return userAddedMsg{stamp: st.answered(err), err: err}
			}
			nu.Password, generated = pw, pw
		}
		u, err := svc.CreateUser(ctx, sess, sess.AccountID(), nu, code)
		if err != nil {
			generated = "" // never used: the next try draws another
		}
		return userAddedMsg{stamp: st.answered(err), user: u, generated: generated, err: err}
	}
}

// Init asks whether the administrator has MFA, to show the code field.
func (s *addUser) Init() tea.Cmd { return mfaStatusCmd(s.c) }

// typed is whether the administrator types the password.
func (s *addUser) typed() bool { return s.f.get(s.how).choice == 1 }

// show hides what does not apply: the typed password's fields when it is
// generated, the code field for an administrator without MFA, and the whole
// form once the user is added.
func (s *addUser) show() {
	for _, i := range []int{s.username, s.name, s.email, s.role, s.how, s.submit, s.cancel} {
		s.f.get(i).hidden = s.added
	}
	s.f.get(s.pass).hidden = s.added || !s.typed()
	s.f.get(s.again).hidden = s.added || !s.typed()
	s.f.get(s.code).hidden = s.added || !s.ownMFA
	s.f.get(s.done).hidden = !s.added
	s.f.get(s.another).hidden = !s.added
}

// Back leaves for the users list; the password shown goes with the screen.
func (s *addUser) Back() (tea.Cmd, bool) {
	s.generated = ""
	return gotoCmd(scrUsers), true
}

func (s *addUser) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case mfaStatusMsg:
		s.ownMFA = s.ownMFA || msg.err == nil && msg.status.State == "active"
		s.show()
		s.refocus()
	case userAddedMsg:
		return s, s.result(msg)
	case tea.KeyMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *addUser) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.keys
	// Enter goes from field to field, as on Register, and adds the user
	// from the last one; Space and ←/→ change a choice.
	if key.Matches(msg, k.Enter) && s.f.focused() >= 0 && s.f.get(s.f.focused()).kind != ctrlButton {
		if s.lastField() == s.f.focused() {
			return s.addCmd()
		}
		s.f.move(1)
		return nil
	}
	ev, cmd := s.f.update(msg)
	switch {
	case ev == evChanged && s.f.isFocused(s.how):
		s.f.setValue(s.pass, "")
		s.f.setValue(s.again, "")
		s.f.get(s.pass).err, s.f.get(s.again).err = "", ""
		s.show()
	case ev != evPress:
	case s.f.isFocused(s.submit):
		return s.addCmd()
	case s.f.isFocused(s.cancel), s.f.isFocused(s.done):
		s.generated = ""
		return gotoCmd(scrUsers)
	case s.f.isFocused(s.another):
		s.generated = ""
		return gotoCmd(scrAddUser)
	}
	return cmd
}

// lastField is the last visible field before the buttons: Enter there adds.
func (s *addUser) lastField() int {
	last := -1
	for _, i := range []int{s.username, s.name, s.email, s.role, s.how, s.pass, s.again, s.code} {
		if !s.f.get(i).hidden {
			last = i
		}
	}
	return last
}

func (s *addUser) addCmd() tea.Cmd {
	if s.busy || s.added {
		return nil
	}
	s.f.clearErrors()
	nu := core.NewUser{Username: strings.TrimSpace(s.f.value(s.username)), DisplayName: strings.TrimSpace(s.f.value(s.name)),
		Email: strings.TrimSpace(s.f.value(s.email)), Role: core.Role(userRoles[s.f.get(s.role).choice])}
	if err := core.CheckUserFields(nu); err != nil {
		s.showError(err) // before anything is drawn or spent
		return nil
	}
	if s.typed() {
		if !s.f.samePasswords(s.pass, s.again) {
			return nil
		}
		nu.Password = s.f.value(s.pass)
		if nu.Password == "" {
			s.f.get(s.pass).err = "Type the temporary password, or choose to generate one."
			s.f.setFocus(s.pass)
			return nil
		}
	}
	s.busy = true
	return addUserCmd(s.c, nu, strings.TrimSpace(s.f.value(s.code)))
}

func (s *addUser) result(msg userAddedMsg) tea.Cmd {
	s.busy = false
	if msg.err != nil {
		if s.showError(msg.err) {
			return nil
		}
		return flashCmd(s.c.describe(msg.err), true)
	}
	s.added, s.user, s.generated = true, msg.user, msg.generated
	for _, i := range []int{s.pass, s.again, s.code} {
		s.f.setValue(i, "")
	}
	s.show()
	s.f.setFocus(s.done)
	return nil
}

// showError puts an error under the field it concerns and reports whether
// it found one. A wrong code, a lock and a refused step-up go under the
// code field, which shows even if the MFA status had not come yet.
func (s *addUser) showError(err error) bool {
	at := func(i int, text string) bool {
		s.f.get(i).hidden = false
		s.f.get(i).err = text
		s.f.setFocus(i)
		return true
	}
	switch {
	case errors.Is(err, core.ErrExists):
		return at(s.username, "Username "+clean(s.f.value(s.username), core.MaxUsernameLen)+" is taken: choose another.")
	case errors.Is(err, core.ErrInvalidCode), errors.Is(err, core.ErrLocked), errors.Is(err, core.ErrMFADisabled):
		s.ownMFA = true
		s.f.setValue(s.code, "")
		return at(s.code, s.c.describe(err))
	}
	field, text, ok := fieldError(err)
	if !ok {
		return false
	}
	switch field {
	case "username":
		return at(s.username, text)
	case "name":
		return at(s.name, text)
	case "email":
		return at(s.email, text)
	case "password":
		if s.typed() {
			s.f.setValue(s.pass, "")
			s.f.setValue(s.again, "")
			return at(s.pass, text)
		}
	case "code":
		s.ownMFA = true
		s.f.setValue(s.code, "")
		return at(s.code, text)
	}
	return false
}

func (s *addUser) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.f.fitInputs(s.w, 18)
}

func (s *addUser) ShortHelp() []key.Binding {
	k := s.c.keys
	i := s.f.focused()
	switch {
	case i < 0:
		return nil
	case i == s.lastField():
		return append(s.formHelp(), with(k.Enter, "enter", "add user"))
	case s.f.get(i).kind != ctrlButton:
		return append(s.formHelp(), with(k.Enter, "enter", "next field"))
	}
	return s.formHelp()
}
