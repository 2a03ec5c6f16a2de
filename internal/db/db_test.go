package db_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// TestMain runs the suite on SQLite, then on PostgreSQL when PGHOST is set.
func TestMain(m *testing.M) { dbtest.Main(m) }

// openTest opens a new store on the engine of this test pass.
func openTest(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), dbtest.Location(t, t.TempDir()))
	if err != nil {
		t.Fatalf("db.Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestPragmasOnFreshConnection reads every setting the security rules rely on
// back from a connection opened after Open returned, not the one Open checked.
func TestPragmasOnFreshConnection(t *testing.T) {
	dbtest.SQLiteOnly(t, "SQLite pragmas")
	ctx := context.Background()
	d := openTest(t)
	d.SetMaxIdleConns(0) // drop pooled connections: the next Conn is new
	for round := range 2 {
		conn, err := d.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"synchronous", "2"},
			{"foreign_keys", "1"},
			{"busy_timeout", "10000"},
		} {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
				t.Fatalf("round %d: PRAGMA %s: %v", round, c.pragma, err)
			}
			if got != c.want {
				t.Errorf("round %d: PRAGMA %s = %s, want %s", round, c.pragma, got, c.want)
			}
		}
		conn.Close()
	}
}

// TestWriteTxIsImmediate proves a transaction takes the write lock at BEGIN:
// while one is open, even before it runs a statement, another connection
// cannot start a writing transaction.
func TestWriteTxIsImmediate(t *testing.T) {
	dbtest.SQLiteOnly(t, "SQLite's BEGIN IMMEDIATE")
	ctx := context.Background()
	d := openTest(t)
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	other, err := sql.Open("sqlite", "file:"+d.Path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
	if err == nil {
		other.ExecContext(ctx, "ROLLBACK")
		t.Fatal("a second writer began while a WriteTx-style transaction was open: _txlock=immediate is not in effect")
	}
	if !errors.Is(db.Translate(err), db.ErrBusy) {
		t.Errorf("second writer: %v, want it translated to ErrBusy", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	for i := range 3 {
		d, err := db.Open(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		var v int
		if err := d.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != db.SchemaVersion() || v < 2 {
			t.Errorf("open #%d: user_version %d, want %d", i+1, v, db.SchemaVersion())
		}
		var tables int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'
			AND name IN ('accounts', 'users', 'mfa', 'recovery_codes', 'audit_events', 'search_changes')`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 6 {
			t.Errorf("open #%d: %d of the 6 tables exist", i+1, tables)
		}
		d.Close()
	}
}

// TestConcurrentFirstOpen opens one new file from many connections at once, as
// several processes starting together do: each migrates or sees it migrated.
func TestConcurrentFirstOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			d, err := db.Open(context.Background(), path)
			if err == nil {
				d.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent open: %v", err)
		}
	}
}

func TestTooNewRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	newer := db.SchemaVersion() + 1
	if _, err := d.ExecContext(ctx, "PRAGMA user_version = "+itoa(newer)); err != nil {
		t.Fatal(err)
	}
	d.Close()

	_, err = db.Open(ctx, path)
	if !errors.Is(err, db.ErrTooNew) {
		t.Fatalf("open of a newer schema: %v, want ErrTooNew", err)
	}
	msg := err.Error()
	for _, want := range []string{"newer smartmfa", "upgrade smartmfa", path} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v int
	if err := raw.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != newer {
		t.Errorf("refusing a newer database changed its user_version to %d", v)
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestOpenErrorsAreOneSentence checks that a bad path is explained in one
// plain sentence, never with driver text.
func TestOpenErrorsAreOneSentence(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 8192)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	cases := []struct {
		name string
		path string
		want string
	}{
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "t.db"), "does not exist"},
		{"text file", write("notes.txt", []byte(strings.Repeat("this is not a database\n", 300))), "is not a smartmfa database"},
		{"short file", write("short.db", []byte("hello")), "is not a smartmfa database"},
		{"binary file", write("bin.db", garbage), "is not a smartmfa database"},
		{"directory", dir, "is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := db.Open(context.Background(), c.path)
			if err == nil {
				d.Close()
				t.Fatal("opened")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not say %q", msg, c.want)
			}
			for _, bad := range []string{"SQLITE_", "sqlite", "(26)", "\n"} {
				if strings.Contains(msg, bad) {
					t.Errorf("error %q contains %q", msg, bad)
				}
			}
			if strings.Count(msg, ": ") > 1 {
				t.Errorf("error %q is a chain, not one sentence", msg)
			}
		})
	}
}

func TestFilesCreated0600(t *testing.T) {
	dbtest.SQLiteOnly(t, "SQLite's files")
	ctx := context.Background()
	d := openTest(t)
	if _, err := d.ExecContext(ctx, `INSERT INTO accounts (name, name_key, created_at) VALUES ('a', 'a', 1)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{d.Path, d.Path + "-wal", d.Path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), perm)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg", map[string]string{"XDG_DATA_HOME": "/x/data", "HOME": "/home/a"}, "/x/data/smartmfa/smartmfa.db"},
		{"relative xdg ignored", map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/home/a"}, "/home/a/.local/share/smartmfa/smartmfa.db"},
		{"home", map[string]string{"HOME": "/home/a"}, "/home/a/.local/share/smartmfa/smartmfa.db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := db.DefaultPath(env(c.env))
			if err != nil || got != c.want {
				t.Errorf("DefaultPath = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
