package db_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// TestBulkUsersAreSearchable loads users in bulk, once with ASCII names only
// (the index text computed by SQLite's lower()) and once with other letters
// (computed by the Go function), and checks that search finds exactly what a
// substring scan finds, as for users added one at a time.
func TestBulkUsersAreSearchable(t *testing.T) {
	for name, names := range map[string][]string{
		"ascii":   {"Ava Smith", "Ben JONES", "Chloe O'Neil", "Dan 100%_sure"},
		"unicode": {"Émile Zoë", "ÉMILE ÅSTRÖM", "Chloe Müller", "Ωmega Straße"},
	} {
		t.Run(name, func(t *testing.T) {
			d := openTest(t)
			ctx := context.Background()
			var acct int64
			err := d.WriteTx(ctx, func(q db.Querier) (err error) {
				acct, err = db.InsertAccount(ctx, q, "bulk", "bulk", 1)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			var done int
			gen := func(i int, id int64, u *db.User) {
				u.Username = fmt.Sprintf("user%d", id)
				u.DisplayName = names[i%len(names)]
				u.Email = fmt.Sprintf("u%d@bulk.example", i)
				u.PasswordHash, u.CreatedAt, u.UpdatedAt = "x", 1, 1
				texts = append(texts, strings.ToLower(u.Username+"\x1f"+u.DisplayName+"\x1f"+u.Email))
			}
			if err := d.BulkUsers(ctx, acct, 450, "hash", gen, func(n int) { done = n }); err != nil {
				t.Fatal(err)
			}
			if done != 450 {
				t.Errorf("progress ended at %d", done)
			}
			check := func(how string) {
				for _, term := range []string{"é", "émi", "zoë", "ö", "ß", "ω", "smi", "jones", "_s", "%", "u1@", "o'n", "le"} {
					var want []int64
					for i, text := range texts {
						if strings.Contains(text, term) {
							want = append(want, int64(i+1))
						}
					}
					got := all(t, d, db.UserSearch{AccountID: acct, Term: term, Limit: 50})
					if !slices.Equal(got, want) {
						t.Errorf("%s, term %q: %d users, want %d", how, term, len(got), len(want))
					}
				}
			}
			check("fed while loading")
			if dbtest.Postgres() {
				return // no index file to rebuild
			}
			// A rebuild folds the text in SQL (ASCII) or Go (the rest): the
			// same answers.
			d.Close()
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(d.Path + db.IndexSuffix + suffix)
			}
			if d, err = db.Open(ctx, d.Path); err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			check("rebuilt")
		})
	}
}
