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

// newLargeSearchWorld is two accounts of 2,600 users, more than a search
// looks at one by one before it asks its index (PostgreSQL's pageWalk and
// countWalk), loaded in bulk, with a few rare names among them; then users
// added one at a time and one renamed, some administrators and some with MFA.
func newLargeSearchWorld(t *testing.T) *searchWorld {
	t.Helper()
	d := openTest(t)
	ctx := context.Background()
	w := &searchWorld{d: d, mfa: map[int64]bool{}}
	rng := rand.New(rand.NewPCG(3, 4))
	first := []string{"Ava", "Ben", "Chloe", "Dan", "Emma", "Leo", "Mia", "Noah"}
	last := []string{"Smith", "Jones", "Brown", "Lee", "Patel", "Kim"}
	rare := []string{"Zoë Ørsted", "Q_ueue 100%", "O'Neil-Ray", `Quote"d \ Back`, "ünïcode ß"}
	const n = 2600
	for acct := int64(1); acct <= 2; acct++ {
		if _, err := db.InsertAccount(ctx, d, fmt.Sprint("acct", acct), fmt.Sprint("acct", acct), 1); err != nil {
			t.Fatal(err)
		}
		err := d.BulkUsers(ctx, acct, n, "hash", func(i int, id int64, u *db.User) {
			u.Username = fmt.Sprintf("u%d-%d", acct, i)
			u.DisplayName = first[rng.IntN(len(first))] + " " + last[rng.IntN(len(last))]
			if i%997 == 996 || acct == 2 && i == n-1 { // beyond the walks, and in one account only
				u.DisplayName = rare[(i/997+int(acct))%len(rare)]
			}
			u.Email = strings.ToLower(string([]rune(u.DisplayName)[0])) + fmt.Sprintf("%d@a%d.example", i, acct)
			if i%500 == 7 {
				u.Role = "admin"
			}
			u.PasswordHash, u.CreatedAt, u.UpdatedAt = "x", 1, 1
			w.users = append(w.users, *u)
			w.users[len(w.users)-1].ID = id
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	err := d.WriteTx(ctx, func(q db.Querier) error {
		for i, name := range []string{"Late Arrival", "Ña Late-Comer"} {
			u := db.User{AccountID: int64(i + 1), Username: fmt.Sprintf("late%d", i), DisplayName: name,
				Email: "late@x.example", Role: "user", PasswordHash: "x", CreatedAt: 1, UpdatedAt: 1}
			if err := db.InsertUser(ctx, q, &u); err != nil {
				return err
			}
			w.users = append(w.users, u)
		}
		for _, i := range []int{5, 2000, 2599, n + 3} {
			u := &w.users[i]
			if err := db.PutPendingMFA(ctx, q, db.MFA{UserID: u.ID, Secret: []byte{1}, KeyID: "k", Algorithm: "SHA1", Digits: 6, Period: 30}); err != nil {
				return err
			}
			if err := db.ActivateMFA(ctx, q, u.ID, 1); err != nil {
				return err
			}
			w.mfa[u.ID] = true
		}
		u := &w.users[2500]
		u.DisplayName = "Renamed Xylo-Phone"
		return db.UpdateUserProfile(ctx, q, *u)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestLargeSearchMatchesBruteForce is TestSearchMatchesBruteForce and
// TestCountMatchesBruteForce where the walk of an account's first users
// cannot answer: rare terms, terms in one account only, terms common in
// the other, and terms that match nobody.
func TestLargeSearchMatchesBruteForce(t *testing.T) {
	w := newLargeSearchWorld(t)
	ctx := context.Background()
	terms := []string{"a", "z", "ø", "ü", "ß", "%", "_", `\`, `"`, "'", "-", "q", "x",
		"zo", "ë ", "q_", "0%", "'n", "-r", "xy", "ña", "le", "a2", "-2",
		"zoë", "q_u", "100%", `e"d`, `\ b`, "o'neil", "ünïcode", "late", "late-co", "xylo-phone",
		"smith", "a1.example", "a2.example", "u1-25", "u2-2599", "renamed", "nothing-here", "emma jones"}
	for _, acct := range []int64{1, 2} {
		for _, term := range terms {
			for _, f := range []struct{ role, mfa string }{{"", ""}, {"admin", ""}, {"", "on"}, {"user", "off"}} {
				s := db.UserSearch{AccountID: acct, Term: term, Role: f.role, MFA: f.mfa, Limit: 20}
				got, want := all(t, w.d, s), w.want(s)
				if !slices.Equal(got, want) {
					t.Errorf("account %d term %q role %q mfa %q: got %d ids %v, want %d %v", acct, term, f.role, f.mfa,
						len(got), head(got), len(want), head(want))
				}
				n, exact, err := w.d.CountUsers(ctx, s)
				// Exact, or more than CountLimit; SQLite's may also be a lower
				// bound when the candidates it looks at run out.
				ok := exact && n == len(want) || !exact && n == db.CountLimit+1 && len(want) > db.CountLimit ||
					!exact && n <= len(want) && !dbtest.Postgres()
				if err != nil || !ok {
					t.Errorf("account %d term %q role %q mfa %q: count %d (exact %v, %v), want %d", acct, term, f.role, f.mfa,
						n, exact, err, len(want))
				}
			}
		}
	}
}
