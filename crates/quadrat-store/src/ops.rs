//! What operators need from the store: a trivial query for readiness, the pools' use for
//! metrics, and SQLite's consistent online copy (`VACUUM INTO`) with the checks a backup and a
//! restore make on it.

use std::path::Path;

use crate::{Db, Result, Store, StoreError, with_pool};

/// How one connection pool is used right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// `"write"` and `"read"` for SQLite, `"main"` for PostgreSQL.
    pub pool: &'static str,
    /// Connections open.
    pub open: u32,
    /// Of those, the ones idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// What a copy of the database holds, for a backup's manifest and the restore's check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseCounts {
    pub projects: i64,
    pub users: i64,
    pub entries: i64,
    pub branch_entries: i64,
    /// The newest migration applied.
    pub schema_version: i64,
}

impl Store {
    /// Runs `SELECT 1` (readiness: the database answers).
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, read, |pool| {
            let one: i64 = sqlx::query_scalar("SELECT CAST(1 AS BIGINT)")
                .fetch_one(pool)
                .await?;
            debug_assert_eq!(one, 1);
            Ok(())
        })
    }

    /// Each pool's connections, open and idle.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        fn one<D: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<D>) -> PoolUse {
            PoolUse {
                pool: name,
                open: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            }
        }
        match &self.db {
            Db::Sqlite { write, read, .. } => vec![one("write", write), one("read", read)],
            Db::Postgres { pool, .. } => vec![one("main", pool)],
        }
    }

    /// Writes a consistent copy of a SQLite database to `target` (which must not exist) with
    /// `VACUUM INTO`: one read transaction, so writers carry on (WAL) and the copy holds every
    /// transaction committed before it began and nothing of later ones. PostgreSQL has its own
    /// tools (pg_dump): refused.
    pub async fn sqlite_copy_into(&self, target: &Path) -> Result<()> {
        let Db::Sqlite { read, .. } = &self.db else {
            return Err(StoreError::Unsupported(
                "an online copy is for SQLite; back up PostgreSQL with pg_dump",
            ));
        };
        let target = target.to_str().ok_or(StoreError::Unsupported(
            "the backup path must be valid UTF-8",
        ))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(read)
            .await?;
        Ok(())
    }

    /// `PRAGMA integrity_check` (SQLite) : `Ok(())` when it says `ok`, else its findings.
    pub async fn sqlite_integrity(&self) -> Result<Result<(), String>> {
        let Db::Sqlite { read, .. } = &self.db else {
            return Err(StoreError::Unsupported("the integrity check is SQLite's"));
        };
        let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(read)
            .await?;
        if lines.len() == 1 && lines[0] == "ok" {
            Ok(Ok(()))
        } else {
            Ok(Err(lines.join("; ")))
        }
    }

    /// How many projects, users, entries and branch entries the database holds, and its
    /// schema version.
    pub async fn counts(&self) -> Result<DatabaseCounts> {
        with_pool!(self, read, |pool| {
            let count = |table: &'static str| {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {table}"
                )))
                .fetch_one(pool)
            };
            Ok(DatabaseCounts {
                projects: count("projects").await?,
                users: count("users").await?,
                entries: count("entries").await?,
                branch_entries: count("branch_entries").await?,
                schema_version: sqlx::query_scalar(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                )
                .fetch_one(pool)
                .await?,
            })
        })
    }
}
