package db

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"modernc.org/sqlite"
)

// Account is a row of accounts.
type Account struct {
	ID         int64
	Name       string
	RequireMFA bool
	// RequireMFAFrom is the enrolment deadline (Unix nanoseconds): until it,
	// users without MFA may postpone its set-up; 0 is none.
	RequireMFAFrom int64
	CreatedAt      int64
}

const accountCols = `id, name, require_mfa, require_mfa_from, created_at`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Name, &a.RequireMFA, &a.RequireMFAFrom, &a.CreatedAt)
	return a, Translate(err)
}

// NameKey is the form under which account names are unique and found
// (accounts.name_key): Unicode's compatibility caseless match (definition D146,
// NFKD(fold(NFKD(fold(NFD(name)))))), stored as NFC. Names that differ only in
// case (ACME, acme, Straße and STRASSE), in composition (é typed as e and a
// combining accent) or in compatibility forms (full-width Ａcme, the ﬁ
// ligature, a no-break space) share one key, so only one of them can exist.
// For ASCII it is strings.ToLower, the key of schema versions before 0004.
func NameKey(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(name)
	}
	s := caseFold.String(norm.NFD.String(name))
	s = caseFold.String(norm.NFKD.String(s))
	return norm.NFC.String(norm.NFKD.String(s))
}

// caseFold is full case folding; the Caser is stateless, so one is shared.
var caseFold = cases.Fold()

// The SQL function smartmfa_name_key(name) is NameKey, for the migration that
// re-keys the accounts of older databases.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("smartmfa_name_key", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return NameKey(v), nil
			case []byte:
				return NameKey(string(v)), nil
			}
			return nil, fmt.Errorf("smartmfa_name_key takes text, not %T", args[0])
		})
}

// InsertAccount adds an account; nameKey is NameKey(name).
func InsertAccount(ctx context.Context, q Querier, name, nameKey string, at int64) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx,
		`INSERT INTO accounts (name, name_key, created_at) VALUES (?, ?, ?) RETURNING id`, name, nameKey, at).Scan(&id)
	return id, Translate(err)
}

// AccountByID returns one account.
func AccountByID(ctx context.Context, q Querier, id int64) (Account, error) {
	return scanAccount(q.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
}

// AccountByNameKey returns the account whose name has the key NameKey gives.
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

// SetRequireMFA changes an account's MFA policy, with no enrolment deadline.
func SetRequireMFA(ctx context.Context, q Querier, id int64, on bool) error {
	return SetRequireMFAFrom(ctx, q, id, on, 0)
}

// SetRequireMFAFrom changes an account's MFA policy and its enrolment
// deadline (Unix nanoseconds; 0 for none).
func SetRequireMFAFrom(ctx context.Context, q Querier, id int64, on bool, from int64) error {
	return execOne(ctx, q, `UPDATE accounts SET require_mfa = ?, require_mfa_from = ? WHERE id = ?`, on, from, id)
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
