package db

import (
	"context"
	"errors"
)

// Throttle is the failure count of a username that does not exist.
type Throttle struct {
	Failures    int
	LockedUntil int64
}

// ThrottleByName returns the counter of a case-folded unknown username.
func ThrottleByName(ctx context.Context, q Querier, nameKey string) (Throttle, error) {
	var t Throttle
	err := q.QueryRowContext(ctx, `SELECT failures, locked_until FROM login_throttle WHERE name_key = ?`, nameKey).
		Scan(&t.Failures, &t.LockedUntil)
	if err = Translate(err); errors.Is(err, ErrNotFound) {
		return Throttle{}, nil
	}
	return t, err
}

// PutThrottle stores the counter and forgets counters idle since before
// `forgetBefore`, so the table stays as small as the attack that fills it.
func PutThrottle(ctx context.Context, q Querier, nameKey string, t Throttle, at, forgetBefore int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_throttle WHERE updated_at < ?`, forgetBefore); err != nil {
		return Translate(err)
	}
	_, err := q.ExecContext(ctx, `
		INSERT INTO login_throttle (name_key, failures, locked_until, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name_key) DO UPDATE SET failures = excluded.failures,
			locked_until = excluded.locked_until, updated_at = excluded.updated_at`,
		nameKey, t.Failures, t.LockedUntil, at)
	return Translate(err)
}
