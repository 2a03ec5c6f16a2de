package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations returns the embedded schema steps in order; step i brings the
// database to user_version i+1.
func migrations() ([]string, error) { return readSteps(migrationFS, "migrations/*.sql") }

// readSteps reads an engine's migration files in the order of their names.
func readSteps(fsys fs.FS, glob string) ([]string, error) {
	names, err := fs.Glob(fsys, glob)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int {
	m, _ := migrations()
	return len(m)
}

func userVersion(ctx context.Context, q Querier) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// migrate brings the schema up to date. It is idempotent and safe with several
// processes opening one file at once: the version is re-read under the write lock.
func (d *DB) migrate(ctx context.Context) error {
	steps, err := migrations()
	if err != nil {
		return fmt.Errorf("reading embedded migrations: %w", err)
	}
	v, err := userVersion(ctx, d)
	if err != nil {
		return translateOpen(d.Path, err)
	}
	if v > len(steps) {
		return fmt.Errorf("%w (schema version %d, this build knows %d): upgrade smartmfa to open %s", ErrTooNew, v, len(steps), d.Path)
	}
	if v == len(steps) {
		return nil
	}
	err = d.WriteTx(ctx, func(q Querier) error {
		v, err := userVersion(ctx, q)
		if err != nil {
			return err
		}
		for i := v; i < len(steps); i++ {
			if _, err := q.ExecContext(ctx, steps[i]); err != nil {
				return fmt.Errorf("applying migration %d: %w", i+1, err)
			}
		}
		_, err = q.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps)))
		return err
	})
	if err != nil {
		return translateOpen(d.Path, err)
	}
	return nil
}
