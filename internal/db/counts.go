package db

import "context"

// account_user_counts holds, per account, how many users have each role,
// enabled state and MFA state (users.mfa_on). Every write that changes one
// of them goes through recounted, so the counts never need a scan.

// countUser adds delta to the count of user id's current role, state and MFA.
func countUser(ctx context.Context, q Querier, id, delta int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO account_user_counts (account_id, role, disabled, mfa_on, n)
		SELECT account_id, role, disabled, mfa_on, CAST(?2 AS INTEGER) FROM users WHERE id = ?1
		ON CONFLICT (account_id, role, disabled, mfa_on) DO UPDATE SET n = account_user_counts.n + excluded.n`, id, delta)
	return Translate(err)
}

// recounted runs change, which may alter user id's role, state or MFA,
// moving the user from its old count to its new one. A change that fails
// is counted back too: callers may go on with the transaction (an MFA that
// was not pending is not activated, and that is all).
func recounted(ctx context.Context, q Querier, id int64, change func() error) error {
	if err := countUser(ctx, q, id, -1); err != nil {
		return err
	}
	changeErr := change()
	if err := countUser(ctx, q, id, 1); err != nil {
		return err
	}
	return changeErr
}

// addCounts adds n users of one role and enabled state, without MFA, to an account.
func addCounts(ctx context.Context, q Querier, accountID int64, role string, disabled bool, n int) error {
	_, err := q.ExecContext(ctx, `INSERT INTO account_user_counts (account_id, role, disabled, mfa_on, n)
		VALUES (?, ?, ?, 0, ?) ON CONFLICT (account_id, role, disabled, mfa_on)
		DO UPDATE SET n = account_user_counts.n + excluded.n`, accountID, role, disabled, n)
	return Translate(err)
}

// AccountCounts are the figures the account page shows.
type AccountCounts struct {
	Users, Active, WithMFA, WithoutMFA, Admins int
}

// CountAccountUsers counts an account's users; WithoutMFA counts enabled users
// with no active MFA: the ones a require-MFA policy redirects to setup.
func CountAccountUsers(ctx context.Context, q Querier, accountID int64) (AccountCounts, error) {
	var c AccountCounts
	err := q.QueryRowContext(ctx, `
		SELECT coalesce(sum(n), 0),
		       coalesce(sum(n) FILTER (WHERE disabled = 0), 0),
		       coalesce(sum(n) FILTER (WHERE mfa_on = 1), 0),
		       coalesce(sum(n) FILTER (WHERE disabled = 0 AND mfa_on = 0), 0),
		       coalesce(sum(n) FILTER (WHERE role = 'admin' AND disabled = 0), 0)
		FROM account_user_counts WHERE account_id = ?`, accountID).Scan(&c.Users, &c.Active, &c.WithMFA, &c.WithoutMFA, &c.Admins)
	return c, Translate(err)
}

// countFiltered counts the users of an account of role ?1 ("" for any) and
// MFA state ?2 ("", "on", "off").
func countFiltered(ctx context.Context, q Querier, accountID int64, role, mfa string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0) FROM account_user_counts
		WHERE account_id = ?3 AND (?1 = '' OR role = ?1) AND (?2 = '' OR mfa_on = CASE WHEN ?2 = 'on' THEN 1 ELSE 0 END)`, role, mfa, accountID).Scan(&n)
	return n, Translate(err)
}
