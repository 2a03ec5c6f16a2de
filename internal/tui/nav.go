package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// Where the console goes: the page a session may see, the move to it, and
// the question before leaving unsaved changes.

// leaveAsked is where the user asked to go from a page with unsaved changes.
type leaveAsked struct {
	to     screenID
	userID int64
	logout bool
}

// unsavedChanges is a page that can hold changes not saved yet: leaving it
// asks first.
type unsavedChanges interface{ unsaved() bool }

func (m *model) unsaved() bool {
	u, ok := m.scr.(unsavedChanges)
	return ok && u.unsaved()
}

// answerLeave takes y (leave without saving) or n or Esc (stay) while the
// root asks about unsaved changes; other keys wait for one of those.
func (m *model) answerLeave(msg tea.KeyMsg) tea.Cmd {
	p := m.leave
	switch msg.String() {
	case "y", "Y":
		m.leave = nil
		if p.logout {
			return m.logout(flashMsg{text: "You have logged out."})
		}
		return m.navigateNow(p.to, p.userID, true)
	case "n", "N", "esc":
		m.leave = nil
	}
	return nil
}

// landing is where a session goes after logging in or changing stage.
func (m *model) landing() screenID {
	switch m.c.sess.Stage() {
	case core.StageCode:
		return scrCode
	case core.StageSetupMFA:
		return scrSetup
	case core.StageNewPassword:
		return scrNewPassword
	case core.StageSignedIn:
		return scrMyMFA
	}
	return scrLogin
}

// allowed is the screen the session may see when it asks for to: before the
// login is complete only the login screens, during forced set-up only
// set-up, and the administrator screens only for administrators.
func (m *model) allowed(to screenID) screenID {
	s := m.c.sess
	switch s.Stage() {
	case core.StageNone:
		if to == scrRegister {
			return scrRegister
		}
		return scrLogin
	case core.StageCode:
		return scrCode
	case core.StageSetupMFA:
		return scrSetup
	case core.StageNewPassword:
		return scrNewPassword
	}
	switch to {
	case scrLogin, scrRegister, scrCode, scrNewPassword:
		return scrMyMFA
	case scrAccount, scrUsers, scrUser, scrAudit, scrAddUser:
		if !s.IsAdmin() {
			return -1
		}
	}
	return to
}

// navigate shows screen to, or what the session may see instead. byUser
// marks a move the user asked for: it clears the flash line, and from a page
// with unsaved changes it asks first.
func (m *model) navigate(to screenID, userID int64, byUser bool) tea.Cmd {
	if byUser && m.allowed(to) != m.cur && m.unsaved() {
		m.leave = &leaveAsked{to: to, userID: userID}
		return nil
	}
	return m.navigateNow(to, userID, byUser)
}

// navigateNow is navigate without the question about unsaved changes.
func (m *model) navigateNow(to screenID, userID int64, byUser bool) tea.Cmd {
	dest := m.allowed(to)
	if dest < 0 {
		m.flash = flashMsg{text: "That page is for account administrators.", err: true}
		return nil
	}
	if byUser && dest != m.cur {
		m.flash = flashMsg{}
	}
	if dest == scrSetup && m.c.sess.Stage() == core.StageSetupMFA && m.cur != scrSetup {
		notice := "Your account requires multi-factor authentication: set it up to continue."
		if m.flash.text != "" && !m.flash.err {
			notice = m.flash.text + " " + notice
		}
		m.flash = flashMsg{text: notice}
	}
	m.menuFocus = false
	m.fullHelp = false // help is the page's: a new page starts without it
	if dest == scrSetup && m.cur == scrSetup {
		// Starting set-up again would replace the secret the user may
		// have scanned already.
		m.scr.Enter(true)
		return nil
	}
	switch {
	case dest == scrUsers && (m.cur == scrUser || m.cur == scrAddUser) && m.users != nil:
		m.scr = m.users // back from a user to the same search and page
	default:
		m.scr = m.newScreen(dest, userID)
	}
	if u, ok := m.scr.(*users); ok {
		m.users = u
	} else if dest != scrUser && dest != scrAddUser {
		m.users = nil
	}
	m.cur = dest
	m.scroll = 0
	m.layout()
	m.scr.Enter(true)
	return m.scr.Init()
}

func (m *model) newScreen(id screenID, userID int64) screen {
	c := m.c
	switch id {
	case scrRegister:
		return newRegister(c)
	case scrCode:
		return newCode(c)
	case scrMyMFA:
		return newMyMFA(c)
	case scrSetup:
		return newSetup(c)
	case scrAccount:
		return newAccount(c)
	case scrUsers:
		return newUsers(c)
	case scrUser:
		return newUser(c, userID)
	case scrAudit:
		return newAudit(c)
	case scrNewPassword:
		return newNewPassword(c)
	case scrAddUser:
		return newAddUser(c)
	case scrPassword:
		return newChangePassword(c)
	}
	return newLogin(c)
}
