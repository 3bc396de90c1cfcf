//! Group commit for SQLite's single writer: every upload's transaction is a savepoint inside a
//! shared transaction (the batch), and one `COMMIT` — one sync of the WAL — ends the batch.
//!
//! A job takes the writer (a fair lock, so jobs run in arrival order), opens the batch if none
//! is open (`BEGIN IMMEDIATE`), works inside `SAVEPOINT job`, and on success waits for
//! the batch's commit. Refused or abandoned, its savepoint is rolled
//! back and the batch goes on without it: a refused upload changes nothing and does not fail
//! its neighbours. The first job to finish schedules a committer task, which queues for the
//! writer behind the jobs waiting at that moment, so they all join the batch; it then commits
//! and tells every job of the batch the outcome. A job is acknowledged only after that commit
//! returned. The committer is a task of its own, so a client that goes away mid-upload cannot
//! leave a batch open.
//!
//! The job that opens a batch works in the transaction itself, without a savepoint: nothing of
//! another job is there to keep, so leaving without commit rolls the whole transaction back.
//! This spares the one-job batches (the bulk import's, a lone client's) SQLite's journalling of
//! every page the savepoint touches.
//!
//! A job's savepoint is kept, not released, when the job is done: the next job's savepoint
//! nests inside it, so a refused job's `ROLLBACK TO job` (the latest savepoint of that name)
//! undoes that job only, and the batch's `COMMIT` releases them all. A `SAVEPOINT` that fails
//! fails the batch, so a rollback never reaches an earlier job's savepoint.
//!
//! If the database itself fails inside a batch (disk full, I/O error) and the transaction is
//! lost, every job of that batch gets the error: none was acknowledged, none is kept.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::{Result, StoreError};

/// A batch's outcome as its jobs see it (`None` while it is open).
type Outcome = Option<std::result::Result<(), Arc<sqlx::Error>>>;

/// The writer of one SQLite store.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    pool: SqlitePool,
    state: Arc<Mutex<Option<Batch>>>,
}

/// An open batch: the writer connection inside `BEGIN IMMEDIATE`.
#[derive(Debug)]
struct Batch {
    conn: PoolConnection<Sqlite>,
    outcome: watch::Sender<Outcome>,
    /// A job left without committing: roll its savepoint back before anything else runs.
    dirty: bool,
    /// The job holding the writer opened the batch and has no savepoint.
    bare: bool,
    /// A committer is queued for this batch.
    committer: bool,
}

/// One job's hold on the writer, inside its savepoint.
#[derive(Debug)]
pub(crate) struct GroupJob {
    guard: Option<OwnedMutexGuard<Option<Batch>>>,
    state: Arc<Mutex<Option<Batch>>>,
}

impl GroupCommit {
    pub(crate) fn new(pool: SqlitePool) -> GroupCommit {
        GroupCommit {
            pool,
            state: Arc::new(Mutex::new(None)),
        }
    }

    /// Takes the writer and opens this job's savepoint (and the batch, when none is open).
    pub(crate) async fn begin(&self) -> Result<GroupJob> {
        let mut guard = self.state.clone().lock_owned().await;
        clean_up(&mut guard).await;
        if guard.is_none() {
            let mut conn = self.pool.acquire().await?;
            sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            *guard = Some(Batch {
                conn,
                outcome: watch::channel(None).0,
                dirty: true,
                bare: true,
                committer: false,
            });
            return Ok(GroupJob {
                guard: Some(guard),
                state: self.state.clone(),
            });
        }
        let batch = guard.as_mut().expect("a batch is open");
        if let Err(e) = sqlx::raw_sql("SAVEPOINT job")
            .execute(&mut *batch.conn)
            .await
        {
            fail(&mut guard, e).await;
            return Err(StoreError::Db(sqlx::Error::Protocol(
                "the write batch failed".into(),
            )));
        }
        batch.dirty = true;
        Ok(GroupJob {
            guard: Some(guard),
            state: self.state.clone(),
        })
    }
}

