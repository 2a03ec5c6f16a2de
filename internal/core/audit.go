package core

import (
	"context"
	"fmt"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Action names an audit event.
type Action string

// Every change and every failure leaves one of these.
const (
	ActionAccountCreated   Action = "account.created"
	ActionRequireMFA       Action = "account.require_mfa"
	ActionUserCreated      Action = "user.created"
	ActionUserUpdated      Action = "user.updated"
	ActionPasswordChanged  Action = "user.password_changed"
	ActionPasswordReset    Action = "user.password_reset"
	ActionLogin            Action = "login.succeeded"
	ActionLoginFailed      Action = "login.failed"
	ActionLogout           Action = "logout"
	ActionCodeFailed       Action = "mfa.code_failed"
	ActionMFALoginDisabled Action = "mfa.login_disabled"
	ActionSecretUnreadable Action = "mfa.secret_unreadable"
	ActionRecoveryUsed     Action = "mfa.recovery_code_used"
	ActionMFASetupStarted  Action = "mfa.setup_started"
	ActionMFAEnabled       Action = "mfa.enabled"
	ActionMFADeleted       Action = "mfa.deleted"
	ActionMFARemoved       Action = "mfa.removed_by_admin"
	ActionDemoSeeded       Action = "demo.seeded"
)

// AuditEvent is one entry of the trail, as shown to an administrator.
type AuditEvent struct {
	ID         int64
	At         time.Time
	AccountID  int64
	Actor      string
	Action     Action
	TargetID   int64
	TargetName string
	Source     string
	Detail     string
	Times      int // how many attempts an aggregated event counts (failed logins of unknown users); else 1
}

// event is an audit entry before it is written.
type event struct {
	account int64
	actorID int64
	actor   string
	action  Action
	target  db.User // only ID and Username are used
	detail  string
}

// audit writes e in the caller's transaction. Detail never holds a code,
// secret, password or URI; names are cleaned and cut so an attacker-supplied
// username cannot flood or escape the trail.
func (s *Service) audit(ctx context.Context, q db.Querier, sess Session, e event) error {
	actor := e.actor
	if actor == "" {
		actor = sess.username
	}
	if sess.operator {
		actor = "operator"
	}
	actorID := e.actorID
	if actorID == 0 {
		actorID = sess.userID
	}
	err := db.InsertAudit(ctx, q, db.AuditEvent{
		At: s.now().UnixNano(), AccountID: e.account, ActorID: actorID, ActorName: CleanText(actor, MaxUsernameLen),
		Action: string(e.action), TargetID: e.target.ID, TargetName: CleanText(e.target.Username, MaxUsernameLen),
		Source: CleanText(sess.source, 128), Detail: CleanText(e.detail, 512),
	})
	if err != nil {
		return fmt.Errorf("writing the audit trail: %w", err)
	}
	return nil
}

// ListAudit returns an account's events newest first, before event id
// `before` (0 for the newest). The operator may pass accountID -1 for all.
func (s *Service) ListAudit(ctx context.Context, sess Session, accountID, before int64, limit int) ([]AuditEvent, error) {
	if accountID < 0 && !sess.operator {
		return nil, ErrForbidden
	}
	if accountID >= 0 {
		if err := s.admin(ctx, s.db, sess, accountID); err != nil {
			return nil, err
		}
	}
	limit = max(1, min(limit, 1000))
	rows, err := db.ListAudit(ctx, s.db, accountID, before, limit)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = AuditEvent{ID: r.ID, At: time.Unix(0, r.At).UTC(), AccountID: r.AccountID, Actor: r.ActorName,
			Action: Action(r.Action), TargetID: r.TargetID, TargetName: r.TargetName, Source: r.Source, Detail: r.Detail,
			Times: r.Times}
	}
	return out, nil
}
