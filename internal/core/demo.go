package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// MaxDemoUsers bounds demo data: a few million users is already a benchmark.
const MaxDemoUsers = 5_000_000

// DemoOptions describe the demo data to create.
type DemoOptions struct {
	Account  string // the demo account's name; "Demo" when empty
	Admin    string // its administrator's username; "<account>-admin" when empty
	Users    int    // how many users besides the administrator
	Password string // the administrator's and every demo user's password
	// Progress, when set, is called now and then with how many users are done.
	Progress func(done, total int)
}

// DemoResult says what SeedDemo created.
type DemoResult struct {
	Account Account
	Admin   string
	Users   int
}

var (
	demoFirst = strings.Fields(`Ava Ben Chloe Daniel Emma Felix Grace Henry Isla Jack Kai Leo Mia Noah Olivia
		Paul Quinn Ruby Sam Tara Uma Victor Wendy Xavier Yara Zoe Amir Bianca Carlos Dina Elif Farah Goran Hana
		Ivan Jun Keira Lars Maya Nils Omar Priya Rosa Sven Tomas Ulla Vera Wei Yusuf Zane`)
	demoLast = strings.Fields(`Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright
		Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke Clark Turner Hill
		Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patel Young Allen Mitchell James Anderson
		Phillips Lee Bell Parker Davis Miller Garcia Rossi Muller Schmidt Novak Kowalski Nielsen Larsen Berg Dubois
		Moreau Laurent Lopez Santos Silva Costa Ferreira Kim Park Chen Wang Li Zhang Singh Kumar Sato Suzuki Tanaka
		Ito Haddad Khan Ali Cohen Levi Murphy Kelly Byrne Walsh Ryan Doyle Olsen Hansen Jensen Lund Virtanen Horvat`)
)

// slug is a name reduced to lower-case ASCII letters, digits and dashes.
func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "demo"
	}
	return s[:min(len(s), 40)]
}

// SeedDemo creates a demo account with an administrator and opts.Users users
// sharing one password hash, so a million users take seconds (operator only).
func (s *Service) SeedDemo(ctx context.Context, sess Session, opts DemoOptions) (DemoResult, error) {
	if !sess.operator {
		return DemoResult{}, ErrForbidden
	}
	if opts.Account == "" {
		opts.Account = "Demo"
	}
	if opts.Admin == "" {
		opts.Admin = slug(opts.Account) + "-admin"
	}
	if opts.Users < 0 || opts.Users > MaxDemoUsers {
		return DemoResult{}, inputErr("users", "must be between 0 and %d", MaxDemoUsers)
	}
	acct, err := s.CreateAccount(ctx, sess, NewAccount{Name: opts.Account,
		Admin: NewUser{Username: opts.Admin, DisplayName: "Demo Administrator", Password: opts.Password}})
	if err != nil {
		return DemoResult{}, err
	}
	hash, err := s.hashPassword(ctx, opts.Password)
	if err != nil {
		return DemoResult{}, err
	}
	now := s.now().UnixNano()
	domain := slug(opts.Account) + ".example"
	gen := func(i int, id int64, u *db.User) {
		first, last := demoFirst[i%len(demoFirst)], demoLast[(i/len(demoFirst))%len(demoLast)]
		u.Username = fmt.Sprintf("%s.%s%d", strings.ToLower(first), strings.ToLower(last), id)
		u.DisplayName = first + " " + last
		u.Email = fmt.Sprintf("%s%d@%s", strings.ToLower(first[:1]+last), id, domain)
		u.CreatedAt, u.UpdatedAt = now, now
	}
	var progress func(int)
	if opts.Progress != nil {
		progress = func(done int) { opts.Progress(done, opts.Users) }
	}
	if err := s.db.BulkUsers(ctx, acct.ID, opts.Users, hash, gen, progress); err != nil {
		return DemoResult{}, translate(err)
	}
	err = s.tx(ctx, func(q db.Querier) error {
		return s.audit(ctx, q, sess, event{account: acct.ID, action: ActionDemoSeeded, detail: fmt.Sprintf("%d demo users", opts.Users)})
	})
	return DemoResult{Account: acct, Admin: opts.Admin, Users: opts.Users}, err
}
