//! What the upload rules read inside the write transaction: records by uuid, the answers
//! another record already holds, and the counts the limits compare with.

use quadrat_core::entry::UniqueKey;

use super::{EntryTx, with_tx};
use crate::Result;

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

pub(super) const STORED_ENTRY: &str =
    "SELECT id, project_id, uuid, form_ref, parent_uuid, user_id, device_id FROM entries";
pub(super) const STORED_BRANCH: &str = "SELECT id, project_id, uuid, form_ref, owner_entry_id, \
     owner_uuid, owner_input_ref, user_id, device_id FROM branch_entries";

impl EntryTx {
    /// The hierarchy entry with this uuid, in any project (uuids are globally unique).
    pub async fn entry_by_uuid(&mut self, uuid: &str) -> Result<Option<StoredEntry>> {
        let sql = format!("{STORED_ENTRY} WHERE uuid = $1");
        with_tx!(self, |conn| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(uuid)
                .fetch_optional(&mut *conn)
                .await?)
        })
    }

    /// The branch entry with this uuid, in any project.
    pub async fn branch_entry_by_uuid(&mut self, uuid: &str) -> Result<Option<StoredBranchEntry>> {
        let sql = format!("{STORED_BRANCH} WHERE uuid = $1");
        with_tx!(self, |conn| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(uuid)
                .fetch_optional(&mut *conn)
                .await?)
        })
    }

    /// The id of this project's entry `uuid` of form `form_ref`.
    pub async fn entry_id_in_form(&mut self, uuid: &str, form_ref: &str) -> Result<Option<i64>> {
        let project_id = self.project_id;
        with_tx!(self, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT id FROM entries WHERE uuid = $1 AND project_id = $2 AND form_ref = $3",
            )
            .bind(uuid)
            .bind(project_id)
            .bind(form_ref)
            .fetch_optional(&mut *conn)
            .await?)
        })
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
                "SELECT entry_count FROM entry_counters WHERE project_id = $1 AND form_ref = $2 \
                 AND branch_ref = ''",
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
                "SELECT COUNT(*) FROM entries WHERE parent_uuid = $1 AND form_ref = $2 AND \
                 project_id = $3",
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
                "SELECT COUNT(*) FROM branch_entries WHERE owner_uuid = $1 AND \
                 owner_input_ref = $2 AND project_id = $3",
            )
            .bind(owner_uuid)
            .bind(branch_ref)
            .bind(project_id)
            .fetch_one(&mut *conn)
            .await?)
        })
    }
}
