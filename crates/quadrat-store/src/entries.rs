//! Entries and branch entries: the writes of an upload, inside one transaction per upload (or
//! per batch) that also keeps every counter exact — the per-form and per-branch
//! `entry_counters`, the parent's `child_counts`, the owner's `branch_counts`, the uniqueness
//! index and the media totals. Writers of one project are serialised: SQLite has one writer
//! (`BEGIN IMMEDIATE`), PostgreSQL takes a transaction-scoped advisory lock on the project.

use std::collections::BTreeMap;

use quadrat_core::entry::{MediaKind, UniqueKey};
use quadrat_core::json::mysql_order;
use serde_json::{Map, Value};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::{Db, Result, Store, StoreError, conflict_as, with_pool};

/// The namespace of the per-project advisory locks (the migration lock uses another key).
const LOCK_NAMESPACE: i64 = 0x5155_4144_0000_0000;

/// A hierarchy entry as stored, the columns the upload rules read.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEntry {
    pub id: i64,
    pub project_id: i64,
    pub uuid: String,
    pub form_ref: String,
    pub parent_uuid: String,
    pub user_id: i64,
    pub device_id: String,
}

/// A branch entry as stored, the columns the upload rules read.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredBranchEntry {
    pub id: i64,
    pub project_id: i64,
    pub uuid: String,
    pub form_ref: String,
    pub owner_entry_id: i64,
    pub owner_uuid: String,
    pub owner_input_ref: String,
    pub user_id: i64,
    pub device_id: String,
}

/// Every column of an entry row, for reads and tests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub project_id: i64,
    pub uuid: String,
    pub parent_uuid: String,
    pub form_ref: String,
    pub parent_form_ref: String,
    pub user_id: i64,
    pub platform: String,
    pub device_id: String,
    pub created_at: i64,
    pub uploaded_at: i64,
    pub title: String,
    pub entry_data: String,
    pub geo_json_data: Option<String>,
    pub child_counts: i64,
    pub branch_counts: Option<String>,
}

/// Every column of a branch entry row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BranchEntryRow {
    pub id: i64,
    pub project_id: i64,
    pub uuid: String,
    pub owner_entry_id: i64,
    pub owner_uuid: String,
    pub owner_input_ref: String,
    pub form_ref: String,
    pub user_id: i64,
    pub platform: String,
    pub device_id: String,
    pub created_at: i64,
    pub uploaded_at: i64,
    pub title: String,
    pub entry_data: String,
    pub geo_json_data: Option<String>,
}

/// The columns both tables share, for a new record.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub uuid: &'a str,
    pub form_ref: &'a str,
    pub user_id: i64,
    pub platform: &'a str,
    /// Already hashed.
    pub device_id: &'a str,
    pub created_at: i64,
    pub uploaded_at: i64,
    pub title: &'a str,
    pub entry_data: &'a str,
    pub geo_json_data: Option<&'a str>,
    pub unique: &'a [UniqueKey],
}

/// What an edit changes (data-model.md §3.5).
#[derive(Debug, Clone)]
pub struct RecordEdit<'a> {
    pub id: i64,
    pub uuid: &'a str,
    pub form_ref: &'a str,
    pub title: &'a str,
    pub entry_data: &'a str,
    pub geo_json_data: Option<&'a str>,
    pub uploaded_at: i64,
    /// A new owner of the row (the device's entry claimed by its logged-in user).
    pub user_id: Option<i64>,
    pub unique: &'a [UniqueKey],
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection, once per engine.
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match &mut $tx.inner {
            TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// A write transaction on one project's entries. Dropped without [`EntryTx::commit`], nothing
/// it did stays.
pub struct EntryTx {
    inner: TxInner,
    project_id: i64,
}

impl Store {
    /// Starts the write transaction of an upload (or a batch of them) to `project_id`, holding
    /// the project's writer lock until commit or drop.
    pub async fn begin_entries(&self, project_id: i64) -> Result<EntryTx> {
        let inner = match &self.db {
            Db::Sqlite { write, .. } => TxInner::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOCK_NAMESPACE | project_id)
                    .execute(&mut *tx)
                    .await?;
                TxInner::Postgres(tx)
            }
        };
        Ok(EntryTx { inner, project_id })
    }
}

