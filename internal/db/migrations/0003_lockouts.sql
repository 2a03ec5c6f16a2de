-- Failed passwords are counted where an attacker cannot tell names apart and
-- cannot lock a user out of the places they sign in from (see core/throttle.go).

-- Every typed username, known or not, counts in one of 65,536 buckets: the
-- table is bounded whatever a flood of names tries, and a known name behaves
-- exactly as an unknown one.
DROP TABLE login_throttle;
CREATE TABLE name_buckets (
    bucket       INTEGER PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    failed_at    INTEGER NOT NULL  -- the last attempt; a day later the counter is forgotten
);

-- Where a user signed in fully (password and code) within 30 days: attempts
-- from there keep their own counter, so strangers elsewhere cannot lock them out.
CREATE TABLE trusted_origins (
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    origin       TEXT    NOT NULL,  -- "ssh:203.0.113.5", "ssh:127.0.0.1 (alice)", "local:alice"
    signed_in_at INTEGER NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    failed_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, origin)
) WITHOUT ROWID;

-- The counters above replace the per-user one.
ALTER TABLE users DROP COLUMN pw_failures;
ALTER TABLE users DROP COLUMN pw_locked_until;

-- A password set by an administrator is temporary: its user chooses a new one
-- at the next login.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- Failed logins of unknown names are audited as one event an hour that counts
-- them, so a flood of names grows the trail by a row an hour, not a row a try.
ALTER TABLE audit_events ADD COLUMN times INTEGER NOT NULL DEFAULT 1;
CREATE TABLE audit_aggregates (
    kind     TEXT    NOT NULL,
    hour     INTEGER NOT NULL,  -- Unix nanoseconds of the hour's start
    event_id INTEGER NOT NULL,  -- the audit event that counts them
    PRIMARY KEY (kind, hour)
) WITHOUT ROWID;
