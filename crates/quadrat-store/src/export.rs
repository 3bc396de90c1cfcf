//! Read-only queries of the entries export (docs/protocol.md §8.4): the rows of one page of any
//! selection, the selection's total with its newest and oldest `created_at`, and keyset chunks
//! for streaming a whole form.
//!
//! Pages never scan with OFFSET over the rows: the page's ids are found first through a covering
//! index (`(…, created_at, id)` or `(…, uploaded_at, id)`), then only those rows are read (a
//! deferred join). Pages past the middle are read from the other end, so the last page of a
//! large form costs what the first does.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use quadrat_core::export::keyset::{KeyValue, SortKey};
use quadrat_core::export::params::{DateColumn, DateFilter, Selection, SortBy, SortOrder};

use crate::core_pin;
use crate::page_marks::{Mark, PageMarks};
use crate::page_parts::{self, PartWriter, RenderedPage};
use crate::page_reader::{self, Arg, PageReader};
use crate::read_ahead::AheadKey;
use crate::title_search::{TitlePlan, fts_table};
use crate::{Db, Engine, Result, Store, StoreError, with_pool};

/// What to read: the selection of a validated query, for one project.
#[derive(Debug, Clone, Copy)]
pub struct ExportSelect<'a> {
    pub project_id: i64,
    pub form_ref: &'a str,
    /// `Some` in branch mode.
    pub branch_ref: Option<&'a str>,
    pub selection: &'a Selection,
    pub filter: Option<DateFilter>,
    /// The substring to match (wildcards `%`/`_` kept), without the surrounding `%`.
    pub title: Option<&'a str>,
    /// Private projects: read the uploader's email.
    pub with_created_by: bool,
    /// GeoJSON (docs/protocol.md §17.12): only rows with a usable point in one of these inputs.
    pub located: Option<Located<'a>>,
}

/// Rows whose answer to one of `input_refs` (under `entry_data.<body_key>.answers`) holds a
/// latitude and a longitude that are JSON numbers in range.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    /// `entry` or `branch_entry`.
    pub body_key: &'a str,
    pub input_refs: &'a [String],
}

/// The statement of a part of a page (`Store::read_in_parts`): `w`'s rows in the sort
/// `sort`/`order`, from the part's place on; the part's size and place are bound after `w`'s
/// arguments, and with `from_end` then the place of the page's first row counted from the end
/// (a page past the middle starts at the row found there, read backwards on the index: no
/// long `OFFSET`). The outer ORDER BY names the page's own columns, so SQLite keeps the order
/// of `page` (a co-routine): no temporary B-tree of whole rows (`export_page_parts` tests the
/// plan). A time sort only.
fn part_sql(
    sel: &ExportSelect<'_>,
    w: &Where,
    engine: Engine,
    sort: SortBy,
    order: SortOrder,
    from_end: bool,
) -> String {
    format!(
        "SELECT {cols}, {version} FROM {table} e JOIN {page} ON page.id = e.id{users} \
         ORDER BY {outer}",
        cols = row_columns(sel),
        version = DATA_VERSION,
        table = w.table,
        page = part_page(w, engine, sort, order, from_end),
        outer = order_by(engine, "page.", sort, order),
        users = users_join(sel),
    )
}

/// The statements of a part of a form's page whose writer takes entries rendered ahead
/// (`entry_renders`, [`PartWriter::ahead_key`]).
struct AheadSql {
    /// The part's ids and sort values through the index, with each entry's stored object when
    /// it is of the writer's key (bound last, after [`part_sql`]'s arguments), and the data
    /// version: the entries' own rows are not read.
    page: String,
    /// One entry's row (`$2`) with the data version, for an entry without such an object.
    row: String,
}

impl AheadSql {
    /// The key's placeholder follows [`part_sql`]'s arguments: `w`'s, the part's size and
    /// place, and with `from_end` the page's place counted from the end.
    fn new(
        sel: &ExportSelect<'_>,
        w: &Where,
        engine: Engine,
        sort: SortBy,
        order: SortOrder,
        from_end: bool,
    ) -> AheadSql {
        let column = sort_column(sort);
        let key = w.args.len() + 3 + usize::from(from_end);
        AheadSql {
            page: format!(
                "SELECT page.id, page.{column}, r.json, {version} FROM {page} \
                 LEFT JOIN entry_renders r ON r.entry_id = page.id AND r.plan_key = ${key} \
                 ORDER BY {outer}",
                version = DATA_VERSION,
                page = part_page(w, engine, sort, order, from_end),
                outer = order_by(engine, "page.", sort, order),
            ),
            row: format!(
                "SELECT {cols}, {version} FROM {table} e{users} WHERE e.id = $2",
                cols = row_columns(sel),
                version = DATA_VERSION,
                table = w.table,
                users = users_join(sel),
            ),
        }
    }
}

fn sort_column(sort: SortBy) -> &'static str {
    match sort {
        SortBy::UploadedAt => "uploaded_at",
        _ => "created_at",
    }
}

/// `(SELECT id, {column} …) page`: the ids and sort values of a part of a page through the
/// covering index (see [`part_sql`]).
fn part_page(w: &Where, engine: Engine, sort: SortBy, order: SortOrder, from_end: bool) -> String {
    let column = sort_column(sort);
    let n = w.args.len();
    let (l, o, b) = (n + 1, n + 2, n + 3);
    let start = if from_end {
        let cmp = match order {
            SortOrder::Asc => ">=",
            SortOrder::Desc => "<=",
        };
        format!(
            " AND ({column}, id) {cmp} (SELECT {column}, id FROM {table}{hint} WHERE {clause} \
             ORDER BY {back} LIMIT 1 OFFSET ${b})",
            table = w.table,
            hint = w.hint,
            clause = w.clause,
            back = order_by(engine, "", sort, reversed(order)),
        )
    } else {
        String::new()
    };
    format!(
        "(SELECT id, {column} FROM {table}{hint} WHERE {clause}{start} ORDER BY {inner} \
         LIMIT ${l} OFFSET ${o}) page",
        table = w.table,
        hint = w.hint,
        clause = w.clause,
        inner = order_by(engine, "", sort, order),
    )
}

