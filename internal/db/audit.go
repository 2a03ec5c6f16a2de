package db

import (
	"context"
	"errors"
)

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
	Times      int // how many attempts an aggregated event counts; 1 for the others
}

// InsertAudit appends an event; call it in the transaction of the change.
func InsertAudit(ctx context.Context, q Querier, e AuditEvent) error {
	e.Times = 1
	_, err := insertAudit(ctx, q, e)
	return err
}

func insertAudit(ctx context.Context, q Querier, e AuditEvent) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `
		INSERT INTO audit_events (at, account_id, actor_id, actor_name, action, target_id, target_name, source, detail, times)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.At, e.AccountID, e.ActorID, e.ActorName, e.Action, e.TargetID, e.TargetName, e.Source, e.Detail, e.Times).Scan(&id)
	return id, Translate(err)
}

// BumpAggregate counts one more occurrence of kind in the hour starting at
// hour: the first one inserts e, later ones add to it and replace its target,
// source and detail with the newest (detail gets the count and the first
// event's time). It forgets the hours before.
func BumpAggregate(ctx context.Context, q Querier, kind string, hour int64, e AuditEvent, detail func(times int, first int64) string) error {
	var id, first int64
	var times int
	err := q.QueryRowContext(ctx, `
		SELECT e.id, e.times, e.at FROM audit_aggregates a JOIN audit_events e ON e.id = a.event_id
		WHERE a.kind = ? AND a.hour = ?`, kind, hour).Scan(&id, &times, &first)
	switch err = Translate(err); {
	case errors.Is(err, ErrNotFound):
		if _, err := q.ExecContext(ctx, `DELETE FROM audit_aggregates WHERE kind = ? AND hour < ?`, kind, hour); err != nil {
			return Translate(err)
		}
		e.Times, e.Detail = 1, detail(1, e.At)
		if id, err = insertAudit(ctx, q, e); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `INSERT INTO audit_aggregates (kind, hour, event_id) VALUES (?, ?, ?)`, kind, hour, id)
		return Translate(err)
	case err != nil:
		return err
	}
	return execOne(ctx, q, `
		UPDATE audit_events SET times = ?, target_name = ?, source = ?, detail = ? WHERE id = ?`,
		times+1, e.TargetName, e.Source, detail(times+1, first), id)
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
	query := `SELECT id, at, account_id, actor_id, actor_name, action, target_id, target_name, source, detail, times
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
			&e.TargetID, &e.TargetName, &e.Source, &e.Detail, &e.Times); err != nil {
			return nil, Translate(err)
		}
		out = append(out, e)
	}
	return out, Translate(rows.Err())
}