impl GroupJob {
    /// The writer connection, inside this job's savepoint.
    pub(crate) fn conn(&mut self) -> &mut SqliteConnection {
        let batch = self
            .guard
            .as_mut()
            .and_then(|g| g.as_mut())
            .expect("a job holds an open batch");
        &mut batch.conn
    }

    /// Keeps the job's work: leaves its savepoint to the batch's `COMMIT`, lets the next job
    /// in, and returns once the batch holding it is committed (or failed).
    pub(crate) async fn commit(mut self) -> Result<()> {
        let mut guard = self.guard.take().expect("a job holds the writer");
        let batch = guard.as_mut().expect("a job holds an open batch");
        // The savepoint is not released (a round trip less): the next job's nests inside it,
        // `ROLLBACK TO job` still rolls back only the latest, and `COMMIT` ends them all.
        batch.bare = false;
        batch.dirty = false;
        let mut outcome = batch.outcome.subscribe();
        schedule_committer(batch, &self.state);
        drop(guard);
        let settled = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?
            .clone();
        match settled {
            Some(Err(e)) => Err(shared_error(&e)),
            _ => Ok(()),
        }
    }
}

impl Drop for GroupJob {
    /// Dropped without [`GroupJob::commit`] (a refusal, an error, a cancelled request): the
    /// savepoint stays dirty for the next holder to roll back, and someone must end the batch.
    fn drop(&mut self) {
        if let Some(mut guard) = self.guard.take()
            && let Some(batch) = guard.as_mut()
        {
            schedule_committer(batch, &self.state);
        }
    }
}

fn schedule_committer(batch: &mut Batch, state: &Arc<Mutex<Option<Batch>>>) {
    if batch.committer {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    batch.committer = true;
    runtime.spawn(commit_batch(state.clone()));
}

/// The committer: queued behind the jobs waiting when it was scheduled, then commits.
async fn commit_batch(state: Arc<Mutex<Option<Batch>>>) {
    let mut guard = state.lock_owned().await;
    clean_up(&mut guard).await;
    let Some(mut batch) = guard.take() else {
        return;
    };
    match sqlx::raw_sql("COMMIT").execute(&mut *batch.conn).await {
        Ok(_) => {
            batch.outcome.send_replace(Some(Ok(())));
        }
        Err(e) => {
            *guard = Some(batch);
            fail(&mut guard, e).await;
        }
    }
}

/// Rolls back the savepoint of a job that left without releasing it (the whole transaction, for
/// the job that opened it: the batch holds nothing else).
async fn clean_up(guard: &mut OwnedMutexGuard<Option<Batch>>) {
    let Some(batch) = guard.as_mut() else {
        return;
    };
    if !batch.dirty {
        return;
    }
    if batch.bare {
        if let Some(mut batch) = guard.take() {
            // SQLite may have rolled back already (a failed I/O); then ROLLBACK fails, harmlessly.
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *batch.conn).await;
        }
        return;
    }
    match sqlx::raw_sql("ROLLBACK TO job; RELEASE job")
        .execute(&mut *batch.conn)
        .await
    {
        Ok(_) => batch.dirty = false,
        Err(e) => fail(guard, e).await,
    }
}

/// Ends a batch whose transaction failed: rolled back, every job told, the connection back to
/// the pool clean.
async fn fail(guard: &mut OwnedMutexGuard<Option<Batch>>, error: sqlx::Error) {
    let Some(mut batch) = guard.take() else {
        return;
    };
    tracing::error!(error = %error, "a write batch failed and was rolled back");
    // SQLite may have rolled back already; then ROLLBACK fails, harmlessly.
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *batch.conn).await;
    batch.outcome.send_replace(Some(Err(Arc::new(error))));
}

/// The batch's error for one of its jobs (the error itself is shared, so its kind is kept).
fn shared_error(e: &sqlx::Error) -> StoreError {
    if crate::is_disk_full(e) {
        return StoreError::DiskFull;
    }
    StoreError::Db(sqlx::Error::Protocol(format!(
        "the write batch failed: {e}"
    )))
}
