package db

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"
)

// The failure counters' guards: each decision (is this attempt admitted, is
// this code's step new, is the user locked) is one statement whose affected
// row decides, so that however many processes or hosts race, none reads a
// counter, decides in Go and writes back a value another has overtaken.

// Lockout is the lock schedule a counter follows (core/lockout.go holds the
// values): After failures in a row lock it for First, each further failure
// doubles that, up to Max.
type Lockout struct {
	After      int
	First, Max time.Duration
}

// doublings is how many doublings of First reach Max.
func (l Lockout) doublings() int {
	k := 0
	for d := l.First; d < l.Max; d *= 2 {
		k++
	}
	return k
}

// args are the parameters lockSQL reads from its base position on.
func (l Lockout) args() []any {
	return []any{l.After, int64(l.First), int64(l.Max), l.doublings()}
}

// lockSQL is core's lockUntil in SQL: the locked_until of a counter with nf
// failures at ?now, by the schedule in parameters base..base+3 (Lockout.args).
func lockSQL(nf string, now, base int) string {
	p := func(i int) string { return "?" + strconv.Itoa(base+i) }
	n := "CAST(?" + strconv.Itoa(now) + " AS BIGINT)"
	return `CASE WHEN ` + nf + ` < ` + p(0) + ` THEN 0
		WHEN ` + nf + ` - ` + p(0) + ` >= ` + p(3) + ` THEN ` + n + ` + CAST(` + p(2) + ` AS BIGINT)
		ELSE ` + n + ` + (CAST(` + p(1) + ` AS BIGINT) << (` + nf + ` - ` + p(0) + `)) END`
}

// ReserveBucket counts an attempt on a name bucket unless the bucket is
// locked at now; a counter idle since forgetBefore starts again. It returns
// the counter as this attempt left it, or, with ok false, as the lock that
// refused it.
func ReserveBucket(ctx context.Context, q Querier, bucket int, now, forgetBefore int64, l Lockout) (c Counter, ok bool, err error) {
	const nf = `CASE WHEN name_buckets.failed_at < ?3 THEN 1 ELSE name_buckets.failures + 1 END`
	err = q.QueryRowContext(ctx, `INSERT INTO name_buckets (bucket, failures, locked_until, failed_at)
		VALUES (?1, 1, `+lockSQL("1", 2, 4)+`, ?2)
		ON CONFLICT (bucket) DO UPDATE SET failures = `+nf+`, locked_until = `+lockSQL(nf, 2, 4)+`, failed_at = ?2
		WHERE name_buckets.locked_until <= ?2 OR name_buckets.failed_at < ?3
		RETURNING failures, locked_until, failed_at`, append([]any{bucket, now, forgetBefore}, l.args()...)...).
		Scan(&c.Failures, &c.LockedUntil, &c.FailedAt)
	if errors.Is(err, sql.ErrNoRows) {
		c, err = BucketCounter(ctx, q, bucket)
		return c, false, err
	}
	return c, err == nil, Translate(err)
}

// ReserveOrigin counts an attempt on the counter of a user's origin if they
// signed in fully from there since trustedSince and it is not locked at now.
// trusted false: the origin is not trusted, and nothing was counted.
func ReserveOrigin(ctx context.Context, q Querier, userID int64, origin string, trustedSince, now, forgetBefore int64,
	l Lockout) (c Counter, trusted, ok bool, err error) {
	const nf = `CASE WHEN trusted_origins.failed_at < ?3 THEN 1 ELSE trusted_origins.failures + 1 END`
	err = q.QueryRowContext(ctx, `UPDATE trusted_origins SET failures = `+nf+`, locked_until = `+lockSQL(nf, 2, 4)+`, failed_at = ?2
		WHERE user_id = ?1 AND origin = ?8 AND signed_in_at >= ?9 AND (locked_until <= ?2 OR failed_at < ?3)
		RETURNING failures, locked_until, failed_at`,
		append(append([]any{userID, now, forgetBefore}, l.args()...), origin, trustedSince)...).
		Scan(&c.Failures, &c.LockedUntil, &c.FailedAt)
	if err == nil {
		return c, true, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, false, false, Translate(err)
	}
	at, c, known, err := TrustedOrigin(ctx, q, userID, origin)
	return c, known && at >= trustedSince, false, err
}

// lockedBeyond returns the lock of a counter that more than n failures have
// locked at now (0 when none has): of an attempt that reserved the n-th.
func lockedBeyond(ctx context.Context, q Querier, query string, args ...any) (int64, error) {
	var until int64
	err := q.QueryRowContext(ctx, query, args...).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return until, Translate(err)
}

// BucketLockedBeyond: see lockedBeyond.
func BucketLockedBeyond(ctx context.Context, q Querier, bucket, n int, now int64) (int64, error) {
	return lockedBeyond(ctx, q, `SELECT locked_until FROM name_buckets WHERE bucket = ?1 AND failures > ?2 AND locked_until > ?3`,
		bucket, n, now)
}

// OriginLockedBeyond: see lockedBeyond.
func OriginLockedBeyond(ctx context.Context, q Querier, userID int64, origin string, n int, now int64) (int64, error) {
	return lockedBeyond(ctx, q, `SELECT locked_until FROM trusted_origins
		WHERE user_id = ?1 AND origin = ?4 AND failures > ?2 AND locked_until > ?3`, userID, n, now, origin)
}

// GiveBackBucketAttempt returns to a bucket the attempt that reserved its
// n-th failure and proved right, with the lock that reservation set (ownLock),
// unless more failures have locked the bucket since: then it changes
// nothing and returns that lock. A bucket is never reset: the other names in
// it may be under attack.
func GiveBackBucketAttempt(ctx context.Context, q Querier, bucket, n int, now, ownLock int64, after int) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE name_buckets SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END,
		locked_until = CASE WHEN failures - 1 < ?4 OR (CAST(?5 AS BIGINT) <> 0 AND locked_until = ?5) THEN 0 ELSE locked_until END
		WHERE bucket = ?1 AND NOT (failures > ?2 AND locked_until > ?3)`, bucket, n, now, after, ownLock)
	if done, err := oneRow(res, err); done || err != nil {
		return 0, err
	}
	return BucketLockedBeyond(ctx, q, bucket, n, now)
}

// ResetOriginCounter clears a trusted origin's counter for the attempt that
// reserved its n-th failure and proved right, unless more failures have
// locked it since: then it changes nothing and returns that lock.
func ResetOriginCounter(ctx context.Context, q Querier, userID int64, origin string, n int, now int64) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE trusted_origins SET failures = 0, locked_until = 0, failed_at = 0
		WHERE user_id = ?1 AND origin = ?4 AND NOT (failures > ?2 AND locked_until > ?3)`, userID, n, now, origin)
	if done, err := oneRow(res, err); done || err != nil {
		return 0, err
	}
	return OriginLockedBeyond(ctx, q, userID, origin, n, now)
}

// oneRow says whether a statement changed a row.
func oneRow(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, Translate(err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
