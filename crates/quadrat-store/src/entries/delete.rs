//! Deleting entries with every descendant and their branch entries, or one branch entry, with
//! every counter put right.

use std::collections::BTreeMap;

use super::lookups::{STORED_BRANCH, StoredBranchEntry};
use super::{EntryTx, with_tx};
use crate::changes::deleted_now;
use crate::{Result, Store, StoreError};

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

/// The entries the deletion starts from, then every descendant through `parent_uuid`, each
/// level found on the parent's index (`+`: see [`super::lookups::CHILDREN_COUNT`]).
pub(crate) const DESCENDANTS: &str = "WITH RECURSIVE doomed(id, uuid) AS ( \
     SELECT id, uuid FROM entries WHERE project_id = $1 AND {start} \
     UNION SELECT e.id, e.uuid FROM entries e JOIN doomed d ON e.parent_uuid = d.uuid \
     WHERE +e.project_id = $1)";

#[derive(sqlx::FromRow)]
struct Doomed {
    uuid: String,
    form_ref: String,
    parent_uuid: String,
    parent_form_ref: String,
}

#[derive(sqlx::FromRow)]
struct DoomedBranch {
    uuid: String,
    form_ref: String,
    owner_input_ref: String,
    owner_uuid: String,
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
                "{cte} SELECT e.uuid, e.form_ref, e.parent_uuid, e.parent_form_ref FROM entries e \
                 JOIN doomed d ON d.id = e.id ORDER BY e.id"
            );
            with_tx!(self, |conn| {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(project_id)
                    .bind(key)
                    .fetch_all(&mut *conn)
                    .await?
            })
        };
        if doomed.is_empty() {
            return Err(StoreError::NotFound("entry".into()));
        }
        let branches: Vec<DoomedBranch> = {
            let sql = format!(
                "{cte} SELECT b.uuid, b.form_ref, b.owner_input_ref, b.owner_uuid \
                 FROM branch_entries b \
                 JOIN doomed d ON d.id = b.owner_entry_id ORDER BY b.id"
            );
            with_tx!(self, |conn| {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(project_id)
                    .bind(key)
                    .fetch_all(&mut *conn)
                    .await?
            })
        };
        {
            let sql = format!("{cte} DELETE FROM entries WHERE id IN (SELECT id FROM doomed)");
            with_tx!(self, |conn| {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(project_id)
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map(drop)?
            });
        }
        // The changes feed's tombstones, written here rather than left to the cascade
        // (docs/protocol.md §17.5): every deleted entry, then every deleted branch entry.
        let now = deleted_now();
        for d in &doomed {
            self.write_tombstone(
                "entry",
                &d.uuid,
                &d.form_ref,
                "",
                &d.parent_form_ref,
                &d.parent_uuid,
                now,
            )
            .await?;
        }
        for b in &branches {
            self.write_tombstone(
                "branch_entry",
                &b.uuid,
                &b.form_ref,
                &b.owner_input_ref,
                "",
                &b.owner_uuid,
                now,
            )
            .await?;
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
        let found: Option<StoredBranchEntry> = with_tx!(self, |conn| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(uuid)
                .bind(project_id)
                .fetch_optional(&mut *conn)
                .await?
        });
        let Some(b) = found else {
            return Ok(false);
        };
        with_tx!(self, |conn| {
            sqlx::query("DELETE FROM branch_entries WHERE id = $1")
                .bind(b.id)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        self.shrink_counter(&b.form_ref, &b.owner_input_ref, 1)
            .await?;
        self.recount_branch(b.owner_entry_id, &b.owner_input_ref)
            .await?;
        // The owner's exported branch count changed: restamped before the tombstone.
        self.restamp_entry(b.owner_entry_id).await?;
        self.write_tombstone(
            "branch_entry",
            &b.uuid,
            &b.form_ref,
            &b.owner_input_ref,
            "",
            &b.owner_uuid,
            deleted_now(),
        )
        .await?;
        Ok(true)
    }
}
