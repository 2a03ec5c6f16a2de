package core

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// The PostgreSQL store of a million users is built as searchDB builds
// SQLite's (the same accounts, in the same order, by SeedDemo, so by
// db.BulkUsers' COPY) and kept between runs in a database of its own,
// pgBenchDB, in a schema named by pgSearchKey. The key covers what decides
// the rows and indexes: the PostgreSQL migrations, the bulk load, the folded
// search text and its index keys (internal/db's search.go, search_pg.go),
// the demo generator and the recipe below (pgSearchRecipe). A schema is used only once its build finished (its
// comment says so); any other search1m_ schema is dropped before a build.
const (
	pgBenchDB      = "smartmfa_bench"
	pgSearchRecipe = "899x1000 + Big 100k + Small 1k, SeedDemo, then VACUUM ANALYZE; v1"
	pgSearchDone   = "complete"
)

// pgSearchKey is the cache key of the PostgreSQL million-user store.
func pgSearchKey(b *testing.B) string {
	h := sha256.New()
	h.Write([]byte(pgSearchRecipe))
	files, err := filepath.Glob("../db/migrations_pg/*.sql")
	if err != nil || len(files) == 0 {
		b.Fatalf("no PostgreSQL migrations beside the test (%v)", err)
	}
	files = append(files, "../db/bulk_pg.go", "../db/search_pg.go", "../db/search.go", "demo.go")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// pgSearchDB returns a Service on the PostgreSQL store of a million users,
// building it when no complete one is cached, and its big and small
// accounts' administrators signed in.
func pgSearchDB(b *testing.B) (*Service, map[string]Session) {
	ctx := context.Background()
	dbtest.RequirePostgres(b) // skips without PGHOST
	admin, err := sql.Open("pgx", "")
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, pgBenchDB).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pgBenchDB); err != nil {
			b.Fatal(err)
		}
	}
	bench, err := sql.Open("pgx", "postgres:///"+pgBenchDB)
	if err != nil {
		b.Fatal(err)
	}
	defer bench.Close()
	schema := "search1m_" + pgSearchKey(b)
	var comment sql.NullString
	err = bench.QueryRowContext(ctx, `SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1`, schema).Scan(&comment)
	if err != nil && err != sql.ErrNoRows {
		b.Fatal(err)
	}
	location := "postgres:///" + pgBenchDB + "?" + url.Values{"search_path": {schema + ",public"}}.Encode()
	keyPath := filepath.Join(os.TempDir(), "smartmfa-bench-pg-1m.key")
	if comment.String != pgSearchDone {
		dropSchemas(b, bench, "search1m_")
		if _, err := bench.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
			b.Fatal(err)
		}
		os.Remove(keyPath)
		b.Logf("building %s.%s (1M users) once", pgBenchDB, schema)
		t0 := time.Now()
		seedSearchStore(b, benchServiceAt(b, location, keyPath))
		for _, q := range []string{`VACUUM ANALYZE ` + schema + `.users`, `COMMENT ON SCHEMA ` + schema + ` IS '` + pgSearchDone + `'`} {
			if _, err := bench.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("built in %.1f s", time.Since(t0).Seconds())
	}
	s := benchServiceAt(b, location, keyPath)
	return s, signInBenchAdmins(b, s)
}

// dropSchemas drops every schema whose name starts with prefix.
func dropSchemas(b *testing.B, conn *sql.DB, prefix string) {
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, prefix)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			b.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := conn.ExecContext(ctx, `DROP SCHEMA `+n+` CASCADE`); err != nil {
			b.Fatal(err)
		}
	}
}

