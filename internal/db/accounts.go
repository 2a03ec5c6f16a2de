package db

import "context"

// Account is a row of accounts.
type Account struct {
	ID         int64
	Name       string
	RequireMFA bool
	CreatedAt  int64
}

const accountCols = `id, name, require_mfa, created_at`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Name, &a.RequireMFA, &a.CreatedAt)
	return a, Translate(err)
}

// InsertAccount adds an account; nameKey is its case-folded name.
func InsertAccount(ctx context.Context, q Querier, name, nameKey string, at int64) (int64, error) {
	res, err := q.ExecContext(ctx,
		`INSERT INTO accounts (name, name_key, created_at) VALUES (?, ?, ?)`, name, nameKey, at)
	if err != nil {
		return 0, Translate(err)
	}
	return res.LastInsertId()
}

// AccountByID returns one account.
func AccountByID(ctx context.Context, q Querier, id int64) (Account, error) {
	return scanAccount(q.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
}

// AccountByNameKey returns the account with the case-folded name.
func AccountByNameKey(ctx context.Context, q Querier, nameKey string) (Account, error) {
	return scanAccount(q.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE name_key = ?`, nameKey))
}

// ListAccounts returns every account by name.
func ListAccounts(ctx context.Context, q Querier) ([]Account, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY name_key`)
	if err != nil {
		return nil, Translate(err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, Translate(rows.Err())
}

// CountAccounts reports how many accounts exist.
func CountAccounts(ctx context.Context, q Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	return n, Translate(err)
}

// SetRequireMFA changes an account's MFA policy.
func SetRequireMFA(ctx context.Context, q Querier, id int64, on bool) error {
	return execOne(ctx, q, `UPDATE accounts SET require_mfa = ? WHERE id = ?`, on, id)
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
		SELECT count(*),
		       coalesce(sum(u.disabled = 0), 0),
		       coalesce(sum(m.state = 'active'), 0),
		       coalesce(sum(u.disabled = 0 AND coalesce(m.state, '') <> 'active'), 0),
		       coalesce(sum(u.role = 'admin' AND u.disabled = 0), 0)
		FROM users u LEFT JOIN mfa m ON m.user_id = u.id
		WHERE u.account_id = ?`, accountID).Scan(&c.Users, &c.Active, &c.WithMFA, &c.WithoutMFA, &c.Admins)
	return c, Translate(err)
}

// execOne runs a statement that must change exactly one row.
func execOne(ctx context.Context, q Querier, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return Translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
