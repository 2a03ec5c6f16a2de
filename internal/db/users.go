package db

import "context"

// User is a row of users.
type User struct {
	ID           int64
	AccountID    int64
	Username     string
	DisplayName  string
	Email        string
	Role         string
	PasswordHash string
	Disabled     bool
	CreatedAt    int64
	UpdatedAt    int64
	SessionEpoch int64
	// MustChangePassword marks a password set by an administrator: its user
	// chooses a new one at the next login.
	MustChangePassword bool
	MFAState           string // "", "pending" or "active", from the mfa row
}

const userCols = `u.id, u.account_id, u.username, u.display_name, u.email, u.role,
	CASE WHEN substr(u.password_hash, 1, 7) = 'shared:'
		THEN coalesce((SELECT hash FROM shared_password_hashes WHERE id = CAST(substr(u.password_hash, 8) AS BIGINT)), '')
		ELSE u.password_hash END,
	u.disabled, u.created_at, u.updated_at, u.session_epoch, u.must_change_password,
	coalesce(m.state, '')`

const userFrom = ` FROM users u LEFT JOIN mfa m ON m.user_id = u.id `

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.AccountID, &u.Username, &u.DisplayName, &u.Email, &u.Role, &u.PasswordHash,
		&u.Disabled, &u.CreatedAt, &u.UpdatedAt, &u.SessionEpoch, &u.MustChangePassword, &u.MFAState)
	return u, Translate(err)
}

// InsertUser adds a user and logs it for the search index; it sets u.ID.
func InsertUser(ctx context.Context, q Querier, u *User) error {
	err := q.QueryRowContext(ctx, `
		INSERT INTO users (account_id, username, display_name, email, role, password_hash, disabled,
			must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.AccountID, u.Username, u.DisplayName, u.Email, u.Role, u.PasswordHash, u.Disabled,
		u.MustChangePassword, u.CreatedAt, u.UpdatedAt).Scan(&u.ID)
	if err != nil {
		return Translate(err)
	}
	if err := countUser(ctx, q, u.ID, 1); err != nil {
		return err
	}
	_, err = logSearchChange(ctx, q, u.ID, u.ID)
	return err
}

// UserByID returns one user.
func UserByID(ctx context.Context, q Querier, id int64) (User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.id = ?`, id))
}

// UserByUsername returns the user with that username, compared case-insensitively.
func UserByUsername(ctx context.Context, q Querier, username string) (User, error) {
	if pg(q) { // its unique index is on lower(username); SQLite's column is NOCASE
		return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE lower(u.username) = lower(?)`, username))
	}
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.username = ?`, username))
}

// UpdateUserProfile writes the editable fields of a user and logs it for the
// search index.
func UpdateUserProfile(ctx context.Context, q Querier, u User) error {
	if err := recounted(ctx, q, u.ID, func() error {
		return execOne(ctx, q, `
		UPDATE users SET display_name = ?, email = ?, role = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			u.DisplayName, u.Email, u.Role, u.Disabled, u.UpdatedAt, u.ID)
	}); err != nil {
		return err
	}
	_, err := logSearchChange(ctx, q, u.ID, u.ID)
	return err
}

// SetPasswordHash replaces a password and ends the sessions signed in with
// the old one. A temporary password must be changed at the next login.
func SetPasswordHash(ctx context.Context, q Querier, id int64, hash string, temporary bool, at int64) error {
	return execOne(ctx, q, `
		UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ?,
			session_epoch = session_epoch + 1 WHERE id = ?`,
		hash, temporary, at, id)
}

// CountActiveAdmins counts enabled admins of an account.
func CountActiveAdmins(ctx context.Context, q Querier, accountID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `
		SELECT count(*) FROM users WHERE account_id = ? AND role = 'admin' AND disabled = 0`, accountID).Scan(&n)
	return n, Translate(err)
}