// seedSearchStore fills s as searchDB fills its SQLite file: 899 accounts of
// 1k, one of 100k ("Big") and one of 1k ("Small") in the middle.
func seedSearchStore(b *testing.B, s *Service) {
	ctx := context.Background()
	op := LocalOperator("bench")
	seed := func(name string, n int) {
		if _, err := s.SeedDemo(ctx, op, DemoOptions{Account: name, Users: n, Password: testPassword}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 449 {
		seed(fmt.Sprintf("Filler %d", i), 1000)
	}
	seed("Big", 100_000-1)
	seed("Small", 1000-1)
	for i := 449; i < 899; i++ {
		seed(fmt.Sprintf("Filler %d", i), 1000)
	}
}

// signInBenchAdmins signs in the administrators of "Big" and "Small".
func signInBenchAdmins(b *testing.B, s *Service) map[string]Session {
	sessions := map[string]Session{}
	for _, name := range []string{"big", "small"} {
		sess, err := s.Login(context.Background(), name+"-admin", testPassword, "bench")
		if err != nil {
			b.Fatal(err)
		}
		sessions[name] = sess
	}
	return sessions
}

// searchClasses are BenchmarkSearch1M's queries by account and class:
// "rare" terms match a few users of the account, "elsewhere" ones many users
// of other accounts and none here; the 0- classes are filters alone.
func searchClasses() map[string]map[string][]UserQuery {
	terms := map[string]map[string][]string{
		"big": {
			"1-common": {"a", "e", "1"}, "1-rare": {"-"}, "1-elsewhere": {"ü"},
			"2-common": {"an", "sm", "ex"}, "2-rare": {"-a", "g-"}, "2-elsewhere": {"r-", "l-"},
			"3-common": {"son", "big", "mia"}, "3-rare": {"-ad", "g-a"}, "3-elsewhere": {"fil", "ler"},
			"10-common": {"@big.examp", "big.exampl"}, "10-rare": {"big-admin"}, "10-elsewhere": {"filler-1.e", "small.exam"},
		},
		"small": {
			"1-common": {"a", "e", "1"}, "1-rare": {"-"}, "1-elsewhere": {"ü"},
			"2-common": {"an", "sm", "ex"}, "2-rare": {"-a", "l-"}, "2-elsewhere": {"g-", "r-"},
			"3-common": {"son", "sma", "mia"}, "3-rare": {"-ad", "l-a"}, "3-elsewhere": {"fil", "big"},
			"10-common": {"@small.exa", "small.exam"}, "10-rare": {"small-admi"}, "10-elsewhere": {"filler-1.e", "big.exampl"},
		},
	}
	filters := map[string]UserQuery{
		"0-all": {}, "0-admins": {Role: RoleAdmin}, "0-mfa-off": {MFA: "off"}, "0-mfa-on": {MFA: "on"},
		"1-common+users": {Term: "a", Role: RoleUser}, "3-common+mfa-off": {Term: "son", MFA: "off"},
	}
	queries := map[string]map[string][]UserQuery{}
	for acct, classes := range terms {
		queries[acct] = map[string][]UserQuery{}
		for class, ts := range classes {
			for _, t := range ts {
				queries[acct][class] = append(queries[acct][class], UserQuery{Term: t, Count: true})
			}
		}
		for class, q := range filters {
			q.Count = true
			queries[acct][class] = []UserQuery{q}
		}
	}
	return queries
}

// BenchmarkSearch1MPostgres is BenchmarkSearch1M's searches (a first page
// with its count, by account and class) on PostgreSQL beside SQLite, over the
// same million users, interleaved query by query. It reports each engine's
// p50 and p99 in ms and "p99-pg/sqlite", the ratio of the p99s. Target: pg
// p99 at most 16 ms in every class.
func BenchmarkSearch1MPostgres(b *testing.B) {
	skipSecondPass(b)
	pg, pgSess := pgSearchDB(b)
	lite, liteSess := searchDB(b)
	ctx := context.Background()
	queries := searchClasses()
	for _, acct := range []string{"small", "big"} {
		classes := make([]string, 0, len(queries[acct]))
		for c := range queries[acct] {
			classes = append(classes, c)
		}
		slices.Sort(classes)
		for _, class := range classes {
			b.Run(acct+"/"+class, func(b *testing.B) {
				var pgD, liteD []time.Duration
				run := func(s *Service, sess Session, q UserQuery, d *[]time.Duration) {
					t0 := time.Now()
					if _, err := s.SearchUsers(ctx, sess, sess.AccountID(), q); err != nil {
						b.Fatal(err)
					}
					*d = append(*d, time.Since(t0))
				}
				for i := 0; b.Loop(); i++ {
					q := queries[acct][class][i%len(queries[acct][class])]
					if i%2 == 0 {
						run(pg, pgSess[acct], q, &pgD)
						run(lite, liteSess[acct], q, &liteD)
					} else {
						run(lite, liteSess[acct], q, &liteD)
						run(pg, pgSess[acct], q, &pgD)
					}
				}
				slices.Sort(pgD)
				slices.Sort(liteD)
				p := func(d []time.Duration, q int) float64 { return float64(d[len(d)*q/100].Microseconds()) / 1000 }
				b.ReportMetric(p(pgD, 50), "pg-p50-ms")
				b.ReportMetric(p(pgD, 99), "pg-p99-ms")
				b.ReportMetric(p(liteD, 50), "sqlite-p50-ms")
				b.ReportMetric(p(liteD, 99), "sqlite-p99-ms")
				b.ReportMetric(p(pgD, 99)/p(liteD, 99), "p99-pg/sqlite")
			})
		}
	}
}