/// A part of a page as [`read_part`] read and wrote it.
struct ReadPart {
    rows: usize,
    bytes: Vec<u8>,
    first: Option<SortKey>,
    last: Option<SortKey>,
    version: Option<i64>,
}

/// The statements a part of a page is read with.
struct PartSql {
    /// [`part_sql`]: the part's rows (the last column is [`DATA_VERSION`]).
    rows: String,
    /// A form's page (not a private project's: `created_by` is not rendered ahead).
    ahead: Option<AheadSql>,
    project_id: i64,
}

/// Reads a part of a page and writes each row with a writer of its own as SQLite hands it
/// over, on this (blocking) thread. A writer that takes entries rendered ahead gets those of
/// its key as they are stored, and the rows of the others.
fn read_part<W: PartWriter>(
    pages: &PageReader,
    sql: &PartSql,
    args: &[Arg],
    sort: SortBy,
    size: usize,
    writer: &(dyn Fn(usize) -> W + Sync),
) -> Result<ReadPart> {
    let mut w = writer(size);
    let mut part = ReadPart {
        rows: 0,
        bytes: Vec::new(),
        first: None,
        last: None,
        version: None,
    };
    match (w.ahead_key(), &sql.ahead) {
        (Some(key), Some(ahead)) => {
            let mut args = args.to_vec();
            args.push(Arg::Int(key));
            let whole = read_part_ahead(pages, ahead, sql.project_id, &args, &mut w, &mut part)?;
            if !whole {
                // Not the page: its parts disagree, and it is read again whole.
                return Ok(ReadPart { rows: 0, ..part });
            }
        }
        _ => pages.each_blocking(&sql.rows, args, |r| {
            let row = sqlite_row_ref(r)?;
            if part.rows == 0 {
                part.first = Some(row_key(&row, sort));
                part.version = r.get(9)?;
            }
            w.row(&row);
            // A time sort's key: no allocation.
            part.last = Some(row_key(&row, sort));
            part.rows += 1;
            Ok(())
        })?,
    }
    part.bytes = w.into_bytes();
    Ok(part)
}

/// [`read_part`] through [`AheadSql`]: each entry's stored object, or its row read on the
/// same connection within the page's statement (so in its snapshot). `false` when an entry
/// of the page had no row there (which the snapshot rules out).
fn read_part_ahead<W: PartWriter>(
    pages: &PageReader,
    sql: &AheadSql,
    project_id: i64,
    args: &[Arg],
    w: &mut W,
    part: &mut ReadPart,
) -> Result<bool> {
    let (mut whole, mut taken) = (true, 0);
    pages.with_connection(|conn| {
        page_reader::read(conn, &sql.page, args, |r| {
            let key = SortKey {
                value: KeyValue::Time(r.get(1)?),
                id: r.get(0)?,
            };
            if part.rows == 0 {
                part.first = Some(key.clone());
                part.version = r.get(3)?;
            }
            match r.get_ref(2)?.as_str_or_null() {
                Ok(Some(stored)) => {
                    w.rendered(stored);
                    taken += 1;
                }
                _ => {
                    w.missed();
                    let mut found = false;
                    let row_args = [Arg::Int(project_id), Arg::Int(key.id)];
                    page_reader::read(conn, &sql.row, &row_args, |r| {
                        w.row(&sqlite_row_ref(r)?);
                        found = true;
                        Ok(())
                    })?;
                    whole &= found;
                }
            }
            part.last = Some(key);
            part.rows += 1;
            Ok(())
        })
    })?;
    pages.taken_ahead.fetch_add(taken, Ordering::Relaxed);
    Ok(whole)
}

/// A page to read in parts, planned ([`Store::plan_parts`]): what its reads need, owned.
struct PartsRead {
    pages: Arc<PageReader>,
    sql: Arc<PartSql>,
    /// Each part's size in rows and its statement's arguments.
    parts: Vec<(usize, Vec<Arg>)>,
    sort: SortBy,
    /// The selection's key among the marks.
    selection: String,
    offset: i64,
    /// The mark the page is read past.
    mark: Option<Mark>,
    /// The selection's title plan, for the next page's.
    title: TitlePlan,
}

/// A planned page's parts being read ([`spawn_parts`]); [`gather_parts`] waits for them.
type PartReads = Vec<tokio::task::JoinHandle<Result<ReadPart>>>;

/// Starts reading a planned page's parts on the blocking pool, part `i` held to core `i`
/// (`core_pin.rs`), written by `writer`s. They start at once: a page read ahead starts while
/// its request is still writing the page before it (a task spawned from that request would
/// only run once the request yields, after its answer is written).
fn spawn_parts<W, F>(read: &PartsRead, writer: Arc<F>) -> PartReads
where
    W: PartWriter,
    F: Fn(usize) -> W + Send + Sync + 'static,
{
    let sort = read.sort;
    read.parts
        .iter()
        .enumerate()
        .map(|(index, (size, args))| {
            let (pages, sql, writer) = (read.pages.clone(), read.sql.clone(), writer.clone());
            let (size, args) = (*size, args.clone());
            tokio::task::spawn_blocking(move || {
                let _on_core = core_pin::hold_to_core(index);
                read_part(&pages, &sql, &args, sort, size, &*writer)
            })
        })
        .collect()
}

/// Reads a planned page's parts ([`spawn_parts`], then [`gather_parts`]).
async fn read_parts<W, F>(
    marks: &PageMarks,
    read: PartsRead,
    writer: Arc<F>,
) -> Result<Option<(RenderedPage, Option<i64>)>>
where
    W: PartWriter,
    F: Fn(usize) -> W + Send + Sync + 'static,
{
    let reads = spawn_parts(&read, writer);
    gather_parts(marks, read, reads).await
}

