//! The changes feed's storage (docs/protocol.md §17): the per-project counter that numbers
//! every change, tombstones, project events, and the feed's pages.
//!
//! A writer takes its numbers from the project's `change_counters` row inside its own
//! transaction (`UPDATE … RETURNING`), which locks the row until commit: on PostgreSQL the next
//! writer of the project waits for that commit, on SQLite there is one writer. So numbers
//! follow commit order, and a reader's snapshot holding seq `s` holds every smaller seq of the
//! project: a cursor never skips a row committed late. A rolled-back write returns its numbers.

use quadrat_core::time::now_millis;

use crate::entries::{EntryTx, with_tx};
use crate::{Result, Store, StoreError, with_pool};

/// A project's counter row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeState {
    pub last_seq: i64,
    pub epoch: String,
    pub tombstone_floor: i64,
}

/// What a feed page selects.
#[derive(Debug, Clone)]
pub struct ChangesSelect<'a> {
    pub project_id: i64,
    /// Items with a seq above this.
    pub after: i64,
    /// Tombstones and project events at or below this are skipped (an initial walk's start).
    pub horizon: i64,
    /// Only this form's entries and the branch entries it owns.
    pub form_ref: Option<&'a str>,
    /// Only this branch input's entries.
    pub branch_ref: Option<&'a str>,
    /// At most this many items.
    pub limit: i64,
    /// Private projects: read the uploader's email.
    pub with_created_by: bool,
}

/// One item of a feed page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeItem {
    /// A live hierarchy entry (`branch_ref` empty) or branch entry, at its latest version.
    Upsert {
        seq: i64,
        form_ref: String,
        /// The branch input of a branch entry, else `""`.
        branch_ref: String,
        row: crate::ExportRow,
    },
    Tombstone(Tombstone),
    Project(ProjectEvent),
}

impl ChangeItem {
    pub fn seq(&self) -> i64 {
        match self {
            ChangeItem::Upsert { seq, .. } => *seq,
            ChangeItem::Tombstone(t) => t.seq,
            ChangeItem::Project(p) => p.seq,
        }
    }
}

/// A deleted entry (`kind` `entry`) or branch entry (`branch_entry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub seq: i64,
    pub kind: String,
    pub uuid: String,
    pub form_ref: String,
    pub branch_ref: String,
    /// Entries: the parent's form ref (`""` on the first form).
    pub parent_form_ref: String,
    /// Entries: the parent's uuid; branch entries: the owner's.
    pub relation_uuid: String,
    pub deleted_at: i64,
}

/// Why every rendered row may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectEvent {
    pub seq: i64,
    /// `structure`, `mapping` or `access`.
    pub reason: String,
    pub structure_last_updated: String,
    pub access: String,
}

/// A page of the feed and what it was rendered against, all read in one snapshot.
#[derive(Debug, Clone)]
pub struct ChangesPage {
    pub state: ChangeState,
    pub items: Vec<ChangeItem>,
    pub definition: String,
    pub mapping: String,
    pub structure_updated_at: i64,
    pub access: String,
}

/// Why a project event is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectChange {
    Structure,
    Mapping,
    Access,
}

impl ProjectChange {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectChange::Structure => "structure",
            ProjectChange::Mapping => "mapping",
            ProjectChange::Access => "access",
        }
    }
}

/// A fresh random epoch.
pub(crate) fn new_epoch() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// Takes `$n` numbers from the project's counter on `$conn` (inside the caller's transaction)
/// and evaluates to the last of them; the row is created on first use.
macro_rules! take_seqs {
    ($conn:expr, $project_id:expr, $n:expr) => {{
        let n: i64 = $n;
        let mut got: Option<i64> = sqlx::query_scalar(
            "UPDATE change_counters SET last_seq = last_seq + $2 WHERE project_id = $1 \
             RETURNING last_seq",
        )
        .bind($project_id)
        .bind(n)
        .fetch_optional(&mut *$conn)
        .await?;
        if got.is_none() {
            sqlx::query(
                "INSERT INTO change_counters (project_id, last_seq, epoch, tombstone_floor) \
                 VALUES ($1, 0, $2, 0) ON CONFLICT (project_id) DO NOTHING",
            )
            .bind($project_id)
            .bind($crate::changes::new_epoch())
            .execute(&mut *$conn)
            .await?;
            got = sqlx::query_scalar(
                "UPDATE change_counters SET last_seq = last_seq + $2 WHERE project_id = $1 \
                 RETURNING last_seq",
            )
            .bind($project_id)
            .bind(n)
            .fetch_optional(&mut *$conn)
            .await?;
        }
        got.ok_or_else(|| $crate::StoreError::NotFound("project".into()))?
    }};
}
pub(crate) use take_seqs;

