//! The counters every write keeps exact: the per-form and per-branch `entry_counters` (count,
//! first and last timestamps), the parent's `child_counts` and the owner's `branch_counts`.

use quadrat_core::json::mysql_order;
use serde_json::{Map, Value};

use super::{EntryTx, with_tx};
use crate::Result;

/// `child_counts` of the entry `$2` := its direct children, counted on the parent's index
/// (`+`: see [`super::lookups::CHILDREN_COUNT`]).
pub(crate) const RECOUNT_CHILDREN: &str = "UPDATE entries SET child_counts = (SELECT COUNT(*) \
     FROM entries c WHERE c.parent_uuid = $2 AND +c.project_id = $1) WHERE uuid = $2 AND \
     project_id = $1";

impl EntryTx {
    /// One more record in a form (`branch_ref` empty) or a branch.
    pub(super) async fn bump_counter(
        &mut self,
        form_ref: &str,
        branch_ref: &str,
        created_at: i64,
        uploaded_at: i64,
    ) -> Result<()> {
        let one = FormSpan::new(created_at, uploaded_at);
        self.add_to_counter(form_ref, branch_ref, &one).await
    }

    /// `span.count` more records in a form (`branch_ref` empty) or a branch, with their first
    /// and last timestamps.
    pub(super) async fn add_to_counter(
        &mut self,
        form_ref: &str,
        branch_ref: &str,
        span: &FormSpan,
    ) -> Result<()> {
        let project_id = self.project_id;
        with_tx!(self, |conn| {
            sqlx::query(sqlx::AssertSqlSafe(counter_upsert(
                "$1, $2, $3, $4, $5, $6, $7, $8",
            )))
            .bind(project_id)
            .bind(form_ref)
            .bind(branch_ref)
            .bind(span.count)
            .bind(span.first_created)
            .bind(span.last_created)
            .bind(span.first_uploaded)
            .bind(span.last_uploaded)
            .execute(&mut *conn)
            .await
            .map(drop)?
        });
        Ok(())
    }

