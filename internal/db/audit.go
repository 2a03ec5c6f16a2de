package db

import "context"

// AuditEvent is a row of audit_events.
type AuditEvent struct {
	ID         int64
	At         int64
	AccountID  int64
	ActorID    int64
	ActorName  string
	Action     string
	TargetID   int64
	TargetName string
	Source     string
	Detail     string
}

// InsertAudit appends an event; call it in the transaction of the change.
func InsertAudit(ctx context.Context, q Querier, e AuditEvent) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO audit_events (at, account_id, actor_id, actor_name, action, target_id, target_name, source, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At, e.AccountID, e.ActorID, e.ActorName, e.Action, e.TargetID, e.TargetName, e.Source, e.Detail)
	return Translate(err)
}

// ListAudit returns events newest first, before the event id `before` (0: from
// the newest), for one account or, with accountID < 0, for all.
func ListAudit(ctx context.Context, q Querier, accountID, before int64, limit int) ([]AuditEvent, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	where, args := `id < ?`, []any{before}
	if accountID >= 0 {
		where += ` AND account_id = ?`
		args = append(args, accountID)
	}
	query := `SELECT id, at, account_id, actor_id, actor_name, action, target_id, target_name, source, detail
		FROM audit_events WHERE ` + where + ` ORDER BY id DESC LIMIT ?`
	rows, err := q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, Translate(err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		if err := rows.Scan(&e.ID, &e.At, &e.AccountID, &e.ActorID, &e.ActorName, &e.Action,
			&e.TargetID, &e.TargetName, &e.Source, &e.Detail); err != nil {
			return nil, Translate(err)
		}
		out = append(out, e)
	}
	return out, Translate(rows.Err())
}
