//! The entries export (docs/protocol.md §8): one page as JSON or CSV for `GET
//! /api/export/entries/{slug}`, and a whole form or branch streamed for the CLI.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use quadrat_core::export::csv::CsvWriter;
use quadrat_core::export::keyset::{PageAt, SortKey};
use quadrat_core::export::links::{LinkBase, Links, Meta, Pagination};
use quadrat_core::export::params::{EntriesQuery, Format, Selection, SortBy};
use quadrat_core::export::render::{ExportPlan, JsonPage, StoredEntry, push_rendered_ahead};
use quadrat_core::time::now_millis;
use quadrat_store::{Cursor, ExportRow, ExportRowRef, ExportSelect, PartWriter, RenderedPage};

use crate::mappings::mapping_list;
use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// The request as the export needs it: its raw query string and where it was sent.
#[derive(Debug, Clone, Copy)]
pub struct EntriesRequest<'a> {
    /// The query string without `?` (`""` when none).
    pub query: &'a str,
    /// Where links and media URLs point: `scheme://host[:port]` (and a path prefix when it is a
    /// configured public URL), without a trailing slash.
    pub origin: &'a str,
    /// The request path as sent (still percent-encoded).
    pub path: &'a str,
    /// Count a filtered selection only up to this many rows ([`EntriesPage::more`]): the data
    /// pages' "more than …". `None` (the API): the exact total.
    pub count_cap: Option<i64>,
}

/// A rendered page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntriesPage {
    pub format: Format,
    pub body: Vec<u8>,
    /// GeoJSON: the `Link` header repeating the body's links (RFC 8288).
    pub link_header: Option<String>,
    /// Where the page's rows start and end in the sort, for keyset links (`None`: no rows).
    pub keys: Option<PageKeys>,
    /// The count stopped at [`EntriesRequest::count_cap`]: the meta's `total` is the cap and
    /// the selection holds more (its `last_page` is then not known either).
    pub more: bool,
}

/// The sort keys at a page's two ends and whether rows lie beyond each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKeys {
    pub first: SortKey,
    pub last: SortKey,
    /// Rows precede the first.
    pub before: bool,
    /// Rows follow the last.
    pub after: bool,
}

/// A page's rows, or the page already written in parts.
enum PageRead {
    Rows(Vec<ExportRow>),
    Rendered(RenderedPage),
}

impl PageRead {
    fn len(&self) -> usize {
        match self {
            PageRead::Rows(rows) => rows.len(),
            PageRead::Rendered(page) => page.rows(),
        }
    }

    /// The sort keys of the first and last rows.
    fn ends(&self, sort: SortBy) -> Option<(SortKey, SortKey)> {
        match self {
            PageRead::Rows(rows) => rows
                .first()
                .zip(rows.last())
                .map(|(f, l)| (f.sort_key(sort), l.sort_key(sort))),
            PageRead::Rendered(page) => page.first.clone().zip(page.last.clone()),
        }
    }

    /// The page's parts: rows are written as `Store::export_page_rendered` writes them.
    fn into_parts(
        self,
        sort: SortBy,
        writer: &(dyn Fn(usize) -> PagePart + Sync),
    ) -> Vec<(usize, Vec<u8>)> {
        match self {
            PageRead::Rows(rows) => RenderedPage::from_rows(rows, sort, writer).parts,
            PageRead::Rendered(page) => page.parts,
        }
    }
}

/// Writes a part of a JSON or CSV page (`PartWriter`): the rows' entry objects joined by
/// commas, or their CSV records.
struct PagePart {
    plan: Arc<ExportPlan>,
    branch: bool,
    out: PartOut,
    /// A JSON page's: the entries rendered ahead it may take.
    ahead: Option<Arc<TakeAhead>>,
}

/// What the writers of a JSON page need to take entries rendered ahead
/// (`render_ahead.rs`): the key of the page's plan, the origin its media URLs point to, and
/// whether a row of the page had to be rendered (its entry's object was missing or stale).
struct TakeAhead {
    key: i64,
    origin: String,
    missed: AtomicBool,
}

impl TakeAhead {
    /// For a page of `plan`, `None` when the plan renders every row.
    fn new(
        plan: &ExportPlan,
        project: &ResolvedProject,
        query: &EntriesQuery,
        origin: &str,
    ) -> Option<Arc<TakeAhead>> {
        let key = plan.ahead_key(project.structure.version(), &query.form_ref, &project.slug)?;
        Some(Arc::new(TakeAhead {
            key,
            origin: origin.to_string(),
            missed: AtomicBool::new(false),
        }))
    }
}

