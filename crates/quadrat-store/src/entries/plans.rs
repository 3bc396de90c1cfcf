//! Plans of statements whose answer would not show a slow plan (feature `test-support`): on
//! SQLite, the statements that count or walk one record's children (a test checks each seeks
//! the parent's or owner's index rather than walking the project's rows); on both engines, the
//! bulk import's lookup of the holders of unique answers (a test checks each answer is sought
//! in the index, not filtered from every answer of the input).

use super::batch::{HOLDERS_POSTGRES, holders_sqlite};
use super::counters::RECOUNT_CHILDREN;
use super::delete::DESCENDANTS;
use super::lookups::{BRANCH_COUNT, CHILDREN_COUNT};
use crate::{Db, Result, Store, StoreError};

impl Store {
    /// Each counting statement's name and the details of its `EXPLAIN QUERY PLAN` rows, on
    /// SQLite (PostgreSQL plans by its own statistics).
    pub async fn child_count_plans(&self) -> Result<Vec<(&'static str, Vec<String>)>> {
        let Db::Sqlite { read, .. } = &self.db else {
            return Err(StoreError::Sqlite("plans are SQLite's".into()));
        };
        let descendants = format!(
            "{} SELECT id FROM doomed",
            DESCENDANTS.replace("{start}", "uuid = $2")
        );
        let statements: [(&'static str, String, usize); 4] = [
            ("children count", CHILDREN_COUNT.to_string(), 3),
            ("branch count", BRANCH_COUNT.to_string(), 3),
            ("child counts recount", RECOUNT_CHILDREN.to_string(), 2),
            ("descendants", descendants, 2),
        ];
        let mut plans = Vec::new();
        for (name, sql, params) in statements {
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(
                format!("EXPLAIN QUERY PLAN {sql}"),
            ));
            for _ in 0..params {
                query = query.bind("x");
            }
            let rows = query.fetch_all(read).await?;
            plans.push((name, rows.into_iter().map(|r| r.3).collect()));
        }
        Ok(plans)
    }

    /// The plan of the lookup of the holders of two answers of one input and scope, as
    /// [`crate::EntryTx::answer_holders`] asks it: SQLite's `EXPLAIN QUERY PLAN` details, or
    /// PostgreSQL's `EXPLAIN` lines, planned with the table's statistics as they are.
    pub async fn answer_holders_plan(&self) -> Result<Vec<String>> {
        let (project, input_ref, scope, answers) = (1_i64, "x", "", vec!["a", "b"]);
        match &self.db {
            Db::Sqlite { read, .. } => {
                let sql = format!("EXPLAIN QUERY PLAN {}", holders_sqlite(answers.len()));
                let mut query =
                    sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(sql))
                        .bind(project)
                        .bind(input_ref)
                        .bind(scope);
                for answer in &answers {
                    query = query.bind(*answer);
                }
                let rows = query.fetch_all(read).await?;
                Ok(rows.into_iter().map(|r| r.3).collect())
            }
            Db::Postgres { pool, .. } => {
                let sql = format!("EXPLAIN {HOLDERS_POSTGRES}");
                let rows = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql))
                    .bind(project)
                    .bind(input_ref)
                    .bind(scope)
                    .bind(answers)
                    .fetch_all(pool)
                    .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }
        }
    }
}
