package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
)

// pruneEvery is how many applied changes the log keeps before a catch-up
// deletes them: one short write to the database per that many user writes.
const pruneEvery = 1000

// pruneMost is how many log rows one prune deletes: a few ms of the write lock.
const pruneMost = 5000

// bigRange is the size from which a logged range of users is indexed by one
// INSERT ... SELECT of its own instead of with the single changes.
const bigRange = 1000

// indexState is what decides whether the index is current.
type indexState struct {
	applied, version int64  // from the index: -1 and 0 when never built
	store, liveStore string // the database the index was built from, and this one's id
	pruned, maxSeq   int64  // from the database's log
}

func readIndexState(ctx context.Context, q Querier) (indexState, error) {
	var st indexState
	err := q.QueryRowContext(ctx, `SELECT
		coalesce((SELECT v FROM search_meta WHERE k = 'applied'), -1),
		coalesce((SELECT v FROM search_meta WHERE k = 'version'), 0),
		coalesce((SELECT v FROM search_meta WHERE k = 'store'), ''),
		(SELECT v FROM live.store_info WHERE k = 'id'),
		(SELECT v FROM live.store_info WHERE k = 'search_pruned'),
		coalesce((SELECT max(seq) FROM live.search_changes), 0)`).
		Scan(&st.applied, &st.version, &st.store, &st.liveStore, &st.pruned, &st.maxSeq)
	return st, Translate(err)
}

// rebuild tells whether the index cannot catch up from the log: it is new,
// of another format or database, missed pruned changes, or is ahead of the
// log (the database was restored from an older copy).
func (st indexState) rebuild() bool {
	return st.version != indexVersion || st.store != st.liveStore || st.applied < st.pruned || st.applied > st.maxSeq
}

func (st indexState) current() bool { return !st.rebuild() && st.applied == st.maxSeq }

// syncIndex brings the index up to the database's log and returns its pool.
// Only the index file's write lock is held while it works.
func (d *DB) syncIndex(ctx context.Context) (*prepared, error) {
	pool, err := d.searchDB(ctx)
	if err != nil {
		return nil, err
	}
	st, err := readIndexState(ctx, pool)
	if err != nil || st.current() {
		return pool, err
	}
	// This process's searches wait here for one catch-up, which may be a
	// rebuild of many seconds, rather than for SQLite's busy timeout.
	select {
	case d.idx.syncing <- struct{}{}:
		defer func() { <-d.idx.syncing }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := indexTx(ctx, pool.DB, func(tx *sql.Tx) error {
		st, err = catchUp(ctx, tx)
		return err
	}); err != nil {
		return nil, err
	}
	return pool, d.pruneLog(ctx, st)
}

// WarmIndex brings the index up to date in the background, so that the
// first search after an upgrade or a restore does not wait for a rebuild
// (13 s at a million users). Errors are left for a search to report.
func (d *DB) WarmIndex(ctx context.Context) {
	if d.pgsql {
		return // PostgreSQL keeps its indexes itself
	}
	ctx, stop := context.WithCancel(ctx)
	d.idx.mu.Lock()
	d.idx.stop = append(d.idx.stop, stop)
	d.idx.warming.Add(1)
	d.idx.mu.Unlock()
	go func() {
		defer d.idx.warming.Done()
		_, _ = d.syncIndex(ctx)
	}()
}

// indexTx runs fn in one transaction on the index file.
func indexTx(ctx context.Context, pool *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return Translate(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return Translate(tx.Commit())
}

// catchUp applies the log, or rebuilds, inside an index transaction, and
// returns the state it reached. The database is read in the transaction's
// snapshot, so applied never claims a change it did not see.
func catchUp(ctx context.Context, tx *sql.Tx) (indexState, error) {
	st, err := readIndexState(ctx, tx)
	if err != nil || st.current() {
		return st, err
	}
	if st.rebuild() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_search (user_search) VALUES ('delete-all')`); err != nil {
			return st, Translate(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM search_trigrams`); err != nil {
			return st, Translate(err)
		}
		err = indexRange(ctx, tx, 0, 1<<62)
	} else {
		err = applyChanges(ctx, tx, st.applied)
	}
	if err != nil {
		return st, err
	}
	st.applied, st.version, st.store = st.maxSeq, indexVersion, st.liveStore
	return st, setIndexMeta(ctx, tx, st)
}

