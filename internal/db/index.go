package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"modernc.org/sqlite"
)

// The search index lives in its own file, <database>-search, so that FTS5
// merging it (seconds after a bulk load) holds that file's write lock and
// never the database's, which every login and code check needs. It is
// derived data: each user write logs the ids it changed in search_changes,
// in the same transaction, and the index applies the log before it is read.
// An index that is missing, of another database, of another format or behind
// a pruned log is rebuilt from users. Only code that searches opens it.

// indexVersion is the index file's format; another value means a rebuild.
const indexVersion = 1

// IndexSuffix names the index file: the database's path plus this.
const IndexSuffix = "-search"

const indexSchema = `
CREATE TABLE IF NOT EXISTS search_meta (k TEXT PRIMARY KEY, v NOT NULL) WITHOUT ROWID;
-- Contentless: the text lives in users; rowid = account_id << 32 | user_id.
CREATE VIRTUAL TABLE IF NOT EXISTS user_search USING fts5 (text, tokenize = 'trigram', content = '', contentless_delete = 1);
-- Every trigram ever indexed: how 1- and 2-character terms find their matches.
CREATE TABLE IF NOT EXISTS search_trigrams (t TEXT PRIMARY KEY) WITHOUT ROWID;`

// index is the lazily opened pool on the index file. Each of its connections
// attaches the database read-only as "live", so queries name users and mfa
// as before and a transaction here never takes the database's write lock.
type index struct {
	mu      sync.Mutex
	db      *prepared     // nil until opened
	syncing chan struct{} // one catch-up of this process at a time; see syncIndex
	warming sync.WaitGroup
	stop    []context.CancelFunc // of WarmIndex's catch-ups, for Close
}

// searchDB opens the index pool on first use.
func (d *DB) searchDB(ctx context.Context) (*prepared, error) {
	d.idx.mu.Lock()
	defer d.idx.mu.Unlock()
	if d.idx.db != nil {
		return d.idx.db, nil
	}
	path := d.Path + IndexSuffix
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	if err := sameOwner(path, d.Path); err != nil {
		return nil, fmt.Errorf("the search index %s cannot be given the database's owner: %w", path, err)
	}
	base, err := sqlite.NewConnector(indexDSN(path))
	if err != nil {
		return nil, fmt.Errorf("opening the search index %s: %w", path, err)
	}
	live := "file:" + (&url.URL{Path: d.Path}).EscapedPath() + "?mode=ro"
	pool := sql.OpenDB(attachConnector{Connector: base, live: live})
	if _, err := pool.ExecContext(ctx, indexSchema); err != nil {
		pool.Close()
		return nil, translateOpen(path, err)
	}
	p := newPrepared(pool)
	d.idx.db = &p
	return d.idx.db, nil
}

// indexDSN is the index file's settings: WAL so searches read while it
// catches up, NORMAL sync since a lost commit is re-applied from the log.
func indexDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "journal_mode(WAL)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// attachConnector attaches the database read-only to every new connection:
// SQLite's BEGIN IMMEDIATE locks only the writable files of a connection.
type attachConnector struct {
	driver.Connector
	live string
}

func (c attachConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, `ATTACH DATABASE ? AS live`, []driver.NamedValue{{Ordinal: 1, Value: c.live}}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// closeIndex closes the index pool if it was opened.
func (d *DB) closeIndex() error {
	d.idx.mu.Lock()
	defer d.idx.mu.Unlock()
	if d.idx.db == nil {
		return nil
	}
	d.idx.db.stmts.close()
	err := d.idx.db.DB.Close()
	d.idx.db = nil
	return err
}

// Close closes the database, its cached statements and its index, once a
// catch-up WarmIndex started has stopped.
func (d *DB) Close() error {
	d.idx.mu.Lock()
	for _, stop := range d.idx.stop {
		stop()
	}
	d.idx.stop = nil
	d.idx.mu.Unlock()
	d.idx.warming.Wait()
	d.stmts.close()
	return errors.Join(d.closeIndex(), d.DB.Close())
}

// logSearchChange records, in the caller's transaction, that users
// first..last must be (re)indexed.
func logSearchChange(ctx context.Context, q Querier, first, last int64) (int64, error) {
	if pg(q) {
		return 0, foldSearchText(ctx, q, first, last)
	}
	res, err := q.ExecContext(ctx, `INSERT INTO search_changes (first_id, last_id) VALUES (?, ?)`, first, last)
	if err != nil {
		return 0, Translate(err)
	}
	return res.LastInsertId()
}
