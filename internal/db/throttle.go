package db

import (
	"context"
	"errors"
)

// Counter is a failed-password counter: a name bucket's or a trusted origin's.
type Counter struct {
	Failures    int
	LockedUntil int64
	FailedAt    int64 // the last attempt counted
}

// BucketCounter returns a name bucket's counter; zero when it has none.
func BucketCounter(ctx context.Context, q Querier, bucket int) (Counter, error) {
	var c Counter
	err := q.QueryRowContext(ctx, `SELECT failures, locked_until, failed_at FROM name_buckets WHERE bucket = ?`, bucket).
		Scan(&c.Failures, &c.LockedUntil, &c.FailedAt)
	if err = Translate(err); errors.Is(err, ErrNotFound) {
		return Counter{}, nil
	}
	return c, err
}

// TrustedOrigin returns when a user last signed in fully from origin and the
// origin's counter; ok is false when they never did.
func TrustedOrigin(ctx context.Context, q Querier, userID int64, origin string) (signedInAt int64, c Counter, ok bool, err error) {
	err = q.QueryRowContext(ctx, `
		SELECT signed_in_at, failures, locked_until, failed_at FROM trusted_origins WHERE user_id = ? AND origin = ?`,
		userID, origin).Scan(&signedInAt, &c.Failures, &c.LockedUntil, &c.FailedAt)
	if err = Translate(err); errors.Is(err, ErrNotFound) {
		return 0, Counter{}, false, nil
	}
	return signedInAt, c, err == nil, err
}

// ResetOriginCounters clears the counters of every trusted origin of a user.
func ResetOriginCounters(ctx context.Context, q Querier, userID int64) error {
	_, err := q.ExecContext(ctx, `UPDATE trusted_origins SET failures = 0, locked_until = 0, failed_at = 0 WHERE user_id = ?`, userID)
	return Translate(err)
}

// TrustOrigin records a full sign-in of a user from origin, with a fresh
// counter. A new origin first forgets the user's origins not signed in from
// since forgetBefore, so the rows a user has stay as few as the places they
// use; a known one is one UPDATE (the forgetting's DELETE builds a temporary
// table: a quarter of the statements of a sign-in).
func TrustOrigin(ctx context.Context, q Querier, userID int64, origin string, at, forgetBefore int64) error {
	res, err := q.ExecContext(ctx, `UPDATE trusted_origins SET signed_in_at = ?, failures = 0, locked_until = 0, failed_at = 0
		WHERE user_id = ? AND origin = ?`, at, userID, origin)
	if err != nil {
		return Translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM trusted_origins WHERE user_id = ? AND signed_in_at < ?`,
		userID, forgetBefore); err != nil {
		return Translate(err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO trusted_origins (user_id, origin, signed_in_at) VALUES (?, ?, ?)`, userID, origin, at)
	return Translate(err)
}
