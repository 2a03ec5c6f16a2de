package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"modernc.org/sqlite"
)

// openScratch opens a database with a table t of ids 1..10, v = id.
func openScratch(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	err = d.WriteTx(ctx, func(q Querier) error {
		if _, err := q.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
			return err
		}
		for i := 1; i <= 10; i++ {
			if _, err := q.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, i, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// inList is a query with n placeholders, as the queries built per call are.
func inList(n int) string {
	return `SELECT count(*) FROM t WHERE id IN (?` + strings.Repeat(`, ?`, n-1) + `)`
}

// stmtMemory is the memory the prepared statements of d's one connection hold.
func stmtMemory(t *testing.T, d *DB) int {
	t.Helper()
	conn, err := d.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.Raw(func(dc any) (err error) {
		n, _, err = dc.(sqlite.DBStatus).Status(sqlite.DBStatusStmtUsed, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStmtCacheStaysBounded runs many transactions and reads, with more
// distinct queries than the cache holds: the cache stops at its bound, the
// statements prepared on the connection stop growing, and every answer is
// right. A pool of one connection also proves no query waits for a second.
func TestStmtCacheStaysBounded(t *testing.T) {
	ctx := context.Background()
	d := openScratch(t)
	d.SetMaxOpenConns(1)
	round := func(from, to int) {
		for i := from; i < to; i++ {
			n := i%(maxCachedStmts+100) + 1
			args := make([]any, n)
			for j := range args {
				args[j] = j + 1
			}
			err := d.WriteTx(ctx, func(q Querier) error {
				if _, err := q.ExecContext(ctx, `UPDATE t SET v = v + 1 WHERE id = ?`, i%10+1); err != nil {
					return err
				}
				var got int
				if err := q.QueryRowContext(ctx, inList(n), args...).Scan(&got); err != nil || got != min(n, 10) {
					return fmt.Errorf("%d placeholders: count %d, %v", n, got, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var v int
			if err := d.QueryRowContext(ctx, `SELECT v FROM t WHERE id = ?`, i%10+1).Scan(&v); err != nil || v != i%10+1+i/10+1 {
				t.Fatalf("round %d: v = %d, %v; want %d", i, v, err, i%10+1+i/10+1)
			}
		}
	}
	round(0, 400)
	if n := d.stmts.len(); n != maxCachedStmts {
		t.Errorf("%d statements cached, want the bound %d", n, maxCachedStmts)
	}
	for _, q := range []string{`UPDATE t SET v = v + 1 WHERE id = ?`, `SELECT v FROM t WHERE id = ?`} {
		if d.stmts.get(q) == nil {
			t.Errorf("%q is not cached", q)
		}
	}
	before := stmtMemory(t, d)
	round(400, 800)
	if after := stmtMemory(t, d); after > before+before/10 {
		t.Errorf("prepared statements grew from %d to %d bytes", before, after)
	}
}

// TestStmtCacheAfterSchemaChange changes the schema under cached statements,
// from this process and from another (as another process's migration would):
// they are prepared again and answer from the new schema.
func TestStmtCacheAfterSchemaChange(t *testing.T) {
	ctx := context.Background()
	d := openScratch(t)
	read := `SELECT v FROM t WHERE id = ?`
	check := func(when string, want int) {
		t.Helper()
		var inTx int
		if err := d.WriteTx(ctx, func(q Querier) error { return q.QueryRowContext(ctx, read, 3).Scan(&inTx) }); err != nil {
			t.Fatalf("%s, in a transaction: %v", when, err)
		}
		var out int
		if err := d.QueryRowContext(ctx, read, 3).Scan(&out); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if inTx != want || out != want {
			t.Errorf("%s: v = %d in a transaction and %d outside, want %d", when, inTx, out, want)
		}
	}
	check("before", 3)
	check("cached", 3)
	if d.stmts.get(read) == nil {
		t.Fatal("the read is not cached")
	}
	other, err := sql.Open("sqlite", dsn(d.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, step := range []string{
		`ALTER TABLE t ADD COLUMN w TEXT`,
		`CREATE INDEX t_v ON t (v)`,
		`CREATE TABLE t2 (w TEXT, v INTEGER, id INTEGER PRIMARY KEY)`,
		`INSERT INTO t2 (id, v) SELECT id, v * 100 FROM t`,
		`DROP TABLE t`,
		`ALTER TABLE t2 RENAME TO t`,
	} {
		if _, err := other.ExecContext(ctx, step); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	check("after another connection rebuilt the table", 300)
	err = d.WriteTx(ctx, func(q Querier) error {
		_, err := q.ExecContext(ctx, `UPDATE t SET v = v + 1`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `DROP TABLE t`); err != nil {
		t.Fatal(err)
	}
	err = d.QueryRowContext(ctx, read, 3).Scan(new(int))
	if !errors.Is(Translate(err), ErrStorage) || strings.Contains(Translate(err).Error(), "SELECT") {
		t.Errorf("a cached read of a dropped table: %v, want ErrStorage without its SQL", Translate(err))
	}
	if _, err := d.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (3, 7)`); err != nil {
		t.Fatal(err)
	}
	check("after the table came back", 7)
}

// TestStmtCacheAfterDiscardedConnection: BulkUsers discards its connection,
// and an idle pool closes them all; statements prepared on them are gone,
// and the cached ones prepare again on the next connection.
func TestStmtCacheAfterDiscardedConnection(t *testing.T) {
	ctx := context.Background()
	d := openScratch(t)
	var acct int64
	alice := User{Username: "alice", Role: "user", PasswordHash: "x"}
	err := d.WriteTx(ctx, func(q Querier) (err error) {
		if acct, err = InsertAccount(ctx, q, "a", "a", 1); err != nil {
			return err
		}
		alice.AccountID = acct
		return InsertUser(ctx, q, &alice)
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, users int) {
		t.Helper()
		for range 3 { // the first run of a query caches it
			err := d.WriteTx(ctx, func(q Querier) error {
				u, err := UserByID(ctx, q, alice.ID)
				if err != nil || u.Username != "alice" {
					return fmt.Errorf("UserByID: %+v, %v", u, err)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if u, err := UserByUsername(ctx, d, "alice"); err != nil || u.ID != alice.ID {
				t.Fatalf("%s: UserByUsername: %+v, %v", when, u, err)
			}
			if c, err := CountAccountUsers(ctx, d, acct); err != nil || c.Users != users {
				t.Fatalf("%s: %+v users, %v; want %d", when, c, err, users)
			}
		}
	}
	check("before", 1)
	gen := func(i int, id int64, u *User) {
		u.Username, u.PasswordHash = fmt.Sprintf("bulk%d", id), "x"
	}
	if err := d.BulkUsers(ctx, acct, 300, "x", gen, nil); err != nil {
		t.Fatal(err)
	}
	check("after BulkUsers discarded its connection", 301)
	d.SetMaxIdleConns(0) // every connection closes when it is put back
	check("with no idle connection", 301)
	d.SetMaxIdleConns(2)
	check("after", 301)
}

// TestStmtCacheKeepsTranslation: errors of cached statements are translated
// as before, and never quote their SQL.
func TestStmtCacheKeepsTranslation(t *testing.T) {
	ctx := context.Background()
	d := openScratch(t)
	for i := range 3 { // uncached, then cached
		err := d.WriteTx(ctx, func(q Querier) error {
			_, err := q.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, 1, 1)
			return Translate(err)
		})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("run %d: duplicate insert: %v, want ErrConflict", i, err)
		}
		err = d.QueryRowContext(ctx, `SELECT v FROM t WHERE id = ?`, 99).Scan(new(int))
		if !errors.Is(Translate(err), ErrNotFound) {
			t.Errorf("run %d: missing row: %v, want ErrNotFound", i, err)
		}
		_, err = d.ExecContext(ctx, `UPDATE t SET v = NULL WHERE id = ?`, 1)
		if err = Translate(err); !errors.Is(err, ErrStorage) || strings.Contains(err.Error(), "UPDATE") {
			t.Errorf("run %d: NOT NULL violated: %v, want ErrStorage without its SQL", i, err)
		}
	}
}

// TestStmtCacheSkipsPragmas: a PRAGMA does its work when prepared, on the
// connection that prepares it, so it is never cached.
func TestStmtCacheSkipsPragmas(t *testing.T) {
	for query, want := range map[string]bool{
		"SELECT 1": true, "\n\t\tselect\n1": true, "WITH x AS (SELECT 1) SELECT * FROM x": true,
		"INSERT INTO t VALUES (1)": true, "UPDATE t SET v = 1": true, "DELETE FROM t": true,
		"PRAGMA query_only = 1": false, "pragma busy_timeout": false, "BEGIN IMMEDIATE": false,
		"CREATE TABLE x (a)": false, "DROP TABLE x": false, "": false,
	} {
		if got := cacheable(query); got != want {
			t.Errorf("cacheable(%q) = %v, want %v", query, got, want)
		}
	}
	ctx := context.Background()
	d := openScratch(t)
	n := d.stmts.len()
	for _, on := range []int{1, 0, 1, 0} {
		if _, err := d.ExecContext(ctx, fmt.Sprintf("PRAGMA query_only = %d", on)); err != nil {
			t.Fatal(err)
		}
	}
	var v int
	if err := d.QueryRowContext(ctx, "PRAGMA query_only").Scan(&v); err != nil || v != 0 {
		t.Errorf("query_only = %d, %v; want 0", v, err)
	}
	if d.stmts.len() != n {
		t.Errorf("%d statements cached after pragmas, want %d", d.stmts.len(), n)
	}
}

// TestStmtCacheNestedQueryInTx runs a query again while its rows are open in
// one transaction: both must be answered in full, which one prepared
// statement on the transaction's connection could not do.
func TestStmtCacheNestedQueryInTx(t *testing.T) {
	ctx := context.Background()
	d := openScratch(t)
	for range 2 {
		err := d.WriteTx(ctx, func(q Querier) error {
			rows, err := q.QueryContext(ctx, `SELECT id FROM t WHERE id <= ? ORDER BY id`, 3)
			if err != nil {
				return err
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				inner, err := q.QueryContext(ctx, `SELECT id FROM t WHERE id <= ? ORDER BY id`, 2)
				if err != nil {
					return err
				}
				m := 0
				for inner.Next() {
					m++
				}
				inner.Close()
				if m != 2 {
					return fmt.Errorf("inner query: %d rows, want 2", m)
				}
				n++
			}
			if n != 3 {
				return fmt.Errorf("outer query: %d rows, want 3", n)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestStmtCacheConcurrent runs transactions and reads from many goroutines
// while the cache fills; with -race it checks the cache's locking.
func TestStmtCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	d := openScratch(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				id := (g+i)%10 + 1
				err := d.WriteTx(ctx, func(q Querier) error {
					_, err := q.ExecContext(ctx, `UPDATE t SET v = v + 1 WHERE id = ?`, id)
					return err
				})
				args := []any{1, 2, 3, 4, 5}[:i%5+1]
				var got int
				if err == nil {
					err = d.QueryRowContext(ctx, inList(len(args)), args...).Scan(&got)
				}
				if err == nil && got != len(args) {
					err = fmt.Errorf("count %d, want %d", got, len(args))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var sum int
	if err := d.QueryRowContext(ctx, `SELECT sum(v) FROM t`).Scan(&sum); err != nil || sum != 55+8*30 {
		t.Errorf("sum(v) = %d, %v; want %d", sum, err, 55+8*30)
	}
}