const STORED_ENTRY: &str =
    "SELECT id, project_id, uuid, form_ref, parent_uuid, user_id, device_id FROM entries";
const STORED_BRANCH: &str = "SELECT id, project_id, uuid, form_ref, owner_entry_id, owner_uuid, \
     owner_input_ref, user_id, device_id FROM branch_entries";

impl EntryTx {
    pub fn project_id(&self) -> i64 {
        self.project_id
    }

    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// The hierarchy entry with this uuid, in any project (uuids are globally unique).
    pub async fn entry_by_uuid(&mut self, uuid: &str) -> Result<Option<StoredEntry>> {
        let sql = format!("{STORED_ENTRY} WHERE uuid = $1");
        with_tx!(self, |conn| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(uuid)
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// The branch entry with this uuid, in any project.
    pub async fn branch_entry_by_uuid(&mut self, uuid: &str) -> Result<Option<StoredBranchEntry>> {
        let sql = format!("{STORED_BRANCH} WHERE uuid = $1");
        with_tx!(self, |conn| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(uuid)
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// The id of this project's entry `uuid` of form `form_ref`.
    pub async fn entry_id_in_form(&mut self, uuid: &str, form_ref: &str) -> Result<Option<i64>> {
        let project_id = self.project_id;
        with_tx!(self, |conn| Ok(sqlx::query_scalar(
            "SELECT id FROM entries WHERE uuid = $1 AND project_id = $2 AND form_ref = $3"
        )
        .bind(uuid)
        .bind(project_id)
        .bind(form_ref)
        .fetch_optional(&mut *conn)
        .await?))
    }

    /// The input refs among `keys` whose answer a record other than `uuid` already holds.
    pub async fn taken_answers(&mut self, keys: &[UniqueKey], uuid: &str) -> Result<Vec<String>> {
        let project_id = self.project_id;
        let mut taken = Vec::new();
        for k in keys {
            let hit: Option<String> = with_tx!(self, |conn| {
                sqlx::query_scalar(
                "SELECT entry_uuid FROM unique_answers WHERE project_id = $1 AND input_ref = $2 \
                 AND scope = $3 AND answer_key = $4 AND entry_uuid <> $5 LIMIT 1"
            )
            .bind(project_id)
            .bind(&k.input_ref)
            .bind(&k.scope)
            .bind(&k.key)
            .bind(uuid)
            .fetch_optional(&mut *conn)
            .await?
            });
            if hit.is_some() {
                taken.push(k.input_ref.clone());
            }
        }
        Ok(taken)
    }

    /// Entries of a form (all of them: the form's counter).
    pub async fn form_count(&mut self, form_ref: &str) -> Result<i64> {
        let project_id = self.project_id;
        let n: Option<i64> = with_tx!(self, |conn| {
            sqlx::query_scalar(
            "SELECT entry_count FROM entry_counters WHERE project_id = $1 AND form_ref = $2 AND branch_ref = ''"
        )
        .bind(project_id)
        .bind(form_ref)
        .fetch_optional(&mut *conn)
        .await?
        });
        Ok(n.unwrap_or(0))
    }

    /// Entries of a child form under one parent.
    pub async fn children_count(&mut self, form_ref: &str, parent_uuid: &str) -> Result<i64> {
        let project_id = self.project_id;
        with_tx!(self, |conn| {
            Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM entries WHERE parent_uuid = $1 AND form_ref = $2 AND project_id = $3"
        )
        .bind(parent_uuid)
        .bind(form_ref)
        .bind(project_id)
        .fetch_one(&mut *conn)
        .await?)
        })
    }

    /// Branch entries of one branch under one owner.
    pub async fn branch_count(&mut self, owner_uuid: &str, branch_ref: &str) -> Result<i64> {
        let project_id = self.project_id;
        with_tx!(self, |conn| {
            Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM branch_entries WHERE owner_uuid = $1 AND owner_input_ref = $2 AND project_id = $3"
        )
        .bind(owner_uuid)
        .bind(branch_ref)
        .bind(project_id)
        .fetch_one(&mut *conn)
        .await?)
        })
    }

