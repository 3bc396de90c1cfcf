//! The bulk import's batched half: what a batch of rows needs looked up, read in a few
//! statements, and its new hierarchy entries written with multi-row statements. The counters
//! and the changes feed's numbers change in the same transaction, as [`EntryTx::insert_entry`]
//! changes them for one row: the sum of the rows' increments, applied once per form and parent.

use std::collections::HashMap;

use quadrat_core::entry::UniqueKey;

use super::counters::FormSpan;
use super::lookups::STORED_ENTRY;
use super::write::NewRecord;
use super::{EntryTx, with_tx};
use crate::{Result, conflict_as};

/// Values per `IN (…)` list.
pub(super) const IN_LIST: usize = 500;

/// [`EntryTx::answer_holders`] on SQLite, for `n` answers: the index's four columns sought
/// for each answer of the `IN` list.
pub(super) fn holders_sqlite(n: usize) -> String {
    format!(
        "SELECT answer_key, entry_uuid FROM unique_answers WHERE project_id = ? AND input_ref = ? \
         AND scope = ? AND answer_key IN ({})",
        vec!["?"; n].join(", ")
    )
}

/// [`EntryTx::answer_holders`] on PostgreSQL: one index probe per answer, whatever the
/// table's statistics say. `answer_key = ANY($4)` was planned as a scan of every answer of
/// the input and scope with the array as a filter whenever the table had no statistics yet
/// (a new project, or one filled faster than autovacuum analyses it: the bulk import into a
/// new project), since the planner then expects one row per input and scope; each batch of
/// an import read every answer stored before it. `OFFSET 0` keeps the subquery from being
/// flattened into a join the planner could cost the same way.
pub(super) const HOLDERS_POSTGRES: &str = "SELECT k.answer_key, u.entry_uuid \
     FROM unnest($4::text[]) AS k(answer_key) CROSS JOIN LATERAL (SELECT entry_uuid \
     FROM unique_answers WHERE project_id = $1 AND input_ref = $2 AND scope = $3 \
     AND answer_key = k.answer_key OFFSET 0) u";

/// Rows per multi-row `INSERT` (their parameters are anonymous on SQLite, see
/// [`EntryTx::params`], so a long statement binds in linear time).
pub(super) const INSERT_ROWS: usize = 100;
/// Uniqueness rows (6 columns) per `INSERT`.
const UNIQUE_ROWS: usize = 200;

/// A new hierarchy entry of a batch: the columns of [`EntryTx::insert_entry`]'s arguments.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub record: NewRecord<'a>,
    pub parent_uuid: &'a str,
    pub parent_form_ref: &'a str,
    pub branch_counts: Option<&'a str>,
}

