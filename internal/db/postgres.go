package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL settings: a bounded pool per process, and no statement or
// connection attempt that waits for ever on a store that went away.
const (
	pgMaxConns         = 10
	pgConnectTimeout   = 5 * time.Second
	pgStatementTimeout = "10s"
	pgIdleInTxTimeout  = "30s"
	pgMaxTries         = 10 // attempts of a transaction that meets a serialization failure
)

// IsPostgres reports whether location names a PostgreSQL store (a
// postgres:// URL, or "postgres:" alone for libpq's PG* variables) rather
// than a SQLite file.
func IsPostgres(location string) bool {
	return strings.HasPrefix(location, "postgres:") || strings.HasPrefix(location, "postgresql:")
}

//go:embed migrations_pg/*.sql
var pgMigrationFS embed.FS

func pgMigrations() ([]string, error) { return readSteps(pgMigrationFS, "migrations_pg/*.sql") }

// pgConfig parses a location into pgx's configuration with smartmfa's
// defaults where the location sets none. "postgres:" alone reads libpq's
// environment (PGHOST, PGUSER, PGSSLMODE...).
func pgConfig(location string) (*pgx.ConnConfig, error) {
	dsn := location
	if dsn == "postgres:" || dsn == "postgresql:" {
		dsn = ""
	}
	cfg, err := pgx.ParseConfig(dsn)
	var file *fs.PathError
	switch {
	case errors.As(err, &file):
		// sslrootcert, sslcert, sslkey or a passfile: its path is no secret.
		return nil, fmt.Errorf("the PostgreSQL address names %s, which cannot be read (%v)", file.Path, file.Err)
	case err != nil:
		// pgx's message may quote the address, password included.
		return nil, errors.New("the PostgreSQL address is not a valid connection URL (postgres://user@host/database?sslmode=verify-full)")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	tcp, err := takeTCPParams(cfg.RuntimeParams)
	if err != nil {
		return nil, err
	}
	cfg.DialFunc = tcp.dial() // connect_timeout still bounds the dial: pgconn's context
	for k, v := range map[string]string{
		"statement_timeout":                   pgStatementTimeout,
		"idle_in_transaction_session_timeout": pgIdleInTxTimeout,
		"application_name":                    "smartmfa",
	} {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	return cfg, nil
}

// pgName names a store in messages without its password.
func pgName(cfg *pgx.ConnConfig) string {
	if strings.HasPrefix(cfg.Host, "/") { // a Unix socket's directory
		return fmt.Sprintf("postgres://%s@/%s?host=%s", cfg.User, cfg.Database, cfg.Host)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

func openPostgres(ctx context.Context, location string) (*DB, error) {
	cfg, err := pgConfig(location)
	if err != nil {
		return nil, err
	}
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(pgMaxConns)
	sqldb.SetMaxIdleConns(pgMaxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{prepared: prepared{DB: sqldb, stmts: newStmtCache(sqldb), pgsql: true}, Path: pgName(cfg),
		writer: make(chan struct{}, 1), idx: index{syncing: make(chan struct{}, 1)}}
	if err := d.migratePG(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return d, nil
}

// migratePG brings the schema up to date under an advisory lock, so hosts
// starting at once apply each step once. smartmfa_schema holds the version.
func (d *DB) migratePG(ctx context.Context) error {
	steps, err := pgMigrations()
	if err != nil {
		return fmt.Errorf("reading embedded migrations: %w", err)
	}
	var v int
	err = d.DB.QueryRowContext(ctx, `SELECT version FROM smartmfa_schema`).Scan(&v)
	if err == nil && v == len(steps) {
		return nil
	}
	if err == nil && v > len(steps) {
		return fmt.Errorf("%w (schema version %d, this build knows %d): upgrade smartmfa to open %s", ErrTooNew, v, len(steps), d.Path)
	}
	if err = Translate(err); err != nil && !isUndefinedTable(err) {
		return d.openError(err)
	}
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return d.openError(Translate(err))
	}
	defer tx.Rollback()
	for _, s := range []string{
		`SELECT pg_advisory_xact_lock(7235031)`,
		`CREATE TABLE IF NOT EXISTS smartmfa_schema (version integer NOT NULL)`,
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return d.openError(Translate(err))
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM smartmfa_schema`).Scan(&v); err != nil {
		return d.openError(Translate(err))
	}
	if v > len(steps) {
		return fmt.Errorf("%w (schema version %d, this build knows %d): upgrade smartmfa to open %s", ErrTooNew, v, len(steps), d.Path)
	}
	for i := v; i < len(steps); i++ {
		if _, err := tx.ExecContext(ctx, steps[i]); err != nil {
			return fmt.Errorf("applying migration %d to %s: %w", i+1, d.Path, Translate(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM smartmfa_schema`); err != nil {
		return d.openError(Translate(err))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO smartmfa_schema (version) VALUES ($1)`, len(steps)); err != nil {
		return d.openError(Translate(err))
	}
	return d.openError(Translate(tx.Commit()))
}

// openError names the store in an error met while opening it.
func (d *DB) openError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", d.Path, err)
}

// writeTxPG runs fn in a serializable transaction, so that a rule that reads
// and then writes (the last admin, a unique name) holds as it does under
// SQLite's single writer. A serialization failure or deadlock runs it again
// after a random pause (full jitter), up to pgMaxTries times.
func (d *DB) writeTxPG(ctx context.Context, fn func(q Querier) error) error {
	for try := 1; ; try++ {
		err := d.pgTxOnce(ctx, fn)
		if err == nil || !retryable(err) || try == pgMaxTries {
			return err
		}
		pause := rand.N(time.Duration(1<<min(try, 6)) * time.Millisecond)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (d *DB) pgTxOnce(ctx context.Context, fn func(q Querier) error) error {
	tx, err := d.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		return Translate(err)
	}
	if err := fn(&txQuerier{tx: tx, cache: d.stmts, pgsql: true}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return Translate(tx.Commit())
}
