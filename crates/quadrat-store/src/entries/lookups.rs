//! What the upload rules read inside the write transaction: records by uuid, the answers
//! another record already holds, and the counts the limits compare with.

use quadrat_core::entry::UniqueKey;

use super::{EntryTx, with_tx_read};
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

/// Entries of a child form under one parent. The unary `+` keeps `project_id` from choosing
/// the index: without statistics SQLite prefers a covering `(project_id, form_ref, …)` index,
/// a walk over the whole form, to the parent's `(parent_uuid, form_ref, …)` seek.
pub(crate) const CHILDREN_COUNT: &str = "SELECT COUNT(*) FROM entries WHERE parent_uuid = $1 \
     AND form_ref = $2 AND +project_id = $3";

/// Branch entries of one branch under one owner (`+` as in [`CHILDREN_COUNT`]: not a walk
/// over the branch's entries of the whole project).
pub(crate) const BRANCH_COUNT: &str = "SELECT COUNT(*) FROM branch_entries WHERE owner_uuid = \
     $1 AND owner_input_ref = $2 AND +project_id = $3";

impl EntryTx {
    /// The hierarchy entry with this uuid, in any project (uuids are globally unique).
    pub async fn entry_by_uuid(&mut self, uuid: &str) -> Result<Option<StoredEntry>> {
        self.record_by_uuid(STORED_ENTRY, uuid).await
    }

    /// The branch entry with this uuid, in any project.
    pub async fn branch_entry_by_uuid(&mut self, uuid: &str) -> Result<Option<StoredBranchEntry>> {
        self.record_by_uuid(STORED_BRANCH, uuid).await
    }

    /// The row of `select` ([`STORED_ENTRY`] or [`STORED_BRANCH`]) with this uuid.
    async fn record_by_uuid<T>(&mut self, select: &str, uuid: &str) -> Result<Option<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        with_tx_read!(self, |conn, prefix| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{prefix}{select} WHERE uuid = $1"
            )))
            .bind(uuid)
            .fetch_optional(&mut *conn)
            .await?)
        })
    }

    /// Entries of a form (all of them: the form's counter).
    pub async fn form_count(&mut self, form_ref: &str) -> Result<i64> {
        let project_id = self.project_id;
        let n: Option<i64> = with_tx_read!(self, |conn, prefix| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "{prefix}SELECT entry_count FROM entry_counters WHERE project_id = $1 AND \
                 form_ref = $2 AND branch_ref = ''"
            )))
            .bind(project_id)
            .bind(form_ref)
            .fetch_optional(&mut *conn)
            .await?
        });
        Ok(n.unwrap_or(0))
    }

    /// Entries of a child form under one parent.
    pub async fn children_count(&mut self, form_ref: &str, parent_uuid: &str) -> Result<i64> {
        self.count_under(CHILDREN_COUNT, parent_uuid, form_ref)
            .await
    }

    /// Branch entries of one branch under one owner.
    pub async fn branch_count(&mut self, owner_uuid: &str, branch_ref: &str) -> Result<i64> {
        self.count_under(BRANCH_COUNT, owner_uuid, branch_ref).await
    }

    /// `sql` ([`CHILDREN_COUNT`] or [`BRANCH_COUNT`]) for one parent or owner and one form or
    /// branch, in this project.
    async fn count_under(&mut self, sql: &'static str, uuid: &str, reference: &str) -> Result<i64> {
        let project_id = self.project_id;
        with_tx_read!(self, |conn, prefix| {
            Ok(
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("{prefix}{sql}")))
                    .bind(uuid)
                    .bind(reference)
                    .bind(project_id)
                    .fetch_one(&mut *conn)
                    .await?,
            )
        })
    }
}

/// What the upload rules read about one record before it is written, in one statement: the
/// record stored under its uuid (in any project), the id of the record it hangs from (an
/// entry's parent, a branch entry's owner: this project's entry with that uuid in that form),
/// and which of its unique answers a record other than itself already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLookup<T> {
    pub stored: Option<T>,
    /// `None` when no such record, or when none was asked for.
    pub related_id: Option<i64>,
    /// The input refs among the keys whose answer another record holds, in the keys' order.
    pub taken: Vec<String>,
}

/// One row of the lookup: which part it answers, then the columns of a stored record (an entry
/// leaves the branch's columns empty; a related record or a taken answer fills what it has).
type LookupRow = (i64, i64, i64, String, String, String, i64, i64, String);

/// The parts of a lookup's rows.
const PART_STORED: i64 = 0;
const PART_RELATED: i64 = 1;
const PART_TAKEN: i64 = 2;

