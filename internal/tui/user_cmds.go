package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// The user page's calls to core and the messages they answer with.

type userMsg struct {
	stamp
	u     core.User
	err   error
	flash string // the confirmation of the change that reloaded the user
}

type userDoneMsg struct {
	stamp
	what string       // "saved", "password", "mfa"
	sess core.Session // after "mfa": the caller's session, which removing their own MFA may change
	err  error
}

func getUserCmd(c *Common, id int64, flash string) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		u, err := svc.GetUser(ctx, sess, id)
		return userMsg{stamp: st.answered(err), u: u, err: err, flash: flash}
	}
}

func updateUserCmd(c *Common, id int64, up core.UserUpdate) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		_, err := svc.UpdateUser(ctx, sess, id, up)
		return userDoneMsg{stamp: st.answered(err), what: "saved", err: err}
	}
}

func resetPasswordCmd(c *Common, id int64, password, code string) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		err := svc.ResetPassword(ctx, sess, id, password, code)
		return userDoneMsg{stamp: st.answered(err), what: "password", err: err}
	}
}

func removeUserMFACmd(c *Common, id int64, reason, code string) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		out, err := svc.RemoveUserMFA(ctx, sess, id, reason, code)
		return userDoneMsg{stamp: st.answered(err), what: "mfa", sess: out, err: err}
	}
}

type policyMsg struct {
	stamp
	requireMFA bool
}

func policyCmd(c *Common) tea.Cmd {
	ctx, svc, sess, st := c.ctx, c.svc, c.sess, c.stamp()
	return func() tea.Msg {
		a, err := svc.GetAccount(ctx, sess, sess.AccountID())
		return policyMsg{stamp: st.answered(err), requireMFA: err == nil && a.RequireMFA}
	}
}
