package db

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// TestUpgradeToIndexFileAndCounts opens a database of schema version 5 (the
// search index inside it, no kept counts): the index moves out and is rebuilt
// from the users, and the counts and mfa_on are filled from the rows.
func TestUpgradeToIndexFileAndCounts(t *testing.T) {
	ctx := context.Background()
	const v5 = 5
	path := databaseAt(t, v5,
		`INSERT INTO accounts (id, name, name_key, created_at) VALUES (1, 'Acme', 'acme', 1)`,
		`INSERT INTO users (id, account_id, username, display_name, role, password_hash, disabled, created_at, updated_at) VALUES
			(1, 1, 'ann', 'Ann Zoë', 'admin', 'x', 0, 1, 1), (2, 1, 'bob', 'Bob', 'user', 'x', 1, 1, 1),
			(3, 1, 'cy', 'Cy', 'user', 'x', 0, 1, 1)`,
		`INSERT INTO mfa (user_id, secret, key_id, state, created_at) VALUES (1, x'01', 'k', 'active', 1), (3, x'01', 'k', 'pending', 1)`)
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("opening a database of schema version %d: %v", v5, err)
	}
	defer d.Close()
	c, err := CountAccountUsers(ctx, d, 1)
	if want := (AccountCounts{Users: 3, Active: 2, WithMFA: 1, WithoutMFA: 1, Admins: 1}); err != nil || c != want {
		t.Errorf("counts after the upgrade %+v (%v), want %+v", c, err, want)
	}
	users, _, err := d.SearchUsers(ctx, UserSearch{AccountID: 1, Term: "zoë", Limit: 10})
	if err != nil || len(users) != 1 || users[0].Username != "ann" {
		t.Errorf("search after the upgrade: %+v, %v", users, err)
	}
	on, _, err := d.SearchUsers(ctx, UserSearch{AccountID: 1, MFA: "on", Limit: 10})
	if err != nil || len(on) != 1 || on[0].Username != "ann" {
		t.Errorf("users with MFA after the upgrade: %+v, %v", on, err)
	}
	var inMain int
	if err := d.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('user_search', 'search_trigrams')`).Scan(&inMain); err != nil || inMain != 0 {
		t.Errorf("%d search tables left in the database (%v)", inMain, err)
	}
}

// databaseAt creates a database file of schema version v, as an older
// smartmfa left it, with the rows the statements insert.
func databaseAt(t *testing.T, v int, statements ...any) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", v))
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, step := range steps[:v] {
		if _, err := raw.ExecContext(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range statements {
		query, args := "", []any(nil)
		switch st := st.(type) {
		case string:
			query = st
		case []any:
			query, args = st[0].(string), st[1:]
		}
		if _, err := raw.ExecContext(ctx, query, args...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
	return path
}
