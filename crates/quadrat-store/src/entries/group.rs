//! Group commit: every upload's transaction is a savepoint inside a shared transaction (the
//! batch), and one `COMMIT` — one sync of the log — ends the batch. SQLite has one group on its
//! single writer; PostgreSQL has one per project, whose batch holds the project's advisory lock
//! (so writers of one project stay serialised across instances, but they no longer queue one
//! sync each behind the lock).
//!
//! A job takes the writer (a fair lock, so jobs run in arrival order), opens the batch if none
//! is open (`BEGIN IMMEDIATE`; on PostgreSQL `BEGIN` and the lock), works inside `SAVEPOINT job`,
//! and on success waits for the batch's commit. The savepoint (and on SQLite the batch's
//! transaction) is opened with the job's first statement: on SQLite, when that statement is a
//! read, `SAVEPOINT job` (or `BEGIN IMMEDIATE`) is sent with it in one call, a crossing to the
//! driver's thread less; otherwise before it, on its own. A read changes nothing, so whether a
//! failed or abandoned call opened the savepoint does not matter: an empty savepoint left open is
//! released by the batch's `COMMIT`, and the job's next statement opens one of its own (a
//! transaction in doubt is rolled back, as any abandoned batch-opening job's is). Refused or
//! abandoned, its savepoint is rolled back and the batch goes on without it: a refused upload
//! changes nothing and does not fail its neighbours. The first job to finish schedules a
//! committer task, which queues for the writer behind the jobs waiting at that moment, so they
//! all join the batch; it then commits and tells every job of the batch the outcome. A job is
//! acknowledged only after that commit returned. The committer is a task of its own, and so is
//! what a job does to the batch before it starts (opening it, rolling back or committing what
//! came before), so a client that goes away mid-upload cannot leave a batch open.
//!
//! The job that opens a batch works in the transaction itself, without a savepoint: nothing of
//! another job is there to keep, so leaving without commit rolls the whole transaction back.
//! This spares the one-job batches (the bulk import's, a lone client's) SQLite's journalling of
//! every page the savepoint touches.
//!
//! A job's savepoint is kept, not released, when the job is done: the next job's savepoint
//! nests inside it, so a refused job's `ROLLBACK TO job` (the latest savepoint of that name)
//! undoes that job only, and the batch's `COMMIT` releases them all. A `SAVEPOINT` that fails
//! fails the batch, so a rollback never reaches an earlier job's savepoint. A group may cap its
//! jobs per batch: PostgreSQL keeps the ids of 64 subtransactions per session in shared memory
//! and past that every other session's visibility checks read them from disk, so a batch there
//! is committed before its 64th savepoint.
//!
//! If the database itself fails inside a batch (disk full, I/O error) and the transaction is
//! lost, every job of that batch gets the error: none was acknowledged, none is kept.

use std::collections::HashMap;
use std::fmt::Debug;
use std::ops::DerefMut;
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::{Result, StoreError};

/// A batch's outcome as its jobs see it (`None` while it is open).
type Outcome = Option<std::result::Result<(), Arc<sqlx::Error>>>;

/// A connection a batch runs on: SQLite's writer, or a PostgreSQL connection.
pub(crate) trait BatchConn: DerefMut + Debug + Send + Sized + 'static {
    type Pool: Debug + Send + Sync + 'static;
    /// A connection of `pool` inside a transaction opened by `begin` (rolled back if `begin`
    /// failed part-way, so the connection goes back to the pool clean).
    fn open(pool: &Self::Pool, begin: &str) -> impl Future<Output = sqlx::Result<Self>> + Send;
    /// A connection of `pool`, its transaction not opened yet.
    fn acquire(pool: &Self::Pool) -> impl Future<Output = sqlx::Result<Self>> + Send;
    fn run(&mut self, sql: &'static str) -> impl Future<Output = sqlx::Result<()>> + Send;
    /// `BEGIN` and `SAVEPOINT job` may be sent in one call with the statement after them
    /// (SQLite runs a query text of several statements in order; PostgreSQL prepares one
    /// statement per query).
    const OPEN_WITH_READ: bool;
}

