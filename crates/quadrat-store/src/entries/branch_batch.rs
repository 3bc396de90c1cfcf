//! The bulk import's batched branch entries: looked up and written with a few statements per
//! batch, with everything [`EntryTx::insert_branch_entry`] does for each row, in the same
//! order: each row takes two numbers of the changes feed (its owner's, then its own), so the
//! feed, the counters and the owners' `branch_counts` end as the one-row path leaves them.

use std::collections::HashMap;

use super::batch::INSERT_ROWS;
use super::counters::FormSpan;
use super::lookups::STORED_BRANCH;
use super::write::NewRecord;
use super::{EntryTx, StoredBranchEntry, with_tx};
use crate::{Result, conflict_as};

/// A new branch entry of a batch: the arguments of [`EntryTx::insert_branch_entry`].
#[derive(Debug, Clone)]
pub struct NewBranchEntry<'a> {
    pub record: NewRecord<'a>,
    pub owner_entry_id: i64,
    pub owner_uuid: &'a str,
    pub owner_input_ref: &'a str,
}

impl EntryTx {
    /// The branch entries with these uuids, in any project (as
    /// [`EntryTx::branch_entry_by_uuid`] reads each).
    pub async fn branch_entries_by_uuids(
        &mut self,
        uuids: &[&str],
    ) -> Result<Vec<StoredBranchEntry>> {
        self.rows_by_uuids(STORED_BRANCH, uuids).await
    }

    /// Stores new branch entries, in order, as [`EntryTx::insert_branch_entry`] stores each.
    pub async fn insert_branch_entries(&mut self, rows: &[NewBranchEntry<'_>]) -> Result<()> {
        for chunk in rows.chunks(INSERT_ROWS) {
            self.insert_branch_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn insert_branch_chunk(&mut self, rows: &[NewBranchEntry<'_>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let project_id = self.project_id;
        let n = rows.len();
        // Row i: its owner restamped with first + 2i, the row itself first + 2i + 1.
        let last_seq: i64 = with_tx!(self, |conn| {
            crate::changes::take_seqs!(conn, project_id, 2 * n as i64)
        });
        let first_seq = last_seq - 2 * n as i64 + 1;

        // Each owner keeps the number of its last restamp.
        let mut owners: Vec<(i64, i64)> = Vec::new();
        for (i, e) in rows.iter().enumerate() {
            let seq = first_seq + 2 * i as i64;
            match owners.iter_mut().find(|(id, _)| *id == e.owner_entry_id) {
                Some((_, s)) => *s = seq,
                None => owners.push((e.owner_entry_id, seq)),
            }
        }
        for (owner_id, seq) in &owners {
            with_tx!(self, |conn| {
                sqlx::query("UPDATE entries SET change_seq = $1 WHERE id = $2")
                    .bind(*seq)
                    .bind(*owner_id)
                    .execute(&mut *conn)
                    .await
                    .map(drop)?
            });
        }

        self.forget_tombstones(rows.iter().map(|r| r.record.uuid))
            .await?;

        const COLUMNS: usize = 15;
        let mut insert = String::from(
            "INSERT INTO branch_entries (project_id, uuid, owner_entry_id, owner_uuid, \
             owner_input_ref, form_ref, user_id, platform, device_id, created_at, uploaded_at, \
             title, entry_data, geo_json_data, change_seq) VALUES ",
        );
        for i in 0..n {
            if i > 0 {
                insert.push_str(", ");
            }
            insert.push_str(&format!("({})", self.params(i * COLUMNS + 1, COLUMNS)));
        }
        insert.push_str(" RETURNING id, uuid");
        let ids: Vec<(i64, String)> = with_tx!(self, |conn| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(insert));
            for (i, e) in rows.iter().enumerate() {
                let r = &e.record;
                q = q
                    .bind(project_id)
                    .bind(r.uuid)
                    .bind(e.owner_entry_id)
                    .bind(e.owner_uuid)
                    .bind(e.owner_input_ref)
                    .bind(r.form_ref)
                    .bind(r.user_id)
                    .bind(r.platform)
                    .bind(r.device_id)
                    .bind(r.created_at)
                    .bind(r.uploaded_at)
                    .bind(r.title)
                    .bind(r.entry_data)
                    .bind(r.geo_json_data)
                    .bind(first_seq + 2 * i as i64 + 1);
            }
            q.fetch_all(&mut *conn)
                .await
                .map_err(|e| conflict_as(e, crate::Conflict::BranchEntryUuid))?
        });
        // RETURNING's row order is the engine's choice: ids are matched by uuid.
        let id_of: HashMap<&str, i64> = ids.iter().map(|(id, u)| (u.as_str(), *id)).collect();
        let unique: Vec<_> = rows
            .iter()
            .flat_map(|e| {
                let id = id_of.get(e.record.uuid).copied().unwrap_or_default();
                e.record.unique.iter().map(move |k| (k, e.record.uuid, id))
            })
            .collect();
        self.insert_unique_rows("branch_entry_id", &unique).await?;

        // The branches' counters, and the owners' `branch_counts`: one change per group.
        let mut branches: Vec<(&str, &str, FormSpan)> = Vec::new();
        let mut per_owner: Vec<(i64, &str, i64)> = Vec::new();
        for e in rows {
            let r = &e.record;
            match branches
                .iter_mut()
                .find(|(f, b, _)| *f == r.form_ref && *b == e.owner_input_ref)
            {
                Some((_, _, span)) => span.add(r.created_at, r.uploaded_at),
                None => branches.push((
                    r.form_ref,
                    e.owner_input_ref,
                    FormSpan::new(r.created_at, r.uploaded_at),
                )),
            }
            match per_owner
                .iter_mut()
                .find(|(o, b, _)| *o == e.owner_entry_id && *b == e.owner_input_ref)
            {
                Some((_, _, k)) => *k += 1,
                None => per_owner.push((e.owner_entry_id, e.owner_input_ref, 1)),
            }
        }
        for (form_ref, branch_ref, span) in branches {
            self.add_to_counter(form_ref, branch_ref, &span).await?;
        }
        for (owner_id, branch_ref, k) in per_owner {
            self.add_to_branch(owner_id, branch_ref, k).await?;
        }
        Ok(())
    }
}