    /// Stores a new hierarchy entry with its counters: the form's counter, the parent's
    /// `child_counts`, the uniqueness index. `branch_counts` is the new entry's own (zeros for
    /// each branch of its form, `None` when the form has none).
    pub async fn insert_entry(
        &mut self,
        r: &NewRecord<'_>,
        parent_uuid: &str,
        parent_form_ref: &str,
        branch_counts: Option<&str>,
    ) -> Result<i64> {
        let project_id = self.project_id;
        let id: i64 = with_tx!(self, |conn| {
            sqlx::query_scalar(
            "INSERT INTO entries (project_id, uuid, parent_uuid, form_ref, parent_form_ref, user_id, \
             platform, device_id, created_at, uploaded_at, title, entry_data, geo_json_data, child_counts, branch_counts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14) RETURNING id"
        )
        .bind(project_id)
        .bind(r.uuid)
        .bind(parent_uuid)
        .bind(r.form_ref)
        .bind(parent_form_ref)
        .bind(r.user_id)
        .bind(r.platform)
        .bind(r.device_id)
        .bind(r.created_at)
        .bind(r.uploaded_at)
        .bind(r.title)
        .bind(r.entry_data)
        .bind(r.geo_json_data)
        .bind(branch_counts)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| conflict_as(e, crate::Conflict::EntryUuid))?
        });
        self.insert_unique(Table::Entries, id, r.uuid, r.unique)
            .await?;
        self.bump_counter(r.form_ref, "", r.created_at, r.uploaded_at)
            .await?;
        if !parent_uuid.is_empty() {
            // One more child: an increment keeps a bulk import linear (edits and deletions
            // recount).
            with_tx!(self, |conn| {
                sqlx::query(
                "UPDATE entries SET child_counts = child_counts + 1 WHERE uuid = $1 AND project_id = $2"
            )
            .bind(parent_uuid)
            .bind(project_id)
            .execute(&mut *conn)
            .await
            .map(drop)?
            });
        }
        Ok(id)
    }

    /// Stores a new branch entry with its counters: the branch's counter, the owner's
    /// `branch_counts`, the uniqueness index.
    pub async fn insert_branch_entry(
        &mut self,
        r: &NewRecord<'_>,
        owner_entry_id: i64,
        owner_uuid: &str,
        owner_input_ref: &str,
    ) -> Result<i64> {
        let project_id = self.project_id;
        let id: i64 = with_tx!(self, |conn| {
            sqlx::query_scalar(
            "INSERT INTO branch_entries (project_id, uuid, owner_entry_id, owner_uuid, owner_input_ref, \
             form_ref, user_id, platform, device_id, created_at, uploaded_at, title, entry_data, geo_json_data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
        )
        .bind(project_id)
        .bind(r.uuid)
        .bind(owner_entry_id)
        .bind(owner_uuid)
        .bind(owner_input_ref)
        .bind(r.form_ref)
        .bind(r.user_id)
        .bind(r.platform)
        .bind(r.device_id)
        .bind(r.created_at)
        .bind(r.uploaded_at)
        .bind(r.title)
        .bind(r.entry_data)
        .bind(r.geo_json_data)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| conflict_as(e, crate::Conflict::BranchEntryUuid))?
        });
        self.insert_unique(Table::BranchEntries, id, r.uuid, r.unique)
            .await?;
        self.bump_counter(r.form_ref, owner_input_ref, r.created_at, r.uploaded_at)
            .await?;
        self.bump_branch(owner_entry_id, owner_input_ref).await?;
        Ok(id)
    }

    /// Applies an edit to a hierarchy entry and refreshes its own counts: `child_counts` (its
    /// direct children) and, when it has them, `branch_counts`.
    pub async fn update_entry(&mut self, e: &RecordEdit<'_>) -> Result<()> {
        self.update_record(Table::Entries, e).await?;
        self.touch_counter(e.form_ref, "", e.uploaded_at).await?;
        self.recount_children(e.uuid).await?;
        let branch_refs: Vec<String> = {
            let current = self.branch_counts(e.id).await?;
            current
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        for branch_ref in branch_refs {
            self.recount_branch(e.id, &branch_ref).await?;
        }
        Ok(())
    }

    /// Applies an edit to a branch entry.
    pub async fn update_branch_entry(
        &mut self,
        e: &RecordEdit<'_>,
        owner_input_ref: &str,
    ) -> Result<()> {
        self.update_record(Table::BranchEntries, e).await?;
        self.touch_counter(e.form_ref, owner_input_ref, e.uploaded_at)
            .await
    }

    async fn update_record(&mut self, table: Table, e: &RecordEdit<'_>) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET title = $1, entry_data = $2, geo_json_data = $3, uploaded_at = $4, \
             user_id = COALESCE($5, user_id) WHERE id = $6",
            table.name()
        );
        with_tx!(self, |conn| sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(e.title)
            .bind(e.entry_data)
            .bind(e.geo_json_data)
            .bind(e.uploaded_at)
            .bind(e.user_id)
            .bind(e.id)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        let clear = format!(
            "DELETE FROM unique_answers WHERE {} = $1",
            table.unique_column()
        );
        with_tx!(self, |conn| sqlx::query(sqlx::AssertSqlSafe(clear))
            .bind(e.id)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        self.insert_unique(table, e.id, e.uuid, e.unique).await
    }

    async fn insert_unique(
        &mut self,
        table: Table,
        id: i64,
        uuid: &str,
        keys: &[UniqueKey],
    ) -> Result<()> {
        let project_id = self.project_id;
        let sql = format!(
            "INSERT INTO unique_answers (project_id, input_ref, scope, answer_key, entry_uuid, {}) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            table.unique_column()
        );
        for k in keys {
            with_tx!(self, |conn| sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(project_id)
                .bind(&k.input_ref)
                .bind(&k.scope)
                .bind(&k.key)
                .bind(uuid)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map(drop)?);
        }
        Ok(())
    }

    /// One more record in a form (`branch_ref` empty) or a branch.
    async fn bump_counter(
        &mut self,
        form_ref: &str,
        branch_ref: &str,
        created_at: i64,
        uploaded_at: i64,
    ) -> Result<()> {
        let project_id = self.project_id;
        with_tx!(self, |conn| {
            sqlx::query(
            "INSERT INTO entry_counters (project_id, form_ref, branch_ref, entry_count, first_created_at, \
             last_created_at, first_uploaded_at, last_uploaded_at) VALUES ($1, $2, $3, 1, $4, $4, $5, $5) \
             ON CONFLICT (project_id, form_ref, branch_ref) DO UPDATE SET \
             entry_count = entry_counters.entry_count + 1, \
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
        .bind(project_id)
        .bind(form_ref)
        .bind(branch_ref)
        .bind(created_at)
        .bind(uploaded_at)
        .execute(&mut *conn)
            .await
            .map(drop)?
        });
        Ok(())
    }

    /// An edit moved one record's `uploaded_at`: the latest is now, the earliest is looked up
    /// again (an index seek).
    async fn touch_counter(
        &mut self,
        form_ref: &str,
        branch_ref: &str,
        uploaded_at: i64,
    ) -> Result<()> {
        let project_id = self.project_id;
        let first = if branch_ref.is_empty() {
            "SELECT MIN(uploaded_at) FROM entries WHERE project_id = $1 AND form_ref = $2"
        } else {
            "SELECT MIN(uploaded_at) FROM branch_entries WHERE project_id = $1 AND owner_input_ref = $3"
        };
        let sql = format!(
            "UPDATE entry_counters SET first_uploaded_at = ({first}), \
             last_uploaded_at = CASE WHEN last_uploaded_at IS NULL OR last_uploaded_at < $4 THEN $4 ELSE last_uploaded_at END \
             WHERE project_id = $1 AND form_ref = $2 AND branch_ref = $3"
        );
        with_tx!(self, |conn| sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(form_ref)
            .bind(branch_ref)
            .bind(uploaded_at)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        Ok(())
    }

    /// `child_counts` of `parent_uuid` := its direct children.
    async fn recount_children(&mut self, parent_uuid: &str) -> Result<()> {
        let project_id = self.project_id;
        with_tx!(self, |conn| {
            sqlx::query(
            "UPDATE entries SET child_counts = (SELECT COUNT(*) FROM entries c WHERE c.parent_uuid = $2 \
             AND c.project_id = $1) WHERE uuid = $2 AND project_id = $1"
        )
        .bind(project_id)
        .bind(parent_uuid)
        .execute(&mut *conn)
            .await
            .map(drop)?
        });
        Ok(())
    }

    async fn branch_counts(&mut self, owner_id: i64) -> Result<Option<Map<String, Value>>> {
        let text: Option<Option<String>> = with_tx!(self, |conn| sqlx::query_scalar(
            "SELECT branch_counts FROM entries WHERE id = $1"
        )
        .bind(owner_id)
        .fetch_optional(&mut *conn)
        .await?);
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
    async fn bump_branch(&mut self, owner_id: i64, branch_ref: &str) -> Result<()> {
        let mut counts = self.branch_counts(owner_id).await?.unwrap_or_default();
        let Some(current) = counts.get(branch_ref).and_then(Value::as_i64) else {
            return self.recount_branch(owner_id, branch_ref).await;
        };
        counts.insert(branch_ref.to_string(), Value::from(current + 1));
        self.write_branch_counts(owner_id, counts).await
    }

    async fn write_branch_counts(
        &mut self,
        owner_id: i64,
        counts: Map<String, Value>,
    ) -> Result<()> {
        let text = serde_json::to_string(&mysql_order(Value::Object(counts)))
            .unwrap_or_else(|_| "{}".into());
        with_tx!(self, |conn| sqlx::query(
            "UPDATE entries SET branch_counts = $1 WHERE id = $2"
        )
        .bind(text)
        .bind(owner_id)
        .execute(&mut *conn)
        .await
        .map(drop)?);
        Ok(())
    }

    /// The owner's `branch_counts[branch_ref]` := its branch entries of that branch.
    async fn recount_branch(&mut self, owner_id: i64, branch_ref: &str) -> Result<()> {
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

    /// Adds `files` and `bytes` (either may be negative) to a media kind's totals, never below
    /// zero.
    pub async fn add_media(&mut self, kind: MediaKind, files: i64, bytes: i64) -> Result<()> {
        let project_id = self.project_id;
        let sql = media_sql(kind);
        with_tx!(self, |conn| sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(files)
            .bind(bytes)
            .bind(project_id)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        Ok(())
    }
}

fn media_sql(kind: MediaKind) -> String {
    let k = kind.as_str();
    format!(
        "UPDATE project_stats SET \
         {k}_files = CASE WHEN {k}_files + $1 < 0 THEN 0 ELSE {k}_files + $1 END, \
         {k}_bytes = CASE WHEN {k}_bytes + $2 < 0 THEN 0 ELSE {k}_bytes + $2 END \
         WHERE project_id = $3"
    )
}

#[derive(Debug, Clone, Copy)]
enum Table {
    Entries,
    BranchEntries,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Entries => "entries",
            Table::BranchEntries => "branch_entries",
        }
    }

    fn unique_column(self) -> &'static str {
        match self {
            Table::Entries => "entry_id",
            Table::BranchEntries => "branch_entry_id",
        }
    }
}

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteTarget {
    /// One entry with its descendants, or one branch entry.
    Uuid(String),
    /// Every entry of a form, with their descendants.
    Form(String),
}

/// What a deletion removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Hierarchy entries, the target(s) first.
    pub entries: Vec<String>,
    pub branch_entries: Vec<String>,
}

/// The entries the deletion starts from, then every descendant through `parent_uuid`.
const DESCENDANTS: &str = "WITH RECURSIVE doomed(id, uuid) AS ( \
     SELECT id, uuid FROM entries WHERE project_id = $1 AND {start} \
     UNION SELECT e.id, e.uuid FROM entries e JOIN doomed d ON e.parent_uuid = d.uuid WHERE e.project_id = $1)";

#[derive(sqlx::FromRow)]
struct Doomed {
    uuid: String,
    form_ref: String,
    parent_uuid: String,
}

#[derive(sqlx::FromRow)]
struct DoomedBranch {
    uuid: String,
    form_ref: String,
    owner_input_ref: String,
}

impl Store {
    /// Deletes entries with every descendant (any depth) and their branch entries, or one
    /// branch entry, and puts every counter right: the forms' and branches' `entry_counters`,
    /// the parents' `child_counts`, the owners' `branch_counts`. Media files are the caller's.
    pub async fn delete_entries(&self, project_id: i64, target: &DeleteTarget) -> Result<Deleted> {
        let mut tx = self.begin_entries(project_id).await?;
        let deleted = tx.delete(target).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// A hierarchy entry of a project, by uuid.
    pub async fn entry_row(&self, project_id: i64, uuid: &str) -> Result<Option<EntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
            "SELECT id, project_id, uuid, parent_uuid, form_ref, parent_form_ref, user_id, platform, \
             device_id, created_at, uploaded_at, title, entry_data, geo_json_data, child_counts, branch_counts \
             FROM entries WHERE project_id = $1 AND uuid = $2"
        )
        .bind(project_id)
        .bind(uuid)
        .fetch_optional(pool)
        .await?)
        })
    }

    /// A branch entry of a project, by uuid.
    pub async fn branch_entry_row(
        &self,
        project_id: i64,
        uuid: &str,
    ) -> Result<Option<BranchEntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
            "SELECT id, project_id, uuid, owner_entry_id, owner_uuid, owner_input_ref, form_ref, user_id, \
             platform, device_id, created_at, uploaded_at, title, entry_data, geo_json_data \
             FROM branch_entries WHERE project_id = $1 AND uuid = $2"
        )
        .bind(project_id)
        .bind(uuid)
        .fetch_optional(pool)
        .await?)
        })
    }

    /// Rows in `entries` and `branch_entries` of a project, counted (for checks and tests).
    pub async fn entry_totals(&self, project_id: i64) -> Result<(i64, i64)> {
        with_pool!(self, read, |pool| {
            let entries: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM entries WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_one(pool)
                    .await?;
            let branches: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM branch_entries WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_one(pool)
                    .await?;
            Ok((entries, branches))
        })
    }

    /// Adds to a media kind's totals outside an upload (after files were removed).
    pub async fn add_media_totals(
        &self,
        project_id: i64,
        kind: MediaKind,
        files: i64,
        bytes: i64,
    ) -> Result<()> {
        let sql = media_sql(kind);
        with_pool!(self, write, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(files)
                .bind(bytes)
                .bind(project_id)
                .execute(pool)
                .await?;
            Ok(())
        })
    }
}

