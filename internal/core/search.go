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
	Count bool   // also count the users that match, as far as that is quick
}

// MaxMatchCount is the most matches SearchUsers counts: beyond it a page
// says that more than this many match. Counting every user of a large
// account would not fit in a frame.
const MaxMatchCount = db.CountLimit

// UserPage is one page of results in a stable order; Next is the cursor of
// the following page, 0 when this is the last.
type UserPage struct {
	Users []User
	Next  int64
	// Matches is how many users match in all, when the query asked to
	// Count. With MatchesAtLeast it is a lower bound: more than
	// MaxMatchCount match when it is above that, else counting the rest
	// would have meant looking at every user one by one.
	Matches        int
	MatchesAtLeast bool
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
	search := db.UserSearch{AccountID: accountID, Term: term, MFA: uq.MFA, Role: string(uq.Role), After: uq.After, Limit: limit}
	rows, next, err := s.db.SearchUsers(ctx, search)
	if err != nil {
		return UserPage{}, translate(err)
	}
	page := UserPage{Users: make([]User, len(rows)), Next: next}
	for i, r := range rows {
		page.Users[i] = toUser(r)
	}
	switch {
	case !uq.Count:
	case uq.After == 0 && next == 0: // the page holds every match
		page.Matches = len(rows)
	default:
		n, exact, err := s.db.CountUsers(ctx, search)
		if err != nil {
			return UserPage{}, translate(err)
		}
		page.Matches, page.MatchesAtLeast = countWithPage(n, exact, page, uq.After)
	}
	return page, nil
}

// countWithPage completes a bounded count with what the page shows: a first
// page without a next one holds every match, and any page holds at least its
// own (a rare letter's matches may all lie beyond the users a count looks at).
func countWithPage(n int, exact bool, page UserPage, after int64) (int, bool) {
	switch {
	case exact:
		return n, false
	case after == 0 && page.Next == 0:
		return len(page.Users), false
	}
	shown := len(page.Users)
	if page.Next != 0 {
		shown++
	}
	return max(n, shown), true
}
