package db

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL a term is a LIKE '%term%' over users.search_text, the same
// folded text SQLite's index holds: the same meaning (substring of one field,
// case-insensitive, id order, one page) without an index file to keep.
//
// A page first walks the account's next users in id order (users_account),
// which fills it at once for a common term. Otherwise the term's candidates
// come from a GIN index of users.search_grams, which holds for each user a
// key of its account and a hash of each trigram and each character of its
// text (gramSet.grams). A term asks for the account's key and its character
// or all its trigrams, so the index intersects the account's users with the
// term's without reading the term's users elsewhere ("fil" in the 100k
// account of a million users, where 900k others hold it: 2.9 ms; over
// pg_trgm the planner walked the account's 100k users, 60-141 ms, or read
// 900k matches from the trigram index). A two-character term
// asks for any trigram that starts with it, from the vocabulary
// search_trigrams: the padding at the end of each text makes every two
// characters start a trigram. Every candidate is checked by the LIKE, so a
// hash collision costs a row, never a wrong answer. pg_trgm could not serve
// this: its trigrams hold only letters and digits, so "-" or "g-a" had nothing
// to look up, and one or two characters none at all. The keys are part of the
// stored data: changing gramKey or what grams holds takes a migration that
// writes search_grams again.

const (
	// pageWalk is how many users a page looks at in id order before it
	// asks the index: a term in 2% of the account's users fills a page
	// from them. Beyond, the index's candidates cost less than the walk.
	pageWalk = 1000
	// countWalk is the same for a count, which needs CountLimit+1 matches
	// and so a term in half of the users walked; and an account of at most
	// countWalk users is counted exactly by the walk alone.
	countWalk = 2000
)

// accountRange is the users of account ?3 after the cursor ?4, for a walk
// ORDER BY account_id, id. "account_id = ?3 ORDER BY id" lets the planner
// walk users_pkey instead and filter by account, as if an account's users
// were spread evenly over the ids: for the 100k account, whose users come
// after 449k others, that read them all (117 ms). Neither the range nor the
// order can be served by users_pkey.
const accountRange = `(account_id, id) > (?3, ?4) AND (account_id, id) < (CAST(?3 AS bigint) + 1, 0)`

// planEach runs a search's statement unnamed, so that PostgreSQL plans it
// for its own values: a named statement, as pgx prepares by default, gets a
// generic plan after five runs, one plan for every term, cursor and LIMIT.
// Over pg_trgm, a generic LIKE read the whole trigram index for a one-letter
// term: 1.2 s, where the plan for the letter walked the account in 0.2 ms.
const planEach = pgx.QueryExecModeCacheDescribe

// gramKey is the key in search_grams of a trigram or a character: non-negative.
func gramKey(gram string) int32 {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(gram); i++ {
		h = (h ^ uint32(gram[i])) * 16777619
	}
	return int32(h & 0x7fffffff)
}

// accountKey is an account's key in search_grams: negative, so no trigram's.
func accountKey(accountID int64) int32 { return -1 - int32(accountID&0x7fffffff) }

// gramSet turns folded texts into their search_grams and gathers the
// trigrams they hold for the vocabulary. seen and chars are reused from text
// to text.
type gramSet struct {
	seen, vocab map[string]struct{}
	chars       map[rune]struct{}
}

func newGramSet() *gramSet {
	return &gramSet{seen: map[string]struct{}{}, vocab: map[string]struct{}{}, chars: map[rune]struct{}{}}
}

// grams returns the search_grams of a user of accountID whose folded text
// is text: the account's key, a key of each trigram and of each character
// but the field separator.
func (g *gramSet) grams(accountID int64, text string) []int32 {
	clear(g.seen)
	clear(g.chars)
	trigrams(text, g.seen)
	for _, r := range text {
		g.chars[r] = struct{}{}
	}
	delete(g.chars, rune(fieldSep[0]))
	out := make([]int32, 0, 1+len(g.seen)+len(g.chars))
	out = append(out, accountKey(accountID))
	for t := range g.seen {
		out = append(out, gramKey(t))
		if _, ok := g.vocab[t]; !ok {
			g.vocab[strings.Clone(t)] = struct{}{} // t is a slice of text
		}
	}
	for r := range g.chars {
		out = append(out, gramKey(string(r)))
	}
	return out
}