enum PartOut {
    Json { bytes: Vec<u8>, rows: usize },
    Csv(CsvWriter),
}

impl PagePart {
    /// A writer of a part of at most `rows` rows.
    fn new(
        plan: Arc<ExportPlan>,
        branch: bool,
        format: Format,
        rows: usize,
        ahead: Option<Arc<TakeAhead>>,
    ) -> PagePart {
        let (out, ahead) = match format {
            Format::Csv => (PartOut::Csv(CsvWriter::with_capacity(rows * 512)), None),
            _ => (
                PartOut::Json {
                    bytes: Vec::with_capacity(rows * 1024),
                    rows: 0,
                },
                ahead,
            ),
        };
        PagePart {
            plan,
            branch,
            out,
            ahead,
        }
    }
}

impl PartWriter for PagePart {
    fn ahead_key(&self) -> Option<i64> {
        self.ahead.as_ref().map(|a| a.key)
    }

    fn rendered(&mut self, stored: &str) {
        if let (PartOut::Json { bytes, rows }, Some(ahead)) = (&mut self.out, &self.ahead) {
            if *rows > 0 {
                bytes.push(b',');
            }
            push_rendered_ahead(bytes, stored, &ahead.origin);
            *rows += 1;
        }
    }

    fn missed(&mut self) {
        if let Some(ahead) = &self.ahead {
            ahead.missed.store(true, Ordering::Relaxed);
        }
    }

    fn row(&mut self, row: &ExportRowRef<'_>) {
        let entry = row_view(row, self.branch);
        match &mut self.out {
            PartOut::Json { bytes, rows } => {
                if *rows > 0 {
                    bytes.push(b',');
                }
                self.plan.write_json(&entry, bytes);
                *rows += 1;
            }
            PartOut::Csv(csv) => self.plan.write_csv(&entry, csv),
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self.out {
            PartOut::Json { bytes, .. } => bytes,
            PartOut::Csv(csv) => csv.into_bytes(),
        }
    }
}

impl EntriesPage {
    pub fn content_type(&self) -> &'static str {
        match self.format {
            Format::Json => "application/vnd.api+json; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            // RFC 7946 §12: no charset parameter (UTF-8 by definition).
            Format::GeoJson => "application/geo+json",
        }
    }
}

/// What `quadrat entries export` streams.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    pub slug: String,
    /// Default: the first form.
    pub form_ref: Option<String>,
    /// Branch mode: a branch input of the form.
    pub branch_ref: Option<String>,
    pub csv: bool,
    /// A GeoJSON FeatureCollection of the entries with a point in the first location input
    /// (docs/protocol.md §17.12); takes precedence over `csv`.
    pub geojson: bool,
    /// Default: the project's default map.
    pub map_index: Option<usize>,
    /// With `geojson`: map markers only (id, point, title), the map page's feed.
    pub markers: bool,
    /// Where media URLs point (as [`EntriesRequest::origin`]); default: the public URL.
    pub origin: Option<String>,
}

/// Rows read per keyset chunk when streaming.
pub const STREAM_CHUNK: i64 = 1000;

pub(crate) fn row_view<'a>(row: &ExportRowRef<'a>, branch: bool) -> StoredEntry<'a> {
    StoredEntry {
        uuid: row.uuid,
        parent_uuid: if branch { "" } else { row.related_uuid },
        owner_uuid: if branch { row.related_uuid } else { "" },
        uploaded_at: row.uploaded_at,
        title: row.title,
        created_by: row.created_by,
        entry_data: row.entry_data,
        branch_counts: row.branch_counts,
    }
}

/// What a page's rows are written as ([`PagePart`]), as a key for the pages the store reads
/// ahead: everything the plan is made of beside the rows (the stored structure's version
/// covers the definition and the mappings). The selection is the store's part of the key.
fn writer_key(project: &ResolvedProject, query: &EntriesQuery, origin: &str) -> String {
    format!(
        "{format:?} {version} {map} {private} {slug} {origin}",
        format = query.format,
        version = project.structure.version(),
        map = query.map_index,
        private = project.is_private(),
        slug = project.slug,
    )
}

fn select<'a>(project: &ResolvedProject, query: &'a EntriesQuery) -> ExportSelect<'a> {
    ExportSelect {
        project_id: project.id,
        form_ref: &query.form_ref,
        branch_ref: query.branch_ref.as_deref(),
        selection: &query.selection,
        filter: query.filter,
        title: query.title.as_deref(),
        with_created_by: project.is_private(),
        located: None,
    }
}

