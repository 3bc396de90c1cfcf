//! Fixed-window rate-limit counters kept in the database (`rate_limit_windows`), for instances
//! that share one budget through a shared PostgreSQL (or SQLite file), and in Redis.

use crate::{Result, Store, StoreError, with_pool};

impl Store {
    /// Counts one hit on `bucket` at `now` (Unix ms) and returns the window after it: `(hits,
    /// reset_at)`. A window that ended by `now` starts again at 1 and ends `window_ms` later.
    /// One statement, so concurrent instances never lose a hit.
    pub async fn rate_hit(&self, bucket: &str, now: i64, window_ms: i64) -> Result<(i64, i64)> {
        with_pool!(self, write, |pool| {
            Ok(sqlx::query_as(
                "INSERT INTO rate_limit_windows (bucket, hits, reset_at) VALUES ($1, 1, $3) \
                 ON CONFLICT (bucket) DO UPDATE SET \
                   hits = CASE WHEN rate_limit_windows.reset_at <= $2 THEN 1 ELSE rate_limit_windows.hits + 1 END, \
                   reset_at = CASE WHEN rate_limit_windows.reset_at <= $2 THEN $3 ELSE rate_limit_windows.reset_at END \
                 RETURNING hits, reset_at",
            )
            .bind(bucket)
            .bind(now)
            .bind(now.saturating_add(window_ms))
            .fetch_one(pool)
            .await?)
        })
    }

    /// Takes back one hit of `bucket`'s window, if it is still running at `now`.
    pub async fn rate_refund(&self, bucket: &str, now: i64) -> Result<()> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE rate_limit_windows SET hits = hits - 1 \
                 WHERE bucket = $1 AND hits > 0 AND reset_at > $2",
            )
            .bind(bucket)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Forgets `bucket`'s window.
    pub async fn rate_forget(&self, bucket: &str) -> Result<()> {
        with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM rate_limit_windows WHERE bucket = $1")
                .bind(bucket)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// The number of windows stored (tests check that ended ones are swept).
    #[cfg(feature = "test-support")]
    pub async fn rate_window_count(&self) -> Result<i64> {
        with_pool!(self, read, |pool| {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM rate_limit_windows")
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    /// Forgets windows that ended before `now`.
    pub async fn purge_rate_windows(&self, now: i64) -> Result<u64> {
        with_pool!(self, write, |pool| {
            Ok(
                sqlx::query("DELETE FROM rate_limit_windows WHERE reset_at <= $1")
                    .bind(now)
                    .execute(pool)
                    .await?
                    .rows_affected(),
            )
        })
    }
}

/// Counters in Redis, one hash per bucket. The caller's clock decides when windows end, so
/// every instance (and a test's fake clock) agrees on the same rule as the other stores; Redis's
/// own expiry only collects windows nobody hits any more.
#[derive(Clone)]
pub struct RedisRates {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    script: std::sync::Arc<redis::Script>,
    refund: std::sync::Arc<redis::Script>,
}

impl std::fmt::Debug for RedisRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRates")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

const HIT_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '0')
if reset <= now then
  reset = now + window
  redis.call('HSET', KEYS[1], 'hits', 1, 'reset', reset)
  redis.call('PEXPIRE', KEYS[1], window + 60000)
  return {1, reset}
end
local hits = redis.call('HINCRBY', KEYS[1], 'hits', 1)
return {hits, reset}
";

/// Takes back one hit of a window still running at ARGV[1].
const REFUND_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '0')
local hits = tonumber(redis.call('HGET', KEYS[1], 'hits') or '0')
if reset > now and hits > 0 then
  redis.call('HINCRBY', KEYS[1], 'hits', -1)
end
return 0
";

impl RedisRates {
    /// Connects to `url` (`redis://HOST:PORT/DB`); bucket keys start with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisRates> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Redis(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
            .set_response_timeout(Some(std::time::Duration::from_secs(2)));
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| StoreError::Redis(e.to_string()))?;
        Ok(RedisRates {
            conn,
            prefix: prefix.to_string(),
            script: std::sync::Arc::new(redis::Script::new(HIT_SCRIPT)),
            refund: std::sync::Arc::new(redis::Script::new(REFUND_SCRIPT)),
        })
    }

    /// As [`Store::rate_refund`].
    pub async fn refund(&self, bucket: &str, now: i64) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self
            .refund
            .key(format!("{}{bucket}", self.prefix))
            .arg(now)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| StoreError::Redis(e.to_string()))?;
        Ok(())
    }

    /// As [`Store::rate_forget`].
    pub async fn forget(&self, bucket: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(format!("{}{bucket}", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| StoreError::Redis(e.to_string()))?;
        Ok(())
    }

    /// `PING` (readiness: Redis answers).
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| StoreError::Redis(e.to_string()))?;
        Ok(())
    }

    /// As [`Store::rate_hit`].
    pub async fn hit(&self, bucket: &str, now: i64, window_ms: i64) -> Result<(i64, i64)> {
        let mut conn = self.conn.clone();
        let (hits, reset): (i64, i64) = self
            .script
            .key(format!("{}{bucket}", self.prefix))
            .arg(now)
            .arg(window_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| StoreError::Redis(e.to_string()))?;
        Ok((hits, reset))
    }
}
