//! The entries export (docs/protocol.md §8): one page as JSON or CSV for `GET
//! /api/export/entries/{slug}`, and a whole form or branch streamed for the CLI.

use std::io::Write;

use quadrat_core::export::csv::CsvWriter;
use quadrat_core::export::links::{LinkBase, Links, Meta, Pagination};
use quadrat_core::export::params::{EntriesQuery, Format, Selection};
use quadrat_core::export::render::{ExportPlan, JsonPage, StoredEntry};
use quadrat_core::time::now_millis;
use quadrat_store::{Cursor, ExportRow, ExportSelect};

use crate::mappings::mapping_list;
use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// The request as the export needs it: its raw query string and where it was sent.
#[derive(Debug, Clone, Copy)]
pub struct EntriesRequest<'a> {
    /// The query string without `?` (`""` when none).
    pub query: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// The `Host` header (with its port when sent).
    pub host: &'a str,
    /// The request path as sent (still percent-encoded).
    pub path: &'a str,
}

/// A rendered page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntriesPage {
    pub format: Format,
    pub body: Vec<u8>,
}

impl EntriesPage {
    pub fn content_type(&self) -> &'static str {
        match self.format {
            Format::Json => "application/vnd.api+json; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
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
    /// Default: the project's default map.
    pub map_index: Option<usize>,
}

/// Rows read per keyset chunk when streaming.
pub const STREAM_CHUNK: i64 = 1000;

fn row_view<'a>(row: &'a ExportRow, branch: bool) -> StoredEntry<'a> {
    StoredEntry {
        uuid: &row.uuid,
        parent_uuid: if branch { "" } else { &row.related_uuid },
        owner_uuid: if branch { &row.related_uuid } else { "" },
        uploaded_at: row.uploaded_at,
        title: &row.title,
        created_by: row.created_by.as_deref(),
        entry_data: &row.entry_data,
        branch_counts: row.branch_counts.as_deref(),
    }
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
        let def = project.definition()?;
        let maps = mapping_list(project)?;
        let query =
            EntriesQuery::parse(req.query, &def, &maps).map_err(|errors| AppError::Client {
                status: 400,
                errors,
            })?;
        let origin = LinkBase::new(req.scheme, req.host, "");
        let slug = &project.slug;
        let plan = ExportPlan::for_query(
            &def,
            &maps,
            &query,
            project.is_private(),
            slug,
            origin.as_str(),
        );
        let sel = select(project, &query);
        let totals = self.store.export_totals(&sel).await?;
        let rows = self
            .store
            .export_page(
                &sel,
                query.sort_by,
                query.sort_order,
                query.offset(),
                query.per_page,
                totals.total,
            )
            .await?;
        let branch = query.is_branch();
        let body = match query.format {
            Format::Json => {
                let pagination = Pagination::for_query(totals.total, &query);
                let meta = Meta::new(pagination, totals.newest, totals.oldest, now_millis());
                let base = LinkBase::new(req.scheme, req.host, req.path);
                let links = Links::new(&base, &query, &pagination);
                let mut page = JsonPage::begin(&meta, slug);
                page.reserve_rows(rows.len());
                for row in &rows {
                    page.push(&plan, &row_view(row, branch));
                }
                page.finish(&plan, &links)
            }
            Format::Csv => {
                let mut csv = CsvWriter::with_capacity(rows.len() * 256 + 256);
                if query.bom {
                    csv.bom();
                }
                if query.headers {
                    plan.write_csv_header(&mut csv);
                }
                for row in &rows {
                    plan.write_csv(&row_view(row, branch), &mut csv);
                }
                csv.into_bytes()
            }
        };
        Ok(EntriesPage {
            format: query.format,
            body,
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
        let def = project.definition()?;
        let maps = mapping_list(&project)?;
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
            &self.config.public_url,
        );
        let sel = select(&project, &query);
        let total = self.store.export_totals(&sel).await?.total.max(0) as u64;
        let branch = query.is_branch();
        let io = |e: std::io::Error| AppError::internal("writing the export", e);
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
                    plan.write_csv(&row_view(row, branch), &mut csv);
                } else {
                    if done > 0 {
                        json.push(b',');
                    }
                    json.push(b'\n');
                    plan.write_json(&row_view(row, branch), &mut json);
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
}
