// Package db owns smartmfa's storage, SQLite or PostgreSQL: opening a store with
// the settings the security rules depend on, the embedded schema migrations of
// each engine, and the queries, shared by both. It
// knows SQL and nothing about rules; internal/core decides what is allowed.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, CGO_ENABLED=0)
)

// Querier is what every query function takes, so core can run several of them
// inside one transaction or straight on the database.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open smartmfa database. Its ExecContext, QueryContext and
// QueryRowContext, and WriteTx's Querier, prepare each query once (see
// stmtCache); the embedded *sql.DB's own methods do not.
type DB struct {
	prepared
	Path   string
	idx    index         // the search index's file, opened when first searched
	writer chan struct{} // see admit
}

// admit queues this process's writers for the write lock in arrival order
// and returns the function that lets the next one in. SQLite's busy handler
// polls, sleeping up to 100 ms between tries, so writers queued there are
// served in no order: beside a stream of writes a login waited 0.9 s. Queued
// here, only other processes' writers meet the poll.
func (d *DB) admit(ctx context.Context) (func(), error) {
	select {
	case d.writer <- struct{}{}:
		return func() { <-d.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// busyTimeout is how long a connection waits for another process's lock.
const busyTimeout = 10 * time.Second

// pragmas are the settings the rules rely on: WAL for concurrent readers, FULL
// sync so a used time step or failure counter is never lost, and a busy timeout
// so processes queue for the write lock instead of failing.
var pragmas = []string{
	fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"foreign_keys(1)",
}

func dsn(path string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	// Every BEGIN is BEGIN IMMEDIATE: a deferred read-then-write transaction
	// fails with SQLITE_BUSY at once when another process writes.
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path, checks that the pragmas
// took effect and applies the embedded migrations. The directory must exist.
// A postgres:// location opens PostgreSQL instead (see IsPostgres).
func Open(ctx context.Context, path string) (*DB, error) {
	if IsPostgres(path) {
		return openPostgres(ctx, path)
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	// Several processes opening a new file at once race to switch it to WAL,
	// and SQLite answers the losers SQLITE_BUSY without waiting: retry for as
	// long as the busy timeout would have waited.
	deadline := time.Now().Add(busyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		d, err := open(ctx, path)
		if err == nil || !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return d, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func open(ctx context.Context, path string) (*DB, error) {
	sqldb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	d := &DB{prepared: newPrepared(sqldb), Path: path, writer: make(chan struct{}, 1),
		idx: index{syncing: make(chan struct{}, 1)}}
	if err := d.checkPragmas(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	if err := d.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return d, nil
}

// prepareFile creates the database file 0600 before SQLite does, so it never
// exists with the umask's wider permissions; SQLite gives its -wal and -shm files
// the same mode.
func prepareFile(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("the directory %s of the database does not exist", dir)
	case err != nil:
		return fmt.Errorf("the directory %s of the database cannot be read: %w", dir, errors.Unwrap(err))
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("the database path %s is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("the database %s cannot be opened for writing (check its permissions)", path)
		}
		return f.Close()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil // another process created it first
		}
		return fmt.Errorf("the database %s cannot be created in %s (check that the directory is writable)", filepath.Base(path), dir)
	}
	return f.Close()
}

// checkPragmas reads the settings back: a driver that silently ignored one
// would weaken replay protection without anyone noticing.
func (d *DB) checkPragmas(ctx context.Context) error {
	checks := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		return translateOpen(d.Path, err)
	}
	defer conn.Close()
	for _, c := range checks {
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			return translateOpen(d.Path, err)
		}
		if got != c.want {
			return fmt.Errorf("database %s: pragma %s is %s, want %s", d.Path, c.pragma, got, c.want)
		}
	}
	return nil
}

// WriteTx runs fn in one immediate transaction and commits it when fn returns
// nil; on PostgreSQL, in a serializable one that may run fn more than once. fn's Querier runs the hot statements prepared (see txQuerier).
func (d *DB) WriteTx(ctx context.Context, fn func(q Querier) error) error {
	if d.pgsql {
		return d.writeTxPG(ctx, fn)
	}
	done, err := d.admit(ctx)
	if err != nil {
		return err
	}
	defer done()
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return Translate(err)
	}
	q := &txQuerier{tx: tx, cache: d.stmts}
	defer q.cacheMissed(ctx) // runs after Commit or Rollback has freed the connection
	if err := fn(q); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return Translate(err)
	}
	return nil
}
