package db

import (
	"context"
	"database/sql"
	"errors"
)

// MFA is a row of mfa: one authenticator per user.
type MFA struct {
	UserID      int64
	Secret      []byte // encrypted
	KeyID       string
	Algorithm   string
	Digits      int
	Period      int
	State       string
	CreatedAt   int64
	EnabledAt   int64
	LastStep    int64
	Failures    int
	LockedUntil int64
}

// MFAByUser returns a user's authenticator.
func MFAByUser(ctx context.Context, q Querier, userID int64) (MFA, error) {
	var m MFA
	err := q.QueryRowContext(ctx, `
		SELECT user_id, secret, key_id, algorithm, digits, period, state, created_at, enabled_at,
		       last_step, failures, locked_until
		FROM mfa WHERE user_id = ?`, userID).Scan(&m.UserID, &m.Secret, &m.KeyID, &m.Algorithm, &m.Digits,
		&m.Period, &m.State, &m.CreatedAt, &m.EnabledAt, &m.LastStep, &m.Failures, &m.LockedUntil)
	return m, Translate(err)
}

// UserWithMFA returns a user and their authenticator in one read (a code
// check needs both); ok is false when the user has none.
func UserWithMFA(ctx context.Context, q Querier, userID int64) (u User, m MFA, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT `+userCols+`, m.user_id IS NOT NULL,
		m.secret, coalesce(m.key_id, ''), coalesce(m.algorithm, ''), coalesce(m.digits, 0),
		coalesce(m.period, 0), coalesce(m.created_at, 0), coalesce(m.enabled_at, 0), coalesce(m.last_step, -1),
		coalesce(m.failures, 0), coalesce(m.locked_until, 0)`+userFrom+`WHERE u.id = ?`, userID).Scan(
		&u.ID, &u.AccountID, &u.Username, &u.DisplayName, &u.Email, &u.Role, &u.PasswordHash,
		&u.Disabled, &u.CreatedAt, &u.UpdatedAt, &u.SessionEpoch, &u.MustChangePassword, &u.MFAState,
		&ok, &m.Secret, &m.KeyID, &m.Algorithm, &m.Digits, &m.Period, &m.CreatedAt, &m.EnabledAt, &m.LastStep,
		&m.Failures, &m.LockedUntil)
	if ok {
		m.UserID, m.State = u.ID, u.MFAState
	}
	return u, m, ok, Translate(err)
}

// PutPendingMFA stores a new pending authenticator, replacing an earlier pending one.
func PutPendingMFA(ctx context.Context, q Querier, m MFA) error {
	return recounted(ctx, q, m.UserID, func() error {
		if _, err := q.ExecContext(ctx, `
		INSERT INTO mfa (user_id, secret, key_id, algorithm, digits, period, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, key_id = excluded.key_id,
			algorithm = excluded.algorithm, digits = excluded.digits, period = excluded.period,
			state = 'pending', created_at = excluded.created_at, enabled_at = 0, last_step = -1,
			failures = 0, locked_until = 0`,
			m.UserID, m.Secret, m.KeyID, m.Algorithm, m.Digits, m.Period, m.CreatedAt); err != nil {
			return Translate(err)
		}
		return setMFAOn(ctx, q, m.UserID, false)
	})
}

// setMFAOn mirrors the user's mfa row state into users.mfa_on.
func setMFAOn(ctx context.Context, q Querier, userID int64, on bool) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET mfa_on = ? WHERE id = ?`, on, userID)
	return Translate(err)
}

// AcceptStep records an accepted time step only if it is later than the last
// one, and ends the run of failures: the conditional UPDATE is the replay
// guard, so of two processes sending one code exactly one changes the row.
// It reports whether this call did. The lock was checked by the attempt's
// reservation (ReserveMFAAttempt) in the same transaction.
func AcceptStep(ctx context.Context, q Querier, userID, step int64) (bool, error) {
	res, err := q.ExecContext(ctx, `
		UPDATE mfa SET last_step = ?2, failures = 0, locked_until = 0
		WHERE user_id = ?1 AND last_step < ?2`, userID, step)
	return oneRow(res, err)
}

// ActivateMFA turns a pending authenticator active.
func ActivateMFA(ctx context.Context, q Querier, userID, at int64) error {
	return recounted(ctx, q, userID, func() error {
		if err := execOne(ctx, q, `UPDATE mfa SET state = 'active', enabled_at = ? WHERE user_id = ? AND state = 'pending'`, at, userID); err != nil {
			return err
		}
		return setMFAOn(ctx, q, userID, true)
	})
}

