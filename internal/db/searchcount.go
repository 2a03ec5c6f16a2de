package db

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// Counting bounds. Without a term the kept counts answer exactly. With one,
// a count stops at CountLimit+1 matches; where every candidate must be
// looked at on its own (a one-character term, a filter on a term's matches),
// it looks at a fixed number of candidates. Measured over a million users
// (100,000 in the account), each bound keeps a count near 1 ms.
const (
	CountLimit    = 1000 // more matches of a term than this are not counted
	countTermScan = 1000 // users a count of a one-character term looks at
	countHitsScan = 1000 // index matches a count of a filtered term looks at
)

// CountUsers counts the users a search matches, whatever its After and Limit.
// When exact is false, at least n users match: more than CountLimit, or as
// many as it found among the candidates it looked at.
func (d *DB) CountUsers(ctx context.Context, s UserSearch) (n int, exact bool, err error) {
	var q Querier = d
	if s.Term != "" && d.pgsql {
		return d.countPG(ctx, s)
	}
	if s.Term != "" {
		if q, err = d.syncIndex(ctx); err != nil {
			return 0, false, err
		}
	}
	lo, hi := searchRowid(s.AccountID, 0), searchRowid(s.AccountID, idMask)
	switch terms := utf8.RuneCountInString(s.Term); {
	case terms == 0:
		n, err := countFiltered(ctx, d, s.AccountID, s.Role, s.MFA)
		return n, true, err
	case terms == 1:
		// As the page's first try: the term in the account's first users
		// (the trigram expansion of a common letter takes tens of ms).
		budget, err := letterScan(ctx, d, s.AccountID, countTermScan)
		if err != nil {
			return 0, false, err
		}
		return countScanned(ctx, q, budget, `SELECT count(*), coalesce(sum(`+scanMatch+` AND `+filterExpr+`), 0) FROM (
			SELECT * FROM users WHERE account_id = ?3 ORDER BY id LIMIT ?4) u`, s.Role, s.MFA, s.AccountID, budget+1, nil, s.Term)
	}
	expr := ftsString(s.Term)
	if utf8.RuneCountInString(s.Term) == 2 {
		if expr, err = expandShort(ctx, q, s.Term); err != nil || expr == "" {
			return 0, err == nil, err
		}
	}
	if s.MFA == "" && s.Role == "" {
		return countCapped(ctx, q, `SELECT count(*) FROM (SELECT 1 FROM user_search
			WHERE user_search MATCH ?3 AND rowid BETWEEN ?4 AND ?5 LIMIT ?6)`, "", "", expr, lo, hi, CountLimit+1)
	}
	return countScanned(ctx, q, countHitsScan, `SELECT count(*), coalesce(sum(`+filterExpr+`), 0) FROM (
			SELECT rowid FROM user_search WHERE user_search MATCH ?3 AND rowid BETWEEN ?4 AND ?5 LIMIT ?6) s
		JOIN users u ON u.id = (s.rowid & `+fmt.Sprint(idMask)+`)`, s.Role, s.MFA, expr, lo, hi, countHitsScan+1)
}

// countCapped runs a count of at most CountLimit+1 matches.
func countCapped(ctx context.Context, q Querier, query string, args ...any) (int, bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, false, Translate(err)
	}
	return min(n, CountLimit+1), n <= CountLimit, nil
}

// countScanned runs a query that looks at up to budget+1 candidates and
// returns how many it looked at and how many matched: exact when it looked
// at them all.
func countScanned(ctx context.Context, q Querier, budget int, query string, args ...any) (int, bool, error) {
	var seen, n int
	if err := q.QueryRowContext(ctx, query, args...).Scan(&seen, &n); err != nil {
		return 0, false, Translate(err)
	}
	return n, seen <= budget, nil
}