macro_rules! batch_conn {
    ($db:ty, $pool:ty, $with_read:expr) => {
        impl BatchConn for PoolConnection<$db> {
            type Pool = $pool;
            const OPEN_WITH_READ: bool = $with_read;
            async fn acquire(pool: &$pool) -> sqlx::Result<Self> {
                pool.acquire().await
            }
            async fn open(pool: &$pool, begin: &str) -> sqlx::Result<Self> {
                let mut conn = pool.acquire().await?;
                let begun = sqlx::raw_sql(sqlx::AssertSqlSafe(begin.to_owned()))
                    .execute(&mut *conn)
                    .await;
                if let Err(e) = begun {
                    // Not in a transaction (then this fails, harmlessly) or in an aborted one.
                    let _ = conn.run("ROLLBACK").await;
                    return Err(e);
                }
                Ok(conn)
            }
            async fn run(&mut self, sql: &'static str) -> sqlx::Result<()> {
                sqlx::raw_sql(sql).execute(&mut **self).await.map(drop)
            }
        }
    };
}
batch_conn!(Sqlite, SqlitePool, true);
batch_conn!(Postgres, PgPool, false);

/// The writer of one SQLite store, or of one project on PostgreSQL.
#[derive(Debug)]
pub(crate) struct GroupCommit<C: BatchConn> {
    pool: C::Pool,
    /// What opens a batch's transaction.
    begin: String,
    /// Jobs per batch at most.
    max_jobs: usize,
    state: Arc<Mutex<Option<Batch<C>>>>,
}

/// An open batch: the connection inside its transaction.
#[derive(Debug)]
struct Batch<C> {
    conn: C,
    /// Jobs that joined the batch.
    jobs: usize,
    outcome: watch::Sender<Outcome>,
    /// A job left without committing: roll its savepoint back before anything else runs.
    dirty: bool,
    /// What the job holding the writer has still to open (nothing of it to undo until then).
    pending: Opening,
    /// The job holding the writer opened the batch and has no savepoint.
    bare: bool,
    /// A committer is queued for this batch.
    committer: bool,
}

/// One job's hold on the writer, inside its savepoint.
#[derive(Debug)]
pub(crate) struct GroupJob<C: BatchConn> {
    guard: Option<OwnedMutexGuard<Option<Batch<C>>>>,
    state: Arc<Mutex<Option<Batch<C>>>>,
}

impl GroupCommit<PoolConnection<Sqlite>> {
    /// SQLite's writer: one group, batches as large as the jobs waiting.
    pub(crate) fn sqlite(pool: SqlitePool) -> Self {
        GroupCommit::new(pool, SQLITE_BEGIN.into(), usize::MAX)
    }
}

/// What opens a SQLite batch: the writer's lock at once, not at the first write.
const SQLITE_BEGIN: &str = "BEGIN IMMEDIATE";

/// What a job must open before its first statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opening {
    Nothing,
    /// The batch's transaction (SQLite's: a batch opened there waits for its first statement).
    Transaction,
    Savepoint,
}

impl Opening {
    /// Sent on its own, or before a read's text in the same call.
    fn statement(self) -> &'static str {
        match self {
            Opening::Nothing => "",
            Opening::Transaction => SQLITE_BEGIN,
            Opening::Savepoint => "SAVEPOINT job",
        }
    }
}

/// A read's text starts with it: the statement and its `;`, or nothing.
impl std::fmt::Display for Opening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Opening::Nothing => Ok(()),
            _ => write!(f, "{}; ", self.statement()),
        }
    }
}

/// PostgreSQL's groups, one per project, made on first use.
#[derive(Debug)]
pub(crate) struct PgGroups {
    pool: PgPool,
    groups: std::sync::Mutex<HashMap<i64, Arc<GroupCommit<PoolConnection<Postgres>>>>>,
}

impl PgGroups {
    pub(crate) fn new(pool: PgPool) -> PgGroups {
        PgGroups {
            pool,
            groups: std::sync::Mutex::default(),
        }
    }

    /// The group of `project_id`, whose batches begin by taking the project's advisory lock
    /// (`lock_key`). One query: a simple query of two statements, the key a number.
    pub(crate) fn of(
        &self,
        project_id: i64,
        lock_key: i64,
    ) -> Arc<GroupCommit<PoolConnection<Postgres>>> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups
            .entry(project_id)
            .or_insert_with(|| {
                Arc::new(GroupCommit::new(
                    self.pool.clone(),
                    format!("BEGIN; SELECT pg_advisory_xact_lock({lock_key})"),
                    PG_MAX_JOBS,
                ))
            })
            .clone()
    }
}

