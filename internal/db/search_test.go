package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// searchWorld is two accounts of users with varied names, some with MFA.
type searchWorld struct {
	d     *db.DB
	users []db.User
	mfa   map[int64]bool
}

func newSearchWorld(t *testing.T, perAccount int) *searchWorld {
	t.Helper()
	d := openTest(t)
	ctx := context.Background()
	w := &searchWorld{d: d, mfa: map[int64]bool{}}
	rng := rand.New(rand.NewPCG(1, 2))
	first := []string{"Ava", "Émile", "Zoë", "bob", "Quinn", "li", "Ann_a", "100%"}
	last := []string{"Smith", "O'Neil", "Ng", "Müller", "x", "Doe-Ray", `Quote"d`}
	err := d.WriteTx(ctx, func(q db.Querier) error {
		for acct := int64(1); acct <= 2; acct++ {
			if _, err := db.InsertAccount(ctx, q, fmt.Sprint("acct", acct), fmt.Sprint("acct", acct), 1); err != nil {
				return err
			}
			for i := range perAccount {
				f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
				u := db.User{AccountID: acct, Username: fmt.Sprintf("u%d-%d", acct, i), DisplayName: f + " " + l,
					Email: strings.ToLower(f) + "@" + fmt.Sprint("a", acct) + ".example", Role: []string{"user", "admin"}[rng.IntN(2)],
					PasswordHash: "x", CreatedAt: 1, UpdatedAt: 1}
				if err := db.InsertUser(ctx, q, &u); err != nil {
					return err
				}
				if rng.IntN(3) == 0 {
					if err := db.PutPendingMFA(ctx, q, db.MFA{UserID: u.ID, Secret: []byte{1}, KeyID: "k", Algorithm: "SHA1", Digits: 6, Period: 30}); err != nil {
						return err
					}
					if rng.IntN(2) == 0 {
						if err := db.ActivateMFA(ctx, q, u.ID, 1); err != nil {
							return err
						}
						w.mfa[u.ID] = true
					}
				}
				w.users = append(w.users, u)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// want is the brute-force answer: the ids of matching users in id order.
func (w *searchWorld) want(s db.UserSearch) []int64 {
	var out []int64
	for _, u := range w.users {
		text := strings.ToLower(u.Username + "\x1f" + u.DisplayName + "\x1f" + u.Email)
		if u.AccountID != s.AccountID || !strings.Contains(text, s.Term) || s.Role != "" && u.Role != s.Role ||
			s.MFA != "" && (s.MFA == "on") != w.mfa[u.ID] {
			continue
		}
		out = append(out, u.ID)
	}
	return out
}

// all pages through a search and returns every id it yields.
func all(t *testing.T, d *db.DB, s db.UserSearch) []int64 {
	t.Helper()
	var ids []int64
	for range 1000 {
		users, next, err := d.SearchUsers(context.Background(), s)
		if err != nil {
			t.Fatalf("search %+v: %v", s, err)
		}
		if len(users) > s.Limit {
			t.Fatalf("page of %d rows, limit %d", len(users), s.Limit)
		}
		for _, u := range users {
			ids = append(ids, u.ID)
		}
		if next == 0 {
			return ids
		}
		s.After = next
	}
	t.Fatal("paging never ended")
	return nil
}

// TestSearchMatchesBruteForce compares every kind of term (1, 2, 3 and more
// characters, Unicode, quotes, % and _) with filters and paging against a
// plain substring scan, in both accounts.
func TestSearchMatchesBruteForce(t *testing.T) {
	w := newSearchWorld(t, 400)
	terms := []string{"", "a", "é", "q", "%", "_", "x", "mi", "ll", "le", "de", "ü", "n_", "0%", "smi", "o'n", `e"d`, "müller",
		"ann_a smith", "a1.example", "u1-3", "u2-399", "nothing-here", "\x1f", "y-r", "zoë x"}
	for _, acct := range []int64{1, 2} {
		for _, term := range terms {
			for _, f := range []struct{ role, mfa string }{{"", ""}, {"admin", ""}, {"", "on"}, {"user", "off"}} {
				s := db.UserSearch{AccountID: acct, Term: term, Role: f.role, MFA: f.mfa, Limit: 7}
				if term == "\x1f" {
					continue // core refuses control characters; the separator must not be searchable anyway
				}
				got, want := all(t, w.d, s), w.want(s)
				if !slices.Equal(got, want) {
					t.Errorf("account %d term %q role %q mfa %q: got %d ids %v, want %d %v", acct, term, f.role, f.mfa,
						len(got), head(got), len(want), head(want))
				}
			}
		}
	}
}

// TestSearchFollowsUpdates: a renamed user is found by the new name only.
func TestSearchFollowsUpdates(t *testing.T) {
	w := newSearchWorld(t, 20)
	u := w.users[3]
	u.DisplayName = "Xylophone Player"
	if err := db.UpdateUserProfile(context.Background(), w.d, u); err != nil {
		t.Fatal(err)
	}
	w.users[3] = u
	for _, term := range []string{"xylo", "xy", "phone player"} {
		s := db.UserSearch{AccountID: u.AccountID, Term: term, Limit: 50}
		if got := all(t, w.d, s); !slices.Equal(got, []int64{u.ID}) {
			t.Errorf("term %q after rename: %v, want [%d]", term, got, u.ID)
		}
	}
}

func head(ids []int64) []int64 { return ids[:min(len(ids), 8)] }

// TestCountMatchesBruteForce: a count is exact where it says so, and a lower
// bound otherwise.
func TestCountMatchesBruteForce(t *testing.T) {
	w := newSearchWorld(t, 400)
	terms := []string{"", "a", "é", "q", "%", "mi", "ll", "ü", "n_", "smi", "o'n", "müller", "a1.example", "u1-3", "nothing-here"}
	for _, acct := range []int64{1, 2} {
		for _, term := range terms {
			for _, f := range []struct{ role, mfa string }{{"", ""}, {"admin", ""}, {"", "on"}, {"user", "off"}} {
				s := db.UserSearch{AccountID: acct, Term: term, Role: f.role, MFA: f.mfa}
				n, exact, err := w.d.CountUsers(context.Background(), s)
				if want := len(w.want(s)); err != nil || n != want || !exact {
					t.Errorf("account %d term %q role %q mfa %q: count %d (exact %v, %v), want %d", acct, term, f.role, f.mfa,
						n, exact, err, want)
				}
			}
		}
	}
}

// TestCountStopsEarly: beyond CountLimit matches, or past the users a count
// looks at one by one, a count says how many it found at least.
func TestCountStopsEarly(t *testing.T) {
	dbtest.SQLiteOnly(t, "the candidate budgets of SQLite's counts; PostgreSQL's are exact up to CountLimit")
	d := openTest(t)
	ctx := context.Background()
	if _, err := db.InsertAccount(ctx, d, "big", "big", 1); err != nil {
		t.Fatal(err)
	}
	const n = 4500 // above smallAccount, which a one-letter count scans whole
	gen := func(i int, id int64, u *db.User) {
		u.Username, u.DisplayName, u.Email = fmt.Sprintf("user%d", id), fmt.Sprintf("Name %d", id), "x@example.com"
		u.PasswordHash, u.CreatedAt, u.UpdatedAt = "x", 1, 1
		if i == n-1 {
			u.DisplayName = "Quentin" // the only q, beyond the users a one-letter count looks at
		}
	}
	if err := d.BulkUsers(ctx, 1, n, "hash", gen, nil); err != nil {
		t.Fatal(err)
	}
	// A small account is scanned whole for a letter: its only q, last of
	// 3,000 users, is counted exactly and found.
	if _, err := db.InsertAccount(ctx, d, "small", "small", 1); err != nil {
		t.Fatal(err)
	}
	if err := d.BulkUsers(ctx, 2, 3000, "hash", func(i int, id int64, u *db.User) {
		gen(i+n-3000, id, u)
	}, nil); err != nil {
		t.Fatal(err)
	}
	if got, exact, err := d.CountUsers(ctx, db.UserSearch{AccountID: 2, Term: "q"}); got != 1 || !exact || err != nil {
		t.Errorf("small account, q: count %d exact %v (%v), want 1 exactly", got, exact, err)
	}
	if users, _, err := d.SearchUsers(ctx, db.UserSearch{AccountID: 2, Term: "q", Limit: 20}); len(users) != 1 || err != nil {
		t.Errorf("small account, q: found %d (%v), want Quentin", len(users), err)
	}
	tests := []struct {
		s     db.UserSearch
		n     int
		exact bool
	}{
		{db.UserSearch{}, n, true}, // without a term the kept counts answer, at any size
		{db.UserSearch{Role: "admin"}, 0, true},
		{db.UserSearch{MFA: "on"}, 0, true},
		{db.UserSearch{MFA: "off", Role: "user"}, n, true},
		{db.UserSearch{Term: "name"}, db.CountLimit + 1, false},  // an index count
		{db.UserSearch{Term: "na"}, db.CountLimit + 1, false},    // the trigram expansion
		{db.UserSearch{Term: "n", MFA: "off"}, 1001, false},      // 1,001 users looked at, all match
		{db.UserSearch{Term: "q"}, 0, false},                     // Quentin is beyond the first 1,001
		{db.UserSearch{Term: "quentin", MFA: "off"}, 1, true},    // a filtered term looks at its matches
		{db.UserSearch{Term: "name", Role: "user"}, 1001, false}, // 1,001 matches looked at
	}
	for _, tt := range tests {
		tt.s.AccountID = 1
		got, exact, err := d.CountUsers(ctx, tt.s)
		if err != nil || got != tt.n || exact != tt.exact {
			t.Errorf("%+v: count %d exact %v (%v), want %d exact %v", tt.s, got, exact, err, tt.n, tt.exact)
		}
	}
}
