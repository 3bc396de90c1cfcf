//! The web pages' browser sessions (`web_sessions`). Rows are found by the hash of the session
//! id; the id itself is never stored.

use crate::{Result, Store, with_pool};

/// A row of `web_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    /// `None` until the visitor logs in.
    pub user_id: Option<i64>,
    pub csrf_token: String,
    /// A message for the next page shown (JSON), cleared when shown.
    pub flash: Option<String>,
    pub created_at: i64,
    pub seen_at: i64,
    pub expires_at: i64,
}

const SESSION_COLUMNS: &str =
    "id_hash, user_id, csrf_token, flash, created_at, seen_at, expires_at";

impl Store {
    pub async fn insert_session(&self, row: &SessionRow) -> Result<()> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO web_sessions (id_hash, user_id, csrf_token, flash, created_at, seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&row.id_hash)
            .bind(row.user_id)
            .bind(&row.csrf_token)
            .bind(&row.flash)
            .bind(row.created_at)
            .bind(row.seen_at)
            .bind(row.expires_at)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// The session with this id hash, if it has not expired at `now`.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM web_sessions WHERE id_hash = $1 AND expires_at > $2"
        );
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id_hash)
                .bind(now)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Marks the session seen at `now`, valid until `expires_at`.
    pub async fn touch_session(&self, id_hash: &str, now: i64, expires_at: i64) -> Result<()> {
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE web_sessions SET seen_at = $2, expires_at = $3 WHERE id_hash = $1")
                .bind(id_hash)
                .bind(now)
                .bind(expires_at)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Sets (or, with `None`, clears) the message the session's next page shows.
    pub async fn set_session_flash(&self, id_hash: &str, flash: Option<&str>) -> Result<()> {
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE web_sessions SET flash = $2 WHERE id_hash = $1")
                .bind(id_hash)
                .bind(flash)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Ends every session of the user except `keep` (an id hash); returns how many ended.
    pub async fn delete_user_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64> {
        with_pool!(self, write, |pool| {
            Ok(sqlx::query(
                "DELETE FROM web_sessions WHERE user_id = $1 AND id_hash <> COALESCE($2, '')",
            )
            .bind(user_id)
            .bind(keep)
            .execute(pool)
            .await?
            .rows_affected())
        })
    }

    /// Forgets the sessions expired at `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        with_pool!(self, write, |pool| {
            Ok(
                sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(pool)
                    .await?
                    .rows_affected(),
            )
        })
    }
}
