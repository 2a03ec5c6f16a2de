package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// bulkRows is how many users one INSERT statement carries.
const bulkRows = 200

// BulkUsers inserts n users into one account quickly, for demo data: one
// transaction on a connection with a large page cache (so the indexes stay in
// memory) and prepared multi-row INSERTs, while the search index is built in
// its own file on the other core, fed the same rows by one statement that
// FTS5 writes as a single segment. The log names the whole range, so an
// index that does not commit catches up from the users at the next search.
// Every user gets the password hash passwordHash, stored once. gen fills
// user i given the id it will get; progress (may be nil) is called after
// each batch with the number inserted so far.
func (d *DB) BulkUsers(ctx context.Context, accountID int64, n int, passwordHash string,
	gen func(i int, id int64, u *User), progress func(done int)) error {
	if n <= 0 {
		return nil
	}
	if d.pgsql {
		return d.bulkUsersPG(ctx, accountID, n, passwordHash, gen, progress)
	}
	pool, err := d.searchDB(ctx)
	if err != nil {
		return err
	}
	done, err := d.admit(ctx)
	if err != nil {
		return err
	}
	defer done()
	conn, err := d.Conn(ctx)
	if err != nil {
		return Translate(err)
	}
	defer conn.Close()
	// This connection is set up for one bulk load and then discarded, never
	// returned to the pool: a large cache keeps the username index in memory,
	// and the statement journal (a copy of each page an INSERT touches) stays
	// in memory.
	defer conn.Raw(func(any) error { return driver.ErrBadConn })
	for _, p := range []string{`PRAGMA cache_size = -98304`, `PRAGMA temp_store = MEMORY`} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return Translate(err)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Translate(err)
	}
	defer tx.Rollback()

	var first int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM users`).Scan(&first); err != nil {
		return Translate(err)
	}
	seq, err := logSearchChange(ctx, tx, first, first+int64(n)-1)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO shared_password_hashes (hash) VALUES (?)`, passwordHash)
	if err != nil {
		return Translate(err)
	}
	hashID, err := res.LastInsertId()
	if err != nil {
		return Translate(err)
	}
	sharedHash := fmt.Sprintf("shared:%d", hashID)
	texts := make(chan []string, 8)
	outcome := make(chan error, 1) // whether the users committed
	indexed := make(chan error, 1)
	go func() {
		indexed <- bulkIndex(ctx, pool.DB, searchRowid(accountID, first), seq, texts, outcome)
		for range texts { // an index that gave up early must not block the insert
		}
	}()
	roles := map[string]int{} // bulk users are enabled and without MFA
	err = insertBatches(ctx, tx, accountID, first, n, func(i int, id int64, u *User) {
		gen(i, id, u)
		u.PasswordHash = sharedHash
		roles[u.Role]++
	}, texts, progress)
	close(texts)
	for role, c := range roles {
		if err == nil {
			err = addCounts(ctx, tx, accountID, role, false, c)
		}
	}
	if err == nil {
		err = Translate(tx.Commit())
	}
	outcome <- err
	// An index that failed catches up from the log at the next search: the
	// users are in.
	<-indexed
	return err
}

// bulkIndex indexes the texts of a bulk load whose first search rowid is
// base, in one transaction on the index file that commits only if the users
// did. The index first catches up to the log as it was when the bulk load
// took the database's write lock, so seq is the next change it applies.
func bulkIndex(ctx context.Context, pool *sql.DB, base, seq int64, texts <-chan []string, outcome <-chan error) error {
	return indexTx(ctx, pool, func(tx *sql.Tx) error {
		st, err := catchUp(ctx, tx)
		if err != nil {
			return err
		}
		id, f := openFeed(ctx, texts)
		defer feeds.Delete(id)
		if err := withBigHash(ctx, tx, func() error {
			_, err := tx.ExecContext(ctx, `WITH RECURSIVE fed (i, t) AS (
				SELECT 0, smartmfa_feed(?1) UNION ALL SELECT i + 1, smartmfa_feed(?1) FROM fed WHERE t IS NOT NULL)
			INSERT INTO user_search (rowid, text) SELECT ?2 + i, t FROM fed WHERE t IS NOT NULL`, id, base)
			return err
		}); err != nil {
			return fmt.Errorf("building the search index: %w", Translate(err))
		}
		if err := addTrigrams(ctx, tx, f.grams); err != nil {
			return err
		}
		if err := <-outcome; err != nil {
			return err
		}
		st.applied = seq
		return setIndexMeta(ctx, tx, st)
	})
}

func insertBatches(ctx context.Context, tx *sql.Tx, accountID, first int64, n int,
	gen func(i int, id int64, u *User), texts chan<- []string, progress func(done int)) error {
	const cols = 9
	row := `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	full := `INSERT INTO users (id, account_id, username, display_name, email, role, password_hash, created_at, updated_at) VALUES ` +
		row + strings.Repeat(", "+row, bulkRows-1)
	stmt, err := tx.PrepareContext(ctx, full) // prepared once: 1,800 parameters take a while to compile
	if err != nil {
		return Translate(err)
	}
	defer stmt.Close()
	args := make([]any, 0, bulkRows*cols)
	for start := 0; start < n; start += bulkRows {
		m := min(bulkRows, n-start)
		args = args[:0]
		batch := make([]string, m)
		for j := range m {
			id := first + int64(start+j)
			u := User{AccountID: accountID, Role: "user"}
			gen(start+j, id, &u)
			batch[j] = searchText(u)
			args = append(args, id, accountID, u.Username, u.DisplayName, u.Email, u.Role, u.PasswordHash, u.CreatedAt, u.UpdatedAt)
		}
		var err error
		if m == bulkRows {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, full[:strings.Index(full, "VALUES ")+len("VALUES ")]+row+strings.Repeat(", "+row, m-1), args...)
		}
		if err != nil {
			return fmt.Errorf("inserting users: %w", Translate(err))
		}
		texts <- batch
		if progress != nil && ((start/bulkRows)%50 == 49 || start+m == n) {
			progress(start + m)
		}
	}
	return nil
}
