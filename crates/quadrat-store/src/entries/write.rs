//! New records and edits, each with its share of the counters, the uniqueness index and the
//! media totals.

use quadrat_core::entry::{MediaKind, UniqueKey};

use super::counters::counter_upsert;
use super::{EntryTx, with_tx};
use crate::{Result, Store, conflict_as, with_pool};

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

/// What an edit changes (docs/protocol.md §6.5).
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

impl EntryTx {
    /// Stores a new hierarchy entry with its counters: the form's counter, the parent's
    /// `child_counts`, the uniqueness index. `branch_counts` is the new entry's own (zeros for
    /// each branch of its form, `None` when the form has none).
    ///
    /// One statement does it all (one round trip): on SQLite the statements one after the
    /// other in one call, on PostgreSQL one statement whose parts are data-modifying `WITH`
    /// queries. The changes feed (docs/protocol.md §17.5): the entry takes the next number of
    /// its project's counter (the row is made on first use), and a re-uploaded uuid loses its
    /// tombstone.
    pub async fn insert_entry(
        &mut self,
        r: &NewRecord<'_>,
        parent_uuid: &str,
        parent_form_ref: &str,
        branch_counts: Option<&str>,
    ) -> Result<i64> {
        let project_id = self.project_id;
        let sqlite = matches!(self.inner, super::TxInner::Sqlite(_));
        let sql = new_entry_sql(sqlite, r.unique.len(), !parent_uuid.is_empty());
        let epoch = crate::changes::new_epoch();
        let ids: Vec<i64> = with_tx!(self, |conn| {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
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
                .bind(epoch);
            for k in r.unique {
                q = q.bind(&k.input_ref).bind(&k.scope).bind(&k.key);
            }
            // Every row (there is one): a limit would stop SQLite before the later statements.
            q.fetch_all(&mut *conn)
                .await
                .map_err(|e| conflict_as(e, crate::Conflict::EntryUuid))?
        });
        #[cfg(feature = "test-support")]
        crate::changes::pause::after_seq_taken().await;
        ids.first()
            .copied()
            .ok_or_else(|| crate::StoreError::NotFound("project".into()))
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
        // The owner's exported branch count changes too: it is stamped first (owner before its
        // branch rows, docs/protocol.md §17.5).
        self.restamp_entry(owner_entry_id).await?;
        let seq = self.next_seq_of_new(r.uuid).await?;
        let id: i64 = with_tx!(self, |conn| {
            sqlx::query_scalar(
                "INSERT INTO branch_entries (project_id, uuid, owner_entry_id, owner_uuid, \
                 owner_input_ref, form_ref, user_id, platform, device_id, created_at, \
                 uploaded_at, title, entry_data, geo_json_data, change_seq) VALUES ($1, $2, $3, \
                 $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
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
            .bind(seq)
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
        let seq = self.next_seq().await?;
        let sql = format!(
            "UPDATE {} SET title = $1, entry_data = $2, geo_json_data = $3, uploaded_at = $4, \
             user_id = COALESCE($5, user_id), change_seq = $7 WHERE id = $6",
            table.name()
        );
        with_tx!(self, |conn| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(e.title)
                .bind(e.entry_data)
                .bind(e.geo_json_data)
                .bind(e.uploaded_at)
                .bind(e.user_id)
                .bind(e.id)
                .bind(seq)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        let clear = format!(
            "DELETE FROM unique_answers WHERE {} = $1",
            table.unique_column()
        );
        with_tx!(self, |conn| {
            sqlx::query(sqlx::AssertSqlSafe(clear))
                .bind(e.id)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
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
            with_tx!(self, |conn| {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(project_id)
                    .bind(&k.input_ref)
                    .bind(&k.scope)
                    .bind(&k.key)
                    .bind(uuid)
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map(drop)?
            });
        }
        Ok(())
    }

    /// Adds `files` and `bytes` (either may be negative) to a media kind's totals, never below
    /// zero.
    pub async fn add_media(&mut self, kind: MediaKind, files: i64, bytes: i64) -> Result<()> {
        let project_id = self.project_id;
        let sql = media_sql(kind);
        with_tx!(self, |conn| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(files)
                .bind(bytes)
                .bind(project_id)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        Ok(())
    }
}

impl Store {
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

/// The statement of [`EntryTx::insert_entry`] for `keys` unique answers, with the parent's
/// `child_counts` when `parent`. Parameters: $1 project, $2 uuid, $3 parent uuid, $4 form ref,
/// $5 parent form ref, $6 user, $7 platform, $8 device, $9 created_at, $10 uploaded_at,
/// $11 title, $12 entry_data, $13 geo_json_data, $14 branch_counts, $15 a new counter's
/// epoch, then each key's input ref, scope and answer key.
fn new_entry_sql(sqlite: bool, keys: usize, parent: bool) -> String {
    use std::fmt::Write as _;
    const SEQ: &str = "INSERT INTO change_counters (project_id, last_seq, epoch, tombstone_floor) \
         VALUES ($1, 1, $15, 0) ON CONFLICT (project_id) DO UPDATE SET last_seq = \
         change_counters.last_seq + 1";
    const TOMBSTONE: &str = "DELETE FROM change_tombstones WHERE project_id = $1 AND uuid = $2";
    const ENTRY: &str = "INSERT INTO entries (project_id, uuid, parent_uuid, form_ref, \
         parent_form_ref, user_id, platform, device_id, created_at, uploaded_at, title, \
         entry_data, geo_json_data, child_counts, branch_counts, change_seq)";
    const ENTRY_VALUES: &str = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14";
    const UNIQUE: &str = "INSERT INTO unique_answers (project_id, input_ref, scope, answer_key, entry_uuid, entry_id)";
    let counter = counter_upsert("$1, $4, '', 1, $9, $9, $10, $10");
    const PARENT: &str = "UPDATE entries SET child_counts = child_counts + 1 WHERE uuid = $3 AND \
         project_id = $1";
    let key = |i: usize| {
        let n = 16 + 3 * i;
        format!("${}, ${}, ${}", n, n + 1, n + 2)
    };
    let mut sql = String::with_capacity(2048);
    if sqlite {
        // The statements in order; the entry's id is the one row they return.
        let _ = write!(
            sql,
            "{SEQ}; {TOMBSTONE}; {ENTRY} VALUES ({ENTRY_VALUES}, (SELECT last_seq FROM \
             change_counters WHERE project_id = $1)) RETURNING id;"
        );
        if keys > 0 {
            let rows: Vec<String> = (0..keys)
                .map(|i| {
                    format!(
                        "($1, {}, $2, (SELECT id FROM entries WHERE uuid = $2))",
                        key(i)
                    )
                })
                .collect();
            let _ = write!(sql, " {UNIQUE} VALUES {};", rows.join(", "));
        }
        let _ = write!(sql, " {counter};");
        if parent {
            let _ = write!(sql, " {PARENT};");
        }
    } else {
        // One statement: its parts see the same snapshot and each other only through
        // RETURNING; the foreign keys are checked at its end.
        let _ = write!(
            sql,
            "WITH s AS ({SEQ} RETURNING last_seq), t AS ({TOMBSTONE}), e AS ({ENTRY} SELECT \
             {ENTRY_VALUES}, s.last_seq FROM s RETURNING id)"
        );
        if keys > 0 {
            let rows: Vec<String> = (0..keys).map(|i| format!("({})", key(i))).collect();
            let _ = write!(
                sql,
                ", u AS ({UNIQUE} SELECT $1, k.input_ref, k.scope, k.answer_key, $2, e.id FROM e, \
                 (VALUES {}) AS k (input_ref, scope, answer_key))",
                rows.join(", ")
            );
        }
        let _ = write!(sql, ", c AS ({counter})");
        if parent {
            let _ = write!(sql, ", p AS ({PARENT})");
        }
        sql.push_str(" SELECT id FROM e");
    }
    sql
}