    /// An edit moved one record's `uploaded_at`: the latest is now, the earliest is looked up
    /// again (an index seek).
    pub(super) async fn touch_counter(
        &mut self,
        form_ref: &str,
        branch_ref: &str,
        uploaded_at: i64,
    ) -> Result<()> {
        let project_id = self.project_id;
        let first = if branch_ref.is_empty() {
            "SELECT MIN(uploaded_at) FROM entries WHERE project_id = $1 AND form_ref = $2"
        } else {
            "SELECT MIN(uploaded_at) FROM branch_entries WHERE project_id = $1 AND \
             owner_input_ref = $3"
        };
        let sql = format!(
            "UPDATE entry_counters SET first_uploaded_at = ({first}), last_uploaded_at = CASE \
             WHEN last_uploaded_at IS NULL OR last_uploaded_at < $4 THEN $4 ELSE last_uploaded_at \
             END WHERE project_id = $1 AND form_ref = $2 AND branch_ref = $3"
        );
        with_tx!(self, |conn| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .bind(form_ref)
                .bind(branch_ref)
                .bind(uploaded_at)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// `n` records fewer in a form or branch; first/last timestamps looked up again (index
    /// seeks), the row dropped when none is left.
    pub(super) async fn shrink_counter(
        &mut self,
        form_ref: &str,
        branch_ref: &str,
        n: i64,
    ) -> Result<()> {
        let project_id = self.project_id;
        let (table, filter) = if branch_ref.is_empty() {
            ("entries", "form_ref = $2")
        } else {
            ("branch_entries", "owner_input_ref = $3")
        };
        let agg = |f: &str, col: &str| {
            format!("(SELECT {f}({col}) FROM {table} WHERE project_id = $1 AND {filter})")
        };
        let sql = format!(
            "UPDATE entry_counters SET entry_count = CASE WHEN entry_count - $4 < 0 THEN 0 ELSE \
             entry_count - $4 END, first_created_at = {}, last_created_at = {}, \
             first_uploaded_at = {}, last_uploaded_at = {} WHERE project_id = $1 AND \
             form_ref = $2 AND branch_ref = $3",
            agg("MIN", "created_at"),
            agg("MAX", "created_at"),
            agg("MIN", "uploaded_at"),
            agg("MAX", "uploaded_at"),
        );
        with_tx!(self, |conn| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .bind(form_ref)
                .bind(branch_ref)
                .bind(n)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        with_tx!(self, |conn| {
            sqlx::query(
                "DELETE FROM entry_counters WHERE project_id = $1 AND form_ref = $2 AND \
                 branch_ref = $3 AND entry_count = 0",
            )
            .bind(project_id)
            .bind(form_ref)
            .bind(branch_ref)
            .execute(&mut *conn)
            .await
            .map(drop)?
        });
        Ok(())
    }

    /// `child_counts` of `parent_uuid` := its direct children ([`RECOUNT_CHILDREN`]).
    pub(super) async fn recount_children(&mut self, parent_uuid: &str) -> Result<()> {
        let project_id = self.project_id;
        with_tx!(self, |conn| {
            sqlx::query(RECOUNT_CHILDREN)
                .bind(project_id)
                .bind(parent_uuid)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        Ok(())
    }

    pub(super) async fn branch_counts(
        &mut self,
        owner_id: i64,
    ) -> Result<Option<Map<String, Value>>> {
        let text: Option<Option<String>> = with_tx!(self, |conn| {
            sqlx::query_scalar("SELECT branch_counts FROM entries WHERE id = $1")
                .bind(owner_id)
                .fetch_optional(&mut *conn)
                .await?
        });
        Ok(text
            .flatten()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            }))
    }

    /// One more branch entry: the owner's count goes up by one, or is counted when it has none
    /// yet.
    pub(super) async fn bump_branch(&mut self, owner_id: i64, branch_ref: &str) -> Result<()> {
        self.add_to_branch(owner_id, branch_ref, 1).await
    }

    /// `k` more branch entries (already stored): as `k` calls of [`EntryTx::bump_branch`].
    pub(super) async fn add_to_branch(
        &mut self,
        owner_id: i64,
        branch_ref: &str,
        k: i64,
    ) -> Result<()> {
        let mut counts = self.branch_counts(owner_id).await?.unwrap_or_default();
        let Some(current) = counts.get(branch_ref).and_then(Value::as_i64) else {
            return self.recount_branch(owner_id, branch_ref).await;
        };
        counts.insert(branch_ref.to_string(), Value::from(current + k));
        self.write_branch_counts(owner_id, counts).await
    }

    async fn write_branch_counts(
        &mut self,
        owner_id: i64,
        counts: Map<String, Value>,
    ) -> Result<()> {
        let text = serde_json::to_string(&mysql_order(Value::Object(counts)))
            .unwrap_or_else(|_| "{}".into());
        with_tx!(self, |conn| {
            sqlx::query("UPDATE entries SET branch_counts = $1 WHERE id = $2")
                .bind(text)
                .bind(owner_id)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// The owner's `branch_counts[branch_ref]` := its branch entries of that branch.
    pub(super) async fn recount_branch(&mut self, owner_id: i64, branch_ref: &str) -> Result<()> {
        let count: i64 = with_tx!(self, |conn| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM branch_entries WHERE owner_entry_id = $1 AND owner_input_ref = $2"
        )
        .bind(owner_id)
        .bind(branch_ref)
        .fetch_one(&mut *conn)
        .await?
        });
        let mut counts = self.branch_counts(owner_id).await?.unwrap_or_default();
        counts.insert(branch_ref.to_string(), Value::from(count));
        self.write_branch_counts(owner_id, counts).await
    }
}

/// Records added to one form or branch: how many, their earliest and latest timestamps.
pub(super) struct FormSpan {
    count: i64,
    first_created: i64,
    last_created: i64,
    first_uploaded: i64,
    last_uploaded: i64,
}

impl FormSpan {
    pub(super) fn new(created_at: i64, uploaded_at: i64) -> FormSpan {
        FormSpan {
            count: 1,
            first_created: created_at,
            last_created: created_at,
            first_uploaded: uploaded_at,
            last_uploaded: uploaded_at,
        }
    }

    pub(super) fn add(&mut self, created_at: i64, uploaded_at: i64) {
        self.count += 1;
        self.first_created = self.first_created.min(created_at);
        self.last_created = self.last_created.max(created_at);
        self.first_uploaded = self.first_uploaded.min(uploaded_at);
        self.last_uploaded = self.last_uploaded.max(uploaded_at);
    }
}

/// Adds a span (`values`: project, form ref, branch ref, count, first and last created_at,
/// first and last uploaded_at) to its `entry_counters` row, made when missing.
pub(super) fn counter_upsert(values: &str) -> String {
    format!(
        "INSERT INTO entry_counters (project_id, form_ref, branch_ref, entry_count, \
         first_created_at, last_created_at, first_uploaded_at, last_uploaded_at) \
         VALUES ({values}) \
         ON CONFLICT (project_id, form_ref, branch_ref) DO UPDATE SET \
         entry_count = entry_counters.entry_count + excluded.entry_count, \
         first_created_at = CASE WHEN entry_counters.first_created_at IS NULL \
             OR excluded.first_created_at < entry_counters.first_created_at \
             THEN excluded.first_created_at ELSE entry_counters.first_created_at END, \
         last_created_at = CASE WHEN entry_counters.last_created_at IS NULL \
             OR excluded.last_created_at > entry_counters.last_created_at \
             THEN excluded.last_created_at ELSE entry_counters.last_created_at END, \
         first_uploaded_at = CASE WHEN entry_counters.first_uploaded_at IS NULL \
             OR excluded.first_uploaded_at < entry_counters.first_uploaded_at \
             THEN excluded.first_uploaded_at ELSE entry_counters.first_uploaded_at END, \
         last_uploaded_at = CASE WHEN entry_counters.last_uploaded_at IS NULL \
             OR excluded.last_uploaded_at > entry_counters.last_uploaded_at \
             THEN excluded.last_uploaded_at ELSE entry_counters.last_uploaded_at END"
    )
}