/// Jobs per PostgreSQL batch: all but the first open a subtransaction, and a session past 64 of
/// them slows every other session's reads.
const PG_MAX_JOBS: usize = 60;

impl<C: BatchConn> GroupCommit<C> {
    fn new(pool: C::Pool, begin: String, max_jobs: usize) -> Self {
        GroupCommit {
            pool,
            begin,
            max_jobs,
            state: Arc::new(Mutex::new(None)),
        }
    }

    /// Takes the writer and opens this job's savepoint (and the batch, when none is open).
    ///
    /// What runs before the job can start (rolling back the job before it, committing a full
    /// batch, PostgreSQL's `BEGIN` and project lock) changes the batch's transaction, so it
    /// runs as a task of its own: a caller cancelled while it ran (a client gone) would
    /// otherwise drop the connection half-way, and a transaction it had opened, holding the
    /// project's lock, would go back to the pool with no one to end it while the next batch
    /// waited for that lock forever. A job no one takes is dropped as any abandoned job is.
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<GroupJob<C>> {
        let guard = self.state.clone().lock_owned().await;
        let settled = match guard.as_ref() {
            // Only SQLite's connection to take (its transaction opens with the job's first
            // statement, inside the job).
            None => C::OPEN_WITH_READ,
            Some(batch) => !batch.dirty && batch.jobs < self.max_jobs,
        };
        if settled {
            return self.join(guard).await;
        }
        let group = self.clone();
        tokio::spawn(async move { group.prepare(guard).await })
            .await
            .map_err(|e| StoreError::Db(sqlx::Error::Protocol(format!("a write batch: {e}"))))?
    }

    /// Ends what the job before left (its rollback, a full batch's commit), then joins.
    async fn prepare(&self, mut guard: OwnedMutexGuard<Option<Batch<C>>>) -> Result<GroupJob<C>> {
        clean_up(&mut guard).await;
        if guard.as_ref().is_some_and(|b| b.jobs >= self.max_jobs) {
            // A full batch is committed by the job that would overflow it (its jobs were all
            // done: this job holds the writer); the committer scheduled for it finds the next.
            commit(&mut guard).await;
        }
        self.join(guard).await
    }

    /// Joins the open batch, or opens one.
    async fn join(&self, mut guard: OwnedMutexGuard<Option<Batch<C>>>) -> Result<GroupJob<C>> {
        if guard.is_none() {
            let (conn, pending) = if C::OPEN_WITH_READ {
                (C::acquire(&self.pool).await?, Opening::Transaction)
            } else {
                (C::open(&self.pool, &self.begin).await?, Opening::Nothing)
            };
            *guard = Some(Batch {
                conn,
                jobs: 1,
                outcome: watch::channel(None).0,
                dirty: true,
                pending,
                bare: true,
                committer: false,
            });
            return Ok(GroupJob {
                guard: Some(guard),
                state: self.state.clone(),
            });
        }
        let batch = guard.as_mut().expect("a batch is open");
        batch.pending = Opening::Savepoint;
        batch.jobs += 1;
        Ok(GroupJob {
            guard: Some(guard),
            state: self.state.clone(),
        })
    }
}

impl<C: BatchConn> GroupJob<C> {
    /// The open batch; gone once a failed `SAVEPOINT` failed it (the job can only end).
    fn batch(&mut self) -> Result<&mut Batch<C>> {
        self.guard
            .as_mut()
            .and_then(|g| g.as_mut())
            .ok_or_else(batch_failed)
    }

    /// The writer connection, inside this job's savepoint (opened now if it was not yet).
    pub(crate) async fn conn(&mut self) -> Result<&mut C::Target> {
        let batch = self.batch()?;
        let pending = batch.pending;
        if pending != Opening::Nothing {
            if let Err(e) = batch.conn.run(pending.statement()).await {
                if let Some(guard) = self.guard.as_mut() {
                    fail(guard, e).await;
                }
                return Err(batch_failed());
            }
            self.opened(pending);
        }
        Ok(&mut self.batch()?.conn)
    }

    /// The writer connection for a read, and what the read's text must start with: what the
    /// job has still to open, when it may go with a statement. After the read succeeded,
    /// [`GroupJob::read_done`] with it.
    pub(crate) async fn read_conn(&mut self) -> Result<(&mut C::Target, Opening)> {
        let pending = self.batch()?.pending;
        if C::OPEN_WITH_READ && pending != Opening::Nothing {
            return Ok((&mut self.batch()?.conn, pending));
        }
        Ok((self.conn().await?, Opening::Nothing))
    }