func setIndexMeta(ctx context.Context, tx *sql.Tx, st indexState) error {
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO search_meta (k, v) VALUES ('applied', ?), ('version', ?), ('store', ?)`,
		st.applied, st.version, st.store)
	return Translate(err)
}

// applyChanges indexes the users logged after seq: small changes together
// in one statement (FTS5 writes a segment per statement), big ranges each
// in their own.
func applyChanges(ctx context.Context, tx *sql.Tx, after int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT first_id, last_id FROM live.search_changes WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return Translate(err)
	}
	var ids []any
	var ranges [][2]int64
	for rows.Next() {
		var first, last int64
		if err := rows.Scan(&first, &last); err != nil {
			rows.Close()
			return Translate(err)
		}
		if last-first >= bigRange {
			ranges = append(ranges, [2]int64{first, last})
			continue
		}
		for id := first; id <= last; id++ {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Translate(err)
	}
	for _, r := range ranges {
		if err := indexRange(ctx, tx, r[0], r[1]); err != nil {
			return err
		}
	}
	return indexIDs(ctx, tx, ids)
}

// indexIDs re-indexes the given users in one statement, in rowid order.
func indexIDs(ctx context.Context, tx *sql.Tx, ids []any) error {
	if len(ids) == 0 {
		return nil
	}
	list, _ := json.Marshal(ids)
	rows, err := tx.QueryContext(ctx, `SELECT id, account_id, username, display_name, email FROM live.users
		WHERE id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return Translate(err)
	}
	type entry struct {
		Rowid int64  `json:"r"`
		Text  string `json:"t"`
	}
	var entries []entry
	grams := map[string]struct{}{}
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.AccountID, &u.Username, &u.DisplayName, &u.Email); err != nil {
			rows.Close()
			return Translate(err)
		}
		e := entry{searchRowid(u.AccountID, u.ID), searchText(u)}
		trigrams(e.Text, grams)
		entries = append(entries, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Translate(err)
	}
	slices.SortFunc(entries, func(a, b entry) int { return int(min(max(a.Rowid-b.Rowid, -1), 1)) })
	batch, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO user_search (rowid, text)
		SELECT value ->> 'r', value ->> 't' FROM json_each(?)`, string(batch)); err != nil {
		return Translate(err)
	}
	return addTrigrams(ctx, tx, grams)
}

// indexRange (re)indexes users first..last with one INSERT ... SELECT, the
// text folded by SQLite where it is ASCII, then records their trigrams.
func indexRange(ctx context.Context, tx *sql.Tx, first, last int64) error {
	err := withBigHash(ctx, tx, func() error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO user_search (rowid, text)
		SELECT (account_id << 32) | id, `+foldedTextSQL+` FROM live.users
		WHERE id BETWEEN ? AND ? ORDER BY account_id, id`, first, last)
		return err
	})
	if err != nil {
		return Translate(err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+foldedTextSQL+` FROM live.users WHERE id BETWEEN ? AND ?`, first, last)
	if err != nil {
		return Translate(err)
	}
	grams := map[string]struct{}{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return Translate(err)
		}
		trigrams(t, grams)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Translate(err)
	}
	return addTrigrams(ctx, tx, grams)
}

// withBigHash runs fn, one statement that writes many entries, with FTS5's
// in-memory index large enough to write them as one segment: about 200 MB
// for a million users. With the default 1 MB a rebuild of a million users
// wrote hundreds of segments and merged them as it went (11 s, not 5).
func withBigHash(ctx context.Context, tx *sql.Tx, fn func() error) error {
	const set = `INSERT INTO user_search (user_search, rank) VALUES ('hashsize', ?)`
	if _, err := tx.ExecContext(ctx, set, 256<<20); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, set, 1<<20) // FTS5's default
	return err
}

// pruneLog deletes applied changes from the database's log once there are
// pruneEvery of them, at most pruneMost at a time so the write stays short,
// and keeps the last so sequence numbers never go back.
func (d *DB) pruneLog(ctx context.Context, st indexState) error {
	if st.applied-st.pruned < pruneEvery {
		return nil
	}
	return d.WriteTx(ctx, func(q Querier) error {
		var upTo int64
		if err := q.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM (
			SELECT seq FROM search_changes WHERE seq < ? ORDER BY seq LIMIT ?)`, st.applied, pruneMost).Scan(&upTo); err != nil {
			return Translate(err)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM search_changes WHERE seq <= ?`, upTo); err != nil {
			return Translate(err)
		}
		_, err := q.ExecContext(ctx, `UPDATE store_info SET v = max(v, ?) WHERE k = 'search_pruned'`, upTo)
		return Translate(err)
	})
}
