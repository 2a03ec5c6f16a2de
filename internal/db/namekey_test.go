package db

import (
	"context"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestNameKey(t *testing.T) {
	same := [][]string{
		{"Acme", "ACME", "acme", "\uff21cme", "\uff41\uff43\uff4d\uff45"},
		{"\u00e9cole", "e\u0301cole", "\u00c9COLE", "E\u0301COLE"},
		{"Stra\u00dfe", "STRASSE", "strasse", "STRA\u1e9eE"},
		{"\u1f88", "\u1f08\u0345", "\u1f00\u03b9", "\u1f00\u0399"},
		{"\ufb01rm", "FIRM"},
		{"Acme\u2122", "acmetm"},
		{"a\u00a0b", "a b"},
		{"\u212bngstr\u00f6m", "\u00e5ngstr\u00f6m"}, // the Angstrom sign is the letter å
	}
	for _, group := range same {
		want := NameKey(group[0])
		for _, n := range group[1:] {
			if got := NameKey(n); got != want {
				t.Errorf("NameKey(%+q) = %+q, NameKey(%+q) = %+q: want one key", n, got, group[0], want)
			}
		}
		if NameKey(want) != want {
			t.Errorf("NameKey is not idempotent on %+q", want)
		}
	}
	for _, pair := range [][2]string{{"acme", "\u0430cme"}, {"acme", "acme\u3164"}, {"acme", "acne"}, {"r\u00e9sum\u00e9", "resume"}} {
		if NameKey(pair[0]) == NameKey(pair[1]) {
			t.Errorf("NameKey(%+q) == NameKey(%+q)", pair[0], pair[1])
		}
	}
	for _, ascii := range []string{"Acme Corp", "R&D-42", ""} {
		if NameKey(ascii) != strings.ToLower(ascii) {
			t.Errorf("NameKey(%q) = %q: an ASCII key must stay strings.ToLower, as older databases hold it", ascii, NameKey(ascii))
		}
	}
}

// TestNameKeyMigration opens a database written before migration 0004, with
// keys from strings.ToLower: names whose key changes are re-keyed, ASCII ones
// stay, and a name whose new key another account holds keeps its old key
// instead of failing the upgrade.
func TestNameKeyMigration(t *testing.T) {
	ctx := context.Background()
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	before := slices.Index(names, "migrations/0004_account_name_key.sql")
	if before < 0 {
		t.Fatalf("no migration 0004 in %v", names)
	}
	old := []string{"Acme", "Stra\u00dfe", "STRASSE", "\u00c9cole", "E\u0301COLE", "\uff26\uff55\uff4c\uff4c", "\u0430cme"}
	var inserts []any
	for i, n := range old {
		inserts = append(inserts, []any{`INSERT INTO accounts (name, name_key, created_at) VALUES (?, ?, ?)`, n, strings.ToLower(n), i})
	}
	path := databaseAt(t, before, inserts...)

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("opening a database of schema version %d: %v", before, err)
	}
	defer d.Close()
	want := map[string]string{
		"Acme":                     "acme",
		"Stra\u00dfe":              "stra\u00dfe", // STRASSE holds strasse: keeps its old key
		"STRASSE":                  "strasse",
		"\u00c9cole":               "\u00e9cole",
		"E\u0301COLE":              "e\u0301cole", // its new key is \u00c9cole's: keeps its old key
		"\uff26\uff55\uff4c\uff4c": "full",
		"\u0430cme":                "\u0430cme",
	}
	rows, err := d.QueryContext(ctx, `SELECT name, name_key FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, key string
		if err := rows.Scan(&name, &key); err != nil {
			t.Fatal(err)
		}
		if key != want[name] {
			t.Errorf("%+q: key %+q, want %+q", name, key, want[name])
		}
		n++
	}
	if n != len(old) {
		t.Errorf("%d accounts after the upgrade, want %d", n, len(old))
	}
	if a, err := AccountByNameKey(ctx, d, NameKey("\uff46\uff35LL")); err != nil || a.Name != "\uff26\uff55\uff4c\uff4c" {
		t.Errorf("the re-keyed account is not found under its new key: %+v %v", a, err)
	}
}
