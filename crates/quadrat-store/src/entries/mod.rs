//! Entries and branch entries: the writes of an upload, inside one transaction per upload (or
//! per batch) that also keeps every counter exact — the per-form and per-branch
//! `entry_counters`, the parent's `child_counts`, the owner's `branch_counts`, the uniqueness
//! index and the media totals. Writers of one project are serialised: SQLite has one writer
//! (`BEGIN IMMEDIATE`), PostgreSQL takes a transaction-scoped advisory lock on the project.
//! On SQLite each transaction is a savepoint in a group commit (`group`): concurrent uploads
//! share one commit, each still all or nothing, each answered after that commit.
//!
//! - `group`: SQLite's group commit;
//! - `batch`: the bulk import's lookups and multi-row inserts;
//! - `lookups`: what the upload rules read inside the transaction (records by uuid, taken
//!   answers, counts);
//! - `write`: new records and edits, with the uniqueness index and the media totals;
//! - `counters`: `entry_counters`, `child_counts` and `branch_counts` kept exact;
//! - `delete`: entries with their descendants, or one branch entry;
//! - `reads` (feature `test-support`): whole rows read back, for tests and benchmarks;
//! - `plans` (feature `test-support`): the plans of the statements counting children (SQLite)
//!   and of the import's lookup of unique answers.

mod batch;
mod branch_batch;
mod counters;
mod delete;
mod group;
mod lookups;
#[cfg(feature = "test-support")]
mod plans;
#[cfg(feature = "test-support")]
mod reads;
mod write;

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};

use crate::{Db, Result, Store};

pub use batch::NewEntry;
pub use branch_batch::NewBranchEntry;
pub use delete::{DeleteTarget, Deleted};
pub(crate) use group::{GroupCommit, PgGroups};
pub use lookups::{RecordLookup, StoredBranchEntry, StoredEntry};
#[cfg(feature = "test-support")]
pub use reads::{BranchEntryRow, EntryRow};
pub use write::{NewRecord, RecordEdit};

/// The namespace of the per-project advisory locks (the migration lock uses another key).
const LOCK_NAMESPACE: i64 = 0x5155_4144_0000_0000;

pub(crate) enum TxInner {
    Sqlite(group::GroupJob<PoolConnection<Sqlite>>),
    Postgres(group::GroupJob<PoolConnection<Postgres>>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection, once per engine, so each
/// query text is written once. The body must be a block (`|conn| { … }`): rustfmt lays it out
/// like a closure body. It still skips any statement holding a line longer than the limit, so
/// SQL texts are wrapped with `\` continuations.
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:block) => {
        match &mut $tx.inner {
            $crate::entries::TxInner::Sqlite(t) => {
                let $conn = t.conn().await?;
                $body
            }
            $crate::entries::TxInner::Postgres(t) => {
                let $conn = t.conn().await?;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// [`with_tx`] for a statement that only reads: its text must start with `$prefix` (what the
/// job has still to open, its savepoint or the batch's transaction, when that goes with this
/// statement; else nothing).
macro_rules! with_tx_read {
    ($tx:expr, |$conn:ident, $prefix:ident| $body:block) => {
        match &mut $tx.inner {
            $crate::entries::TxInner::Sqlite(t) => {
                let ($conn, $prefix) = t.read_conn().await?;
                let value = $body;
                t.read_done($prefix);
                value
            }
            $crate::entries::TxInner::Postgres(t) => {
                let ($conn, $prefix) = t.read_conn().await?;
                let value = $body;
                t.read_done($prefix);
                value
            }
        }
    };
}
pub(crate) use with_tx_read;

/// A write transaction on one project's entries. Dropped without [`EntryTx::commit`], nothing
/// it did stays.
pub struct EntryTx {
    pub(crate) inner: TxInner,
    project_id: i64,
}

impl Store {
    /// Starts the write transaction of an upload (or a batch of them) to `project_id`, holding
    /// the project's writer lock until commit or drop.
    pub async fn begin_entries(&self, project_id: i64) -> Result<EntryTx> {
        let inner = match &self.db {
            Db::Sqlite { group, .. } => TxInner::Sqlite(group.begin().await?),
            Db::Postgres { groups, .. } => TxInner::Postgres(
                groups
                    .of(project_id, LOCK_NAMESPACE | project_id)
                    .begin()
                    .await?,
            ),
        };
        Ok(EntryTx { inner, project_id })
    }
}

impl EntryTx {
    pub fn project_id(&self) -> i64 {
        self.project_id
    }

    /// Commits; returns once the work is on stable storage as the store's durability says (once
    /// the group commit holding it returned).
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
