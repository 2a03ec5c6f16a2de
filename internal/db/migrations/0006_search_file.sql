-- The search index moves to its own file beside the database (see index.go):
-- merging it then holds that file's lock, never the one logins and code
-- checks wait for. This file keeps only the log of what the index must catch
-- up on, written in the same transaction as the user it names.
DROP TABLE user_search;
DROP TABLE search_trigrams;
-- Users first_id..last_id changed at seq; the index applies them in order.
CREATE TABLE search_changes (
    seq      INTEGER PRIMARY KEY,
    first_id INTEGER NOT NULL,
    last_id  INTEGER NOT NULL
);
-- id: this database, so an index built from another one is rebuilt;
-- search_pruned: changes up to this seq were deleted from the log, so an
-- index that had not applied them is rebuilt.
CREATE TABLE store_info (k TEXT PRIMARY KEY, v NOT NULL) WITHOUT ROWID;
INSERT INTO store_info (k, v) VALUES ('id', lower(hex(randomblob(16)))), ('search_pruned', 0);

-- One password hash shared by many users (demo data): users.password_hash
-- holds 'shared:<id>' and reads resolve it (userCols), so a million demo
-- users do not store the same 97 bytes a million times. A user's own new
-- password replaces the reference.
CREATE TABLE shared_password_hashes (id INTEGER PRIMARY KEY, hash TEXT NOT NULL);
