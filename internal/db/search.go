package db

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// The search index is a contentless FTS5 trigram table, user_search, whose
// rowid is account_id<<32 | user_id: an account's entries form one contiguous
// rowid range that FTS5 seeks into, instead of filtering every account's
// matches (98 ms for a common term in a small account). Terms of three or more
// characters match directly; shorter ones cannot match a trigram, so they are
// expanded into the indexed trigrams that start with them (search_trigrams),
// which the padding at the end of each text makes complete. User ids must
// stay below 2^32.

const (
	fieldSep   = "\x1f"           // between fields: no term spans two fields
	textPad    = "\x1f\x1f"       // every 1- and 2-character substring starts a trigram
	idMask     = int64(1<<32 - 1) // the user id part of a search rowid
	scanBudget = 300              // users a 1-character term scans before the trigram expansion
	// An account this small is scanned whole for a 1-character term: about
	// 1 ms a thousand users, where a rare letter's expansion into ~100
	// trigrams costs 5 ms at any account size.
	smallAccount = 4000
)

func searchRowid(accountID, userID int64) int64 { return accountID<<32 | userID }

// searchText is what the index holds for a user: the fields it matches,
// case-folded, separated so no term spans two of them.
func searchText(u User) string {
	return strings.ToLower(u.Username+fieldSep+u.DisplayName+fieldSep+u.Email) + textPad
}

func init() {
	// SQL that must fold text as the index does (the bulk load, the
	// one-character scan) calls searchText itself.
	sqlite.MustRegisterDeterministicScalarFunction("smartmfa_search_text", 3,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			str := func(v driver.Value) string { s, _ := v.(string); return s }
			return searchText(User{Username: str(args[0]), DisplayName: str(args[1]), Email: str(args[2])}), nil
		})
}

// searchTextSQL is searchText of a users row in SQL; p is the row's alias
// with its dot, or "".
func searchTextSQL(p string) string {
	return `smartmfa_search_text(` + p + `username, ` + p + `display_name, ` + p + `email)`
}

// foldedTextSQL is searchText of a users row: by SQLite's lower() when the
// row is ASCII (a Go call per row costs about a second a million), else by Go.
var foldedTextSQL = `CASE WHEN length(username || display_name || email) = length(CAST(username || display_name || email AS BLOB))
	THEN ` + asciiSearchTextSQL("") + ` ELSE ` + searchTextSQL("") + ` END`

// asciiSearchTextSQL is searchText by SQLite's lower(), which folds ASCII
// only: exact for ASCII text, and without a call into Go for every row.
func asciiSearchTextSQL(p string) string {
	return `lower(` + p + `username || char(31) || ` + p + `display_name || char(31) || ` + p + `email) || char(31, 31)`
}

// trigrams adds the distinct three-character substrings of text to into. The
// keys are slices of text, so a trigram already seen costs no allocation.
func trigrams(text string, into map[string]struct{}) {
	var starts [4]int // byte offsets of the last rune starts, as a ring
	n := 0
	for i := range text {
		starts[n%4] = i
		if n >= 3 {
			into[text[starts[(n-3)%4]:i]] = struct{}{}
		}
		n++
	}
	if n >= 3 {
		into[text[starts[(n-3)%4]:]] = struct{}{}
	}
}