impl EntryTx {
    /// The deletion itself, inside this transaction.
    pub async fn delete(&mut self, target: &DeleteTarget) -> Result<Deleted> {
        let project_id = self.project_id;
        let (start, key) = match target {
            DeleteTarget::Uuid(uuid) => {
                if self.delete_branch_entry(uuid).await? {
                    return Ok(Deleted {
                        entries: Vec::new(),
                        branch_entries: vec![uuid.clone()],
                    });
                }
                ("uuid = $2", uuid)
            }
            DeleteTarget::Form(form_ref) => ("form_ref = $2", form_ref),
        };
        let cte = DESCENDANTS.replace("{start}", start);
        let doomed: Vec<Doomed> = {
            let sql = format!(
                "{cte} SELECT e.uuid, e.form_ref, e.parent_uuid FROM entries e \
                 JOIN doomed d ON d.id = e.id ORDER BY e.id"
            );
            with_tx!(self, |conn| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .bind(key)
                .fetch_all(&mut *conn)
                .await?)
        };
        if doomed.is_empty() {
            return Err(StoreError::NotFound("entry".into()));
        }
        let branches: Vec<DoomedBranch> = {
            let sql = format!(
                "{cte} SELECT b.uuid, b.form_ref, b.owner_input_ref FROM branch_entries b \
                 JOIN doomed d ON d.id = b.owner_entry_id ORDER BY b.id"
            );
            with_tx!(self, |conn| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .bind(key)
                .fetch_all(&mut *conn)
                .await?)
        };
        {
            let sql = format!("{cte} DELETE FROM entries WHERE id IN (SELECT id FROM doomed)");
            with_tx!(self, |conn| sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(project_id)
                .bind(key)
                .execute(&mut *conn)
                .await
                .map(drop)?);
        }
        let mut per_counter: BTreeMap<(String, String), i64> = BTreeMap::new();
        for d in &doomed {
            *per_counter
                .entry((d.form_ref.clone(), String::new()))
                .or_default() += 1;
        }
        for b in &branches {
            *per_counter
                .entry((b.form_ref.clone(), b.owner_input_ref.clone()))
                .or_default() += 1;
        }
        for ((form_ref, branch_ref), n) in &per_counter {
            self.shrink_counter(form_ref, branch_ref, *n).await?;
        }
        // Parents that survive (outside the deleted set) lose children.
        let gone: std::collections::HashSet<&str> =
            doomed.iter().map(|d| d.uuid.as_str()).collect();
        let mut parents: Vec<&str> = doomed
            .iter()
            .map(|d| d.parent_uuid.as_str())
            .filter(|p| !p.is_empty() && !gone.contains(p))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        for parent in parents {
            self.recount_children(parent).await?;
        }
        Ok(Deleted {
            entries: doomed.into_iter().map(|d| d.uuid).collect(),
            branch_entries: branches.into_iter().map(|b| b.uuid).collect(),
        })
    }