impl EntryTx {
    /// In one statement: what [`EntryTx::entry_by_uuid`] reads, the id of this project's entry
    /// `parent` (uuid, form ref) when given, and which of `keys` a record other than `uuid`
    /// already holds.
    pub async fn look_up_entry(
        &mut self,
        uuid: &str,
        parent: Option<(&str, &str)>,
        keys: &[UniqueKey],
    ) -> Result<RecordLookup<StoredEntry>> {
        let stored = "SELECT CAST(0 AS BIGINT), id, project_id, form_ref, parent_uuid, '', \
                      CAST(0 AS BIGINT), user_id, device_id FROM entries WHERE uuid = $1";
        let rows = self.look_up(stored, uuid, parent, keys).await?;
        Ok(split_rows(rows, |r| StoredEntry {
            id: r.1,
            project_id: r.2,
            uuid: uuid.to_string(),
            form_ref: r.3,
            parent_uuid: r.4,
            user_id: r.7,
            device_id: r.8,
        }))
    }

    /// In one statement: what [`EntryTx::branch_entry_by_uuid`] reads, the id of this
    /// project's entry `owner` (uuid, form ref), and which of `keys` a record other than `uuid`
    /// already holds.
    pub async fn look_up_branch_entry(
        &mut self,
        uuid: &str,
        owner: (&str, &str),
        keys: &[UniqueKey],
    ) -> Result<RecordLookup<StoredBranchEntry>> {
        let stored = "SELECT CAST(0 AS BIGINT), id, project_id, form_ref, owner_uuid, \
                      owner_input_ref, owner_entry_id, user_id, device_id FROM branch_entries \
                      WHERE uuid = $1";
        let rows = self.look_up(stored, uuid, Some(owner), keys).await?;
        Ok(split_rows(rows, |r| StoredBranchEntry {
            id: r.1,
            project_id: r.2,
            uuid: uuid.to_string(),
            form_ref: r.3,
            owner_uuid: r.4,
            owner_input_ref: r.5,
            owner_entry_id: r.6,
            user_id: r.7,
            device_id: r.8,
        }))
    }

    /// `stored` (the record's own row, uuid `$1`), then the related entry and each key's
    /// holder, as one `UNION ALL`.
    async fn look_up(
        &mut self,
        stored: &str,
        uuid: &str,
        related: Option<(&str, &str)>,
        keys: &[UniqueKey],
    ) -> Result<Vec<LookupRow>> {
        use std::fmt::Write as _;
        let project_id = self.project_id;
        // $1 the uuid, $2 the project, then the related entry's uuid and form, then each key's
        // three values.
        let mut sql = String::with_capacity(256 + 200 * keys.len());
        sql.push_str(stored);
        let mut next = 3;
        if related.is_some() {
            let _ = write!(
                sql,
                " UNION ALL SELECT CAST({PART_RELATED} AS BIGINT), id, project_id, '', '', '', \
                 CAST(0 AS BIGINT), CAST(0 AS BIGINT), '' FROM entries WHERE uuid = ${} AND \
                 project_id = $2 AND form_ref = ${}",
                next,
                next + 1
            );
            next += 2;
        }
        for (i, _) in keys.iter().enumerate() {
            let _ = write!(
                sql,
                " UNION ALL SELECT CAST({PART_TAKEN} AS BIGINT), CAST({i} AS BIGINT), \
                 CAST(0 AS BIGINT), input_ref, '', '', CAST(0 AS BIGINT), CAST(0 AS BIGINT), '' \
                 FROM (SELECT input_ref FROM unique_answers WHERE project_id = $2 AND \
                 input_ref = ${} AND scope = ${} AND answer_key = ${} AND entry_uuid <> $1 \
                 LIMIT 1) AS k{i}",
                next,
                next + 1,
                next + 2
            );
            next += 3;
        }
        let mut rows: Vec<LookupRow> = with_tx_read!(self, |conn, prefix| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(format!("{prefix}{sql}")))
                .bind(uuid)
                .bind(project_id);
            if let Some((related_uuid, form_ref)) = related {
                q = q.bind(related_uuid).bind(form_ref);
            }
            for k in keys {
                q = q.bind(&k.input_ref).bind(&k.scope).bind(&k.key);
            }
            q.fetch_all(&mut *conn).await?
        });
        // The taken answers in the keys' order (a `UNION ALL` promises none).
        rows.sort_by_key(|r| (r.0, r.1));
        Ok(rows)
    }
}

fn split_rows<T>(rows: Vec<LookupRow>, stored: impl FnOnce(LookupRow) -> T) -> RecordLookup<T> {
    let mut lookup = RecordLookup {
        stored: None,
        related_id: None,
        taken: Vec::new(),
    };
    let mut stored = Some(stored);
    for row in rows {
        match row.0 {
            PART_STORED => lookup.stored = stored.take().map(|f| f(row)),
            PART_RELATED => lookup.related_id = Some(row.1),
            _ => lookup.taken.push(row.3),
        }
    }
    lookup
}
