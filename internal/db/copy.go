package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Copy moves a whole store from a SQLite file to an empty PostgreSQL store:
// the move from one jump host to several. Rows are copied as stored, so MFA
// secrets stay encrypted and the key file is never needed; shared password
// references ("shared:<id>") keep their ids, as every other row does.

var (
	// ErrTargetNotEmpty refuses a copy into a store that already holds
	// rows: merging two stores would mix their ids.
	ErrTargetNotEmpty = errors.New("the target store is not empty")
	// ErrCopyMismatch: the target did not hold as many rows as the source
	// did, and nothing was committed.
	ErrCopyMismatch = errors.New("the copied rows do not match the source")
)

// copyTable is a table copy moves, with the columns both engines hold.
type copyTable struct {
	name    string
	cols    string // the columns, in the order read and written
	order   string // the primary key, so rows arrive in a stable order
	serial  bool   // id is an identity column whose sequence must move past the copied ids
	extraPG []string
}

// copyTables are in the order the foreign keys allow. Whatever the SQLite
// schema holds only for itself (the search log, store_info) stays behind;
// users gain search_text, the folded text PostgreSQL's search reads.
var copyTables = []copyTable{
	{name: "accounts", cols: "id, name, name_key, require_mfa, require_mfa_from, created_at", order: "id", serial: true},
	{name: "users", cols: "id, account_id, username, display_name, email, role, password_hash, disabled, " +
		"created_at, updated_at, session_epoch, must_change_password, mfa_on", order: "id", serial: true,
		extraPG: []string{"search_text", "search_grams"}},
	{name: "shared_password_hashes", cols: "id, hash", order: "id", serial: true},
	{name: "mfa", cols: "user_id, secret, key_id, algorithm, digits, period, state, created_at, enabled_at, " +
		"last_step, failures, locked_until", order: "user_id"},
	{name: "recovery_codes", cols: "id, user_id, hash, used_at, pending", order: "id", serial: true},
	{name: "trusted_origins", cols: "user_id, origin, signed_in_at, failures, locked_until, failed_at", order: "user_id, origin"},
	{name: "name_buckets", cols: "bucket, failures, locked_until, failed_at", order: "bucket"},
	{name: "audit_events", cols: "id, at, account_id, actor_id, actor_name, action, target_id, target_name, " +
		"source, detail, times", order: "id", serial: true},
	{name: "audit_aggregates", cols: "kind, hour, event_id", order: "kind, hour"},
	{name: "account_user_counts", cols: "account_id, role, disabled, mfa_on, n", order: "account_id, role, disabled, mfa_on"},
}

func (t copyTable) columns() []string { return strings.Split(t.cols, ", ") }

// TableCount is how many rows a table holds.
type TableCount struct {
	Table string
	Rows  int64
}

// copyProgressEvery is how many rows pass between progress calls: often
// enough for a bar, rare enough to cost nothing.
const copyProgressEvery = 10_000

