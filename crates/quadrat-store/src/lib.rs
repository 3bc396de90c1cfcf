//! Storage behind one interface: [`Store`] runs the same queries on SQLite (embedded default) or
//! PostgreSQL, chosen by the database URL. Engine-specific SQL lives only where it must differ.

mod changes;
mod core_pin;
mod durability;
mod entries;
mod entry_renders;
mod export;
mod files;
mod mappings;
mod media;
mod migrate;
mod mirror;
mod oauth;
mod ops;
mod page_marks;
mod page_parts;
mod page_reader;
mod projects;
mod ratelimit;
mod read_ahead;
mod rows;
#[cfg(feature = "test-support")]
mod seed;
mod sessions;
mod title_search;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[cfg(feature = "test-support")]
pub use changes::pause as change_pause;
pub use changes::{
    ChangeItem, ChangeState, ChangesPage, ChangesSelect, ProjectChange, ProjectEvent, Tombstone,
};
pub use durability::Durability;
#[cfg(feature = "test-support")]
pub use entries::{BranchEntryRow, EntryRow};
pub use entries::{
    DeleteTarget, Deleted, EntryTx, NewBranchEntry, NewEntry, NewRecord, RecordEdit, RecordLookup,
    StoredBranchEntry, StoredEntry,
};
pub use entry_renders::{RenderScan, ToRender};
pub use export::{Cursor, ExportRow, ExportRowRef, ExportSelect, ExportTotals, Located};
pub use media::{
    ByteStream, CopyProgress, CopyReport, LOGO_NAME, MAX_NAME_BYTES, MediaFile, MediaKey,
    MediaStore, S3Settings, TempUpload, UnsafeName, safe_name,
};
pub use mirror::MirrorSource;
pub use oauth::{ClientRow, TokenRow};
pub use ops::{DatabaseCounts, PoolUse};
pub use page_parts::{PartWriter, RenderedPage};
pub use projects::NewProject;
pub use ratelimit::RedisRates;
pub use rows::{CounterRow, MediaTotalsRow, ProjectRow, StructureRow, VersionedProjectRow};
pub use sessions::SessionRow;
pub use users::{MemberRow, NewUser, UserRow};

/// A storage failure. `Conflict` and `NotFound` are the caller's to turn into client errors;
/// everything else is an internal error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(Conflict),
    #[error("{0} not found")]
    NotFound(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    /// The disk (or the database's quota) is full: nothing was written; retry when space
    /// returns.
    #[error("the disk is full")]
    DiskFull,
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("redis error: {0}")]
    Redis(String),
    #[error("{0}")]
    Unsupported(&'static str),
    /// SQLite's export reads (`page_reader.rs`), which do not go through sqlx.
    #[error("database error: {0}")]
    Sqlite(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if is_disk_full(&e) {
            StoreError::DiskFull
        } else {
            StoreError::Db(e)
        }
    }
}

/// SQLite's `SQLITE_FULL` (13, with its extended codes), PostgreSQL's `disk_full` (53100) or
/// an `ENOSPC`/`EDQUOT` from the driver's own I/O.
pub(crate) fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
            code == "53100" || (sqlite && code.parse::<i32>().is_ok_and(|c| c & 0xff == 13))
        }
        sqlx::Error::Io(io) => matches!(io.raw_os_error(), Some(28 | 122)),
        _ => false,
    }
}

/// Which unique thing a write ran into: each is a different answer to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Another project has this ref.
    ProjectRef,
    /// Another project has this slug.
    ProjectSlug,
    /// Another project took this ref or slug between the check and the insert.
    Project,
    /// A user with this email exists.
    Email,
    /// The project already has a creator.
    Creator,
    /// The project already has its client app.
    ClientApp,
    /// An access token with this id exists.
    Token,
    /// The mapping list changed since the caller read it.
    ProjectMapping,
    /// An entry with this uuid exists.
    EntryUuid,
    /// A branch entry with this uuid exists.
    BranchEntryUuid,
}

impl Conflict {
    /// What conflicted, in words (the source of the error a client may see).
    pub fn as_str(self) -> &'static str {
        match self {
            Conflict::ProjectRef => "project ref",
            Conflict::ProjectSlug => "slug",
            Conflict::Project => "project",
            Conflict::Email => "email",
            Conflict::Creator => "creator",
            Conflict::ClientApp => "client app",
            Conflict::Token => "token",
            Conflict::ProjectMapping => "project mapping",
            Conflict::EntryUuid => "entry uuid",
            Conflict::BranchEntryUuid => "branch entry uuid",
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The two engines' pools. SQLite gets one writer connection, so writers queue in-process instead
/// of failing with SQLITE_BUSY, a pool of readers that WAL lets run beside it, and the group
/// commit that batches uploads on the writer (`entries/group.rs`). PostgreSQL gets one pool and
/// a group commit per project.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        group: Arc<entries::GroupCommit<sqlx::pool::PoolConnection<sqlx::Sqlite>>>,
        /// The export's page reads (`None` for an in-memory database).
        pages: Option<Arc<page_reader::PageReader>>,
    },
    Postgres {
        pool: PgPool,
        groups: Arc<entries::PgGroups>,
    },
}

/// Starts a write transaction as a writer: on SQLite `BEGIN IMMEDIATE`, so the write lock is
/// taken at once and the busy timeout applies (a deferred transaction that reads, then writes
/// while another process writes fails with `database is locked` whatever the timeout).
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>>> + Send {
        self.begin()
    }
}

