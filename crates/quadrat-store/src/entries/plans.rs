//! SQLite's plans of the statements that count or walk one record's children (feature
//! `test-support`): a test checks each seeks the parent's or owner's index rather than walking
//! the project's rows, which its answer would not show.

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
}
