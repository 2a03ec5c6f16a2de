package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// bulkUsersPG is BulkUsers on PostgreSQL: one COPY in one transaction. The
// table is locked against other writers (readers go on, but in a new store,
// see dropIndexesForLoad) while the ids are taken after the largest in use,
// and the identity sequence moves past them.
func (d *DB) bulkUsersPG(ctx context.Context, accountID int64, n int, passwordHash string,
	gen func(i int, id int64, u *User), progress func(done int)) error {
	conn, err := d.Conn(ctx)
	if err != nil {
		return Translate(err)
	}
	defer conn.Close()
	return Translate(conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		var first, hashID int64
		// The COPY is one statement: a million users outlast the
		// session's statement_timeout, meant for a store that stops
		// answering. A bulk load gets a millisecond a user and a minute.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL statement_timeout = %d`, 60_000+n)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT greatest(coalesce(max(id), 0),
			(SELECT last_value FROM pg_sequences WHERE schemaname || '.' || sequencename = pg_get_serial_sequence('users', 'id')))
			+ 1 FROM users`).Scan(&first); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO shared_password_hashes (hash) VALUES ($1) RETURNING id`, passwordHash).Scan(&hashID); err != nil {
			return err
		}
		rebuild, err := dropIndexesForLoad(ctx, tx, n)
		if err != nil {
			return err
		}
		shared := fmt.Sprintf("shared:%d", hashID)
		roles := map[string]int{} // bulk users are enabled and without MFA
		grams := newGramSet()
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == n || ctx.Err() != nil {
				return nil, ctx.Err()
			}
			id := first + int64(i)
			u := User{AccountID: accountID, Role: "user"}
			gen(i, id, &u)
			roles[u.Role]++
			i++
			if progress != nil && (i%10000 == 0 || i == n) {
				progress(i)
			}
			text := searchText(u)
			return []any{id, accountID, u.Username, u.DisplayName, u.Email, u.Role, shared, u.CreatedAt, u.UpdatedAt,
				text, grams.grams(accountID, text)}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "account_id", "username", "display_name",
			"email", "role", "password_hash", "created_at", "updated_at", "search_text", "search_grams"}, src); err != nil {
			return fmt.Errorf("inserting users: %w", Translate(err))
		}
		if err := grams.addVocabulary(ctx, pgxExec{tx}); err != nil {
			return err
		}
		for _, def := range rebuild {
			if _, err := tx.Exec(ctx, def); err != nil {
				return fmt.Errorf("indexing users: %w", Translate(err))
			}
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('users', 'id'), $1)`, first+int64(n)-1); err != nil {
			return err
		}
		for role, k := range roles {
			if _, err := tx.Exec(ctx, `INSERT INTO account_user_counts (account_id, role, disabled, mfa_on, n)
				VALUES ($1, $2, 0, 0, $3) ON CONFLICT (account_id, role, disabled, mfa_on)
				DO UPDATE SET n = account_user_counts.n + excluded.n`, accountID, role, k); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	}))
}

// Loading a million users into a table that keeps its indexes took 34 s of
// the server's time; into one without them, then building the indexes, 11 s
// (COPY 2.3 s, search_grams' GIN 6.3 s, the four btrees 1.9 s). A bulk load
// into a nearly empty store, a new demo's, drops and rebuilds them, which
// keeps readers out until it commits; any other keeps them.
const (
	rebuildMinLoad     = 10_000 // users
	rebuildMaxExisting = 1_000  // users already in the store
)

// dropIndexesForLoad drops the indexes of users but its primary key when a
// load of n users is worth rebuilding them, and returns the statements that
// create them again, as the catalog has them.
func dropIndexesForLoad(ctx context.Context, tx pgx.Tx, n int) ([]string, error) {
	if n < rebuildMinLoad {
		return nil, nil
	}
	var existing int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM users LIMIT $1) u`, rebuildMaxExisting+1).Scan(&existing); err != nil {
		return nil, err
	}
	if existing > rebuildMaxExisting {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = 'users'::regclass AND NOT i.indisprimary
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY i.indexrelid`)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := tx.Exec(ctx, `DROP INDEX `+name); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// pgxExec gives a pgx transaction the ExecContext of database/sql.
type pgxExec struct{ tx pgx.Tx }

func (e pgxExec) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tag, err := e.tx.Exec(ctx, query, args...)
	return driver.RowsAffected(tag.RowsAffected()), err
}
