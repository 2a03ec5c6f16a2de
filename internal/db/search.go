package db

import "context"

// searchRowid places a user in the search index at account<<32 | user id, so
// an account's entries are one contiguous rowid range that FTS5 seeks into
// instead of filtering every account's matches.
func searchRowid(accountID, userID int64) int64 { return accountID<<32 | userID }

// indexUser writes a user's entry in the search index.
func indexUser(ctx context.Context, q Querier, u User) error {
	_, err := q.ExecContext(ctx, `INSERT OR REPLACE INTO user_search (rowid, text) VALUES (?, ?)`,
		searchRowid(u.AccountID, u.ID), searchText(u))
	return Translate(err)
}

// UserSearch is an account-scoped search; Term is already case-folded.
type UserSearch struct {
	AccountID int64
	Term      string
	MFA       string // "", "on", "off"
	Role      string // "", "admin", "user"
	After     int64  // return users with id > After
	Limit     int
}

// SearchUsers returns up to Limit users in id order and the cursor of the next
// page (0 when none).
func SearchUsers(ctx context.Context, q Querier, s UserSearch) ([]User, int64, error) {
	return nil, 0, nil // TODO(search): replaced once the index design is measured
}
