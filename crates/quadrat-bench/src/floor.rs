//! The floor: what the engine itself does with the same rows, measured in the same run. Reads:
//! the form's entry rows in export order (SQLite: a plain query loop; PostgreSQL: `COPY … TO
//! STDOUT`). Writes: the same entry rows, one `INSERT` per transaction, into a table with the
//! entries table's columns, indexes and title search triggers (with their FTS5 table).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use futures_util::TryStreamExt;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Rows read and the seconds it took.
pub struct Timed {
    pub rows: u64,
    pub secs: f64,
}

impl Timed {
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.secs.max(1e-9)
    }
}

const READ_SQL: &str = "SELECT * FROM entries WHERE project_id = $1 AND form_ref = $2 \
                        ORDER BY created_at, id";

/// Every column of every row of the form, through rusqlite, each value touched.
pub fn sqlite_read(db: &Path, project_id: i64, form_ref: &str) -> Result<Timed> {
    let conn = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let started = Instant::now();
    let mut stmt = conn.prepare(READ_SQL)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params![project_id, form_ref])?;
    let (mut n, mut bytes) = (0u64, 0usize);
    while let Some(row) = rows.next()? {
        for i in 0..columns {
            bytes += match row.get_ref(i)? {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => t.len(),
                _ => 8,
            };
        }
        n += 1;
    }
    std::hint::black_box(bytes);
    Ok(Timed {
        rows: n,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// The columns an entry row is written with (all but `id`, `uuid`).
const COPY_COLUMNS: &str = "project_id, parent_uuid, form_ref, parent_form_ref, user_id, \
     platform, device_id, created_at, uploaded_at, title, entry_data, geo_json_data, \
     child_counts, branch_counts";

/// `n` entry rows of the form, one `INSERT` per transaction, into a fresh database file with
/// the entries table's schema (WAL, `synchronous` = `sync`).
pub fn sqlite_one_row_inserts(
    db: &Path,
    floor_db: &Path,
    sync: &str,
    project_id: i64,
    form_ref: &str,
    n: usize,
) -> Result<Timed> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", floor_db.display()));
    }
    let source =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // The table, its title search table (its triggers write to it), indexes, then triggers.
    let schema: Vec<String> = source
        .prepare(
            "SELECT sql FROM sqlite_master WHERE (tbl_name = 'entries' OR name = \
             'entries_title_search') AND sql IS NOT NULL \
             ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, \
             name = 'entries' DESC",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let rows = sample_rows(&source, project_id, form_ref, n)?;
    let mut conn = rusqlite::Connection::open(floor_db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", sync)?;
    // The entries table's foreign key is checked, as in the server's database.
    conn.execute_batch("CREATE TABLE projects (id INTEGER PRIMARY KEY)")?;
    conn.execute("INSERT INTO projects (id) VALUES (?1)", [project_id])?;
    for sql in &schema {
        conn.execute_batch(sql)
            .context("copying the entries schema")?;
    }
    let insert = format!(
        "INSERT INTO entries (uuid, {COPY_COLUMNS}, change_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
         ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    );
    let started = Instant::now();
    // Each row its own changes-feed number: `(project_id, change_seq)` is unique.
    for (seq, row) in (1i64..).zip(&rows) {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(&insert)?;
            let uuid = uuid::Uuid::new_v4().to_string();
            let mut values: Vec<&dyn rusqlite::ToSql> = vec![&uuid];
            values.extend(row.iter().map(|v| v as &dyn rusqlite::ToSql));
            values.push(&seq);
            stmt.execute(values.as_slice())?;
        }
        tx.commit()?;
    }
    Ok(Timed {
        rows: rows.len() as u64,
        secs: started.elapsed().as_secs_f64(),
    })
}

fn sample_rows(
    source: &rusqlite::Connection,
    project_id: i64,
    form_ref: &str,
    n: usize,
) -> Result<Vec<Vec<rusqlite::types::Value>>> {
    let mut stmt = source.prepare(&format!(
        "SELECT {COPY_COLUMNS} FROM entries WHERE project_id = ?1 AND form_ref = ?2 LIMIT ?3"
    ))?;
    let columns = stmt.column_count();
    let rows = stmt
        .query_map(rusqlite::params![project_id, form_ref, n as i64], |r| {
            (0..columns).map(|i| r.get(i)).collect()
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Every row of the form as `COPY … TO STDOUT` sends it (text format).
pub async fn postgres_copy_read(url: &str, project_id: i64, form_ref: &str) -> Result<Timed> {
    let mut conn = PgConnection::connect(url).await?;
    let started = Instant::now();
    // Literals, not binds: COPY takes none. Both values are ours (an id, a form ref).
    let sql = format!(
        "COPY (SELECT * FROM entries WHERE project_id = {project_id} AND form_ref = '{}' \
         ORDER BY created_at, id) TO STDOUT",
        form_ref.replace('\'', "''")
    );
    let mut rows = 0u64;
    {
        let mut stream = conn.copy_out_raw(&sql).await?;
        while let Some(chunk) = stream.try_next().await? {
            rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    conn.close().await?;
    Ok(Timed { rows, secs })
}

/// `n` entry rows of the form, one `INSERT` per transaction (autocommit), into a table made
/// `LIKE entries INCLUDING ALL`, dropped afterwards.
pub async fn postgres_one_row_inserts(
    url: &str,
    project_id: i64,
    form_ref: &str,
    n: usize,
) -> Result<Timed> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS floor_entries; \
         CREATE TABLE floor_entries (LIKE entries INCLUDING ALL)",
    )
    .execute(&mut conn)
    .await?;
    type Sample = (
        i64,
        String,
        String,
        String,
        i64,
        String,
        String,
        i64,
        i64,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
    );
    let rows: Vec<Sample> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COPY_COLUMNS} FROM entries WHERE project_id = $1 AND form_ref = $2 LIMIT $3"
    )))
    .bind(project_id)
    .bind(form_ref)
    .bind(n as i64)
    .fetch_all(&mut conn)
    .await?;
    let insert = format!(
        "INSERT INTO floor_entries (uuid, {COPY_COLUMNS}, change_seq) VALUES ($1, $2, $3, $4, \
         $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    );
    let started = Instant::now();
    // Each row its own changes-feed number: `(project_id, change_seq)` is unique.
    for (seq, r) in (1i64..).zip(&rows) {
        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(r.0)
            .bind(&r.1)
            .bind(&r.2)
            .bind(&r.3)
            .bind(r.4)
            .bind(&r.5)
            .bind(&r.6)
            .bind(r.7)
            .bind(r.8)
            .bind(&r.9)
            .bind(&r.10)
            .bind(&r.11)
            .bind(r.12)
            .bind(&r.13)
            .bind(seq)
            .execute(&mut conn)
            .await?;
    }
    let secs = started.elapsed().as_secs_f64();
    sqlx::raw_sql("DROP TABLE floor_entries")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(Timed {
        rows: rows.len() as u64,
        secs,
    })
}
