package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The target's side of CopyStore: what it checks, drops, rebuilds and moves
// around the COPY of the rows, all in the copy's one transaction.

// lockEmpty locks every copied table of the target against other writers
// until the copy commits (dropIndexes then shuts out readers too), and
// refuses a target with a row in any of them.
func lockEmpty(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `LOCK TABLE `+tableList()+` IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("locking the target's tables: %w", Translate(err))
	}
	for _, t := range copyTables {
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t.name+`)`).Scan(&has); err != nil {
			return fmt.Errorf("reading the target's %s: %w", t.name, Translate(err))
		}
		if has {
			return fmt.Errorf("%w (its table %s has rows)", ErrTargetNotEmpty, t.name)
		}
	}
	return nil
}

// tableList names the copied tables for a statement that takes a list.
func tableList() string {
	names := make([]string, len(copyTables))
	for i, t := range copyTables {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

// dropIndexes drops the copied tables' indexes, all but those behind a
// constraint (the primary keys, which the foreign keys need), and returns
// the statements that build them again after the COPY: kept up row by
// row, the trigram index most of all, they made a copy of a million users
// take 65 s where building them once after took 27 s (same load). The
// definitions are read from the catalog, so they are what the migrations
// made, and the transaction puts them back on any failure.
func dropIndexes(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var defs []string
	for _, t := range copyTables {
		rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
			FROM pg_index i WHERE i.indrelid = $1::regclass
			AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
			ORDER BY 1`, t.name)
		if err != nil {
			return nil, fmt.Errorf("reading the target's indexes: %w", Translate(err))
		}
		var names []string
		for rows.Next() {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				rows.Close()
				return nil, Translate(err)
			}
			names, defs = append(names, name), append(defs, def)
		}
		if rows.Close(); rows.Err() != nil {
			return nil, fmt.Errorf("reading the target's indexes: %w", Translate(rows.Err()))
		}
		if len(names) == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `DROP INDEX `+strings.Join(names, ", ")); err != nil {
			return nil, fmt.Errorf("dropping the target's indexes until the rows are in: %w", Translate(err))
		}
	}
	return defs, nil
}

// moveSequences moves each identity sequence past the largest id copied, so
// the target's next insert does not collide with a copied row. An empty
// table's sequence starts at 1 (is_called false).
func moveSequences(ctx context.Context, tx pgx.Tx) error {
	for _, t := range copyTables {
		if !t.serial {
			continue
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), coalesce(max(id), 1), max(id) IS NOT NULL)
			FROM `+t.name, t.name); err != nil {
			return fmt.Errorf("moving the id sequence of %s: %w", t.name, Translate(err))
		}
	}
	return nil
}

// checkCounts compares the target's rows, before commit, with the source's.
func checkCounts(ctx context.Context, tx pgx.Tx, want []TableCount) error {
	for _, w := range want {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+w.Table).Scan(&n); err != nil {
			return fmt.Errorf("counting the copied rows of %s: %w", w.Table, Translate(err))
		}
		if n != w.Rows {
			return fmt.Errorf("%w: %s holds %d rows, the source %d", ErrCopyMismatch, w.Table, n, w.Rows)
		}
	}
	return nil
}
