-- Counts that do not scan (counts.go): at a million users counting an
-- account's users by their rows took most of a second.
-- mfa_on mirrors an active mfa row, so "with MFA" and "without" are index
-- ranges in id order, like role.
ALTER TABLE users ADD COLUMN mfa_on INTEGER NOT NULL DEFAULT 0;
UPDATE users SET mfa_on = 1 WHERE id IN (SELECT user_id FROM mfa WHERE state = 'active');
CREATE INDEX users_account_mfa ON users (account_id, mfa_on);
-- How many users of an account have each role, enabled state and MFA state,
-- kept by every write that changes one of them.
CREATE TABLE account_user_counts (
    account_id INTEGER NOT NULL,
    role       TEXT    NOT NULL,
    disabled   INTEGER NOT NULL,
    mfa_on     INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (account_id, role, disabled, mfa_on)
) WITHOUT ROWID;
INSERT INTO account_user_counts (account_id, role, disabled, mfa_on, n)
    SELECT account_id, role, disabled, mfa_on, count(*) FROM users GROUP BY account_id, role, disabled, mfa_on;
