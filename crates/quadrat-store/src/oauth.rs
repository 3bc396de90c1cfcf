//! Client apps (`oauth_clients`, one per project) and their access tokens.

use crate::{BeginWrite, Conflict, Result, Store, StoreError, conflict_as, with_pool};

/// A project's client app. `secret_hash` never leaves the services.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientRow {
    pub id: i64,
    pub project_id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub secret_hash: String,
    pub revoked: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An issued access token (its id is the JWT's `jti`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub client_id: i64,
    pub revoked: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

const CLIENT_COLUMNS: &str =
    "id, project_id, user_id, name, secret_hash, revoked, created_at, updated_at";

impl Store {
    /// Creates the project's app; `Conflict::ClientApp` when it already has one.
    pub async fn insert_client(
        &self,
        project_id: i64,
        user_id: Option<i64>,
        name: &str,
        secret_hash: &str,
        now: i64,
    ) -> Result<i64> {
        with_pool!(self, write, |pool| {
            sqlx::query_scalar(
                "INSERT INTO oauth_clients (project_id, user_id, name, secret_hash, revoked, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING id",
            )
            .bind(project_id)
            .bind(user_id)
            .bind(name)
            .bind(secret_hash)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(|e| conflict_as(e, Conflict::ClientApp))
        })
    }

    pub async fn client_by_project(&self, project_id: i64) -> Result<Option<ClientRow>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE project_id = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    pub async fn client_by_id(&self, client_id: i64) -> Result<Option<ClientRow>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE id = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(client_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Replaces the secret. Tokens already issued stay valid (revoking them is its own step).
    pub async fn update_client_secret(
        &self,
        client_id: i64,
        secret_hash: &str,
        now: i64,
    ) -> Result<()> {
        with_pool!(self, write, |pool| {
            let done = sqlx::query(
                "UPDATE oauth_clients SET secret_hash = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(client_id)
            .bind(secret_hash)
            .bind(now)
            .execute(pool)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("client app".into()));
            }
            Ok(())
        })
    }

    /// Deletes the app; its tokens go with it (foreign key cascade), so they are revoked.
    pub async fn delete_client(&self, client_id: i64) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            // Explicit, so a database without the cascade still loses the tokens.
            sqlx::query("DELETE FROM oauth_access_tokens WHERE client_id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("client app".into()));
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records a newly issued token, and forgets the client's tokens that expired before
    /// `forget_before` (housekeeping; no live token is touched).
    pub async fn insert_token(&self, token: &TokenRow, forget_before: i64) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM oauth_access_tokens WHERE client_id = $1 AND expires_at < $2")
                .bind(token.client_id)
                .bind(forget_before)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO oauth_access_tokens (id, client_id, revoked, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&token.id)
            .bind(token.client_id)
            .bind(token.revoked)
            .bind(token.created_at)
            .bind(token.expires_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_as(e, Conflict::Token))?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn token(&self, id: &str) -> Result<Option<TokenRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT id, client_id, revoked, created_at, expires_at FROM oauth_access_tokens WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Revokes every token of the client; returns how many of them were still live.
    pub async fn revoke_tokens(&self, client_id: i64, now: i64) -> Result<u64> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM oauth_access_tokens WHERE client_id = $1 AND revoked = FALSE AND expires_at > $2",
            )
            .bind(client_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE oauth_access_tokens SET revoked = TRUE WHERE client_id = $1 AND revoked = FALSE")
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(live.max(0) as u64)
        })
    }

    /// Tokens of the client that are neither revoked nor expired at `now`.
    pub async fn live_token_count(&self, client_id: i64, now: i64) -> Result<i64> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM oauth_access_tokens WHERE client_id = $1 AND revoked = FALSE AND expires_at > $2",
            )
            .bind(client_id)
            .bind(now)
            .fetch_one(pool)
            .await?)
        })
    }

    /// `(issued at, expires at)` of the client's newest token that is live at `now`.
    pub async fn newest_live_token(&self, client_id: i64, now: i64) -> Result<Option<(i64, i64)>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT created_at, expires_at FROM oauth_access_tokens \
                 WHERE client_id = $1 AND revoked = FALSE AND expires_at > $2 \
                 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(client_id)
            .bind(now)
            .fetch_optional(pool)
            .await?)
        })
    }
}
