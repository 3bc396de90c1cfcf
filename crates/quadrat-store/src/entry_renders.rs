//! Entries rendered ahead (`entry_renders`, migration 0016): a form's JSON entry objects,
//! written by the app's background job under the key of the plan they were rendered with, and
//! read by SQLite's pages in place of the rows (`export.rs`, `AheadSql`). A trigger drops an
//! entry's object whenever a column it is written from changes, so an object present is one
//! rendered from the row as it is now.
//!
//! The job finds the entries to render with reads that hold no lock ([`Store::entries_to_render`])
//! and renders each batch in a short write transaction ([`Store::render_ahead`]): uploads wait
//! for a batch, never for a search through a form.

use crate::export::{Cursor, ExportRowRef, RawRow, to_row};
use crate::{BeginWrite, Engine, Result, Store, with_pool};

/// Where [`Store::entries_to_render`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderScan {
    /// The whole form, in `(created_at, id)` order, after this entry (`None`: from the start).
    Form(Option<Cursor>),
    /// The form's entries with an id above this one: those stored since the id was the last.
    Since(i64),
}

/// A batch of entries to render, and where the search goes on (`None`: it is over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToRender {
    pub ids: Vec<i64>,
    pub next: Option<RenderScan>,
}

impl Store {
    /// Up to `limit` entries of the form with no object of `key`, from `scan` on.
    pub async fn entries_to_render(
        &self,
        project_id: i64,
        form_ref: &str,
        key: i64,
        scan: RenderScan,
        limit: i64,
    ) -> Result<ToRender> {
        let missing = "LEFT JOIN entry_renders r ON r.entry_id = e.id AND r.plan_key = $3";
        // The arguments after the project, the form and the key.
        let (sql, args) = match scan {
            RenderScan::Form(after) => {
                let after = after.unwrap_or(Cursor {
                    created_at: i64::MIN,
                    id: i64::MIN,
                });
                (
                    format!(
                        "SELECT e.id, e.created_at FROM entries e {missing} WHERE \
                         e.project_id = $1 AND e.form_ref = $2 AND (e.created_at, e.id) > ($4, $5) \
                         AND r.entry_id IS NULL ORDER BY e.created_at, e.id LIMIT $6"
                    ),
                    vec![after.created_at, after.id, limit],
                )
            }
            RenderScan::Since(id) => {
                // Along the ids from `id` on, not through the form's index (which would visit
                // every entry of the form to find the few new ones).
                let hint = match self.engine() {
                    Engine::Sqlite => " NOT INDEXED",
                    Engine::Postgres => "",
                };
                (
                    format!(
                        "SELECT e.id, e.created_at FROM entries e{hint} {missing} WHERE \
                         e.id > $4 AND e.project_id = $1 AND e.form_ref = $2 \
                         AND r.entry_id IS NULL ORDER BY e.id LIMIT $5"
                    ),
                    vec![id, limit],
                )
            }
        };
        let rows: Vec<(i64, i64)> = with_pool!(self, read, |pool| {
            // Its only parts not literal are the engine's index hint.
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .bind(form_ref)
                .bind(key);
            for arg in args {
                query = query.bind(arg);
            }
            query.fetch_all(pool).await?
        });
        let next = match rows.last() {
            Some(&(id, created_at)) if rows.len() as i64 >= limit => Some(match scan {
                RenderScan::Form(_) => RenderScan::Form(Some(Cursor { created_at, id })),
                RenderScan::Since(_) => RenderScan::Since(id),
            }),
            _ => None,
        };
        Ok(ToRender {
            ids: rows.into_iter().map(|(id, _)| id).collect(),
            next,
        })
    }

    /// Renders (with `render`) and stores, in one transaction, the entries `ids` that still
    /// have no object of `key`; how many. The rows are read inside the write transaction
    /// (locked on PostgreSQL), so no write to them can come between their reading and their
    /// object's storing: any later one drops the object.
    pub async fn render_ahead<F>(&self, key: i64, ids: &[i64], render: F) -> Result<usize>
    where
        F: Fn(&ExportRowRef<'_>) -> String + Send + Sync,
    {
        if ids.is_empty() {
            return Ok(0);
        }
        let lock = match self.engine() {
            Engine::Postgres => " FOR UPDATE",
            Engine::Sqlite => "",
        };
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut select = sqlx::QueryBuilder::new(
                "SELECT e.id, e.uuid, e.parent_uuid, e.created_at, e.uploaded_at, e.title, \
                 NULL AS created_by, e.entry_data, e.branch_counts FROM entries e WHERE NOT \
                 EXISTS (SELECT 1 FROM entry_renders r WHERE r.entry_id = e.id AND r.plan_key = ",
            );
            select.push_bind(key).push(") AND e.id IN (");
            let mut ids_list = select.separated(", ");
            for id in ids {
                ids_list.push_bind(*id);
            }
            select.push(")").push(lock);
            let rows: Vec<RawRow> = select.build_query_as().fetch_all(&mut *tx).await?;
            let rows: Vec<_> = rows.into_iter().map(to_row).collect();
            if !rows.is_empty() {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO entry_renders (entry_id, plan_key, json) ",
                );
                insert.push_values(&rows, |mut values, row| {
                    values
                        .push_bind(row.id)
                        .push_bind(key)
                        .push_bind(render(&row.as_ref()));
                });
                insert.push(
                    " ON CONFLICT (entry_id) DO UPDATE SET plan_key = excluded.plan_key, \
                     json = excluded.json",
                );
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// The highest entry id stored (0 for none): entries stored later have higher ones.
    pub async fn last_entry_id(&self) -> Result<i64> {
        with_pool!(self, read, |pool| {
            let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM entries")
                .fetch_one(pool)
                .await?;
            Ok(last.unwrap_or(0))
        })
    }

    /// How many entries of the form have an object of `key` (feature `test-support`).
    #[cfg(feature = "test-support")]
    pub async fn rendered_ahead(&self, project_id: i64, form_ref: &str, key: i64) -> Result<i64> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM entry_renders r JOIN entries e ON e.id = r.entry_id \
                 WHERE e.project_id = $1 AND e.form_ref = $2 AND r.plan_key = $3",
            )
            .bind(project_id)
            .bind(form_ref)
            .bind(key)
            .fetch_one(pool)
            .await?)
        })
    }
}
