package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// TestCountsFollowWrites makes random changes to users' roles, enabled
// state and MFA, and checks after each that the kept counts equal a count of
// the rows, and that users.mfa_on mirrors the mfa table.
func TestCountsFollowWrites(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	var users []db.User
	for acct := int64(1); acct <= 2; acct++ {
		if _, err := db.InsertAccount(ctx, d, fmt.Sprint("a", acct), fmt.Sprint("a", acct), 1); err != nil {
			t.Fatal(err)
		}
	}
	gen := func(i int, id int64, u *db.User) { u.Username, u.CreatedAt, u.UpdatedAt = fmt.Sprint("bulk", id), 1, 1 }
	if err := d.BulkUsers(ctx, 1, 30, "hash", gen, nil); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 30; id++ {
		u, err := db.UserByID(ctx, d, id)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	for step := range 400 {
		err := d.WriteTx(ctx, func(q db.Querier) error {
			u := &users[rng.IntN(len(users))]
			switch rng.IntN(6) {
			case 0:
				nu := db.User{AccountID: 1 + rng.Int64N(2), Username: fmt.Sprint("u", step), Role: "user", PasswordHash: "x"}
				if err := db.InsertUser(ctx, q, &nu); err != nil {
					return err
				}
				users = append(users, nu)
			case 1:
				u.Role = []string{"user", "admin"}[rng.IntN(2)]
				u.Disabled = rng.IntN(3) == 0
				return db.UpdateUserProfile(ctx, q, *u)
			case 2, 3:
				return db.PutPendingMFA(ctx, q, db.MFA{UserID: u.ID, Secret: []byte{1}, KeyID: "k", Algorithm: "SHA1", Digits: 6, Period: 30})
			case 4:
				if err := db.ActivateMFA(ctx, q, u.ID, 1); err != nil && err != db.ErrNotFound {
					return err
				}
			case 5:
				if err := db.DeleteMFA(ctx, q, u.ID); err != nil && err != db.ErrNotFound {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for acct := int64(1); acct <= 2; acct++ {
			got, err := db.CountAccountUsers(ctx, d, acct)
			if err != nil {
				t.Fatal(err)
			}
			var want db.AccountCounts
			if err := d.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE u.disabled = 0),
				count(*) FILTER (WHERE m.state = 'active'), count(*) FILTER (WHERE u.disabled = 0 AND coalesce(m.state, '') <> 'active'),
				count(*) FILTER (WHERE u.role = 'admin' AND u.disabled = 0)
				FROM users u LEFT JOIN mfa m ON m.user_id = u.id WHERE u.account_id = ?`, acct).
				Scan(&want.Users, &want.Active, &want.WithMFA, &want.WithoutMFA, &want.Admins); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("step %d, account %d: kept counts %+v, rows say %+v", step, acct, got, want)
			}
		}
		var off int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM users u LEFT JOIN mfa m ON m.user_id = u.id
			WHERE u.mfa_on <> CASE WHEN m.state = 'active' THEN 1 ELSE 0 END`).Scan(&off); err != nil || off != 0 {
			t.Fatalf("step %d: %d users' mfa_on disagree with their mfa row (%v)", step, off, err)
		}
	}
}