impl EntryTx {
    /// `n` bind parameters, the statement's `first` to `first + n - 1`: `$first, …` on
    /// PostgreSQL, anonymous `?, …` on SQLite, where sqlx finds each `$N` by a scan of the
    /// statement's parameter names (binding a long statement costs the square of its length).
    /// Anonymous parameters are bound in order of appearance, so every parameter of a statement
    /// that uses this must come from it, in bind order.
    pub(crate) fn params(&self, first: usize, n: usize) -> String {
        match self.inner {
            super::TxInner::Sqlite(_) => vec!["?"; n].join(", "),
            super::TxInner::Postgres(_) => (first..first + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The hierarchy entries with these uuids, in any project (as [`EntryTx::entry_by_uuid`]
    /// reads each).
    pub async fn entries_by_uuids(&mut self, uuids: &[&str]) -> Result<Vec<super::StoredEntry>> {
        self.rows_by_uuids(STORED_ENTRY, uuids).await
    }

    /// The rows `select` (a `SELECT … FROM` without its `WHERE`) reads for these uuids, a few
    /// `IN (…)` lists at a time: the batch's lookups of entries and of branch entries.
    pub(super) async fn rows_by_uuids<T>(&mut self, select: &str, uuids: &[&str]) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let mut out = Vec::new();
        for chunk in uuids.chunks(IN_LIST) {
            let sql = format!("{select} WHERE uuid IN ({})", self.params(1, chunk.len()));
            let rows: Vec<T> = with_tx!(self, |conn| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for uuid in chunk {
                    q = q.bind(*uuid);
                }
                q.fetch_all(&mut *conn).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// For each of `keys` that some record holds: the key and the holder's uuid (what the
    /// one-row path's [`EntryTx::look_up_entry`] asks of each). One statement per input and
    /// scope.
    pub async fn answer_holders(&mut self, keys: &[UniqueKey]) -> Result<Vec<(UniqueKey, String)>> {
        let mut groups: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.input_ref.as_str(), k.scope.as_str()))
                .or_default()
                .push(k.key.as_str());
        }
        let mut out = Vec::new();
        for ((input_ref, scope), mut answers) in groups {
            answers.sort_unstable();
            answers.dedup();
            for chunk in answers.chunks(IN_LIST) {
                let rows = self.holders_of(input_ref, scope, chunk).await?;
                out.extend(rows.into_iter().map(|(key, uuid)| {
                    let key = UniqueKey {
                        input_ref: input_ref.to_string(),
                        scope: scope.to_string(),
                        key,
                    };
                    (key, uuid)
                }));
            }
        }
        Ok(out)
    }

    /// The stored `(answer_key, entry_uuid)` of distinct `answers` of one input and scope
    /// ([`holders_sqlite`], [`HOLDERS_POSTGRES`]).
    async fn holders_of(
        &mut self,
        input_ref: &str,
        scope: &str,
        answers: &[&str],
    ) -> Result<Vec<(String, String)>> {
        let project_id = self.project_id;
        Ok(match &mut self.inner {
            super::TxInner::Sqlite(t) => {
                let sql = holders_sqlite(answers.len());
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(project_id)
                    .bind(input_ref)
                    .bind(scope);
                for answer in answers {
                    q = q.bind(*answer);
                }
                q.fetch_all(t.conn().await?).await?
            }
            super::TxInner::Postgres(t) => {
                sqlx::query_as(HOLDERS_POSTGRES)
                    .bind(project_id)
                    .bind(input_ref)
                    .bind(scope)
                    .bind(answers)
                    .fetch_all(t.conn().await?)
                    .await?
            }
        })
    }

    /// Stores new hierarchy entries, in order, with everything [`EntryTx::insert_entry`] does
    /// for each: a number of the changes feed each (taken here, in this transaction), their
    /// tombstones gone, the uniqueness index, the forms' counters and the parents'
    /// `child_counts`.
    pub async fn insert_entries(&mut self, rows: &[NewEntry<'_>]) -> Result<()> {
        for chunk in rows.chunks(INSERT_ROWS) {
            self.insert_entry_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn insert_entry_chunk(&mut self, rows: &[NewEntry<'_>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let project_id = self.project_id;
        let n = rows.len();
        let last_seq: i64 = with_tx!(self, |conn| {
            crate::changes::take_seqs!(conn, project_id, n as i64)
        });
        let first_seq = last_seq - n as i64 + 1;

        self.forget_tombstones(rows.iter().map(|r| r.record.uuid))
            .await?;

        const COLUMNS: usize = 15;
        let mut insert = String::from(
            "INSERT INTO entries (project_id, uuid, parent_uuid, form_ref, parent_form_ref, \
             user_id, platform, device_id, created_at, uploaded_at, title, entry_data, \
             geo_json_data, branch_counts, change_seq, child_counts) VALUES ",
        );
        for i in 0..n {
            if i > 0 {
                insert.push_str(", ");
            }
            insert.push_str(&format!("({}, 0)", self.params(i * COLUMNS + 1, COLUMNS)));
        }
        insert.push_str(" RETURNING id, uuid");
        let ids: Vec<(i64, String)> = with_tx!(self, |conn| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(insert));
            for (i, e) in rows.iter().enumerate() {
                let r = &e.record;
                q = q
                    .bind(project_id)
                    .bind(r.uuid)
                    .bind(e.parent_uuid)
                    .bind(r.form_ref)
                    .bind(e.parent_form_ref)
                    .bind(r.user_id)
                    .bind(r.platform)
                    .bind(r.device_id)
                    .bind(r.created_at)
                    .bind(r.uploaded_at)
                    .bind(r.title)
                    .bind(r.entry_data)
                    .bind(r.geo_json_data)
                    .bind(e.branch_counts)
                    .bind(first_seq + i as i64);
            }
            q.fetch_all(&mut *conn)
                .await
                .map_err(|e| conflict_as(e, crate::Conflict::EntryUuid))?
        });
        // RETURNING's row order is the engine's choice: ids are matched by uuid.
        let id_of: HashMap<&str, i64> = ids.iter().map(|(id, u)| (u.as_str(), *id)).collect();

        let unique: Vec<(&UniqueKey, &str, i64)> = rows
            .iter()
            .flat_map(|e| {
                let id = id_of.get(e.record.uuid).copied().unwrap_or_default();
                e.record.unique.iter().map(move |k| (k, e.record.uuid, id))
            })
            .collect();
        self.insert_unique_rows("entry_id", &unique).await?;

        // The forms' counters: each form's rows added at once.
        let mut forms: Vec<(&str, FormSpan)> = Vec::new();
        for e in rows {
            let r = &e.record;
            match forms.iter_mut().find(|(f, _)| *f == r.form_ref) {
                Some((_, span)) => span.add(r.created_at, r.uploaded_at),
                None => forms.push((r.form_ref, FormSpan::new(r.created_at, r.uploaded_at))),
            }
        }
        for (form_ref, span) in forms {
            self.add_to_counter(form_ref, "", &span).await?;
        }

        // The parents' `child_counts`: one increment per parent.
        let mut parents: Vec<(&str, i64)> = Vec::new();
        for e in rows.iter().filter(|e| !e.parent_uuid.is_empty()) {
            match parents.iter_mut().find(|(p, _)| *p == e.parent_uuid) {
                Some((_, k)) => *k += 1,
                None => parents.push((e.parent_uuid, 1)),
            }
        }
        for (parent_uuid, k) in parents {
            with_tx!(self, |conn| {
                sqlx::query(
                    "UPDATE entries SET child_counts = child_counts + $3 WHERE uuid = $1 AND \
                     project_id = $2",
                )
                .bind(parent_uuid)
                .bind(project_id)
                .bind(k)
                .execute(&mut *conn)
                .await
                .map(drop)?
            });
        }
        Ok(())
    }

    /// Rows of the uniqueness index: key, record uuid and the record's id in `id_column`
    /// (`entry_id` or `branch_entry_id`).
    pub(super) async fn insert_unique_rows(
        &mut self,
        id_column: &str,
        rows: &[(&UniqueKey, &str, i64)],
    ) -> Result<()> {
        let project_id = self.project_id;
        for chunk in rows.chunks(UNIQUE_ROWS) {
            let mut sql = format!(
                "INSERT INTO unique_answers (project_id, input_ref, scope, answer_key, \
                 entry_uuid, {id_column}) VALUES "
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("({})", self.params(i * 6 + 1, 6)));
            }
            with_tx!(self, |conn| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (k, uuid, id) in chunk {
                    q = q
                        .bind(project_id)
                        .bind(k.input_ref.as_str())
                        .bind(k.scope.as_str())
                        .bind(k.key.as_str())
                        .bind(*uuid)
                        .bind(*id);
                }
                q.execute(&mut *conn).await.map(drop)?
            });
        }
        Ok(())
    }
}