impl App {
    /// One page of a project's entries (docs/protocol.md §8.1 from step 3: the route has already
    /// throttled and resolved the project with its bearer checks). Query errors are 400s in the
    /// real server's order.
    pub async fn export_entries(
        &self,
        project: &ResolvedProject,
        req: &EntriesRequest<'_>,
    ) -> Result<EntriesPage> {
        self.export_entries_at(project, req, None).await
    }

    /// [`App::export_entries`], with the page's rows chosen by a keyset (`at`) instead of the
    /// query's `page`: the data pages' paging, where any page costs what the first does. The
    /// query's `per_page` still sizes the page, and the last page holds what whole pages
    /// leave, so page numbers stay those of the offsets.
    pub async fn export_entries_at(
        &self,
        project: &ResolvedProject,
        req: &EntriesRequest<'_>,
        at: Option<&PageAt>,
    ) -> Result<EntriesPage> {
        let def = project.shared_definition()?;
        let maps = project.mappings()?;
        let geojson = self.config.extensions.geojson;
        let query =
            EntriesQuery::parse_with(req.query, &def, &maps, geojson).map_err(|errors| {
                AppError::Client {
                    status: 400,
                    errors,
                }
            })?;
        let slug = &project.slug;
        let plan =
            ExportPlan::for_query(&def, &maps, &query, project.is_private(), slug, req.origin);
        let mut sel = select(project, &query);
        let geo = match query.format {
            Format::GeoJson => Some(crate::geojson::GeoOptions::read(req.query, &plan)?),
            _ => None,
        };
        let located_refs: Vec<String> = geo.as_ref().map(|g| g.refs()).unwrap_or_default();
        if let Some(g) = &geo
            && !g.include_unlocated
        {
            sel.located = Some(quadrat_store::Located {
                body_key: if query.is_branch() {
                    "branch_entry"
                } else {
                    "entry"
                },
                input_refs: &located_refs,
            });
        }
        let totals = self.store.export_totals(&sel, req.count_cap).await?;
        // A capped count is no size to page from the end by.
        let known_total = if totals.more { i64::MAX } else { totals.total };
        let (sort, order, per_page) = (query.sort_by, query.sort_order, query.per_page);
        let branch = query.is_branch();
        let plan = Arc::new(plan);
        // A JSON or CSV page by number is written in parts while it is read (`PagePart`);
        // keyset pages and GeoJSON are written from their rows.
        let (read, before, after) = match (at, query.format) {
            (None, format) => {
                let read = if matches!(format, Format::Json | Format::Csv) {
                    let writes = writer_key(project, &query, req.origin);
                    let ahead = match format {
                        Format::Json if self.store.reads_rendered_ahead() => {
                            TakeAhead::new(&plan, project, &query, req.origin)
                        }
                        _ => None,
                    };
                    let (plan, taking) = (plan.clone(), ahead.clone());
                    let page = self
                        .store
                        .export_page_rendered(
                            &sel,
                            sort,
                            order,
                            query.offset(),
                            per_page,
                            known_total,
                            move |rows| {
                                PagePart::new(plan.clone(), branch, format, rows, taking.clone())
                            },
                            Some(&writes),
                        )
                        .await?;
                    if ahead.is_some_and(|a| a.missed.load(Ordering::Relaxed)) {
                        self.render_ahead_later(&project.slug, true);
                    }
                    PageRead::Rendered(page)
                } else {
                    PageRead::Rows(
                        self.store
                            .export_page(&sel, sort, order, query.offset(), per_page, known_total)
                            .await?,
                    )
                };
                let rows = read.len() as i64;
                let after = if totals.more {
                    rows == per_page
                } else {
                    query.offset() + rows < totals.total
                };
                (read, query.offset() > 0, after)
            }
            (Some(at), _) => {
                // The last page holds what whole pages leave (a full page when not known).
                let last_rows = if totals.more {
                    per_page
                } else {
                    match totals.total % per_page.max(1) {
                        0 => per_page,
                        rest => rest,
                    }
                };
                // Keyset pages read one row more than they show, to know whether more lie
                // beyond.
                let (key, backwards, limit) = match at {
                    PageAt::First => (None, false, per_page + 1),
                    PageAt::After(key) => (Some(key), false, per_page + 1),
                    PageAt::Before(key) => (Some(key), true, per_page + 1),
                    PageAt::Last => (None, true, last_rows),
                };
                let mut rows = self
                    .store
                    .export_keyset(&sel, sort, order, key, backwards, limit)
                    .await?;
                let beyond = rows.len() as i64 > per_page;
                rows.truncate(per_page as usize);
                if backwards {
                    rows.reverse();
                }
                let (before, after) = match at {
                    PageAt::First => (false, beyond),
                    PageAt::After(_) => (true, beyond),
                    PageAt::Before(_) => (beyond, true),
                    PageAt::Last => (totals.more || totals.total > last_rows, false),
                };
                (PageRead::Rows(rows), before, after)
            }
        };
        let keys = read.ends(sort).map(|(first, last)| PageKeys {
            first,
            last,
            before,
            after,
        });
        let mut link_header = None;
        let body = match query.format {
            Format::GeoJson => {
                let geo = geo.as_ref().expect("read above");
                let pagination = Pagination::for_query(totals.total, &query);
                let meta = Meta::new(pagination, totals.newest, totals.oldest, now_millis());
                let base = LinkBase::under(req.origin, req.path);
                let links = geo.links(Links::new(&base, &query, &pagination));
                link_header = Some(crate::geojson::link_header(&links));
                let PageRead::Rows(rows) = read else {
                    return Err(AppError::Internal {
                        context: "a GeoJSON page was read already written".into(),
                        cause: None,
                    });
                };
                let mut out = Vec::with_capacity(rows.len() * 512 + 1024);
                geo.begin(&meta, &plan, &links, &mut out);
                let mut first = true;
                for row in &rows {
                    geo.push(
                        &plan,
                        &row_view(&row.as_ref(), branch),
                        &mut first,
                        &mut out,
                    );
                }
                out.extend_from_slice(b"]}");
                out
            }
            Format::Json => {
                let pagination = Pagination::for_query(totals.total, &query);
                let meta = Meta::new(pagination, totals.newest, totals.oldest, now_millis());
                let base = LinkBase::under(req.origin, req.path);
                let links = Links::new(&base, &query, &pagination);
                let parts = read.into_parts(sort, &|rows| {
                    PagePart::new(plan.clone(), branch, Format::Json, rows, None)
                });
                let mut page = JsonPage::begin(&meta, slug);
                page.reserve_bytes(parts.iter().map(|(_, bytes)| bytes.len() + 1).sum());
                for (entries, bytes) in &parts {
                    page.push_rendered(bytes, *entries);
                }
                page.finish(&plan, &links)
            }
            Format::Csv => {
                let mut csv = CsvWriter::with_capacity(256);
                if query.bom {
                    csv.bom();
                }
                if query.headers {
                    plan.write_csv_header(&mut csv);
                }
                let parts = read.into_parts(sort, &|rows| {
                    PagePart::new(plan.clone(), branch, Format::Csv, rows, None)
                });
                let mut body = csv.into_bytes();
                body.reserve(parts.iter().map(|(_, bytes)| bytes.len()).sum());
                for (_, bytes) in &parts {
                    body.extend_from_slice(bytes);
                }
                body
            }
        };
        Ok(EntriesPage {
            format: query.format,
            body,
            link_header,
            keys,
            more: totals.more,
        })
    }