// ReserveMFAAttempt counts a code attempt as failed before the code is
// checked, and sets the lock its count reaches by l, in the one statement
// that checks the user is neither locked at now nor disabled (disableAfter
// failures in a row). It returns the failures in a row with this one, and
// admitted false (nothing counted) when refused. On PostgreSQL the row stays
// locked until the caller's transaction ends, so another attempt on the user
// waits and then sees this one counted. A right code gives the reservation
// back (AcceptStep, ClearMFAFailures).
func ReserveMFAAttempt(ctx context.Context, q Querier, userID, now int64, l Lockout, disableAfter int) (n int, admitted bool, err error) {
	err = q.QueryRowContext(ctx, `UPDATE mfa SET failures = failures + 1, locked_until = `+lockSQL("(failures + 1)", 2, 3)+`
		WHERE user_id = ?1 AND locked_until <= ?2 AND failures < ?7 RETURNING failures`,
		append(append([]any{userID, now}, l.args()...), disableAfter)...).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return n, err == nil, Translate(err)
}

// ClearMFAFailures ends a user's run of wrong codes and its lock.
func ClearMFAFailures(ctx context.Context, q Querier, userID int64) error {
	return execOne(ctx, q, `UPDATE mfa SET failures = 0, locked_until = 0 WHERE user_id = ?`, userID)
}

// DeleteMFA removes a user's authenticator and recovery codes.
func DeleteMFA(ctx context.Context, q Querier, userID int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return Translate(err)
	}
	return recounted(ctx, q, userID, func() error {
		if err := execOne(ctx, q, `DELETE FROM mfa WHERE user_id = ?`, userID); err != nil {
			return err
		}
		return setMFAOn(ctx, q, userID, false)
	})
}

// RecoveryCode is a row of recovery_codes.
type RecoveryCode struct {
	ID     int64
	Hash   []byte
	UsedAt int64
}

// ReplaceRecoveryCodes stores a user's new set of hashed codes, in place of
// every code they had, pending ones included.
func ReplaceRecoveryCodes(ctx context.Context, q Querier, userID int64, hashes [][]byte) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return Translate(err)
	}
	for _, h := range hashes {
		if _, err := q.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)`, userID, h); err != nil {
			return Translate(err)
		}
	}
	return nil
}

// UnusedRecoveryCodes returns a user's codes not yet used, pending ones left out.
func UnusedRecoveryCodes(ctx context.Context, q Querier, userID int64) ([]RecoveryCode, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT id, hash, used_at FROM recovery_codes WHERE user_id = ? AND used_at = 0 AND pending = 0 ORDER BY id`, userID)
	if err != nil {
		return nil, Translate(err)
	}
	defer rows.Close()
	var out []RecoveryCode
	for rows.Next() {
		var c RecoveryCode
		if err := rows.Scan(&c.ID, &c.Hash, &c.UsedAt); err != nil {
			return nil, Translate(err)
		}
		out = append(out, c)
	}
	return out, Translate(rows.Err())
}

// UseRecoveryCode marks a code used if it was not already; it reports whether
// this call did, so one code cannot sign in twice.
func UseRecoveryCode(ctx context.Context, q Querier, id, at int64) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE id = ? AND used_at = 0 AND pending = 0`, at, id)
	return oneRow(res, err)
}

// PutPendingRecoveryCodes stores the hashed codes shown with a pending
// set-up, in place of the pending ones shown before; they are no use until
// ActivatePendingRecoveryCodes.
func PutPendingRecoveryCodes(ctx context.Context, q Querier, userID int64, hashes [][]byte) error {
	if err := DeletePendingRecoveryCodes(ctx, q, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := q.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash, pending) VALUES (?, ?, 1)`, userID, h); err != nil {
			return Translate(err)
		}
	}
	return nil
}

// DeletePendingRecoveryCodes drops the codes shown with a pending set-up.
func DeletePendingRecoveryCodes(ctx context.Context, q Querier, userID int64) error {
	_, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ? AND pending = 1`, userID)
	return Translate(err)
}

// PendingRecoveryCodes counts the codes shown with a user's pending set-up.
func PendingRecoveryCodes(ctx context.Context, q Querier, userID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND pending = 1`, userID).Scan(&n)
	return n, Translate(err)
}

// ActivatePendingRecoveryCodes makes the pending codes a user's recovery
// codes, in place of any others, and returns how many there are.
func ActivatePendingRecoveryCodes(ctx context.Context, q Querier, userID int64) (int, error) {
	if _, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ? AND pending = 0`, userID); err != nil {
		return 0, Translate(err)
	}
	res, err := q.ExecContext(ctx, `UPDATE recovery_codes SET pending = 0 WHERE user_id = ? AND pending = 1`, userID)
	if err != nil {
		return 0, Translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// MFAKeyIDs returns the distinct ids of the keys that encrypt stored secrets;
// none when no secret is stored. It hops from key to key on the index, so it
// reads a few entries whatever the number of users: it runs at every start.
func MFAKeyIDs(ctx context.Context, q Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `
		WITH RECURSIVE k(id) AS (
			SELECT min(key_id) FROM mfa
			UNION ALL
			SELECT (SELECT min(key_id) FROM mfa WHERE key_id > k.id) FROM k WHERE k.id IS NOT NULL)
		SELECT id FROM k WHERE id IS NOT NULL`)
	if err != nil {
		return nil, Translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, Translate(err)
		}
		out = append(out, id)
	}
	return out, Translate(rows.Err())
}
