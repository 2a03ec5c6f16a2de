package db

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// maxCachedStmts bounds the statement cache. This package runs under a hundred
// fixed queries; those built with a variable number of placeholders (a trigram
// batch, a search) would otherwise add one entry per length.
const maxCachedStmts = 256

// prepared is a pool whose ExecContext, QueryContext and QueryRowContext
// prepare each query once (see stmtCache); the embedded *sql.DB's own
// methods do not.
type prepared struct {
	*sql.DB
	stmts *stmtCache
	// pgsql: the pool is PostgreSQL's. Its driver already prepares each
	// query once per connection, so the cache stays empty; queries are
	// rebound (see rebind).
	pgsql bool
}

func newPrepared(db *sql.DB) prepared { return prepared{DB: db, stmts: newStmtCache(db)} }

func (p prepared) postgres() bool { return p.pgsql }

// ExecContext runs query as *sql.DB does, prepared once.
func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if p.pgsql {
		return p.DB.ExecContext(ctx, rebind(query), pgArgs(args)...)
	}
	if s := p.stmts.prepare(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, query, args...)
}

// QueryContext runs query as *sql.DB does, prepared once. Each call holds its
// own connection until its rows close, so nested calls never share a
// statement.
func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if p.pgsql {
		return p.DB.QueryContext(ctx, rebind(query), pgArgs(args)...)
	}
	if s := p.stmts.prepare(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query as *sql.DB does, prepared once.
func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if p.pgsql {
		return p.DB.QueryRowContext(ctx, rebind(query), pgArgs(args)...)
	}
	if s := p.stmts.prepare(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// stmtCache prepares each query once and reuses it: parsing and planning were
// a third of the CPU of a login code check. database/sql keeps one prepared
// copy per connection and finalizes it when its connection closes. Entries
// are never evicted, so no statement is closed while a caller holds it; once
// the cache is full, new queries run unprepared.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// get returns query's cached statement, or nil.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// prepare returns query's statement, preparing and caching it if there is
// room; nil when the query should run unprepared. It takes a connection of
// the pool: never call it while holding one (see txQuerier).
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	if s := c.get(query); s != nil || !cacheable(query) || c.full() {
		return s
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // running it unprepared returns the error where it belongs
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok || len(c.stmts) >= maxCachedStmts {
		s.Close()
		return old
	}
	c.stmts[query] = s
	return s
}

func (c *stmtCache) full() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts) >= maxCachedStmts
}

func (c *stmtCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts)
}

// close closes every cached statement; the cache stays usable and refills.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}

// cacheable says whether query is plain DML. A PRAGMA does its work or reads
// its value when prepared, not when run, and on whichever connection prepares
// it; DDL and transaction control run rarely.
func cacheable(query string) bool {
	query = strings.TrimLeft(query, " \t\r\n")
	verb, _, _ := strings.Cut(query, " ")
	if i := strings.IndexAny(verb, "\t\r\n"); i >= 0 {
		verb = verb[:i]
	}
	switch strings.ToUpper(verb) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE":
		return true
	}
	return false
}

// txQuerier is the Querier WriteTx hands its function: the transaction's
// statements come from the cache, each turned into the transaction's own with
// Tx.StmtContext, which reuses the copy already prepared on its connection.
type txQuerier struct {
	tx    *sql.Tx
	cache *stmtCache
	pgsql bool // see prepared.pgsql
	// own holds this transaction's statements by query, nil for one that
	// runs unprepared; Tx.Commit and Tx.Rollback close them.
	own map[string]*sql.Stmt
	// missed are the queries to cache once the transaction has ended: the
	// transaction holds a connection, and preparing takes another, which a
	// pool of one would wait for forever.
	missed []string
}

func (q *txQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	if s, ok := q.own[query]; ok {
		return s
	}
	if q.own == nil {
		q.own = map[string]*sql.Stmt{}
	}
	var s *sql.Stmt
	if parent := q.cache.get(query); parent != nil {
		s = q.tx.StmtContext(ctx, parent)
	} else if cacheable(query) {
		q.missed = append(q.missed, query)
	}
	q.own[query] = s
	return s
}

// cacheMissed prepares the queries the transaction missed; call it after
// Commit or Rollback.
func (q *txQuerier) cacheMissed(ctx context.Context) {
	for _, query := range q.missed {
		if ctx.Err() != nil || q.cache.full() {
			return
		}
		q.cache.prepare(ctx, query)
	}
}

func (q *txQuerier) postgres() bool { return q.pgsql }

func (q *txQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if q.pgsql {
		return q.tx.ExecContext(ctx, rebind(query), pgArgs(args)...)
	}
	if s := q.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs unprepared: its rows stay open while the caller may run
// the same query again, and on the transaction's one connection both would
// share one prepared statement, which serves one query at a time.
func (q *txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if q.pgsql {
		return q.tx.QueryContext(ctx, rebind(query), pgArgs(args)...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q *txQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if q.pgsql {
		return q.tx.QueryRowContext(ctx, rebind(query), pgArgs(args)...)
	}
	if s := q.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}
