//! Embedded migrations, one folder per engine with the same numbers in both.

use sqlx::Connection;

use crate::{Result, Store, with_pool};

/// One migration: its number, its name, and its SQL for each engine.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Declares a migration from its file name, present in both engines' folders.
macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

/// Every migration, in order.
const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_create_tables"),
    migration!(2, "0002_unique_answers"),
    migration!(3, "0003_accounts"),
    migration!(4, "0004_rate_limit_windows"),
    migration!(5, "0005_export_indexes"),
    migration!(7, "0007_web_sessions"),
    migration!(8, "0008_api_token_hash"),
    migration!(11, "0011_changes_feed"),
    migration!(12, "0012_title_sort_indexes"),
    migration!(13, "0013_structure_version"),
    migration!(14, "0014_title_search"),
    migration!(15, "0015_mirror"),
    migration!(16, "0016_entry_renders"),
];

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

impl Store {
    /// Applies every migration not yet applied, each in its own transaction. Safe to run from
    /// several processes at once: PostgreSQL serialises them with an advisory lock, SQLite with
    /// its write lock.
    pub async fn migrate(&self) -> Result<Vec<&'static str>> {
        let engine = self.engine();
        let now = quadrat_core::time::now_millis();
        let mut applied = Vec::new();
        with_pool!(self, write, |pool| {
            let mut conn = pool.acquire().await?;
            if self.engine() == crate::Engine::Postgres {
                sqlx::query("SELECT pg_advisory_lock(727271)")
                    .execute(&mut *conn)
                    .await?;
            }
            let result: Result<()> = async {
                sqlx::query(CREATE_LEDGER).execute(&mut *conn).await?;
                for Migration {
                    version,
                    name,
                    sqlite,
                    postgres,
                } in MIGRATIONS
                {
                    let sql = match engine {
                        crate::Engine::Sqlite => sqlite,
                        crate::Engine::Postgres => postgres,
                    };
                    // As a writer on SQLite, so a CLI and a server starting together wait for
                    // each other instead of failing with `database is locked`.
                    let begin = match engine {
                        crate::Engine::Sqlite => "BEGIN IMMEDIATE",
                        crate::Engine::Postgres => "BEGIN",
                    };
                    let mut tx = conn.begin_with(begin).await?;
                    let done: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                            .bind(version)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if done.is_some() {
                        continue;
                    }
                    sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                    sqlx::query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    )
                    .bind(version)
                    .bind(*name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    applied.push(*name);
                }
                Ok(())
            }
            .await;
            if self.engine() == crate::Engine::Postgres {
                sqlx::query("SELECT pg_advisory_unlock(727271)")
                    .execute(&mut *conn)
                    .await?;
            }
            result?;
        });
        Ok(applied)
    }

    /// Table name → its column names, and the index names, for comparing the two engines'
    /// schemas (a test; feature `test-support`). The title search's trigram indexes differ by
    /// engine by design (SQLite's FTS5 tables, PostgreSQL's GIN indexes): they are left out.
    #[cfg(feature = "test-support")]
    pub async fn schema_outline(&self) -> Result<(Vec<(String, Vec<String>)>, Vec<String>)> {
        let (tables_sql, columns_sql, indexes_sql) = match self.engine() {
            crate::Engine::Sqlite => (
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%title_search%' ORDER BY name",
                "SELECT name FROM pragma_table_info($1) ORDER BY cid",
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            ),
            crate::Engine::Postgres => (
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name",
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE '%\\_idx' AND indexname NOT LIKE '%\\_trgm\\_idx' ORDER BY indexname",
            ),
        };
        with_pool!(self, read, |pool| {
            let tables: Vec<String> = sqlx::query_scalar(tables_sql).fetch_all(pool).await?;
            let mut outline = Vec::new();
            for table in tables {
                let cols: Vec<String> = sqlx::query_scalar(columns_sql)
                    .bind(&table)
                    .fetch_all(pool)
                    .await?;
                outline.push((table, cols));
            }
            let indexes: Vec<String> = sqlx::query_scalar(indexes_sql).fetch_all(pool).await?;
            Ok((outline, indexes))
        })
    }
}
