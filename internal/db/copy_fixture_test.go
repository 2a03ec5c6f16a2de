package db_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// What the copy tests and BenchmarkCopy1M copy from and compare with.

// storeTables are every table a store's data lives in on both engines,
// listed here apart from copy.go's list so that a table it forgot shows.
var storeTables = []string{"accounts", "users", "shared_password_hashes", "mfa", "recovery_codes",
	"trusted_origins", "name_buckets", "audit_events", "audit_aggregates", "account_user_counts"}

// copyOnce skips the PostgreSQL pass: copy always reads SQLite and writes
// PostgreSQL, so its tests ran in the SQLite pass already.
func copyOnce(t testing.TB) {
	t.Helper()
	if dbtest.Postgres() {
		t.Skip("copy reads SQLite and writes PostgreSQL whatever the pass: it ran in the SQLite pass")
	}
}

// copyTarget opens a new PostgreSQL store for a copy.
func copyTarget(t testing.TB) *db.DB {
	t.Helper()
	copyOnce(t)
	d, err := db.Open(context.Background(), dbtest.RequirePostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func openSQLite(t testing.TB, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// write runs fn in a write transaction, failing the test on an error.
func write(t testing.TB, d *db.DB, fn func(ctx context.Context, q db.Querier) error) {
	t.Helper()
	ctx := context.Background()
	if err := d.WriteTx(ctx, func(q db.Querier) error { return fn(ctx, q) }); err != nil {
		t.Fatal(err)
	}
}

// populate fills a store with a row of every kind: two accounts, users
// added alone (one with letters beyond ASCII) and in bulk (their password a
// shared hash, one of them since replaced), an MFA pending and one active,
// recovery codes used, unused and pending with gaps in their ids, throttle
// counters, and audit events with an hourly aggregate.
func populate(t testing.TB, d *db.DB, bulk int) {
	t.Helper()
	var acme, big int64
	var alice, bob db.User
	write(t, d, func(ctx context.Context, q db.Querier) (err error) {
		if acme, err = db.InsertAccount(ctx, q, "Acme", db.NameKey("Acme"), 100); err != nil {
			return err
		}
		if big, err = db.InsertAccount(ctx, q, "Straße", db.NameKey("Straße"), 101); err != nil {
			return err
		}
		if err := db.SetRequireMFA(ctx, q, acme, true); err != nil {
			return err
		}
		alice = db.User{AccountID: acme, Username: "alice", DisplayName: "Émile Zoë", Email: "a@acme.example",
			Role: "admin", PasswordHash: "$argon2id$alice", CreatedAt: 200, UpdatedAt: 201}
		bob = db.User{AccountID: acme, Username: "Bob", DisplayName: "Bob Jones", Role: "user",
			PasswordHash: "$argon2id$bob", Disabled: true, MustChangePassword: true, CreatedAt: 202, UpdatedAt: 203}
		for _, u := range []*db.User{&alice, &bob} {
			if err := db.InsertUser(ctx, q, u); err != nil {
				return err
			}
		}
		return nil
	})
	err := d.BulkUsers(context.Background(), big, bulk, "$argon2id$shared", func(i int, id int64, u *db.User) {
		u.Username, u.DisplayName = fmt.Sprintf("bulk%d", id), "Bulk Ünïcode"
		u.Email, u.CreatedAt, u.UpdatedAt = fmt.Sprintf("b%d@big.example", id), 300, 300
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, d, func(ctx context.Context, q db.Querier) error {
		exec := func(query string, args ...any) error {
			_, err := q.ExecContext(ctx, query, args...)
			return err
		}
		// A bulk user's own new password replaces the shared reference.
		if err := db.SetPasswordHash(ctx, q, bob.ID+1, "$argon2id$own", false, 400); err != nil {
			return err
		}
		for _, m := range []db.MFA{
			{UserID: alice.ID, Secret: []byte{0, 1, 2, 0xff, 'a'}, KeyID: "k1", Algorithm: "SHA1", Digits: 6, Period: 30, CreatedAt: 500},
			{UserID: bob.ID, Secret: []byte("\x00sealed\xfe"), KeyID: "k1", Algorithm: "SHA1", Digits: 6, Period: 30, CreatedAt: 501},
		} {
			if err := db.PutPendingMFA(ctx, q, m); err != nil {
				return err
			}
		}
		if err := db.ActivateMFA(ctx, q, alice.ID, 510); err != nil {
			return err
		}
		// Counters are set by plain SQL: what matters here is a value in
		// each column, and the functions that count change with the rules.
		if err := exec(`UPDATE mfa SET last_step = 12345, failures = 3, locked_until = 999 WHERE user_id = ?`, alice.ID); err != nil {
			return err
		}
		codes := [][]byte{{1, 1}, {2, 2}, {3, 3}}
		for range 2 { // replaced once: the ids kept have a gap
			if err := db.ReplaceRecoveryCodes(ctx, q, alice.ID, codes); err != nil {
				return err
			}
		}
		unused, err := db.UnusedRecoveryCodes(ctx, q, alice.ID)
		if err != nil {
			return err
		}
		if err := exec(`UPDATE recovery_codes SET used_at = 600 WHERE id = ?`, unused[1].ID); err != nil {
			return err
		}
		if err := db.PutPendingRecoveryCodes(ctx, q, bob.ID, [][]byte{{9, 9, 9}}); err != nil {
			return err
		}
		if err := exec(`INSERT INTO name_buckets (bucket, failures, locked_until, failed_at)
			VALUES (7, 2, 0, 700), (65535, 5, 800, 701)`); err != nil {
			return err
		}
		if err := db.TrustOrigin(ctx, q, alice.ID, "ssh:203.0.113.5", 710, 0); err != nil {
			return err
		}
		if err := exec(`UPDATE trusted_origins SET failures = 1, failed_at = 720 WHERE user_id = ?`, alice.ID); err != nil {
			return err
		}
		if err := db.InsertAudit(ctx, q, db.AuditEvent{At: 900, AccountID: acme, ActorID: alice.ID, ActorName: "alice",
			Action: "mfa.enabled", TargetID: alice.ID, TargetName: "alice", Source: "local:root", Detail: "ünïcode"}); err != nil {
			return err
		}
		detail := func(times int, first int64) string { return fmt.Sprintf("%d since %d", times, first) }
		for i, hour := range []int64{3600, 3600, 7200} {
			e := db.AuditEvent{At: hour + int64(i), Action: "login.failed", TargetName: fmt.Sprint("nobody", i), Source: "ssh:x"}
			if err := db.BumpAggregate(ctx, q, "unknown-user", hour, e, detail); err != nil {
				return err
			}
		}
		return nil
	})
}

// rowsOf returns every row of table as text, column by column and sorted,
// with bytes shown as bytes: what both engines must hold alike. search_text
// exists only on PostgreSQL and is left out.
func rowsOf(t testing.TB, d *db.DB, table string) []string {
	t.Helper()
	rows, err := d.DB.QueryContext(context.Background(), `SELECT * FROM `+table)
	if err != nil {
		t.Fatalf("reading %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var fields []string
		for i, c := range cols {
			if c == "search_text" || c == "search_grams" { // derived on PostgreSQL
				continue
			}
			if b, ok := vals[i].([]byte); ok {
				fields = append(fields, fmt.Sprintf("%s=bytes%x", c, b))
			} else {
				fields = append(fields, fmt.Sprintf("%s=%#v", c, vals[i]))
			}
		}
		sort.Strings(fields)
		out = append(out, strings.Join(fields, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// indexesOf lists a PostgreSQL store's indexes, of the tables named or of
// all, by their definitions.
func indexesOf(t testing.TB, d *db.DB, tables ...string) []string {
	t.Helper()
	rows, err := d.DB.QueryContext(context.Background(), `SELECT replace(indexdef, current_schema() || '.', '')
		FROM pg_indexes WHERE schemaname = current_schema() AND (coalesce(cardinality($1::text[]), 0) = 0 OR tablename = ANY($1))
		ORDER BY indexname`, tables)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var defs []string
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			t.Fatal(err)
		}
		defs = append(defs, def)
	}
	return defs
}
