//! SQLite's export reads, off the async driver: a page (or a keyset chunk) is read in one
//! blocking call on a connection of its own. sqlx's SQLite driver hands each row from its worker
//! thread to the runtime through a channel, a wake per row; a page of 1,000 rows read here costs
//! one hand-over. The query texts are the export's own (`export.rs`), the same as PostgreSQL
//! runs; only the executor differs.
//!
//! The connections keep a larger page cache than SQLite's 2 MB default. They do not map the file
//! (`mmap_size`): a part of a page read 14 % faster mapped, but every mapped page counts in the
//! server's resident memory (540 MB after one walk of 162,000 entries), which the streamed
//! downloads keep flat.
//!
//! Their plans do not depend on the values bound (`SQLITE_DBCONFIG_ENABLE_QPSG`). Otherwise
//! SQLite (built with `SQLITE_ENABLE_STAT4`) prepares a statement again whenever a new value is
//! bound to a parameter its planner looked at, as `LIMIT $n` is: every page's part statements
//! were compiled afresh (3 % of an export's time). The export's plans rest on its index hints,
//! not on values (Quadrat keeps no statistics), and its plan tests run on these connections.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::{Result, StoreError};

/// Connections kept open between reads; more may be open at once under load and are closed
/// when returned.
const IDLE: usize = 4;

/// Page cache of each connection, KiB (SQLite's `cache_size` takes negative KiB).
const CACHE_KIB: i64 = 8 * 1024;

/// A value bound to a `$N` placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// The read connections of one SQLite database file.
#[derive(Debug)]
pub(crate) struct PageReader {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    /// Rows whose bytes a page took as they were rendered ahead (`export.rs`, `AheadSql`).
    pub(crate) taken_ahead: AtomicU64,
}

impl PageReader {
    /// A reader of the database at `path`, or `None` for a database that is not a plain file
    /// (in memory: another connection would not see it).
    pub(crate) fn for_file(path: &Path) -> Option<Arc<PageReader>> {
        let name = path.to_string_lossy();
        if name.is_empty() || name.starts_with(':') || name.starts_with("file:") {
            return None;
        }
        Some(Arc::new(PageReader {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            taken_ahead: AtomicU64::new(0),
        }))
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        // Not created: sqlx opened (and secured) the file first.
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the sqlx pools: the CLI and a server may share the file.
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        Ok(conn)
    }

    /// Runs `sql` with `args` bound to `$1…$N` and maps every row with `row`, in one blocking
    /// call.
    pub(crate) async fn query<T, F>(
        self: &Arc<Self>,
        sql: String,
        args: Vec<Arg>,
        row: F,
    ) -> Result<Vec<T>>
    where
        T: Send + 'static,
        F: Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.query_blocking(&sql, &args, row))
            .await
            .map_err(|e| StoreError::Sqlite(e.to_string()))?
    }

    fn query_blocking<T, F>(&self, sql: &str, args: &[Arg], row: F) -> Result<Vec<T>>
    where
        F: Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        let mut out = Vec::new();
        self.each_blocking(sql, args, |r| {
            out.push(row(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs `sql` with `args` bound to `$1…$N` and hands each row, as SQLite holds it, to
    /// `each`, on the calling thread (a blocking one): what `each` keeps of a row it copies.
    pub(crate) fn each_blocking<F>(&self, sql: &str, args: &[Arg], each: F) -> Result<()>
    where
        F: FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
    {
        self.with_connection(|conn| read(conn, sql, args, each))
    }

    /// Runs `reads` on a connection of the reader, on the calling thread (a blocking one).
    /// Statements run by [`read`] inside another's rows see the same snapshot.
    pub(crate) fn with_connection<T>(
        &self,
        reads: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken {
            Some(conn) => conn,
            None => self.open().map_err(sqlite_error)?,
        };
        let out = reads(&conn).map_err(sqlite_error)?;
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE
        {
            idle.push(conn);
        }
        Ok(out)
    }
}

/// Runs `sql` with `args` bound to `$1…$N` on `conn` and hands each row to `each`.
pub(crate) fn read<F>(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg],
    mut each: F,
) -> rusqlite::Result<()>
where
    F: FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
{
    let mut stmt = conn.prepare_cached(sql)?;
    // `$N` is a named parameter to SQLite: bind each by its name, wherever and however often
    // it appears.
    for (i, arg) in args.iter().enumerate() {
        let Some(index) = stmt.parameter_index(&format!("${}", i + 1))? else {
            continue;
        };
        match arg {
            Arg::Int(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::Text(v) => stmt.raw_bind_parameter(index, v.as_str())?,
        }
    }
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        each(r)?;
    }
    Ok(())
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cached statement run with a new `LIMIT` value keeps its compiled program.
    #[test]
    fn a_new_limit_does_not_prepare_a_statement_again() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("reader.sqlite");
        let setup = rusqlite::Connection::open(&path).expect("a new database");
        setup
            .execute_batch(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); \
                 INSERT INTO t (v) VALUES ('a'), ('b'), ('c'), ('d');",
            )
            .expect("a table");
        let reader = PageReader::for_file(&path).expect("a file reader");
        let sql = "SELECT v FROM t WHERE id > $1 ORDER BY id LIMIT $2";
        let mut seen = Vec::new();
        for limit in [1, 3, 2] {
            let mut n = 0;
            reader
                .each_blocking(sql, &[Arg::Int(0), Arg::Int(limit)], |_| {
                    n += 1;
                    Ok(())
                })
                .expect("a read");
            seen.push(n);
        }
        assert_eq!(seen, [1, 3, 2]);
        let conn = reader
            .idle
            .lock()
            .expect("the idle list")
            .pop()
            .expect("kept");
        let stmt = conn.prepare_cached(sql).expect("still cached");
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "compiled again for a new LIMIT"
        );
    }
}
