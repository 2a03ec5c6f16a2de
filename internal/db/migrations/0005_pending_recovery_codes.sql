-- Recovery codes shown with an MFA set-up begun at an SSH login (pam-enrol)
-- are stored, hashed, before the set-up is confirmed: pending = 1 until the
-- first code activates them with the authenticator. No query that checks or
-- counts recovery codes reads a pending one.
ALTER TABLE recovery_codes ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