/// A planned page's parts, read: the page and the data version its rows were read at, or
/// `None` when the parts' versions disagree (or a mark's does: the selection's marks are then
/// dropped). The page's end is marked for the next.
async fn gather_parts(
    marks: &PageMarks,
    read: PartsRead,
    reads: PartReads,
) -> Result<Option<(RenderedPage, Option<i64>)>> {
    let PartsRead {
        selection,
        offset,
        mark,
        ..
    } = read;
    let mut parts = Vec::with_capacity(reads.len());
    for read in reads {
        parts.push(
            read.await
                .map_err(|e| StoreError::Sqlite(e.to_string()))??,
        );
    }
    let version = parts.first().and_then(|p| p.version);
    let agree = parts.iter().all(|p| p.rows > 0 && p.version == version)
        && mark.is_none_or(|m| version == Some(m.version));
    if !agree {
        if mark.is_some() {
            marks.forget(&selection);
        }
        return Ok(None);
    }
    let rows: usize = parts.iter().map(|p| p.rows).sum();
    if let (Some(last), Some(version)) = (parts.last().and_then(|p| p.last.as_ref()), version)
        && let KeyValue::Time(key) = last.value
    {
        let mark = Mark {
            key,
            id: last.id,
            version,
        };
        marks.put(&selection, offset + rows as i64, mark);
    }
    let first = parts.first_mut().and_then(|p| p.first.take());
    let last = parts.last_mut().and_then(|p| p.last.take());
    let page = RenderedPage {
        parts: parts.into_iter().map(|p| (p.rows, p.bytes)).collect(),
        first,
        last,
    };
    Ok(Some((page, version)))
}

/// One exported row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRow {
    pub id: i64,
    pub uuid: String,
    /// Form mode: the parent's uuid; branch mode: the owner's uuid.
    pub related_uuid: String,
    pub created_at: i64,
    pub uploaded_at: i64,
    pub title: String,
    /// `None`: anonymous upload, user gone or archived (or a public project).
    pub created_by: Option<String>,
    pub entry_data: String,
    pub branch_counts: Option<String>,
}

/// An [`ExportRow`] borrowed: from an owned row, or from the engine's buffers while a page is
/// read (`page_parts.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportRowRef<'a> {
    pub id: i64,
    pub uuid: &'a str,
    pub related_uuid: &'a str,
    pub created_at: i64,
    pub uploaded_at: i64,
    pub title: &'a str,
    pub created_by: Option<&'a str>,
    pub entry_data: &'a str,
    pub branch_counts: Option<&'a str>,
}

impl ExportRow {
    /// The row's key in the sort `sort`.
    pub fn sort_key(&self, sort: SortBy) -> SortKey {
        row_key(&self.as_ref(), sort)
    }

    pub fn as_ref(&self) -> ExportRowRef<'_> {
        ExportRowRef {
            id: self.id,
            uuid: &self.uuid,
            related_uuid: &self.related_uuid,
            created_at: self.created_at,
            uploaded_at: self.uploaded_at,
            title: &self.title,
            created_by: self.created_by.as_deref(),
            entry_data: &self.entry_data,
            branch_counts: self.branch_counts.as_deref(),
        }
    }
}

impl ExportRowRef<'_> {
    pub fn to_owned(&self) -> ExportRow {
        ExportRow {
            id: self.id,
            uuid: self.uuid.to_owned(),
            related_uuid: self.related_uuid.to_owned(),
            created_at: self.created_at,
            uploaded_at: self.uploaded_at,
            title: self.title.to_owned(),
            created_by: self.created_by.map(str::to_owned),
            entry_data: self.entry_data.to_owned(),
            branch_counts: self.branch_counts.map(str::to_owned),
        }
    }
}

/// Count and newest/oldest `created_at` of a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportTotals {
    pub total: i64,
    pub newest: Option<i64>,
    pub oldest: Option<i64>,
    /// The count stopped at its cap: the selection holds more than `total` rows (and
    /// `newest`/`oldest` are not known).
    pub more: bool,
}

/// Where a keyset chunk resumes: after this `(created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: i64,
}

/// The `FROM … WHERE …` of a selection with its arguments.
struct Where {
    table: &'static str,
    /// ` NOT INDEXED` when the rows are read by the ids of a title search's candidates
    /// (SQLite): a walk of the sort's index, checking each row against them, would cost the
    /// whole form.
    hint: &'static str,
    clause: String,
    args: Vec<Arg>,
}

impl Where {
    fn push(&mut self, condition: &str, arg: Arg) {
        self.args.push(arg);
        let n = self.args.len();
        self.clause.push_str(" AND ");
        self.clause
            .push_str(&condition.replace("$?", &format!("${n}")));
    }
}

