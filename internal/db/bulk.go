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
// memory), multi-row INSERTs, and the search index built afterwards by one
// INSERT ... SELECT in rowid order, which FTS5 writes as a single segment.
// gen fills user i given the id it will get; progress (may be nil) is called
// after each batch with the number inserted so far.
func (d *DB) BulkUsers(ctx context.Context, accountID int64, n int, gen func(i int, id int64, u *User), progress func(done int)) error {
	conn, err := d.Conn(ctx)
	if err != nil {
		return Translate(err)
	}
	defer conn.Close()
	// This connection is set up for one bulk load and then discarded, never
	// returned to the pool: a large cache keeps the indexes in memory, and the
	// statement journal (a copy of each page an INSERT touches) stays in memory.
	defer conn.Raw(func(any) error { return driver.ErrBadConn })
	for _, p := range []string{`PRAGMA cache_size = -524288`, `PRAGMA temp_store = MEMORY`} {
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
	texts := make(chan []string, 4)
	type collected struct {
		grams map[string]struct{}
		ascii bool // every text is ASCII, which SQLite's lower() folds exactly
	}
	vocab := make(chan collected)
	go func() { // collects the trigram vocabulary on the other core
		c := collected{grams: map[string]struct{}{}, ascii: true}
		for batch := range texts {
			for _, t := range batch {
				trigrams(t, c.grams)
				c.ascii = c.ascii && isASCII(t)
			}
		}
		vocab <- c
	}()
	err = insertBatches(ctx, tx, accountID, first, n, gen, texts, progress)
	close(texts)
	got := <-vocab
	grams := got.grams
	// The text is computed inside SQLite: by its own lower() when that is
	// exact (a Go callback per row costs about a second a million), else by
	// searchText through smartmfa_search_text.
	text := searchTextSQL("")
	if got.ascii {
		text = asciiSearchTextSQL("")
	}
	if err != nil {
		return err
	}
	steps := []struct {
		query string
		args  []any
	}{
		{`INSERT INTO user_search (user_search, rank) VALUES ('hashsize', 268435456)`, nil},
		{`INSERT INTO user_search (rowid, text)
			SELECT (account_id << 32) | id, ` + text + `
			FROM users WHERE account_id = ? AND id >= ? ORDER BY id`, []any{accountID, first}},
		{`INSERT INTO user_search (user_search, rank) VALUES ('hashsize', 1048576)`, nil}, // FTS5's default
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return fmt.Errorf("building the search index: %w", Translate(err))
		}
	}
	if err := addTrigrams(ctx, tx, grams); err != nil {
		return err
	}
	return Translate(tx.Commit())
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
