-- Substring search over username, name and email. Contentless: the text lives in
-- users; rowid = account_id << 32 | user_id keeps each account's entries together.
CREATE VIRTUAL TABLE user_search USING fts5 (text, tokenize = 'trigram', content = '', contentless_delete = 1);
