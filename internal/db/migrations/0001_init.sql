-- Times are Unix nanoseconds, UTC.
CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL UNIQUE, -- case-folded name: unique case-insensitively
    require_mfa INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    username        TEXT    NOT NULL COLLATE NOCASE UNIQUE, -- ASCII only, so NOCASE is exact
    display_name    TEXT    NOT NULL DEFAULT '',
    email           TEXT    NOT NULL DEFAULT '',
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash   TEXT    NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    pw_failures     INTEGER NOT NULL DEFAULT 0,
    pw_locked_until INTEGER NOT NULL DEFAULT 0,
    session_epoch   INTEGER NOT NULL DEFAULT 0 -- raised by a new password: older sessions end
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE mfa (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret       BLOB    NOT NULL, -- AES-256-GCM nonce || ciphertext
    key_id       TEXT    NOT NULL,
    algorithm    TEXT    NOT NULL DEFAULT 'SHA1',
    digits       INTEGER NOT NULL DEFAULT 6,
    period       INTEGER NOT NULL DEFAULT 30,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'active')),
    created_at   INTEGER NOT NULL,
    enabled_at   INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT -1,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);

-- Which keys encrypt secrets is asked at every start: an index answers it
-- without reading every row.
CREATE INDEX mfa_key_id ON mfa (key_id);

CREATE TABLE recovery_codes (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash    BLOB    NOT NULL,
    used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- No foreign keys: the trail must outlive what it describes.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    account_id  INTEGER NOT NULL DEFAULT 0, -- 0: no account (an unknown username)
    actor_id    INTEGER NOT NULL DEFAULT 0,
    actor_name  TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    target_id   INTEGER NOT NULL DEFAULT 0,
    target_name TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_account ON audit_events (account_id, id);

-- Failed logins for usernames that do not exist, so they lock like real ones
-- and a lockout tells nothing about which users exist.
CREATE TABLE login_throttle (
    name_key     TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_throttle_updated ON login_throttle (updated_at);