// addVocabulary records the trigrams of g in search_trigrams, in order, so
// that two writers adding the same new ones do not deadlock.
func (g *gramSet) addVocabulary(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) error {
	if len(g.vocab) == 0 {
		return nil
	}
	all := make([]string, 0, len(g.vocab))
	for t := range g.vocab {
		all = append(all, t)
	}
	slices.Sort(all)
	_, err := q.ExecContext(ctx, rebind(`INSERT INTO search_trigrams (t) SELECT unnest(CAST(?1 AS text[])) ON CONFLICT DO NOTHING`), all)
	return Translate(err)
}

// foldSearchText writes the folded search text of users first..last, its
// search_grams and their trigrams.
func foldSearchText(ctx context.Context, q Querier, first, last int64) error {
	rows, err := q.QueryContext(ctx, `SELECT id, account_id, username, display_name, email FROM users WHERE id BETWEEN ? AND ?`, first, last)
	if err != nil {
		return Translate(err)
	}
	var users []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.AccountID, &u.Username, &u.DisplayName, &u.Email); err != nil {
			rows.Close()
			return Translate(err)
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Translate(err)
	}
	g := newGramSet()
	for _, u := range users {
		text := searchText(u)
		if _, err := q.ExecContext(ctx, `UPDATE users SET search_text = ?, search_grams = ? WHERE id = ?`,
			text, g.grams(u.AccountID, text), u.ID); err != nil {
			return Translate(err)
		}
	}
	return g.addVocabulary(ctx, q)
}

// likePattern matches term anywhere, its %, _ and \ taken literally.
func likePattern(term string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(term) + "%"
}

// gramMatch is the condition on u.search_grams that every user of the
// account holding term meets, and its arguments, numbered from ?arg; ok is
// false when no user can hold it (two characters that start no trigram).
func (d *DB) gramMatch(ctx context.Context, accountID int64, term string, arg int) (cond string, args []any, ok bool, err error) {
	n := func(i int) string { return "?" + strconv.Itoa(arg+i) }
	acct := accountKey(accountID)
	switch utf8.RuneCountInString(term) {
	case 1:
		return `u.search_grams @> ` + n(0), []any{[]int32{acct, gramKey(term)}}, true, nil
	case 2:
	default:
		keys := []int32{acct}
		seen := map[string]struct{}{}
		trigrams(term, seen)
		for t := range seen {
			keys = append(keys, gramKey(t))
		}
		return `u.search_grams @> ` + n(0), []any{keys}, true, nil
	}
	// Two characters: any trigram that starts with them.
	rows, err := d.QueryContext(ctx, `SELECT t FROM search_trigrams WHERE t >= ? AND t < ?`, term, term+"\U0010FFFF")
	if err != nil {
		return "", nil, false, Translate(err)
	}
	defer rows.Close()
	var starts []int32
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return "", nil, false, Translate(err)
		}
		starts = append(starts, gramKey(t))
	}
	if err := rows.Err(); err != nil || len(starts) == 0 {
		return "", nil, false, Translate(err)
	}
	return `u.search_grams @> ` + n(0) + ` AND u.search_grams && ` + n(1), []any{[]int32{acct}, starts}, true, nil
}