    /// Streams every entry of a form (or branch input) to `out`, oldest first, reading keyset
    /// chunks of [`STREAM_CHUNK`] rows so memory stays flat whatever the size. CSV: one header,
    /// then a row per entry. JSON: one array of entry objects. `progress(done, total)` is called
    /// after each chunk. Returns the number of entries written.
    pub async fn stream_entries<W: Write>(
        &self,
        opts: &StreamOptions,
        out: &mut W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64> {
        let project = self.find_project(&opts.slug).await?;
        if opts.geojson && !self.config.extensions.geojson {
            return Err(AppError::client(400, "ec5_29", "format"));
        }
        self.stream_project_entries(&project, opts, out, progress)
            .await
    }

    /// [`App::stream_entries`] of a project already resolved (and its reader checked), whatever
    /// the `[extensions]`: the map page's feed is this with `geojson`, the project zip without.
    pub async fn stream_project_entries<W: Write>(
        &self,
        project: &ResolvedProject,
        opts: &StreamOptions,
        out: &mut W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64> {
        let def = project.definition()?;
        let maps = mapping_list(project)?;
        // The options go through the export's own validation (unknown form, branch or map).
        let mut raw = String::from("sort_order=asc");
        let mut push = |key: &str, value: &str| {
            raw.push('&');
            raw.push_str(key);
            raw.push('=');
            raw.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        };
        if let Some(f) = &opts.form_ref {
            push("form_ref", f);
        }
        if let Some(b) = &opts.branch_ref {
            push("branch_ref", b);
        }
        if let Some(m) = opts.map_index {
            push("map_index", &m.to_string());
        }
        let query = EntriesQuery::parse(&raw, &def, &maps).map_err(|errors| AppError::Client {
            status: 400,
            errors,
        })?;
        debug_assert!(matches!(
            query.selection,
            Selection::Form | Selection::Branch
        ));
        let plan = ExportPlan::for_query(
            &def,
            &maps,
            &query,
            project.is_private(),
            &project.slug,
            opts.origin.as_deref().unwrap_or(&self.config.public_url),
        );
        let mut sel = select(project, &query);
        let geo = opts
            .geojson
            .then(|| crate::geojson::GeoOptions::read("", &plan))
            .transpose()?
            .map(|g| crate::geojson::GeoOptions {
                markers: opts.markers,
                ..g
            });
        let located_refs: Vec<String> = geo.as_ref().map(|g| g.refs()).unwrap_or_default();
        if geo.is_some() {
            sel.located = Some(quadrat_store::Located {
                body_key: if query.is_branch() {
                    "branch_entry"
                } else {
                    "entry"
                },
                input_refs: &located_refs,
            });
        }
        // For the progress only: the form's counted total, never a count of the located rows
        // (that would read every row's answers before the first byte goes out).
        let whole = ExportSelect {
            located: None,
            ..sel
        };
        let total = self.store.export_totals(&whole, None).await?.total.max(0) as u64;
        let branch = query.is_branch();
        let io = |e: std::io::Error| AppError::internal("writing the export", e);
        if let Some(geo) = &geo {
            return self
                .stream_features(geo, &plan, &sel, total, branch, out, progress)
                .await;
        }
        let mut csv = CsvWriter::with_capacity(STREAM_CHUNK as usize * 256);
        let mut json: Vec<u8> = Vec::with_capacity(STREAM_CHUNK as usize * 256);
        if opts.csv {
            plan.write_csv_header(&mut csv);
        } else {
            json.push(b'[');
        }
        let mut after: Option<Cursor> = None;
        let mut done: u64 = 0;
        loop {
            let rows = self.store.export_chunk(&sel, after, STREAM_CHUNK).await?;
            for row in &rows {
                if opts.csv {
                    plan.write_csv(&row_view(&row.as_ref(), branch), &mut csv);
                } else {
                    if done > 0 {
                        json.push(b',');
                    }
                    json.push(b'\n');
                    plan.write_json(&row_view(&row.as_ref(), branch), &mut json);
                }
                done += 1;
            }
            if opts.csv {
                out.write_all(csv.as_bytes()).map_err(io)?;
                csv.clear();
            } else {
                out.write_all(&json).map_err(io)?;
                json.clear();
            }
            progress(done, total.max(done));
            match rows.last() {
                Some(last) if rows.len() as i64 == STREAM_CHUNK => {
                    after = Some(Cursor {
                        created_at: last.created_at,
                        id: last.id,
                    });
                }
                _ => break,
            }
        }
        if !opts.csv {
            out.write_all(if done > 0 { b"\n]\n" } else { b"]\n" })
                .map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(done)
    }

    /// [`App::stream_entries`] as one GeoJSON FeatureCollection (RFC 7946), written chunk by
    /// chunk: `{"type":"FeatureCollection","features":[` … `]}`.
    #[allow(clippy::too_many_arguments)]
    async fn stream_features<W: Write>(
        &self,
        geo: &crate::geojson::GeoOptions,
        plan: &ExportPlan,
        sel: &ExportSelect<'_>,
        total: u64,
        branch: bool,
        out: &mut W,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64> {
        let io = |e: std::io::Error| AppError::internal("writing the export", e);
        out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")
            .map_err(io)?;
        let mut buf: Vec<u8> = Vec::with_capacity(STREAM_CHUNK as usize * 512);
        let mut after: Option<Cursor> = None;
        let mut done: u64 = 0;
        let mut first = true;
        loop {
            let rows = self.store.export_chunk(sel, after, STREAM_CHUNK).await?;
            for row in &rows {
                buf.push(b'\n');
                geo.push(plan, &row_view(&row.as_ref(), branch), &mut first, &mut buf);
                done += 1;
            }
            out.write_all(&buf).map_err(io)?;
            buf.clear();
            progress(done, total.max(done));
            match rows.last() {
                Some(last) if rows.len() as i64 == STREAM_CHUNK => {
                    after = Some(Cursor {
                        created_at: last.created_at,
                        id: last.id,
                    });
                }
                _ => break,
            }
        }
        out.write_all(b"\n]}\n").map_err(io)?;
        out.flush().map_err(io)?;
        Ok(done)
    }
}