// CopyStore copies every row of src, a SQLite store, into dst, an empty
// PostgreSQL store, and returns the rows per table. src is read in one read
// transaction, so the copy is one moment of it even while hosts still write;
// dst is written in one transaction with COPY, its tables locked, and
// committed only when each table holds as many rows as src did: a failure
// or a cancelled ctx leaves dst empty. progress (may be nil) is called now
// and then with the rows copied so far and the total.
func CopyStore(ctx context.Context, src, dst *DB, progress func(done, total int64)) ([]TableCount, error) {
	if src.pgsql || !dst.pgsql {
		return nil, errors.New("copy reads a SQLite store and writes a PostgreSQL one")
	}
	// Read-only: a plain BEGIN, not the immediate one that would hold the
	// source's write lock (and stop its hosts' logins) for the whole copy.
	stx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, Translate(err)
	}
	defer stx.Rollback()
	counts := make([]TableCount, len(copyTables))
	var total int64
	for i, t := range copyTables {
		// The first read fixes the snapshot every later one sees.
		counts[i].Table = t.name
		if err := stx.QueryRowContext(ctx, `SELECT count(*) FROM `+t.name).Scan(&counts[i].Rows); err != nil {
			return nil, fmt.Errorf("counting the rows of %s: %w", t.name, Translate(err))
		}
		total += counts[i].Rows
	}
	conn, err := dst.Conn(ctx)
	if err != nil {
		return nil, Translate(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		tx, err := dc.(*stdlib.Conn).Conn().Begin(ctx)
		if err != nil {
			return Translate(err)
		}
		// A cancelled ctx would keep the rollback from being sent; a broken
		// connection rolls back on the server all the same.
		defer tx.Rollback(context.WithoutCancel(ctx))
		if err := fill(ctx, stx, tx, counts, total, progress); err != nil {
			return err
		}
		return Translate(tx.Commit(ctx))
	})
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// fill copies the source's rows into the target's transaction and checks them.
func fill(ctx context.Context, stx *sql.Tx, tx pgx.Tx, counts []TableCount, total int64, progress func(done, total int64)) error {
	if err := lockEmpty(ctx, tx); err != nil {
		return err
	}
	// COPY of a million users, and building their trigram index (9 s of
	// an 18 s copy), outlast the store's statement timeout. More
	// maintenance_work_mem than the default 64 MB saved little here.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return Translate(err)
	}
	rebuild, err := dropIndexes(ctx, tx)
	if err != nil {
		return err
	}
	var done int64
	for _, t := range copyTables {
		if err := copyRows(ctx, stx, tx, t, &done, total, progress); err != nil {
			return err
		}
	}
	for _, def := range rebuild {
		if _, err := tx.Exec(ctx, def); err != nil {
			return fmt.Errorf("building the target's indexes: %w", Translate(err))
		}
	}
	if err := moveSequences(ctx, tx); err != nil {
		return err
	}
	if err := checkCounts(ctx, tx, counts); err != nil {
		return err
	}
	// The planner knows nothing of rows that came by COPY until autovacuum
	// gets round to them: the first searches would guess.
	if _, err := tx.Exec(ctx, `ANALYZE `+tableList()); err != nil {
		return fmt.Errorf("analyzing the copied tables: %w", Translate(err))
	}
	return nil
}

// copyRows streams one table from the source's rows into a COPY. pgx encodes
// each row before asking for the next, so one slice of values serves them all.
func copyRows(ctx context.Context, stx *sql.Tx, tx pgx.Tx, t copyTable, done *int64, total int64,
	progress func(done, total int64)) error {
	rows, err := stx.QueryContext(ctx, `SELECT `+t.cols+` FROM `+t.name+` ORDER BY `+t.order)
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.name, Translate(err))
	}
	defer rows.Close()
	cols := t.columns()
	vals := make([]any, len(cols), len(cols)+len(t.extraPG))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	// An error of the source reaches PostgreSQL as COPY's failure and comes
	// back as its error (SQLSTATE 57014, a "cancel"): keep the real one.
	var readErr error
	grams := newGramSet() // users' search keys, and the trigrams they hold
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if readErr = ctx.Err(); readErr != nil {
			return nil, readErr
		}
		if !rows.Next() {
			readErr = rows.Err()
			return nil, readErr
		}
		if readErr = rows.Scan(ptrs...); readErr != nil {
			return nil, readErr
		}
		row := vals[:len(cols)]
		if t.name == "users" { // account_id is column 1; username, display_name and email 2 to 4
			st := searchText(User{Username: text(vals[2]), DisplayName: text(vals[3]), Email: text(vals[4])})
			account, _ := vals[1].(int64)
			row = append(row, st, grams.grams(account, st))
		}
		if *done++; progress != nil && *done%copyProgressEvery == 0 {
			progress(*done, total)
		}
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, append(cols, t.extraPG...), src); err != nil {
		if readErr != nil {
			return fmt.Errorf("reading %s: %w", t.name, Translate(readErr))
		}
		return fmt.Errorf("copying %s: %w", t.name, Translate(err))
	}
	if err := grams.addVocabulary(ctx, pgxExec{tx}); err != nil {
		return fmt.Errorf("copying %s: %w", t.name, err)
	}
	if progress != nil {
		progress(*done, total)
	}
	return nil
}

// text is a text column read into an any: SQLite hands back a string, or
// bytes for a value stored as a blob.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}
