package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// usersIndexes lists the indexes of users with their definitions on
// PostgreSQL, where a bulk load into a new store drops and rebuilds them;
// nil on SQLite.
func usersIndexes(t *testing.T, d *db.DB) []string {
	t.Helper()
	if !dbtest.Postgres() {
		return nil
	}
	return indexesOf(t, d, "users")
}

// TestBulkLoadIntoNewStore loads enough users into a new store for the
// PostgreSQL load to rebuild the indexes of users: they are all back, as
// they were, and do their work (search, a unique username). A load that meets
// a taken username fails whole and leaves the indexes too.
func TestBulkLoadIntoNewStore(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	acct, err := db.InsertAccount(ctx, d, "bulk", "bulk", 1)
	if err != nil {
		t.Fatal(err)
	}
	first := db.User{AccountID: acct, Username: "First", DisplayName: "First Admin", Role: "admin", PasswordHash: "x", CreatedAt: 1, UpdatedAt: 1}
	if err := db.InsertUser(ctx, d, &first); err != nil {
		t.Fatal(err)
	}
	before := usersIndexes(t, d)
	const n = 10_000 // internal/db's rebuildMinLoad
	gen := func(taken string) func(i int, id int64, u *db.User) {
		return func(i int, id int64, u *db.User) {
			u.Username, u.DisplayName, u.Email = fmt.Sprintf("bulk%d", i), "Bulk User", fmt.Sprintf("b%d@bulk.example", i)
			if i == n-1 && taken != "" {
				u.Username = taken
			}
			u.PasswordHash, u.CreatedAt, u.UpdatedAt = "x", 1, 1
		}
	}
	if err := d.BulkUsers(ctx, acct, n, "hash", gen("FIRST"), nil); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("a load with a taken username: %v, want ErrConflict", err)
	}
	if after := usersIndexes(t, d); !slices.Equal(after, before) {
		t.Fatalf("indexes after a failed load:\n%q\nwant\n%q", after, before)
	}
	if err := d.BulkUsers(ctx, acct, n, "hash", gen(""), nil); err != nil {
		t.Fatal(err)
	}
	if after := usersIndexes(t, d); !slices.Equal(after, before) {
		t.Errorf("indexes after the load:\n%q\nwant\n%q", after, before)
	}
	var count int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&count); err != nil || count != n+1 {
		t.Errorf("%d users (%v), want %d", count, err, n+1)
	}
	dup := db.User{AccountID: acct, Username: "BULK77", Role: "user", PasswordHash: "x", CreatedAt: 1, UpdatedAt: 1}
	if err := db.InsertUser(ctx, d, &dup); !errors.Is(err, db.ErrConflict) {
		t.Errorf("a username taken by the load: %v, want ErrConflict", err)
	}
	nines := 0
	for i := range n {
		if strings.Contains(fmt.Sprint(i), "9") {
			nines++
		}
	}
	for term, want := range map[string]int{"bulk9999": 1, "first": 1, "b123@": 1, "9": nines} {
		s := db.UserSearch{AccountID: acct, Term: term, Limit: 20}
		if got := len(all(t, d, s)); got != want {
			t.Errorf("term %q: %d users, want %d", term, got, want)
		}
	}
}
