-- 0004: fixed-window rate-limit counters shared by every instance that uses this database.
CREATE TABLE rate_limit_windows (
    bucket TEXT PRIMARY KEY,
    hits BIGINT NOT NULL,
    reset_at BIGINT NOT NULL
);

CREATE INDEX rate_limit_windows_reset_at_idx ON rate_limit_windows (reset_at);
