package core

import (
	"errors"
	"strings"
	"testing"
)

// TestSeedDemo: the demo data is real data. Its users are searchable, its
// administrator can log in, two demos do not collide, and only the operator
// may seed.
func TestSeedDemo(t *testing.T) {
	e := newTestService(t)
	op := LocalOperator("local:test")
	var last int
	res, err := e.SeedDemo(e.ctx, op, DemoOptions{Users: 2500, Password: testPassword,
		Progress: func(done, total int) {
			if total != 2500 || done < last {
				t.Errorf("progress %d/%d after %d", done, total, last)
			}
			last = done
		}})
	if err != nil {
		t.Fatal(err)
	}
	if last != 2500 || res.Admin != "demo-admin" || res.Users != 2500 {
		t.Fatalf("result %+v, last progress %d", res, last)
	}
	admin := e.login("demo-admin", StageSignedIn)
	d, err := e.AccountDetails(e.ctx, admin, res.Account.ID)
	if err != nil || d.Users != 2501 || d.Admins != 1 || d.WithoutMFA != 2501 {
		t.Fatalf("details %+v, %v", d, err)
	}
	// A demo user logs in with the shared password.
	page, err := e.SearchUsers(e.ctx, admin, res.Account.ID, UserQuery{Term: "zane", Limit: 500})
	if err != nil || len(page.Users) == 0 {
		t.Fatalf("search zane: %d users, %v", len(page.Users), err)
	}
	for _, u := range page.Users {
		if !strings.Contains(strings.ToLower(u.Username+u.DisplayName+u.Email), "zane") {
			t.Errorf("search zane found %+v", u)
		}
	}
	mine := e.login(page.Users[0].Username, StageSignedIn)
	// The shared hash is stored once; a demo user's own new password is
	// theirs alone.
	if n := e.countWhere("users", "password_hash LIKE '$argon2%'"); n != 1 {
		t.Errorf("%d users store a hash of their own, want the administrator's only", n)
	}
	if _, err := e.ChangePassword(e.ctx, mine, testPassword, "another long passphrase 7"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Login(e.ctx, page.Users[0].Username, "another long passphrase 7", "test"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	e.login(page.Users[1].Username, StageSignedIn)

	// A second demo account gets its own administrator and usernames.
	res2, err := e.SeedDemo(e.ctx, op, DemoOptions{Account: "Other Demo", Users: 10, Password: testPassword})
	if err != nil || res2.Admin != "other-demo-admin" {
		t.Fatalf("second demo: %+v, %v", res2, err)
	}
	if _, err := e.SeedDemo(e.ctx, op, DemoOptions{Account: "Other Demo", Users: 10, Password: testPassword}); !errors.Is(err, ErrExists) {
		t.Errorf("same demo twice: %v, want ErrExists", err)
	}
	if _, err := e.SeedDemo(e.ctx, admin, DemoOptions{Account: "Mine", Users: 1, Password: testPassword}); !errors.Is(err, ErrForbidden) {
		t.Errorf("an admin seeding: %v, want ErrForbidden", err)
	}
	if _, err := e.SeedDemo(e.ctx, op, DemoOptions{Account: "Neg", Users: -1, Password: testPassword}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("negative users: %v", err)
	}
	if n := e.count("users"); n != 2501+11 {
		t.Errorf("%d users in all, want %d", n, 2501+11)
	}
}