impl ExportSelect<'_> {
    /// A whole form or branch with no filter: the counters know its totals.
    fn is_whole(&self) -> bool {
        self.filter.is_none()
            && self.title.is_none()
            && self.located.is_none()
            && matches!(self.selection, Selection::Form | Selection::Branch)
    }

    fn table(&self) -> &'static str {
        if self.branch_ref.is_some() {
            "branch_entries"
        } else {
            "entries"
        }
    }

    /// The selection's conditions, the title's as `plan` says (`title_search.rs`).
    fn conditions(&self, engine: Engine, plan: &TitlePlan) -> Where {
        let mut w = Where {
            table: self.table(),
            hint: "",
            clause: "project_id = $1".to_string(),
            args: vec![Arg::Int(self.project_id)],
        };
        let text = |s: &str| Arg::Text(s.to_string());
        match self.selection {
            Selection::Entry { uuid } | Selection::BranchEntry { uuid } => {
                w.push("form_ref = $?", text(self.form_ref));
                w.push("uuid = $?", text(uuid));
            }
            Selection::Children {
                parent_uuid,
                parent_form_ref,
            } => {
                w.push("form_ref = $?", text(self.form_ref));
                w.push("parent_form_ref = $?", text(parent_form_ref));
                w.push("parent_uuid = $?", text(parent_uuid));
            }
            Selection::Form => w.push("form_ref = $?", text(self.form_ref)),
            // A branch input belongs to one form (the query checked it is `form_ref`'s), so the
            // input ref alone selects, through the `(project_id, owner_input_ref, …)` indexes.
            Selection::OwnerBranch { owner_uuid } => {
                w.push(
                    "owner_input_ref = $?",
                    text(self.branch_ref.unwrap_or_default()),
                );
                w.push("owner_uuid = $?", text(owner_uuid));
            }
            Selection::Branch => w.push(
                "owner_input_ref = $?",
                text(self.branch_ref.unwrap_or_default()),
            ),
        }
        if let Some(f) = self.filter {
            let col = column(f.column);
            if let Some(from) = f.from {
                w.push(&format!("{col} >= $?"), Arg::Int(from));
            }
            if let Some(to) = f.to {
                w.push(&format!("{col} <= $?"), Arg::Int(to));
            }
        }
        if let Some(located) = self.located {
            let mut any = Vec::new();
            for input_ref in located.input_refs {
                let mut both = Vec::new();
                for coordinate in ["latitude", "longitude"] {
                    let bound = if coordinate == "latitude" { 90 } else { 180 };
                    // The path is bound, never spliced: refs come from the definition.
                    let (path, check) = match engine {
                        Engine::Sqlite => (
                            format!(
                                "$.{}.answers.\"{input_ref}\".answer.{coordinate}",
                                located.body_key
                            ),
                            format!(
                                "(json_type(entry_data, $?) IN ('integer', 'real') AND \
                                 abs(json_extract(entry_data, $?)) <= {bound})"
                            ),
                        ),
                        Engine::Postgres => (
                            format!(
                                "{{{},answers,{input_ref},answer,{coordinate}}}",
                                located.body_key
                            ),
                            format!(
                                "(jsonb_typeof(entry_data::jsonb #> CAST($? AS TEXT[])) = 'number' \
                                 AND abs((entry_data::jsonb #>> CAST($? AS TEXT[]))::float8) <= {bound})"
                            ),
                        ),
                    };
                    // Both placeholders take the same path.
                    w.args.push(Arg::Text(path));
                    let n = w.args.len();
                    both.push(check.replace("$?", &format!("${n}")));
                }
                any.push(format!("({})", both.join(" AND ")));
            }
            if any.is_empty() {
                w.clause.push_str(" AND 1 = 0");
            } else {
                w.clause.push_str(&format!(" AND ({})", any.join(" OR ")));
            }
        }
        if let Some(title) = self.title {
            // MySQL's LIKE (the real server) is case-insensitive with `\` as its escape: ILIKE
            // is that on PostgreSQL; SQLite's LIKE folds ASCII case and needs the escape named.
            let like = match engine {
                Engine::Postgres => "title ILIKE $?",
                Engine::Sqlite => "title LIKE $? ESCAPE '\\'",
            };
            if let TitlePlan::Sparse { fts_query } = plan {
                let fts = fts_table(self.table());
                w.push(
                    &format!("id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH $?)"),
                    Arg::Text(fts_query.clone()),
                );
                w.hint = " NOT INDEXED";
            }
            w.push(like, Arg::Text(format!("%{title}%")));
        }
        w
    }
}

fn column(c: DateColumn) -> &'static str {
    match c {
        DateColumn::CreatedAt => "created_at",
        DateColumn::UploadedAt => "uploaded_at",
    }
}

/// `ORDER BY` keys for a sort, always ending with the unique `id` (docs/protocol.md §8.4).
fn order_by(engine: Engine, prefix: &str, sort: SortBy, order: SortOrder) -> String {
    let dir = match order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    match sort {
        SortBy::CreatedAt => format!("{prefix}created_at {dir}, {prefix}id {dir}"),
        SortBy::UploadedAt => format!("{prefix}uploaded_at {dir}, {prefix}id {dir}"),
        SortBy::Title => format!("{} {dir}, {prefix}id {dir}", title_sort(engine, prefix)),
    }
}

/// The title sort as one text, exactly as the title indexes (migration 0012) spell it: the
/// title's byte length (as MySQL's LENGTH(); SQLite's length() counts characters) zero-padded,
/// then the title's bytes (PostgreSQL's COLLATE "C", SQLite's BINARY). One value, so a keyset
/// page seeks straight to its key: indexes use a range on one column after the equalities.
fn title_sort(engine: Engine, prefix: &str) -> String {
    match engine {
        Engine::Postgres => {
            format!(
                "(lpad(octet_length({prefix}title)::text, 10, '0') || {prefix}title) COLLATE \"C\""
            )
        }
        Engine::Sqlite => {
            format!("printf('%010d', length(CAST({prefix}title AS BLOB))) || {prefix}title")
        }
    }
}

impl Where {
    /// Only the rows after `mark` in the sort `column`/`order` (then `id`).
    fn seek_past(&mut self, column: &str, order: SortOrder, mark: Mark) {
        self.args.push(Arg::Int(mark.key));
        self.args.push(Arg::Int(mark.id));
        let n = self.args.len();
        let cmp = match order {
            SortOrder::Asc => ">",
            SortOrder::Desc => "<",
        };
        self.clause.push_str(&format!(
            // A row value: both engines seek the index to it.
            " AND ({column}, id) {cmp} (${k}, ${i})",
            k = n - 1,
            i = n
        ));
    }
}

/// What [`PageMarks`](crate::page_marks::PageMarks) knows a selection and its sort by.
fn selection_key(w: &Where, sort: SortBy, order: SortOrder) -> String {
    format!("{} {} {:?} {sort:?} {order:?}", w.table, w.clause, w.args)
}

/// A row's key in the sort `sort`.
pub(crate) fn row_key(row: &ExportRowRef<'_>, sort: SortBy) -> SortKey {
    SortKey {
        value: match sort {
            SortBy::CreatedAt => KeyValue::Time(row.created_at),
            SortBy::UploadedAt => KeyValue::Time(row.uploaded_at),
            SortBy::Title => KeyValue::Title(row.title.to_owned()),
        },
        id: row.id,
    }
}

/// Puts the rows of a page in the order [`order_by`] gives. The inner query chose the page's
/// ids in that order; ordering the joined rows in SQL as well would sort whole rows
/// (`entry_data` included) through a temporary B-tree on SQLite. The rows mostly arrive in
/// order, which the sort checks in one pass.
fn sort_rows(rows: &mut [ExportRow], sort: SortBy, order: SortOrder) {
    let ascending = |a: &ExportRow, b: &ExportRow| match sort {
        SortBy::CreatedAt => (a.created_at, a.id).cmp(&(b.created_at, b.id)),
        SortBy::UploadedAt => (a.uploaded_at, a.id).cmp(&(b.uploaded_at, b.id)),
        // [`title_sort`]: the byte length, then the bytes.
        SortBy::Title => (a.title.len(), a.title.as_bytes(), a.id).cmp(&(
            b.title.len(),
            b.title.as_bytes(),
            b.id,
        )),
    };
    match order {
        SortOrder::Asc => rows.sort_by(ascending),
        SortOrder::Desc => rows.sort_by(|a, b| ascending(b, a)),
    }
}

