package db_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// admin is a connection to the server of the PG* variables as their user, a
// superuser (root on the Debian cluster, postgres under pg_virtualenv).
func admin(t *testing.T, database string) *sql.DB {
	t.Helper()
	conn, err := sql.Open("pgx", "postgres:///"+database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func mustExec(t *testing.T, conn *sql.DB, stmt string) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// name is a fresh name for a role or database, which live beside every
// other test's on the server.
func name(prefix string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// limitedRole makes a role without login or rights that the tests' own
// superuser connections become through the startup parameter "role": peer
// authentication lets the test log in only as itself.
func limitedRole(t *testing.T) string {
	t.Helper()
	role := name("smartmfa_limited_")
	mustExec(t, admin(t, ""), "CREATE ROLE "+role+" NOLOGIN")
	t.Cleanup(func() {
		if _, err := admin(t, "").ExecContext(context.Background(), "DROP ROLE "+role); err != nil {
			t.Logf("dropping role %s: %v", role, err)
		}
	})
	return role
}

// TestPostgresOpenRefusals: a database that does not exist, a login the
// server refuses and a user without rights each get the sentence that says
// what to fix, never "cannot be reached", SQL or the password; a user who
// owns just its schema needs nothing more (no extension) to start a store.
func TestPostgresOpenRefusals(t *testing.T) {
	dbtest.RequirePostgres(t)
	ctx := context.Background()
	const password = "pw-Qx7i2"

	check := func(t *testing.T, location, want string) {
		t.Helper()
		d, err := db.Open(ctx, location)
		if err == nil {
			d.Close()
			t.Fatalf("Open(%s) succeeded", location)
		}
		msg := err.Error()
		t.Log(msg)
		if !strings.Contains(msg, want) {
			t.Errorf("Open: %q, want it to say %q", msg, want)
		}
		if errors.Is(err, db.ErrUnreachable) || strings.Contains(msg, password) || strings.Contains(msg, "SQLSTATE") {
			t.Errorf("Open: %q is unreachable, or holds the password or a SQLSTATE", msg)
		}
	}

	t.Run("no such database", func(t *testing.T) {
		check(t, "postgres:///"+name("smartmfa_missing_"), "database does not exist")
	})
	t.Run("login refused", func(t *testing.T) {
		// Peer authentication (a Unix socket) or a password (TCP): either
		// refuses a role that does not exist.
		check(t, "postgres://"+name("smartmfa_nobody_")+":"+password+"@/", "refused the login")
	})
	t.Run("no rights on the schema", func(t *testing.T) {
		location := dbtest.Schema(t) + "&" + url.Values{"role": {limitedRole(t)}}.Encode()
		check(t, location, "denied the smartmfa user permission")
	})
	t.Run("a schema's owner needs no extension", func(t *testing.T) {
		// A database of its own, and a user who owns its schema but may
		// not create extensions in the database.
		role := limitedRole(t)
		database := name("smartmfa_plain_")
		mustExec(t, admin(t, ""), "CREATE DATABASE "+database)
		t.Cleanup(func() {
			if _, err := admin(t, "").ExecContext(ctx, "DROP DATABASE "+database+" WITH (FORCE)"); err != nil {
				t.Logf("dropping database %s: %v", database, err)
			}
		})
		owner := admin(t, database)
		mustExec(t, owner, "CREATE SCHEMA smartmfa AUTHORIZATION "+role)
		location := "postgres:///" + database + "?" + url.Values{"search_path": {"smartmfa"}, "role": {role}}.Encode()
		d, err := db.Open(ctx, location)
		if err != nil {
			t.Fatalf("Open as the schema's owner: %v", err)
		}
		d.Close()
		var extensions int
		if err := owner.QueryRowContext(ctx, `SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'`).Scan(&extensions); err != nil || extensions != 0 {
			t.Errorf("a new store created %d extensions (%v), want none", extensions, err)
		}
	})
}

// TestPostgresLimits: a store's pool is bounded and its sessions carry the
// statement and idle-transaction timeouts, so that neither a flood of
// sessions nor a stuck statement holds the server for ever; an address's
// own statement_timeout wins, and a statement past it fails as busy.
func TestPostgresLimits(t *testing.T) {
	location := dbtest.RequirePostgres(t)
	ctx := context.Background()
	d, err := db.Open(ctx, location)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n := d.Stats().MaxOpenConnections; n != 10 {
		t.Errorf("the pool holds up to %d connections, want 10", n)
	}
	for setting, want := range map[string]string{"statement_timeout": "10s",
		"idle_in_transaction_session_timeout": "30s", "application_name": "smartmfa"} {
		var got string
		if err := d.QueryRowContext(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", setting, got, err, want)
		}
	}

	short, err := db.Open(ctx, location+"&statement_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	start := time.Now()
	_, err = short.ExecContext(ctx, "SELECT pg_sleep(5)")
	err = db.Translate(err) // as every query of the package does
	if took := time.Since(start); !errors.Is(err, db.ErrBusy) || took > 2*time.Second {
		t.Errorf("a statement past statement_timeout=200ms: %v after %v, want ErrBusy at once", err, took)
	}
}