/// Runs `$body` with `$pool` bound to the engine's pool: once per engine, so each query text is
/// written once. `read` picks SQLite's reader pool, `write` its single writer.
macro_rules! with_pool {
    ($store:expr, read, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite { read: $pool, .. } => $body,
            $crate::Db::Postgres { pool: $pool, .. } => $body,
        }
    };
    ($store:expr, write, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite { write: $pool, .. } => $body,
            $crate::Db::Postgres { pool: $pool, .. } => $body,
        }
    };
}
pub(crate) use with_pool;

/// The storage interface the services use.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
    /// Where the export's next pages start (`page_marks.rs`).
    pub(crate) marks: Arc<page_marks::PageMarks>,
    /// The next pages of walks, read before they are asked for (`read_ahead.rs`).
    pub(crate) ahead: Arc<read_ahead::ReadAhead>,
}

/// The page size of a database Quadrat creates, bytes. An entry row of 2-3 KB filled SQLite's
/// default 4 KiB page alone, half of it empty, so twice the pages were written and read; 8 KiB
/// holds three (the bulk import about 20 % faster). 16 KiB writes four times the bytes of each
/// index page an upload touches, and made uploads slower.
const NEW_DATABASE_PAGE_BYTES: u32 = 8192;

/// The SQLite writer's page cache, KiB.
const WRITER_CACHE_KIB: u32 = 16_384;

/// WAL pages after which a commit of the writer checkpoints them into the database, by
/// durability. Each checkpoint syncs the WAL and the database and stalls the commit that runs
/// it: with `safe`, where every commit is synced anyway, ten times fewer than SQLite's default
/// of 1,000 pages (about 4 MB), each copying once the pages rewritten meanwhile, made the bulk
/// import about 13 % faster (the WAL file grows to about 40 MB). With `relaxed` the checkpoint
/// is the only sync, so the default keeps what a power cut may take as small as documented.
fn writer_checkpoint_pages(durability: Durability) -> u32 {
    match durability {
        Durability::Safe => 10_000,
        Durability::Relaxed => 1_000,
    }
}

impl Store {
    /// Opens the database named by `url` (`sqlite://PATH` creates the file; `postgres://…`)
    /// with the safe durability. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Store> {
        Store::open(url, Durability::Safe).await
    }

    /// [`Store::connect`] with a chosen durability (docs/durability.md). PostgreSQL keeps the
    /// server's own `synchronous_commit` in either mode.
    pub async fn open(url: &str, durability: Durability) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Store {
                db: Db::Postgres {
                    groups: Arc::new(entries::PgGroups::new(pool.clone())),
                    pool,
                },
                marks: Arc::default(),
                ahead: Arc::default(),
            });
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::BadUrl(redact(url)));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // Only a new file takes it: an existing database keeps its page size.
            .page_size(NEW_DATABASE_PAGE_BYTES)
            .journal_mode(SqliteJournalMode::Wal)
            // Safe: the WAL is synced at every commit, so an acknowledged write survives a power
            // cut; relaxed: synced at checkpoints only (survives a killed process, not a power cut).
            .synchronous(match durability {
                Durability::Safe => SqliteSynchronous::Full,
                Durability::Relaxed => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            // The CLI and a running server may share the file: wait for each other's writes.
            .busy_timeout(Duration::from_secs(30));
        // Owner-only before SQLite creates it (its -wal and -shm files take the same mode).
        files::secure_database_file(options.get_filename())
            .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
        // The writer's page cache holds a batch's index pages (SQLite's default of 2 MB spills
        // them to the WAL mid-transaction and reads them back), and the group commit's
        // savepoint journals stay in memory instead of a temporary file.
        // A connection to a local file does not go stale as a network one does: no ping (a
        // round trip to the driver's thread) before each use. sqlx still pings on release.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                    .pragma("temp_store", "MEMORY")
                    .pragma(
                        "wal_autocheckpoint",
                        writer_checkpoint_pages(durability).to_string(),
                    ),
            )
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone().read_only(false))
            .await?;
        let group = Arc::new(entries::GroupCommit::sqlite(write.clone()));
        let pages = page_reader::PageReader::for_file(options.get_filename());
        Ok(Store {
            db: Db::Sqlite {
                write,
                read,
                group,
                pages,
            },
            marks: Arc::default(),
            ahead: Arc::default(),
        })
    }

    pub fn engine(&self) -> Engine {
        match self.db {
            Db::Sqlite { .. } => Engine::Sqlite,
            Db::Postgres { .. } => Engine::Postgres,
        }
    }

    /// Closes every connection (tests drop their database afterwards).
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { write, read, .. } => {
                write.close().await;
                read.close().await;
            }
            Db::Postgres { pool, .. } => pool.close().await,
        }
    }
}

/// A database URL fit for logs: any password is replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] naming `what`.
pub(crate) fn conflict_as(err: sqlx::Error, what: Conflict) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        return StoreError::Conflict(what);
    }
    StoreError::Db(err)
}

#[cfg(feature = "test-support")]
impl Store {
    /// Runs one administrative statement (`CREATE DATABASE`, `DROP DATABASE`) that cannot run
    /// inside a transaction. For tests (feature `test-support`), never with user input.
    pub async fn execute_admin(&self, sql: &str) -> Result<()> {
        with_pool!(self, write, |pool| {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(pool)
                .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x"), "sqlite://x");
    }
}
