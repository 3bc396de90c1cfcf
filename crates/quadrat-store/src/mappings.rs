//! The stored mapping list of a project (`project_structures.project_mapping`).

use crate::changes::{ProjectChange, record_project_event};
use crate::{BeginWrite, Conflict, Result, Store, StoreError, with_pool};

impl Store {
    /// Replaces the mapping list of a project, provided it still holds `expected` (what the
    /// caller read and edited): a concurrent edit makes this a `Conflict::ProjectMapping` and changes nothing.
    /// The project version (`updated_at`) does not move: mapping edits do not concern the app.
    pub async fn replace_project_mapping(
        &self,
        project_id: i64,
        expected: &str,
        mapping: &str,
    ) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE project_structures SET project_mapping = $1 \
                 WHERE project_id = $2 AND project_mapping = $3",
            )
            .bind(mapping)
            .bind(project_id)
            .bind(expected)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                // Custom maps render every row anew (docs/protocol.md §17.5).
                record_project_event!(&mut *tx, project_id, ProjectChange::Mapping);
                tx.commit().await?;
                return Ok(());
            }
            drop(tx);
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT project_id FROM project_structures WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await?;
            Err(match exists {
                Some(_) => StoreError::Conflict(Conflict::ProjectMapping),
                None => StoreError::NotFound("project structure".into()),
            })
        })
    }
}
