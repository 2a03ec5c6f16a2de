// Package dbtest gives tests the store they run on, so one suite covers both
// engines: a SQLite file in t.TempDir(), or, in the pass Main adds when
// PGHOST is set, a schema of its own on that PostgreSQL server, dropped after
// the test.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EngineVar selects the engine of a test process: "postgres", or SQLite.
const EngineVar = "SMARTMFA_TEST_ENGINE"

// Postgres reports whether this test process runs on PostgreSQL.
func Postgres() bool { return os.Getenv(EngineVar) == "postgres" }

// Main runs a package's tests on SQLite and then, when PGHOST is set, runs
// the same test binary again on PostgreSQL; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	DropDatabase()
	switch {
	case os.Getenv(EngineVar) != "":
	case benchmarking():
		// A benchmark that compares the engines runs both in one process.
	case os.Getenv("PGHOST") == "":
		fmt.Println("dbtest: PGHOST is not set: ran on SQLite only (set the PG* variables, or run under pg_virtualenv, to run on PostgreSQL too)")
	default:
		fmt.Println("dbtest: running the suite again on PostgreSQL (PGHOST is set)")
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), EngineVar+"=postgres")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil && code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// benchmarking says the process runs benchmarks (-test.bench).
func benchmarking() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

// Location is a new, empty store's location for the engine of this process:
// dir/smartmfa.db, or a PostgreSQL URL.
func Location(t testing.TB, dir string) string {
	t.Helper()
	if Postgres() {
		return Schema(t)
	}
	return filepath.Join(dir, "smartmfa.db")
}

// SQLiteOnly skips a test of SQLite's own files or locks on the PostgreSQL pass.
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if Postgres() {
		t.Skipf("SQLite only: %s", why)
	}
}

// RequirePostgres skips a test that needs a PostgreSQL server when PGHOST is
// not set, saying so; otherwise it returns a new schema's location.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	if os.Getenv("PGHOST") == "" {
		t.Skip("PostgreSQL: PGHOST is not set (run under pg_virtualenv, or set the PG* variables)")
	}
	return Schema(t)
}

// The schemas of one test process live in a database of its own, created at
// first use: a schema search_path of "t_x, public" would
// otherwise find another store's tables left in the server's public schema.
var (
	testDB     sync.Once
	testDBName string
	testDBErr  error
)

func database() (string, error) {
	testDB.Do(func() {
		admin, err := sql.Open("pgx", "")
		if err != nil {
			testDBErr = err
			return
		}
		defer admin.Close()
		b := make([]byte, 4)
		rand.Read(b)
		name := fmt.Sprintf("smartmfa_test_%d_%s", os.Getpid(), hex.EncodeToString(b))
		if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
			testDBErr = fmt.Errorf("creating database %s: %w", name, err)
			return
		}
		testDBName = name
	})
	return testDBName, testDBErr
}

// DropDatabase drops the test process's database, if it made one; Main
// calls it, and a package with its own TestMain should too.
func DropDatabase() {
	if testDBName == "" {
		return
	}
	admin, err := sql.Open("pgx", "")
	if err != nil {
		return
	}
	defer admin.Close()
	if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + testDBName + ` WITH (FORCE)`); err != nil {
		fmt.Fprintf(os.Stderr, "dbtest: dropping %s: %v\n", testDBName, err)
	}
}

// Schema creates a schema of its own for the test in the test process's
// database on the server libpq's PG* variables name, drops it when the test
// ends, and returns a location whose search_path starts with it.
func Schema(t testing.TB) string {
	t.Helper()
	dbname, err := database()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	admin, err := sql.Open("pgx", "dbname="+dbname)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatalf("dbtest: creating schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", "dbname="+dbname)
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`); err != nil {
			t.Logf("dbtest: dropping schema %s: %v", name, err)
		}
	})
	return "postgres:///" + dbname + "?" + url.Values{"search_path": {name + ",public"}}.Encode()
}

// Dump returns every value of every table of a PostgreSQL store, bytes as
// stored and text as text: what a scan of SQLite's files sees.
func Dump(t testing.TB, location string) []byte {
	t.Helper()
	conn, err := sql.Open("pgx", location)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer conn.Close()
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatalf("dbtest: listing tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var out []byte
	for _, table := range tables {
		rows, err := conn.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("dbtest: reading %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					out = append(out, v...)
				default:
					out = fmt.Append(out, v)
				}
				out = append(out, 0)
			}
		}
		rows.Close()
	}
	return out
}