    /// Deletes the branch entry `uuid` of this project, if there is one.
    async fn delete_branch_entry(&mut self, uuid: &str) -> Result<bool> {
        let project_id = self.project_id;
        let sql = format!("{STORED_BRANCH} WHERE uuid = $1 AND project_id = $2");
        let found: Option<StoredBranchEntry> =
            with_tx!(self, |conn| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(uuid)
                .bind(project_id)
                .fetch_optional(&mut *conn)
                .await?);
        let Some(b) = found else {
            return Ok(false);
        };
        with_tx!(self, |conn| sqlx::query(
            "DELETE FROM branch_entries WHERE id = $1"
        )
        .bind(b.id)
        .execute(&mut *conn)
        .await
        .map(drop)?);
        self.shrink_counter(&b.form_ref, &b.owner_input_ref, 1)
            .await?;
        self.recount_branch(b.owner_entry_id, &b.owner_input_ref)
            .await?;
        Ok(true)
    }

    /// `n` records fewer in a form or branch; first/last timestamps looked up again (index
    /// seeks), the row dropped when none is left.
    async fn shrink_counter(&mut self, form_ref: &str, branch_ref: &str, n: i64) -> Result<()> {
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
            "UPDATE entry_counters SET entry_count = CASE WHEN entry_count - $4 < 0 THEN 0 ELSE entry_count - $4 END, \
             first_created_at = {}, last_created_at = {}, first_uploaded_at = {}, last_uploaded_at = {} \
             WHERE project_id = $1 AND form_ref = $2 AND branch_ref = $3",
            agg("MIN", "created_at"),
            agg("MAX", "created_at"),
            agg("MIN", "uploaded_at"),
            agg("MAX", "uploaded_at"),
        );
        with_tx!(self, |conn| sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(form_ref)
            .bind(branch_ref)
            .bind(n)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        with_tx!(self, |conn| {
            sqlx::query(
            "DELETE FROM entry_counters WHERE project_id = $1 AND form_ref = $2 AND branch_ref = $3 AND entry_count = 0"
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
}

impl Store {
    /// Every entry row of a project, oldest first.
    pub async fn entry_rows(&self, project_id: i64) -> Result<Vec<EntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
            "SELECT id, project_id, uuid, parent_uuid, form_ref, parent_form_ref, user_id, platform, \
             device_id, created_at, uploaded_at, title, entry_data, geo_json_data, child_counts, branch_counts \
             FROM entries WHERE project_id = $1 ORDER BY id"
        )
        .bind(project_id)
        .fetch_all(pool)
        .await?)
        })
    }

    /// Every branch entry row of a project, oldest first.
    pub async fn branch_entry_rows(&self, project_id: i64) -> Result<Vec<BranchEntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
            "SELECT id, project_id, uuid, owner_entry_id, owner_uuid, owner_input_ref, form_ref, user_id, \
             platform, device_id, created_at, uploaded_at, title, entry_data, geo_json_data \
             FROM branch_entries WHERE project_id = $1 ORDER BY id"
        )
        .bind(project_id)
        .fetch_all(pool)
        .await?)
        })
    }
}
