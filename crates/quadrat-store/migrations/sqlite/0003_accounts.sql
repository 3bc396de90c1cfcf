-- 0003: mobile-app logins and the one-creator rule.
-- Kept column-for-column equal to the other engine's 0003 (a test compares them).

-- The subject of the user's current login token; a new login or a logout replaces it, which
-- revokes every token issued before. NULL: no login.
ALTER TABLE users ADD COLUMN api_token TEXT;
CREATE UNIQUE INDEX users_api_token_idx ON users (api_token);

-- Secrets every instance signs with (the user-token HMAC key), created on first use.
CREATE TABLE login_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- At most one creator per project, whichever process adds it.
CREATE UNIQUE INDEX project_roles_one_creator_idx ON project_roles (project_id) WHERE role = 'creator';
