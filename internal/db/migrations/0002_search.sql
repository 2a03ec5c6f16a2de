-- Substring search over username, name and email (see search.go). Contentless:
-- the text lives in users; rowid = account_id << 32 | user_id.
CREATE VIRTUAL TABLE user_search USING fts5 (text, tokenize = 'trigram', content = '', contentless_delete = 1);
-- Every trigram ever indexed: how 1- and 2-character terms find their matches.
CREATE TABLE search_trigrams (t TEXT PRIMARY KEY) WITHOUT ROWID;
-- Listing an account's users in id order, and filtering them by role.
CREATE INDEX users_account_role ON users (account_id, role);
