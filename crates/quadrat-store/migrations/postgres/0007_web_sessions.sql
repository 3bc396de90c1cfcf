-- 0007: the web pages' browser sessions, in the database so every instance shares them.
-- Kept column-for-column equal to the other engine's 0007 (a test compares them).

-- Only a SHA-256 of the session id (the cookie's value) is kept: a copy of this table opens no
-- session. user_id is NULL for a visitor who has not logged in yet (the login form's CSRF token
-- lives in such a session); a login replaces it with a new one.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    flash TEXT,
    created_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX web_sessions_expires_at_idx ON web_sessions (expires_at);
CREATE INDEX web_sessions_user_id_idx ON web_sessions (user_id);
