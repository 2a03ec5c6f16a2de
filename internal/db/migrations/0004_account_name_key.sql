-- Account names become unique under db.NameKey (NFKC and full case folding)
-- instead of strings.ToLower: ASCII names keep their key, others are re-keyed
-- here with the same Go function (registered by internal/db as
-- smartmfa_name_key). An account whose new key another account already holds
-- (Straße beside STRASSE) keeps its old key rather than failing the upgrade:
-- OR IGNORE skips just that row, and both accounts stay as they were.
UPDATE OR IGNORE accounts SET name_key = smartmfa_name_key(name)
WHERE name_key <> smartmfa_name_key(name);
