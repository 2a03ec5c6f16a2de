package core

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// MaxSearchLen bounds a search term.
const MaxSearchLen = 64

// UserQuery is a search of one account's users.
type UserQuery struct {
	Term  string // matched case-insensitively in username, name and email; % and _ are literal
	MFA   string // "", "on" (active MFA) or "off" (none or pending)
	Role  Role   // "" for every role
	After int64  // cursor from the previous page's Next; 0 for the first page
	Limit int    // page size; 20 when 0, at most 500
}

// UserPage is one page of results in a stable order; Next is the cursor of
// the following page, 0 when this is the last.
type UserPage struct {
	Users []User
	Next  int64
}

// SearchUsers searches the users of an account the caller administers.
func (s *Service) SearchUsers(ctx context.Context, sess Session, accountID int64, uq UserQuery) (UserPage, error) {
	if err := s.admin(ctx, s.db, sess, accountID); err != nil {
		return UserPage{}, err
	}
	term := strings.ToLower(uq.Term)
	if !utf8.ValidString(term) || utf8.RuneCountInString(term) > MaxSearchLen {
		return UserPage{}, inputErr("search", "must be at most %d characters of text", MaxSearchLen)
	}
	if uq.MFA != "" && uq.MFA != "on" && uq.MFA != "off" {
		return UserPage{}, inputErr("mfa filter", "must be on or off")
	}
	if uq.Role != "" {
		if err := checkRole(uq.Role); err != nil {
			return UserPage{}, err
		}
	}
	limit := uq.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 500)
	rows, next, err := db.SearchUsers(ctx, s.db, db.UserSearch{AccountID: accountID, Term: term, MFA: uq.MFA,
		Role: string(uq.Role), After: uq.After, Limit: limit})
	if err != nil {
		return UserPage{}, translate(err)
	}
	page := UserPage{Users: make([]User, len(rows)), Next: next}
	for i, r := range rows {
		page.Users[i] = toUser(r)
	}
	return page, nil
}