// byIndex runs query in a read-only transaction whose plans reach users by
// bitmap index scans only. The planner's estimates cannot tell that a term
// common in other accounts is rare in this one: it walked the 100k account's
// users for "fil" (60 ms) or read the table (335 ms) where the index needs
// 3 ms. The query must read no other table.
func (d *DB) byIndex(ctx context.Context, query string, scan func(*sql.Rows) error, args ...any) error {
	tx, err := d.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Translate(err)
	}
	defer tx.Rollback()
	// Parallel workers cost more to start than these scans take (8 ms
	// with two where one process takes 3 ms).
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off;
		SET LOCAL enable_indexonlyscan = off; SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
		return Translate(err)
	}
	rows, err := tx.QueryContext(ctx, rebind(query), append([]any{planEach}, pgArgs(args)...)...)
	if err != nil {
		return Translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return Translate(err)
		}
	}
	if err := rows.Err(); err != nil {
		return Translate(err)
	}
	rows.Close()
	return Translate(tx.Commit())
}

// searchPG is SearchUsers with a term on PostgreSQL.
func (d *DB) searchPG(ctx context.Context, s UserSearch) ([]User, int64, error) {
	pattern := likePattern(s.Term)
	users, next, err := page(ctx, d, s.Limit, `SELECT `+userCols+` FROM (
			SELECT * FROM users WHERE `+accountRange+` ORDER BY account_id, id LIMIT ?7) u
		LEFT JOIN mfa m ON m.user_id = u.id
		WHERE u.search_text LIKE ?5`+filterSQL+`
		ORDER BY u.account_id, u.id LIMIT ?6`, planEach, s.Role, s.MFA, s.AccountID, s.After, pattern, s.Limit+1, pageWalk)
	if err != nil || next != 0 {
		return users, next, err
	}
	cond, keys, ok, err := d.gramMatch(ctx, s.AccountID, s.Term, 7)
	if err != nil || !ok {
		return nil, 0, err
	}
	var ids []int64
	err = d.byIndex(ctx, `SELECT u.id FROM users u
		WHERE `+cond+` AND u.account_id + 0 = ?3 AND u.id > ?4 AND u.search_text LIKE ?5`+filterSQL+`
		ORDER BY u.id LIMIT ?6`, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	}, append([]any{s.Role, s.MFA, s.AccountID, s.After, pattern, s.Limit + 1}, keys...)...)
	if err != nil || len(ids) == 0 {
		return nil, 0, err
	}
	return page(ctx, d, s.Limit, `SELECT `+userCols+userFrom+`WHERE u.id = ANY(?1) ORDER BY u.id`, planEach, ids)
}

// countPG is CountUsers with a term on PostgreSQL: exact up to CountLimit.
func (d *DB) countPG(ctx context.Context, s UserSearch) (int, bool, error) {
	pattern := likePattern(s.Term)
	var seen, n int
	if err := d.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(CASE WHEN u.search_text LIKE ?5`+filterSQL+` THEN 1 ELSE 0 END), 0)
		FROM (SELECT search_text, role, mfa_on FROM users WHERE `+accountRange+` ORDER BY account_id, id LIMIT ?6) u`,
		planEach, s.Role, s.MFA, s.AccountID, 0, pattern, countWalk+1).Scan(&seen, &n); err != nil {
		return 0, false, Translate(err)
	}
	switch {
	case n > CountLimit:
		return CountLimit + 1, false, nil
	case seen <= countWalk: // the whole account
		return n, true, nil
	}
	cond, keys, ok, err := d.gramMatch(ctx, s.AccountID, s.Term, 6)
	if err != nil || !ok {
		return 0, err == nil, err
	}
	err = d.byIndex(ctx, `SELECT count(*) FROM (SELECT 1 FROM users u
		WHERE `+cond+` AND u.account_id + 0 = ?3 AND u.search_text LIKE ?4`+filterSQL+` LIMIT ?5) c`,
		func(r *sql.Rows) error { return r.Scan(&n) },
		append([]any{s.Role, s.MFA, s.AccountID, pattern, CountLimit + 1}, keys...)...)
	if err != nil {
		return 0, false, err
	}
	return min(n, CountLimit+1), n <= CountLimit, nil
}
