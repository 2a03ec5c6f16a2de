package db

import "context"

// KeyCount is how many stored secrets one key encrypts.
type KeyCount struct {
	KeyID   string
	Secrets int
}

// CountSecretsByKey counts the stored secrets under each key, ordered by key id.
func CountSecretsByKey(ctx context.Context, q Querier) ([]KeyCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT key_id, count(*) FROM mfa GROUP BY key_id ORDER BY key_id`)
	if err != nil {
		return nil, Translate(err)
	}
	defer rows.Close()
	var out []KeyCount
	for rows.Next() {
		var c KeyCount
		if err := rows.Scan(&c.KeyID, &c.Secrets); err != nil {
			return nil, Translate(err)
		}
		out = append(out, c)
	}
	return out, Translate(rows.Err())
}

// SealedSecret is one stored secret as a key rotation reads it: the row's
// account and user (the ciphertext's additional data), the key and the
// ciphertext.
type SealedSecret struct {
	UserID    int64
	AccountID int64
	KeyID     string
	Secret    []byte
}

// SecretsNotUnder returns up to limit secrets that key keyID does not
// encrypt, of users after afterUser in user id order: a rotation walks them
// batch by batch from afterUser 0.
func SecretsNotUnder(ctx context.Context, q Querier, keyID string, afterUser int64, limit int) ([]SealedSecret, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT m.user_id, u.account_id, m.key_id, m.secret
		FROM mfa m JOIN users u ON u.id = m.user_id
		WHERE m.key_id <> ? AND m.user_id > ?
		ORDER BY m.user_id LIMIT ?`, keyID, afterUser, limit)
	if err != nil {
		return nil, Translate(err)
	}
	defer rows.Close()
	var out []SealedSecret
	for rows.Next() {
		var s SealedSecret
		if err := rows.Scan(&s.UserID, &s.AccountID, &s.KeyID, &s.Secret); err != nil {
			return nil, Translate(err)
		}
		out = append(out, s)
	}
	return out, Translate(rows.Err())
}

// ReencryptSecret replaces a user's secret, read as old, with the same secret
// encrypted under newKey, only if the row still holds old: a secret enrolled
// again or removed since it was read is left as it is. It reports whether
// this call changed the row.
func ReencryptSecret(ctx context.Context, q Querier, old SealedSecret, newSecret []byte, newKey string) (bool, error) {
	res, err := q.ExecContext(ctx, `
		UPDATE mfa SET secret = ?, key_id = ?
		WHERE user_id = ? AND key_id = ? AND secret = ?`, newSecret, newKey, old.UserID, old.KeyID, old.Secret)
	return oneRow(res, err)
}