/// Writes a project event on `$conn` inside the caller's transaction (after its other writes,
/// so the event carries the new state).
macro_rules! record_project_event {
    ($conn:expr, $project_id:expr, $reason:expr) => {{
        let seq: i64 = $crate::changes::take_seqs!($conn, $project_id, 1);
        let (updated_at, access): (i64, String) = sqlx::query_as(
            "SELECT s.updated_at, p.access FROM project_structures s JOIN projects p \
             ON p.id = s.project_id WHERE s.project_id = $1",
        )
        .bind($project_id)
        .fetch_one(&mut *$conn)
        .await?;
        sqlx::query(
            "INSERT INTO change_project_events (project_id, change_seq, reason, \
             structure_last_updated, access, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($project_id)
        .bind(seq)
        .bind($reason.as_str())
        .bind(quadrat_core::time::sql_datetime(updated_at))
        .bind(access)
        .bind(quadrat_core::time::now_millis())
        .execute(&mut *$conn)
        .await?;
    }};
}
pub(crate) use record_project_event;

impl EntryTx {
    /// The next number of this project's feed, inside this transaction.
    pub(crate) async fn next_seq(&mut self) -> Result<i64> {
        let project_id = self.project_id();
        let seq = with_tx!(self, |conn| { take_seqs!(conn, project_id, 1) });
        #[cfg(feature = "test-support")]
        pause::after_seq_taken().await;
        Ok(seq)
    }

    /// The number of a new record `uuid`, with its tombstone (a uuid written again after its
    /// deletion) forgotten: one statement asks both, so a new record's upload pays for the
    /// delete only when there is a tombstone to delete.
    pub(crate) async fn next_seq_of_new(&mut self, uuid: &str) -> Result<i64> {
        let project_id = self.project_id();
        let taken: Option<(i64, bool)> = with_tx!(self, |conn| {
            sqlx::query_as(
                "UPDATE change_counters SET last_seq = last_seq + 1 WHERE project_id = $1 \
                 RETURNING last_seq, EXISTS (SELECT 1 FROM change_tombstones t WHERE \
                 t.project_id = $1 AND t.uuid = $2)",
            )
            .bind(project_id)
            .bind(uuid)
            .fetch_optional(&mut *conn)
            .await?
        });
        // The project's first change: its counter row is made on the general path.
        let Some((seq, tombstoned)) = taken else {
            let seq = self.next_seq().await?;
            self.forget_tombstone(uuid).await?;
            return Ok(seq);
        };
        #[cfg(feature = "test-support")]
        pause::after_seq_taken().await;
        if tombstoned {
            self.forget_tombstone(uuid).await?;
        }
        Ok(seq)
    }

    /// Gives the hierarchy entry `id` a new number (its rendering changed).
    pub(crate) async fn restamp_entry(&mut self, id: i64) -> Result<()> {
        let seq = self.next_seq().await?;
        with_tx!(self, |conn| {
            sqlx::query("UPDATE entries SET change_seq = $1 WHERE id = $2")
                .bind(seq)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// [`EntryTx::forget_tombstone`] for a batch of uuids, in one statement.
    pub(crate) async fn forget_tombstones<'u>(
        &mut self,
        uuids: impl ExactSizeIterator<Item = &'u str>,
    ) -> Result<()> {
        let project_id = self.project_id();
        let forget = format!(
            "DELETE FROM change_tombstones WHERE project_id = {} AND uuid IN ({})",
            self.params(1, 1),
            self.params(2, uuids.len())
        );
        with_tx!(self, |conn| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(forget)).bind(project_id);
            for uuid in uuids {
                q = q.bind(uuid);
            }
            q.execute(&mut *conn).await.map(drop)?
        });
        Ok(())
    }

    /// A uuid written again after its deletion: its tombstone goes.
    pub(crate) async fn forget_tombstone(&mut self, uuid: &str) -> Result<()> {
        let project_id = self.project_id();
        with_tx!(self, |conn| {
            sqlx::query("DELETE FROM change_tombstones WHERE project_id = $1 AND uuid = $2")
                .bind(project_id)
                .bind(uuid)
                .execute(&mut *conn)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// Records a deletion.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_tombstone(
        &mut self,
        kind: &str,
        uuid: &str,
        form_ref: &str,
        branch_ref: &str,
        parent_form_ref: &str,
        relation_uuid: &str,
        deleted_at: i64,
    ) -> Result<()> {
        let project_id = self.project_id();
        let seq = self.next_seq().await?;
        with_tx!(self, |conn| {
            sqlx::query(
                "INSERT INTO change_tombstones (project_id, change_seq, kind, uuid, form_ref, \
                 branch_ref, parent_form_ref, relation_uuid, deleted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(project_id)
            .bind(seq)
            .bind(kind)
            .bind(uuid)
            .bind(form_ref)
            .bind(branch_ref)
            .bind(parent_form_ref)
            .bind(relation_uuid)
            .bind(deleted_at)
            .execute(&mut *conn)
            .await
            .map(drop)?
        });
        Ok(())
    }
}

type RawItem = (
    String,         // src: e, b, t, p
    i64,            // seq
    i64,            // id
    String,         // uuid
    String,         // form_ref
    String,         // branch_ref
    String,         // related uuid (parent, owner; event: access)
    String,         // parent_form_ref (tombstone kind for t)
    i64,            // created_at
    i64,            // uploaded_at (deleted_at)
    String,         // title (event: reason)
    Option<String>, // created_by
    String,         // entry_data (event: structure_last_updated)
    Option<String>, // branch_counts
);

fn to_item(r: RawItem) -> ChangeItem {
    let (src, seq, id, uuid, form_ref, branch_ref, related, pform, created_at, uploaded_at) =
        (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9);
    match src.as_str() {
        "t" => ChangeItem::Tombstone(Tombstone {
            seq,
            kind: r.10,
            uuid,
            form_ref,
            branch_ref,
            parent_form_ref: pform,
            relation_uuid: related,
            deleted_at: uploaded_at,
        }),
        "p" => ChangeItem::Project(ProjectEvent {
            seq,
            reason: r.10,
            structure_last_updated: r.12,
            access: related,
        }),
        _ => ChangeItem::Upsert {
            seq,
            form_ref,
            branch_ref,
            row: crate::ExportRow {
                id,
                uuid,
                related_uuid: related,
                created_at,
                uploaded_at,
                title: r.10,
                created_by: r.11,
                entry_data: r.12,
                branch_counts: r.13,
            },
        },
    }
}

/// The feed's one statement: the four sources merged by seq.
fn page_sql(sel: &ChangesSelect<'_>) -> (String, Vec<String>) {
    let mut texts: Vec<String> = Vec::new();
    let mut arg = |v: &str| {
        texts.push(v.to_string());
        format!("${}", texts.len() + 4)
    };
    let created_by = |alias: &str| {
        if sel.with_created_by {
            format!("CASE WHEN {alias}.state = 'archived' THEN NULL ELSE {alias}.email END")
        } else {
            "CAST(NULL AS TEXT)".to_string()
        }
    };
    let users = |row: &str, alias: &str| {
        if sel.with_created_by {
            format!(" LEFT JOIN users {alias} ON {alias}.id = {row}.user_id AND {row}.user_id <> 0")
        } else {
            String::new()
        }
    };
    let mut entries_where = String::new();
    let mut branch_where = String::new();
    let mut tomb_where = String::new();
    if let Some(f) = sel.form_ref {
        let p = arg(f);
        entries_where.push_str(&format!(" AND e.form_ref = {p}"));
        branch_where.push_str(&format!(" AND b.form_ref = {p}"));
        tomb_where.push_str(&format!(" AND t.form_ref = {p}"));
    }
    let with_entries = sel.branch_ref.is_none();
    if let Some(b) = sel.branch_ref {
        let p = arg(b);
        branch_where.push_str(&format!(" AND b.owner_input_ref = {p}"));
        tomb_where.push_str(&format!(
            " AND t.kind = 'branch_entry' AND t.branch_ref = {p}"
        ));
    }
    // Every part names its columns: the first one present names the union's.
    let mut parts = Vec::new();
    if with_entries {
        parts.push(format!(
            "SELECT 'e' AS src, e.change_seq AS seq, e.id, e.uuid, e.form_ref, '' AS branch_ref, \
             e.parent_uuid AS related, e.parent_form_ref AS pform, e.created_at, e.uploaded_at, \
             e.title, {cb} AS created_by, e.entry_data, e.branch_counts \
             FROM entries e{users} WHERE e.project_id = $1 AND e.change_seq > $2{entries_where}",
            cb = created_by("ue"),
            users = users("e", "ue"),
        ));
    }
    parts.push(format!(
        "SELECT 'b' AS src, b.change_seq AS seq, b.id, b.uuid, b.form_ref, \
         b.owner_input_ref AS branch_ref, b.owner_uuid AS related, '' AS pform, b.created_at, \
         b.uploaded_at, b.title, {cb} AS created_by, b.entry_data, \
         CAST(NULL AS TEXT) AS branch_counts \
         FROM branch_entries b{users} WHERE b.project_id = $1 AND b.change_seq > $2{branch_where}",
        cb = created_by("ub"),
        users = users("b", "ub"),
    ));
    parts.push(format!(
        "SELECT 't', t.change_seq, CAST(0 AS BIGINT), t.uuid, t.form_ref, t.branch_ref, \
         t.relation_uuid, t.parent_form_ref, CAST(0 AS BIGINT), t.deleted_at, t.kind, \
         CAST(NULL AS TEXT), '', CAST(NULL AS TEXT) FROM change_tombstones t \
         WHERE t.project_id = $1 AND t.change_seq > $2 AND t.change_seq > $3{tomb_where}"
    ));
    parts.push(
        "SELECT 'p', v.change_seq, CAST(0 AS BIGINT), '', '', '', v.access, '', \
         CAST(0 AS BIGINT), v.at, v.reason, CAST(NULL AS TEXT), v.structure_last_updated, \
         CAST(NULL AS TEXT) FROM change_project_events v \
         WHERE v.project_id = $1 AND v.change_seq > $2 AND v.change_seq > $3"
            .to_string(),
    );
    let sql = format!(
        "SELECT * FROM ({}) AS feed ORDER BY seq LIMIT $4",
        parts.join(" UNION ALL ")
    );
    (sql, texts)
}

const STATE_SQL: &str =
    "SELECT last_seq, epoch, tombstone_floor FROM change_counters WHERE project_id = $1";

const STRUCTURE_SQL: &str = "SELECT s.project_definition, s.project_mapping, s.updated_at, \
     p.access FROM project_structures s JOIN projects p ON p.id = s.project_id \
     WHERE s.project_id = $1";

impl Store {
    /// The project's counter row (created with a fresh epoch if the project has none yet).
    pub async fn change_state(&self, project_id: i64) -> Result<ChangeState> {
        let found: Option<ChangeState> = with_pool!(self, read, |pool| {
            sqlx::query_as(STATE_SQL)
                .bind(project_id)
                .fetch_optional(pool)
                .await?
        });
        if let Some(s) = found {
            return Ok(s);
        }
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO change_counters (project_id, last_seq, epoch, tombstone_floor) \
                 VALUES ($1, 0, $2, 0) ON CONFLICT (project_id) DO NOTHING",
            )
            .bind(project_id)
            .bind(new_epoch())
            .execute(pool)
            .await?;
            Ok(sqlx::query_as(STATE_SQL)
                .bind(project_id)
                .fetch_one(pool)
                .await?)
        })
    }

    /// One page of the feed with the counter, definition, mapping and access it must be read
    /// with, all from one snapshot (PostgreSQL: one `REPEATABLE READ READ ONLY` transaction;
    /// SQLite: one read transaction).
    pub async fn changes_page(&self, sel: &ChangesSelect<'_>) -> Result<ChangesPage> {
        self.change_state(sel.project_id).await?;
        let (sql, texts) = page_sql(sel);
        with_pool!(self, read, |pool| {
            let mut tx = pool.begin().await?;
            if self.engine() == crate::Engine::Postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let state: ChangeState = sqlx::query_as(STATE_SQL)
                .bind(sel.project_id)
                .fetch_one(&mut *tx)
                .await?;
            let (definition, mapping, structure_updated_at, access): (String, String, i64, String) =
                sqlx::query_as(STRUCTURE_SQL)
                    .bind(sel.project_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound("project".into()))?;
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(sel.project_id)
                .bind(sel.after)
                .bind(sel.horizon)
                .bind(sel.limit);
            for t in &texts {
                q = q.bind(t.clone());
            }
            let rows: Vec<RawItem> = q.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok(ChangesPage {
                state,
                items: rows.into_iter().map(to_item).collect(),
                definition,
                mapping,
                structure_updated_at,
                access,
            })
        })
    }

    /// Renews a project's epoch (every cursor handed out before is refused), or every project's
    /// when `None`. Returns how many projects were reset.
    pub async fn reset_change_epoch(&self, project_id: Option<i64>) -> Result<u64> {
        let ids: Vec<i64> = with_pool!(self, read, |pool| match project_id {
            Some(id) => vec![id],
            None =>
                sqlx::query_scalar("SELECT id FROM projects ORDER BY id")
                    .fetch_all(pool)
                    .await?,
        });
        for id in &ids {
            self.change_state(*id).await?;
            with_pool!(self, write, |pool| {
                sqlx::query("UPDATE change_counters SET epoch = $1 WHERE project_id = $2")
                    .bind(new_epoch())
                    .bind(*id)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(ids.len() as u64)
    }

    /// Purges tombstones deleted before `before` (Unix ms) and raises each project's
    /// `tombstone_floor` to the highest seq purged. Project events are kept. Returns how many
    /// tombstones went.
    pub async fn purge_tombstones(&self, before: i64) -> Result<u64> {
        with_pool!(self, write, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "UPDATE change_counters SET tombstone_floor = (SELECT MAX(t.change_seq) \
                 FROM change_tombstones t WHERE t.project_id = change_counters.project_id \
                 AND t.deleted_at < $1) WHERE EXISTS (SELECT 1 FROM change_tombstones t \
                 WHERE t.project_id = change_counters.project_id AND t.deleted_at < $1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            let done = sqlx::query("DELETE FROM change_tombstones WHERE deleted_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected())
        })
    }
}

/// The current time, as tombstones record it.
pub(crate) fn deleted_now() -> i64 {
    now_millis()
}

/// A writer paused while it holds its project's counter, so a test can show that readers and
/// other writers wait for it (extensions.md §1.9 item 5). Tests only (feature `test-support`):
/// production builds have no such hook.
#[cfg(feature = "test-support")]
pub mod pause {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    static NEXT_WRITER_MS: AtomicU64 = AtomicU64::new(0);

    /// The next writer to take a seq (in this process) sleeps `pause` before going on.
    pub fn next_writer(pause: Duration) {
        NEXT_WRITER_MS.store(pause.as_millis() as u64, Ordering::SeqCst);
    }

    pub(crate) async fn after_seq_taken() {
        let ms = NEXT_WRITER_MS.swap(0, Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}