// addTrigrams records trigrams in the vocabulary, a few hundred per statement.
func addTrigrams(ctx context.Context, q Querier, grams map[string]struct{}) error {
	all := make([]any, 0, len(grams))
	for g := range grams {
		all = append(all, g)
	}
	for len(all) > 0 {
		n := min(len(all), 500)
		query := `INSERT OR IGNORE INTO search_trigrams (t) VALUES (?)` + strings.Repeat(`, (?)`, n-1)
		if _, err := q.ExecContext(ctx, query, all[:n]...); err != nil {
			return Translate(err)
		}
		all = all[n:]
	}
	return nil
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

// filterExpr is whether user u passes the role ?1 and MFA state ?2
// filters; filterSQL narrows any of the queries below by it.
const (
	filterExpr = `((?1 = '' OR u.role = ?1) AND (?2 = '' OR u.mfa_on = CASE WHEN ?2 = 'on' THEN 1 ELSE 0 END))`
	filterSQL  = ` AND ` + filterExpr
)

// accountUsersSQL selects the users of account ?3 by the index that walks
// them in id order: (account_id), or (account_id, role) for a role, or
// (account_id, mfa_on) for an MFA state. An equality lets the index seek to
// exactly those users, where the filter's OR would look at every user of the
// account (25 ms for the one administrator of 100,000 users).
func accountUsersSQL(by string) string {
	switch by {
	case "role":
		return `u.account_id = ?3 AND u.role = ?1`
	case "mfa":
		return `u.account_id = ?3 AND u.mfa_on = CASE WHEN ?2 = 'on' THEN 1 ELSE 0 END`
	}
	return `u.account_id = ?3`
}

// narrowest is the index for a search without a term: with both filters
// set, the one with fewer users to walk through, by the counts.
func narrowest(ctx context.Context, q Querier, s UserSearch) (string, error) {
	switch {
	case s.Role == "" && s.MFA == "":
		return "", nil
	case s.MFA == "":
		return "role", nil
	case s.Role == "":
		return "mfa", nil
	}
	byRole, err := countFiltered(ctx, q, s.AccountID, s.Role, "")
	if err != nil {
		return "", err
	}
	byMFA, err := countFiltered(ctx, q, s.AccountID, "", s.MFA)
	if byRole <= byMFA {
		return "role", err
	}
	return "mfa", err
}

// SearchUsers returns up to Limit users in id order and the cursor of the next
// page (0 when none). A term is looked up in the index, brought up to date first.
func (d *DB) SearchUsers(ctx context.Context, s UserSearch) ([]User, int64, error) {
	if s.Term == "" {
		by, err := narrowest(ctx, d, s)
		if err != nil {
			return nil, 0, err
		}
		return page(ctx, d, s.Limit, `SELECT `+userCols+userFrom+`WHERE `+accountUsersSQL(by)+` AND u.id > ?4`+filterSQL+
			` ORDER BY u.id LIMIT ?5`, s.Role, s.MFA, s.AccountID, s.After, s.Limit+1)
	}
	if d.pgsql {
		return d.searchPG(ctx, s)
	}
	q, err := d.syncIndex(ctx)
	if err != nil {
		return nil, 0, err
	}
	lo, hi := searchRowid(s.AccountID, s.After+1), searchRowid(s.AccountID, idMask)
	switch n := utf8.RuneCountInString(s.Term); {
	case n >= 3:
		return matchPage(ctx, q, s, ftsString(s.Term), lo, hi)
	case n == 1:
		// A common letter fills a page from the first few hundred users;
		// its trigram expansion is the slow path, kept for rare letters in
		// large accounts.
		budget, err := letterScan(ctx, d, s.AccountID, scanBudget)
		if err != nil {
			return nil, 0, err
		}
		users, next, scanned, err := scanPage(ctx, q, s, budget)
		if err != nil || len(users) == s.Limit && next != 0 || scanned < budget {
			return users, next, err
		}
	}
	expr, err := expandShort(ctx, q, s.Term)
	if err != nil || expr == "" {
		return nil, 0, err
	}
	return matchPage(ctx, q, s, expr, lo, hi)
}

// matchPage runs an FTS5 match within the account's rowid range; FTS5 walks
// the range in rowid order, so the LIMIT stops it early.
func matchPage(ctx context.Context, q Querier, s UserSearch, expr string, lo, hi int64) ([]User, int64, error) {
	return page(ctx, q, s.Limit, `SELECT `+userCols+`
		FROM user_search JOIN users u ON u.id = (user_search.rowid & `+fmt.Sprint(idMask)+`)
		LEFT JOIN mfa m ON m.user_id = u.id
		WHERE user_search MATCH ?3 AND user_search.rowid BETWEEN ?4 AND ?5`+filterSQL+`
		ORDER BY user_search.rowid LIMIT ?6`, s.Role, s.MFA, expr, lo, hi, s.Limit+1)
}

// scanMatch tells whether a user's text holds the term ?6, folded as the
// index folds it. SQLite's lower() is exact for ASCII text, and Go's is called
// only for the rest: a Go call per row cost 3 ms over 300 users.
var scanMatch = `CASE
		WHEN instr(` + asciiSearchTextSQL("u.") + `, ?6) > 0 THEN 1
		WHEN length(u.display_name || u.email) <> length(CAST(u.display_name || u.email AS BLOB))
			THEN instr(` + searchTextSQL("u.") + `, ?6) > 0
		ELSE 0 END`

// letterScan is how many users a 1-character term looks at one by one:
// budget, or the whole account when it is small.
func letterScan(ctx context.Context, q Querier, accountID int64, budget int) (int, error) {
	size, err := countFiltered(ctx, q, accountID, "", "")
	if err != nil || size > smallAccount {
		return budget, err
	}
	return max(budget, smallAccount), nil
}

// scanPage looks for a 1-character term in the next budget users of the
// account and reports how many it scanned.
func scanPage(ctx context.Context, q Querier, s UserSearch, budget int) ([]User, int64, int, error) {
	var scanned int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM users WHERE account_id = ? AND id > ? LIMIT ?)`,
		s.AccountID, s.After, budget).Scan(&scanned)
	if err != nil {
		return nil, 0, 0, Translate(err)
	}
	users, next, err := page(ctx, q, s.Limit, `SELECT `+userCols+` FROM (
			SELECT * FROM users WHERE account_id = ?3 AND id > ?4 ORDER BY id LIMIT ?5) u
		LEFT JOIN mfa m ON m.user_id = u.id
		WHERE `+scanMatch+filterSQL+`
		ORDER BY u.id LIMIT ?7`, s.Role, s.MFA, s.AccountID, s.After, budget, s.Term, s.Limit+1)
	return users, next, scanned, err
}

// expandShort turns a 1- or 2-character term into an OR of the indexed
// trigrams that start with it; "" when there are none.
func expandShort(ctx context.Context, q Querier, term string) (string, error) {
	rows, err := q.QueryContext(ctx, `SELECT t FROM search_trigrams WHERE t >= ? AND t < ?`, term, term+"\U0010FFFF")
	if err != nil {
		return "", Translate(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return "", Translate(err)
		}
		parts = append(parts, ftsString(t))
	}
	sort.Strings(parts)
	return strings.Join(parts, " OR "), Translate(rows.Err())
}

// ftsString quotes a term as one FTS5 string, so operators, quotes, % and _
// are all literal.
func ftsString(term string) string { return `"` + strings.ReplaceAll(term, `"`, `""`) + `"` }

// page runs a user query that asks for limit+1 rows and turns the extra row
// into the next page's cursor.
func page(ctx context.Context, q Querier, limit int, query string, args ...any) ([]User, int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, Translate(err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, Translate(err)
	}
	if len(out) > limit {
		return out[:limit], out[limit-1].ID, nil
	}
	return out, 0, nil
}
