package core

import (
	"context"
	"errors"
)

// DemoOptions describe the demo data to create.
type DemoOptions struct {
	Account  string // the demo account's name; "Demo" when empty
	Admin    string // its administrator's username; "demo-admin" when empty
	Users    int    // how many users besides the administrator
	Password string // every demo user's password
	// Progress, when set, is called now and then with how many users are done.
	Progress func(done, total int)
}

// DemoResult says what SeedDemo created.
type DemoResult struct {
	Account Account
	Admin   string
	Users   int
}

// SeedDemo creates a demo account with an administrator and opts.Users users
// sharing one password hash (operator only).
func (s *Service) SeedDemo(ctx context.Context, sess Session, opts DemoOptions) (DemoResult, error) {
	return DemoResult{}, errors.New("demo: not implemented yet")
}