/// A title's value in [`title_sort`].
fn title_sort_value(title: &str) -> String {
    format!("{:010}{title}", title.len())
}

fn reversed(order: SortOrder) -> SortOrder {
    match order {
        SortOrder::Asc => SortOrder::Desc,
        SortOrder::Desc => SortOrder::Asc,
    }
}

/// The row columns of a select over `e` (and `u` for the uploader).
fn row_columns(sel: &ExportSelect<'_>) -> String {
    let related = if sel.branch_ref.is_some() {
        "e.owner_uuid"
    } else {
        "e.parent_uuid"
    };
    let counts = if sel.branch_ref.is_some() {
        "NULL"
    } else {
        "e.branch_counts"
    };
    let created_by = if sel.with_created_by {
        "CASE WHEN u.state = 'archived' THEN NULL ELSE u.email END"
    } else {
        "NULL"
    };
    format!(
        "e.id, e.uuid, {related} AS related_uuid, e.created_at, e.uploaded_at, e.title, \
         {created_by} AS created_by, e.entry_data, {counts} AS branch_counts"
    )
}

fn users_join(sel: &ExportSelect<'_>) -> &'static str {
    if sel.with_created_by {
        " LEFT JOIN users u ON u.id = e.user_id AND e.user_id <> 0"
    } else {
        ""
    }
}

pub(crate) type RawRow = (
    i64,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
);

/// [`RawRow`] and [`DATA_VERSION`].
type VersionedRawRow = (
    i64,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
);

/// The selection's data version, read by a page's own statement (`page_marks.rs`): `$1` is
/// the project's id in every selection.
const DATA_VERSION: &str =
    "(SELECT last_seq FROM change_counters WHERE project_id = $1) AS data_version";

pub(crate) fn to_row(r: RawRow) -> ExportRow {
    ExportRow {
        id: r.0,
        uuid: r.1,
        related_uuid: r.2,
        created_at: r.3,
        uploaded_at: r.4,
        title: r.5,
        created_by: r.6,
        entry_data: r.7,
        branch_counts: r.8,
    }
}

/// A row of [`row_columns`] as SQLite holds it, borrowed.
fn sqlite_row_ref<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<ExportRowRef<'r>> {
    fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
        match r.get_ref(i)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            value => value.as_str().map(Some).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(e))
            }),
        }
    }
    fn required<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
        text(r, i)?.ok_or(rusqlite::Error::InvalidColumnType(
            i,
            String::new(),
            rusqlite::types::Type::Null,
        ))
    }
    Ok(ExportRowRef {
        id: r.get(0)?,
        uuid: required(r, 1)?,
        related_uuid: required(r, 2)?,
        created_at: r.get(3)?,
        uploaded_at: r.get(4)?,
        title: required(r, 5)?,
        created_by: text(r, 6)?,
        entry_data: required(r, 7)?,
        branch_counts: text(r, 8)?,
    })
}

/// A row of [`row_columns`] as rusqlite reads it, copied out of SQLite.
fn sqlite_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExportRow> {
    sqlite_row_ref(r).map(|row| row.to_owned())
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }};
}

