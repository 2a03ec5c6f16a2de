package db_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

func TestPostgresCopyStoreRowByRow(t *testing.T) {
	dst := copyTarget(t)
	src := openSQLite(t, filepath.Join(t.TempDir(), "src.db"))
	populate(t, src, 250)
	ctx := context.Background()

	var calls []int64
	counts, err := db.CopyStore(ctx, src, dst, func(done, total int64) {
		if len(calls) > 0 && done < calls[len(calls)-1] || done > total {
			t.Errorf("progress went to %d of %d after %v", done, total, calls)
		}
		calls = append(calls, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i, c := range counts {
		if c.Table != storeTables[i] {
			t.Errorf("count %d is of %s, want %s", i, c.Table, storeTables[i])
		}
		total += c.Rows
	}
	if len(counts) != len(storeTables) || len(calls) == 0 || calls[len(calls)-1] != total {
		t.Errorf("%d counts for %d tables; progress %v, want it to end at %d", len(counts), len(storeTables), calls, total)
	}
	for i, table := range storeTables {
		want, got := rowsOf(t, src, table), rowsOf(t, dst, table)
		if len(want) == 0 {
			t.Errorf("the source's %s is empty: the test copies nothing there", table)
		}
		if int64(len(want)) != counts[i].Rows {
			t.Errorf("%s: copy counted %d rows, the source holds %d", table, counts[i].Rows, len(want))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s differs after the copy:\n got %q\nwant %q", table, got, want)
		}
	}
	// No table of the PostgreSQL schema is left behind.
	rows, err := dst.DB.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		// smartmfa_schema is the target's own; search_trigrams is derived.
		if name != "smartmfa_schema" && name != "search_trigrams" && !slices.Contains(storeTables, name) {
			t.Errorf("the PostgreSQL table %s is not copied", name)
		}
	}
	rows.Close()

	// The indexes dropped for the COPY are all back, as the migration made them.
	if got, want := indexesOf(t, dst), indexesOf(t, copyTarget(t)); !slices.Equal(got, want) || len(want) < 10 {
		t.Errorf("indexes after the copy:\n%q\nof a new store:\n%q", got, want)
	}
	// The copied users are found as on SQLite: search_text was filled.
	for _, s := range []db.UserSearch{{AccountID: 1, Term: "zoë", Limit: 10}, {AccountID: 2, Term: "ünï", Limit: 500}, {AccountID: 2, Term: "b3@big", Limit: 500}} {
		if got, want := all(t, dst, s), all(t, src, s); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("search %q: %v on the target, %v on the source", s.Term, got, want)
		}
	}
	// A shared password reference still resolves, and the ones replaced do not.
	for id, want := range map[int64]string{3: "$argon2id$own", 4: "$argon2id$shared", 1: "$argon2id$alice"} {
		if u, err := db.UserByID(ctx, dst, id); err != nil || u.PasswordHash != want {
			t.Errorf("user %d: password hash %q, %v; want %q", id, u.PasswordHash, err, want)
		}
	}
}

// TestPostgresCopyStoreMovesSequences inserts into every table with an
// identity column after a copy: the new rows get ids past the copied ones.
func TestPostgresCopyStoreMovesSequences(t *testing.T) {
	dst := copyTarget(t)
	src := openSQLite(t, filepath.Join(t.TempDir(), "src.db"))
	populate(t, src, 20)
	ctx := context.Background()
	if _, err := db.CopyStore(ctx, src, dst, nil); err != nil {
		t.Fatal(err)
	}
	write(t, dst, func(ctx context.Context, q db.Querier) error {
		acct, err := db.InsertAccount(ctx, q, "After", db.NameKey("After"), 1000)
		if err != nil {
			return fmt.Errorf("account after the copy: %w", err)
		}
		u := db.User{AccountID: acct, Username: "carol", Role: "admin", PasswordHash: "h", CreatedAt: 1, UpdatedAt: 1}
		if err := db.InsertUser(ctx, q, &u); err != nil {
			return fmt.Errorf("user after the copy: %w", err)
		}
		if acct != 3 || u.ID != 23 { // 2 accounts and 2+20 users were copied
			t.Errorf("new account %d and user %d, want 3 and 23", acct, u.ID)
		}
		if err := db.ReplaceRecoveryCodes(ctx, q, u.ID, [][]byte{{4}}); err != nil {
			return fmt.Errorf("recovery code after the copy: %w", err)
		}
		return db.InsertAudit(ctx, q, db.AuditEvent{At: 1, Action: "x", Source: "test"})
	})
	// The bulk path takes its ids after the copied ones too.
	if err := dst.BulkUsers(ctx, 1, 5, "h2", func(i int, id int64, u *db.User) {
		u.Username, u.CreatedAt, u.UpdatedAt = fmt.Sprintf("more%d", id), 1, 1
	}, nil); err != nil {
		t.Fatalf("bulk users after the copy: %v", err)
	}
}

// TestPostgresCopyStoreRefusesNonEmptyTarget puts one row in one table of
// the target at a time: each is refused, and the target is left as it was.
func TestPostgresCopyStoreRefusesNonEmptyTarget(t *testing.T) {
	copyOnce(t)
	dbtest.RequirePostgres(t) // skips without a server before the source is filled
	src := openSQLite(t, filepath.Join(t.TempDir(), "src.db"))
	populate(t, src, 3)
	for name, fill := range map[string]func(ctx context.Context, q db.Querier) error{
		"accounts": func(ctx context.Context, q db.Querier) error {
			_, err := db.InsertAccount(ctx, q, "Old", db.NameKey("Old"), 1)
			return err
		},
		"name_buckets": func(ctx context.Context, q db.Querier) error {
			_, err := q.ExecContext(ctx, `INSERT INTO name_buckets (bucket, failures, locked_until, failed_at) VALUES (1, 1, 0, 1)`)
			return err
		},
		"audit_events": func(ctx context.Context, q db.Querier) error {
			return db.InsertAudit(ctx, q, db.AuditEvent{At: 1, Action: "x", Source: "test"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			dst := copyTarget(t)
			write(t, dst, fill)
			before := make([][]string, len(storeTables))
			for i, table := range storeTables {
				before[i] = rowsOf(t, dst, table)
			}
			_, err := db.CopyStore(context.Background(), src, dst, nil)
			if !errors.Is(err, db.ErrTargetNotEmpty) || !strings.Contains(err.Error(), "its table "+name+" has rows") {
				t.Fatalf("copy into a target with a row in %s: %v, want ErrTargetNotEmpty naming it", name, err)
			}
			for i, table := range storeTables {
				if after := rowsOf(t, dst, table); !slices.Equal(after, before[i]) {
					t.Errorf("%s changed by a refused copy: %q, was %q", table, after, before[i])
				}
			}
		})
	}
}

// TestPostgresCopyStoreCancelled cancels a copy part-way through the users:
// the target keeps no row, and a second copy then succeeds.
func TestPostgresCopyStoreCancelled(t *testing.T) {
	dst := copyTarget(t)
	src := openSQLite(t, filepath.Join(t.TempDir(), "src.db"))
	populate(t, src, 25_000)
	ctx, cancel := context.WithCancel(context.Background())
	var at int64
	_, err := db.CopyStore(ctx, src, dst, func(done, total int64) {
		if at == 0 && done >= 10_000 && done < 20_000 { // inside the users' COPY
			at = done
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v, want context.Canceled", err)
	}
	if at == 0 {
		t.Fatal("the copy was never cancelled")
	}
	for _, table := range storeTables {
		if rows := rowsOf(t, dst, table); len(rows) != 0 {
			t.Errorf("%s holds %d rows after a copy cancelled at row %d", table, len(rows), at)
		}
	}
	counts, err := db.CopyStore(context.Background(), src, dst, nil)
	if err != nil {
		t.Fatalf("copy after a cancelled one: %v", err)
	}
	if counts[1].Table != "users" || counts[1].Rows != 25_002 {
		t.Errorf("second copy: %+v, want 25002 users", counts[1])
	}
}

// TestCopyStoreEngines refuses a copy that would read PostgreSQL or write SQLite.
func TestCopyStoreEngines(t *testing.T) {
	dbtest.SQLiteOnly(t, "both stores are SQLite files")
	a := openSQLite(t, filepath.Join(t.TempDir(), "a.db"))
	b := openSQLite(t, filepath.Join(t.TempDir(), "b.db"))
	if _, err := db.CopyStore(context.Background(), a, b, nil); err == nil || !strings.Contains(err.Error(), "writes a PostgreSQL one") {
		t.Errorf("copy from SQLite to SQLite: %v", err)
	}
}

// TestPostgresCopyStoreReadsOneSnapshot writes to the source half-way
// through a copy, as a host still running on it would: the write is not
// held up by the copy, and the copy holds the store as it was when it began.
func TestPostgresCopyStoreReadsOneSnapshot(t *testing.T) {
	dst := copyTarget(t)
	src := openSQLite(t, filepath.Join(t.TempDir(), "src.db"))
	populate(t, src, 25_000)
	ctx := context.Background()
	wrote, writeErr := false, error(nil)
	counts, err := db.CopyStore(ctx, src, dst, func(done, total int64) {
		if wrote || done < 10_000 {
			return
		}
		// Called from pgx's goroutine: no t.Fatal here.
		wrote = true
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		writeErr = src.WriteTx(wctx, func(q db.Querier) error {
			u := db.User{AccountID: 1, Username: "late", Role: "user", PasswordHash: "h", CreatedAt: 1, UpdatedAt: 1}
			if err := db.InsertUser(wctx, q, &u); err != nil {
				return err
			}
			return db.InsertAudit(wctx, q, db.AuditEvent{At: 1, Action: "late", Source: "test"})
		})
	})
	if err != nil || !wrote || writeErr != nil {
		t.Fatalf("copy with a write beside it (written: %v, %v): %v", wrote, writeErr, err)
	}
	for i, table := range storeTables {
		got, now := rowsOf(t, dst, table), rowsOf(t, src, table)
		if int64(len(got)) != counts[i].Rows {
			t.Errorf("%s: %d rows copied, %d counted", table, len(got), counts[i].Rows)
		}
		if table == "users" || table == "audit_events" {
			if len(now) != len(got)+1 {
				t.Errorf("%s: %d rows copied, the source now %d: the late write should be left behind", table, len(got), len(now))
			}
		}
	}
}

// TestPostgresCopiedStoreSearchesByIndex: a term found only past the users a
// search walks in id order is found through the index keys the copy wrote
// (search_grams and the trigram vocabulary), as on the source.
func TestPostgresCopiedStoreSearchesByIndex(t *testing.T) {
	dst := copyTarget(t)
	src := openSQLite(t, filepath.Join(t.TempDir(), "src.db"))
	ctx := context.Background()
	if _, err := db.InsertAccount(ctx, src, "Big", db.NameKey("Big"), 1); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	gen := func(i int, id int64, u *db.User) {
		u.Username, u.DisplayName, u.CreatedAt, u.UpdatedAt = fmt.Sprintf("user%d", id), "Ann Smith", 1, 1
		if i == n-1 {
			u.DisplayName = "Quentin Zyx"
		}
	}
	if err := src.BulkUsers(ctx, 1, n, "hash", gen, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CopyStore(ctx, src, dst, nil); err != nil {
		t.Fatal(err)
	}
	for _, term := range []string{"zyx", "yx", "quentin z"} {
		s := db.UserSearch{AccountID: 1, Term: term, Limit: 10}
		got, want := all(t, dst, s), all(t, src, s)
		if !slices.Equal(got, want) || len(want) != 1 {
			t.Errorf("search %q: %v on the target, %v on the source; want the one last user", term, got, want)
		}
	}
}
