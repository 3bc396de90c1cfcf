-- 0008: a login's token subject (the JWT `sub`) is stored only as its digest, `sha256:<hex>`,
-- so a reader of the database (or of a backup) can neither use it nor, with the signing key
-- that is also stored here, forge a token that names it (docs/security.md).
-- Kept column-for-column equal to the other engine's 0008 (a test compares them).
ALTER TABLE users RENAME COLUMN api_token TO api_token_hash;

-- Subjects stored before this migration are in clear: those logins end, and their users log in
-- again once.
UPDATE users SET api_token_hash = NULL WHERE api_token_hash IS NOT NULL;