impl Store {
    /// Total, newest and oldest `created_at` of a selection: from `entry_counters` for a whole
    /// form or branch, else one indexed aggregate over the filtered selection. With `cap`, a
    /// filtered count stops after `cap` rows and says so ([`ExportTotals::more`]): a page that
    /// only shows "more than …" need not count a million matches of a title search.
    pub async fn export_totals(
        &self,
        sel: &ExportSelect<'_>,
        cap: Option<i64>,
    ) -> Result<ExportTotals> {
        if sel.is_whole() {
            let row: Option<(i64, Option<i64>, Option<i64>)> = with_pool!(self, read, |pool| {
                sqlx::query_as(
                    "SELECT entry_count, last_created_at, first_created_at FROM entry_counters \
                     WHERE project_id = $1 AND form_ref = $2 AND branch_ref = $3",
                )
                .bind(sel.project_id)
                .bind(sel.form_ref)
                .bind(sel.branch_ref.unwrap_or_default())
                .fetch_optional(pool)
                .await?
            });
            return Ok(match row {
                Some((total, newest, oldest)) if total > 0 => ExportTotals {
                    total,
                    newest,
                    oldest,
                    more: false,
                },
                _ => ExportTotals::default(),
            });
        }
        let plan = self.title_plan(sel.table(), sel.title).await?;
        let mut w = sel.conditions(self.engine(), &plan);
        let sql = match (cap, &plan) {
            (None, _) => format!(
                "SELECT COUNT(*), MAX(created_at), MIN(created_at) FROM {}{} WHERE {}",
                w.table, w.hint, w.clause
            ),
            // Many candidates: through them, each row looked up by its id, until the cap.
            (Some(cap), TitlePlan::Dense { fts_query }) => {
                let fts = fts_table(w.table);
                w.args.push(Arg::Text(fts_query.clone()));
                w.args.push(Arg::Int(cap.max(0) + 1));
                let n = w.args.len();
                format!(
                    "SELECT COUNT(*), MAX(c), MIN(c) FROM (SELECT c FROM (SELECT (SELECT \
                     created_at FROM {table} WHERE id = {fts}.rowid AND {clause}) AS c FROM \
                     {fts} WHERE {fts} MATCH ${q}) candidates WHERE c IS NOT NULL LIMIT ${l}) capped",
                    table = w.table,
                    clause = w.clause,
                    q = n - 1,
                    l = n,
                )
            }
            (Some(cap), _) => {
                w.args.push(Arg::Int(cap.max(0) + 1));
                format!(
                    "SELECT COUNT(*), MAX(created_at), MIN(created_at) FROM (SELECT created_at \
                     FROM {}{} WHERE {} LIMIT ${}) capped",
                    w.table,
                    w.hint,
                    w.clause,
                    w.args.len()
                )
            }
        };
        let (total, newest, oldest): (i64, Option<i64>, Option<i64>) =
            with_pool!(self, read, |pool| {
                bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &w.args)
                    .fetch_one(pool)
                    .await?
            });
        Ok(match cap {
            Some(cap) if total > cap => ExportTotals {
                total: cap,
                newest: None,
                oldest: None,
                more: true,
            },
            _ => ExportTotals {
                total,
                newest,
                oldest,
                more: false,
            },
        })
    }

    /// [`Store::export_page`] written by `writer`s in parts (`page_parts.rs`): on SQLite, a
    /// page sorted by a time read part by part on connections of their own, each row written
    /// as it is read. The parts' statements each read the data version: the page is theirs
    /// only when all read the same one (and a seek past a mark only at the mark's), as one
    /// statement's rows would be; otherwise it is read whole and written as rows are.
    ///
    /// `read_ahead`: what the writers write, as a key (equal keys, equal bytes for equal
    /// rows). With it, a walk's next page is read in the background once the walk shows, and
    /// taken by its request while still fresh (`read_ahead.rs`).
    #[allow(clippy::too_many_arguments)]
    pub async fn export_page_rendered<W, F>(
        &self,
        sel: &ExportSelect<'_>,
        sort: SortBy,
        order: SortOrder,
        offset: i64,
        limit: i64,
        total: i64,
        writer: F,
        read_ahead: Option<&str>,
    ) -> Result<RenderedPage>
    where
        W: PartWriter,
        F: Fn(usize) -> W + Send + Sync + 'static,
    {
        let takes_ahead = writer(0).ahead_key().is_some();
        let writer = Arc::new(writer);
        if let Some(read) = self
            .plan_parts(sel, None, sort, order, offset, limit, total, takes_ahead)
            .await?
        {
            let key = read_ahead.map(|writer| AheadKey {
                selection: read.selection.clone(),
                writer: writer.to_string(),
                offset,
                limit,
            });
            // A walk: this page starts past the mark the page before it left.
            let walking = read.mark.is_some();
            let title = read.title.clone();
            let mut page = match &key {
                Some(key) => self.page_read_ahead(key, sel.project_id, &read.pages).await,
                None => None,
            };
            if page.is_none() {
                page = read_parts(&self.marks, read, writer.clone())
                    .await?
                    .map(|(page, _)| page);
            }
            if let Some(page) = page {
                if let Some(key) = key
                    && walking
                {
                    self.read_next_ahead(sel, title, sort, order, key, total, page.rows(), writer)
                        .await;
                }
                return Ok(page);
            }
        }
        let rows = self
            .export_page(sel, sort, order, offset, limit, total)
            .await?;
        Ok(RenderedPage::from_rows(rows, sort, &*writer))
    }

    /// The page read ahead for `key`, when its reading was started and the project's data
    /// version is still the one its rows were read at.
    async fn page_read_ahead(
        &self,
        key: &AheadKey,
        project_id: i64,
        pages: &Arc<PageReader>,
    ) -> Option<RenderedPage> {
        let task = self.ahead.take(key)?;
        let (page, version) = task.await.ok()?.ok()??;
        let now = pages
            .query(
                format!("SELECT {DATA_VERSION}"),
                vec![Arg::Int(project_id)],
                |r| r.get::<_, Option<i64>>(0),
            )
            .await
            .ok()?
            .into_iter()
            .next()
            .flatten();
        if now != version {
            return None;
        }
        self.ahead.count_taken();
        Some(page)
    }

    /// Starts reading the page after `key`'s (which held `rows` rows) in the background, when
    /// `key`'s page was full, another follows it and `key`'s page left its mark. Its parts are
    /// planned here (the selection is borrowed) with the page's own title plan (`title`), read
    /// in the background. A failure only means no page is read ahead.
    #[allow(clippy::too_many_arguments)]
    async fn read_next_ahead<W, F>(
        &self,
        sel: &ExportSelect<'_>,
        title: TitlePlan,
        sort: SortBy,
        order: SortOrder,
        key: AheadKey,
        total: i64,
        rows: usize,
        writer: Arc<F>,
    ) where
        W: PartWriter,
        F: Fn(usize) -> W + Send + Sync + 'static,
    {
        let next = key.offset + rows as i64;
        if rows as i64 != key.limit || next >= total {
            return;
        }
        let takes_ahead = (*writer)(0).ahead_key().is_some();
        let Ok(Some(read)) = self
            .plan_parts(
                sel,
                Some(title),
                sort,
                order,
                next,
                key.limit,
                total,
                takes_ahead,
            )
            .await
        else {
            return;
        };
        if read.mark.is_none() {
            return;
        }
        let marks = self.marks.clone();
        let key = AheadKey {
            offset: next,
            ..key
        };
        self.ahead.start(key, || {
            let reads = spawn_parts(&read, writer);
            async move { gather_parts(&marks, read, reads).await }
        });
    }

    /// How many pages requests took from those read ahead (feature `test-support`).
    /// Rows pages took as they were rendered ahead (feature `test-support`).
    #[cfg(feature = "test-support")]
    pub fn rows_taken_rendered_ahead(&self) -> u64 {
        match &self.db {
            Db::Sqlite {
                pages: Some(pages), ..
            } => pages.taken_ahead.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    /// Whether pages take entries rendered ahead (SQLite's pages read in parts do; elsewhere
    /// each row is rendered).
    pub fn reads_rendered_ahead(&self) -> bool {
        matches!(&self.db, Db::Sqlite { pages: Some(_), .. })
    }

    #[cfg(feature = "test-support")]
    pub fn pages_taken_from_read_ahead(&self) -> u64 {
        self.ahead.taken()
    }

    /// SQLite's plan (`EXPLAIN QUERY PLAN`: each step's parent, 0 at the top, and its text)
    /// of the statement a part of a page is read with, or with `ahead` the one of a part whose
    /// writer takes entries rendered ahead (feature `test-support`).
    #[cfg(feature = "test-support")]
    pub async fn export_part_plan(
        &self,
        sel: &ExportSelect<'_>,
        sort: SortBy,
        order: SortOrder,
        from_end: bool,
        ahead: bool,
    ) -> Result<Vec<(i64, String)>> {
        let Db::Sqlite {
            pages: Some(pages), ..
        } = &self.db
        else {
            return Err(StoreError::Sqlite("no page reader".into()));
        };
        let plan = self.title_plan(sel.table(), sel.title).await?;
        let w = sel.conditions(self.engine(), &plan);
        let sql = match ahead {
            true => AheadSql::new(sel, &w, self.engine(), sort, order, from_end).page,
            false => part_sql(sel, &w, self.engine(), sort, order, from_end),
        };
        pages
            .query(format!("EXPLAIN QUERY PLAN {sql}"), w.args, |r| {
                Ok((r.get(1)?, r.get(3)?))
            })
            .await
    }

    /// How the page `offset .. offset + limit` is read in parts on SQLite; `None` when it is
    /// not (another engine, one part's worth of rows, a title sort). `title`: the selection's
    /// title plan when it is known already (a walk's next page), else it is made here.
    /// `takes_ahead`: the page's writers take entries rendered ahead, so a form's page of one
    /// part's worth of rows is read as one part too (through [`AheadSql`]).
    #[allow(clippy::too_many_arguments)]
    async fn plan_parts(
        &self,
        sel: &ExportSelect<'_>,
        title: Option<TitlePlan>,
        sort: SortBy,
        order: SortOrder,
        offset: i64,
        limit: i64,
        total: i64,
        takes_ahead: bool,
    ) -> Result<Option<PartsRead>> {
        let Db::Sqlite {
            pages: Some(pages), ..
        } = &self.db
        else {
            return Ok(None);
        };
        let column = match sort {
            SortBy::CreatedAt => "created_at",
            SortBy::UploadedAt => "uploaded_at",
            SortBy::Title => return Ok(None),
        };
        if limit <= 0 || offset >= total {
            return Ok(None);
        }
        // Private projects' pages write `created_by` (not rendered ahead), branch pages the
        // owner (a form's entries only are).
        let ahead = takes_ahead
            && sel.branch_ref.is_none()
            && !sel.with_created_by
            && sel.located.is_none();
        let sizes = page_parts::part_sizes(limit.min(total - offset));
        if sizes.len() < 2 && !ahead {
            return Ok(None);
        }
        let engine = self.engine();
        let plan = match title {
            Some(plan) => plan,
            None => self.title_plan(sel.table(), sel.title).await?,
        };
        let mut w = sel.conditions(engine, &plan);
        let selection = selection_key(&w, sort, order);
        let mark = self.marks.get(&selection, offset);
        // Past the middle the page starts at a row found from the end, as `export_page` reads
        // such a page backwards (`OFFSET` would step through every row before it).
        let from_end = mark.is_none() && offset > total / 2;
        // Where the first part starts: from the mark, the row found from the end, or the start.
        let mut start = if from_end { 0 } else { offset };
        if let Some(mark) = mark {
            w.seek_past(column, order, mark);
            start = 0;
        }
        let ahead = ahead.then(|| AheadSql::new(sel, &w, engine, sort, order, from_end));
        let sql = Arc::new(PartSql {
            rows: part_sql(sel, &w, engine, sort, order, from_end),
            ahead,
            project_id: sel.project_id,
        });
        let mut parts = Vec::with_capacity(sizes.len());
        for size in sizes {
            let mut args = w.args.clone();
            args.push(Arg::Int(size));
            args.push(Arg::Int(start));
            if from_end {
                args.push(Arg::Int(total - 1 - offset));
            }
            start += size;
            parts.push((size as usize, args));
        }
        Ok(Some(PartsRead {
            pages: pages.clone(),
            sql,
            parts,
            sort,
            selection,
            offset,
            mark,
            title: plan,
        }))
    }

    /// The rows `offset .. offset + limit` of a selection sorted by `sort`/`order` (then `id`),
    /// in that order. `total` is the selection's size (from [`Store::export_totals`]): pages in
    /// the second half are read from the end.
    #[allow(clippy::too_many_arguments)]
    pub async fn export_page(
        &self,
        sel: &ExportSelect<'_>,
        sort: SortBy,
        order: SortOrder,
        offset: i64,
        limit: i64,
        total: i64,
    ) -> Result<Vec<ExportRow>> {
        if limit <= 0 || offset >= total {
            return Ok(Vec::new());
        }
        let limit = limit.min(total - offset);
        let engine = self.engine();
        let sort_column = match sort {
            SortBy::CreatedAt => Some("created_at"),
            SortBy::UploadedAt => Some("uploaded_at"),
            SortBy::Title => None,
        };
        let plan = self.title_plan(sel.table(), sel.title).await?;
        let selection = selection_key(&sel.conditions(engine, &plan), sort, order);
        // A page after one already read: a seek past its last row (`page_marks.rs`).
        if let Some(column) = sort_column
            && let Some(mark) = self.marks.get(&selection, offset)
        {
            let mut w = sel.conditions(engine, &plan);
            w.seek_past(column, order, mark);
            w.args.push(Arg::Int(limit));
            let sql = format!(
                "SELECT {cols}, {version} FROM {table} e JOIN (SELECT id FROM {table}{hint} \
                 WHERE {clause} ORDER BY {inner} LIMIT ${l}) page ON page.id = e.id{users}",
                hint = w.hint,
                cols = row_columns(sel),
                version = DATA_VERSION,
                table = w.table,
                clause = w.clause,
                inner = order_by(engine, "", sort, order),
                l = w.args.len(),
                users = users_join(sel),
            );
            let (mut rows, version) = self.export_rows_versioned(sql, w.args).await?;
            sort_rows(&mut rows, sort, order);
            if version == Some(mark.version) {
                self.mark_next(&selection, column, offset, &rows, version);
                return Ok(rows);
            }
            // Rows changed since the mark: read by offset below.
            self.marks.forget(&selection);
        }
        let from_end = offset > total / 2;
        let (read_order, read_offset) = if from_end {
            (reversed(order), total - offset - limit)
        } else {
            (order, offset)
        };
        let mut w = sel.conditions(engine, &plan);
        w.args.push(Arg::Int(limit));
        w.args.push(Arg::Int(read_offset));
        let n = w.args.len();
        let sql = format!(
            "SELECT {cols}, {version} FROM {table} e JOIN (SELECT id FROM {table}{hint} \
             WHERE {clause} ORDER BY {inner} LIMIT ${l} OFFSET ${o}) page ON page.id = e.id{users}",
            hint = w.hint,
            cols = row_columns(sel),
            version = DATA_VERSION,
            table = w.table,
            clause = w.clause,
            inner = order_by(engine, "", sort, read_order),
            l = n - 1,
            o = n,
            users = users_join(sel),
        );
        let (mut rows, version) = self.export_rows_versioned(sql, w.args).await?;
        sort_rows(&mut rows, sort, read_order);
        if from_end {
            rows.reverse();
        }
        if let Some(column) = sort_column {
            self.mark_next(&selection, column, offset, &rows, version);
        }
        Ok(rows)
    }

    /// Up to `limit` rows of a selection sorted by `sort`/`order` (then `id`) that follow
    /// `after` in that sort (all from the start when `None`), read in the sort's direction, or
    /// with `backwards` those that precede it, read from it towards the start (so in reverse).
    /// The key is one row-value comparison on the sort's index, so any page is one range read.
    #[allow(clippy::too_many_arguments)]
    pub async fn export_keyset(
        &self,
        sel: &ExportSelect<'_>,
        sort: SortBy,
        order: SortOrder,
        after: Option<&SortKey>,
        backwards: bool,
        limit: i64,
    ) -> Result<Vec<ExportRow>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let engine = self.engine();
        let order = if backwards { reversed(order) } else { order };
        let plan = self.title_plan(sel.table(), sel.title).await?;
        let mut w = sel.conditions(engine, &plan);
        if let Some(key) = after {
            let (column, value) = match &key.value {
                KeyValue::Time(t) if sort == SortBy::UploadedAt => {
                    ("uploaded_at".to_string(), Arg::Int(*t))
                }
                KeyValue::Time(t) => ("created_at".to_string(), Arg::Int(*t)),
                KeyValue::Title(title) => {
                    (title_sort(engine, ""), Arg::Text(title_sort_value(title)))
                }
            };
            w.args.push(value);
            w.args.push(Arg::Int(key.id));
            let n = w.args.len();
            let (op, or_equal) = match order {
                SortOrder::Asc => (">", ">="),
                SortOrder::Desc => ("<", "<="),
            };
            // The single-column bound gives the index its range; the row value, the exact key.
            w.clause.push_str(&format!(
                " AND {column} {or_equal} ${v} AND ({column}, id) {op} (${v}, ${n})",
                v = n - 1
            ));
        }
        w.args.push(Arg::Int(limit));
        let sql = format!(
            "SELECT {cols} FROM {table} e JOIN (SELECT id FROM {table}{hint} WHERE {clause} \
             ORDER BY {inner} LIMIT ${l}) page ON page.id = e.id{users}",
            hint = w.hint,
            cols = row_columns(sel),
            table = w.table,
            clause = w.clause,
            inner = order_by(engine, "", sort, order),
            l = w.args.len(),
            users = users_join(sel),
        );
        let mut rows = self.export_rows(sql, w.args).await?;
        sort_rows(&mut rows, sort, order);
        Ok(rows)
    }

    /// Remembers where the page after `rows` (read at `offset`) starts.
    fn mark_next(
        &self,
        selection: &str,
        column: &str,
        offset: i64,
        rows: &[ExportRow],
        version: Option<i64>,
    ) {
        let (Some(last), Some(version)) = (rows.last(), version) else {
            return;
        };
        let key = if column == "created_at" {
            last.created_at
        } else {
            last.uploaded_at
        };
        let mark = Mark {
            key,
            id: last.id,
            version,
        };
        self.marks.put(selection, offset + rows.len() as i64, mark);
    }

    /// Up to `limit` rows of a selection in `(created_at, id)` order after `after`: the keyset
    /// chunks of a whole-form stream, each an index range scan.
    pub async fn export_chunk(
        &self,
        sel: &ExportSelect<'_>,
        after: Option<Cursor>,
        limit: i64,
    ) -> Result<Vec<ExportRow>> {
        let engine = self.engine();
        let plan = self.title_plan(sel.table(), sel.title).await?;
        let mut w = sel.conditions(engine, &plan);
        if let Some(c) = after {
            w.args.push(Arg::Int(c.created_at));
            w.args.push(Arg::Int(c.id));
            let n = w.args.len();
            w.clause.push_str(&format!(
                " AND (created_at > ${a} OR (created_at = ${a} AND id > ${b}))",
                a = n - 1,
                b = n
            ));
        }
        w.args.push(Arg::Int(limit));
        let n = w.args.len();
        let sql = format!(
            "SELECT {cols} FROM {table} e JOIN (SELECT id FROM {table}{hint} WHERE {clause} \
             ORDER BY created_at ASC, id ASC LIMIT ${n}) page ON page.id = e.id{users}",
            hint = w.hint,
            cols = row_columns(sel),
            table = w.table,
            clause = w.clause,
            users = users_join(sel),
        );
        let mut rows = self.export_rows(sql, w.args).await?;
        sort_rows(&mut rows, SortBy::CreatedAt, SortOrder::Asc);
        Ok(rows)
    }

    /// [`Store::export_rows`] for a query whose last column is [`DATA_VERSION`]: the rows and
    /// the version they were read at (`None` for no rows).
    async fn export_rows_versioned(
        &self,
        sql: String,
        args: Vec<Arg>,
    ) -> Result<(Vec<ExportRow>, Option<i64>)> {
        let read: Vec<(ExportRow, Option<i64>)> = if let Db::Sqlite {
            pages: Some(pages), ..
        } = &self.db
        {
            pages
                .query(sql, args, |r| Ok((sqlite_row(r)?, r.get(9)?)))
                .await?
        } else {
            let rows: Vec<VersionedRawRow> = with_pool!(self, read, |pool| {
                bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &args)
                    .fetch_all(pool)
                    .await?
            });
            rows.into_iter()
                .map(|r| {
                    let row = (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8);
                    (to_row(row), r.9)
                })
                .collect()
        };
        let version = read.first().and_then(|(_, v)| *v);
        Ok((read.into_iter().map(|(row, _)| row).collect(), version))
    }

    /// Runs a page or chunk query: on SQLite in one blocking call on a connection of its own
    /// (`page_reader.rs`), on PostgreSQL through the pool.
    async fn export_rows(&self, sql: String, args: Vec<Arg>) -> Result<Vec<ExportRow>> {
        if let Db::Sqlite {
            pages: Some(pages), ..
        } = &self.db
        {
            return pages.query(sql, args, sqlite_row).await;
        }
        let rows: Vec<RawRow> = with_pool!(self, read, |pool| {
            bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &args)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(to_row).collect())
    }
}