    /// A read sent with `sent` (from [`GroupJob::read_conn`]) succeeded.
    pub(crate) fn read_done(&mut self, sent: Opening) {
        self.opened(sent);
    }

    fn opened(&mut self, what: Opening) {
        if let Ok(batch) = self.batch() {
            match what {
                Opening::Nothing => {}
                // The batch-opening job works in the transaction itself: it is dirty from the
                // start (rolled back whole if it leaves without commit).
                Opening::Transaction => batch.pending = Opening::Nothing,
                Opening::Savepoint => {
                    batch.pending = Opening::Nothing;
                    batch.dirty = true;
                }
            }
        }
    }

    /// Keeps the job's work: leaves its savepoint to the batch's `COMMIT`, lets the next job
    /// in, and returns once the batch holding it is committed (or failed).
    pub(crate) async fn commit(mut self) -> Result<()> {
        let mut guard = self.guard.take().ok_or_else(batch_failed)?;
        let batch = guard.as_mut().ok_or_else(batch_failed)?;
        if batch.pending == Opening::Transaction {
            // The job opened the batch and ran nothing: there is nothing to commit. (A read that
            // failed may have left the transaction open: ROLLBACK, harmless if not.)
            if let Some(mut batch) = guard.take() {
                let _ = batch.conn.run("ROLLBACK").await;
                batch.outcome.send_replace(Some(Ok(())));
            }
            return Ok(());
        }
        // The savepoint is not released (a round trip less): the next job's nests inside it,
        // `ROLLBACK TO job` still rolls back only the latest, and `COMMIT` ends them all.
        batch.bare = false;
        batch.dirty = false;
        batch.pending = Opening::Nothing;
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

impl<C: BatchConn> Drop for GroupJob<C> {
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

fn schedule_committer<C: BatchConn>(batch: &mut Batch<C>, state: &Arc<Mutex<Option<Batch<C>>>>) {
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
async fn commit_batch<C: BatchConn>(state: Arc<Mutex<Option<Batch<C>>>>) {
    let mut guard = state.lock_owned().await;
    clean_up(&mut guard).await;
    commit(&mut guard).await;
}

/// Commits the open batch, if any (its jobs all done), and tells its jobs the outcome.
async fn commit<C: BatchConn>(guard: &mut OwnedMutexGuard<Option<Batch<C>>>) {
    let Some(mut batch) = guard.take() else {
        return;
    };
    match batch.conn.run("COMMIT").await {
        Ok(_) => {
            batch.outcome.send_replace(Some(Ok(())));
        }
        Err(e) => {
            **guard = Some(batch);
            fail(guard, e).await;
        }
    }
}

/// Rolls back the savepoint of a job that left without releasing it (the whole transaction, for
/// the job that opened it: the batch holds nothing else).
async fn clean_up<C: BatchConn>(guard: &mut OwnedMutexGuard<Option<Batch<C>>>) {
    let Some(batch) = guard.as_mut() else {
        return;
    };
    if !batch.dirty {
        return;
    }
    if batch.bare {
        if let Some(mut batch) = guard.take() {
            // SQLite may have rolled back already (a failed I/O); then ROLLBACK fails, harmlessly.
            let _ = batch.conn.run("ROLLBACK").await;
        }
        return;
    }
    match batch.conn.run("ROLLBACK TO job; RELEASE job").await {
        Ok(_) => batch.dirty = false,
        Err(e) => fail(guard, e).await,
    }
}

/// Ends a batch whose transaction failed: rolled back, every job told, the connection back to
/// the pool clean.
async fn fail<C: BatchConn>(guard: &mut OwnedMutexGuard<Option<Batch<C>>>, error: sqlx::Error) {
    let Some(mut batch) = guard.take() else {
        return;
    };
    tracing::error!(error = %error, "a write batch failed and was rolled back");
    // SQLite may have rolled back already; then ROLLBACK fails, harmlessly.
    let _ = batch.conn.run("ROLLBACK").await;
    batch.outcome.send_replace(Some(Err(Arc::new(error))));
}

/// A job's error when its batch failed before it could commit (the cause is in the log).
fn batch_failed() -> StoreError {
    StoreError::Db(sqlx::Error::Protocol("the write batch failed".into()))
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
