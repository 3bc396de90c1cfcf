//! The changes feed (docs/protocol.md §17): one page of `GET /api/export/changes/{slug}` as JSON
//! or CSV, and the same for `quadrat entries export --since`. Every upsert's `entry` is written
//! by the entries export's own renderer (`ExportPlan::write_json`/`write_csv`) under the same
//! `map_index`, so the two can never differ.

use std::collections::HashMap;

use quadrat_core::changes::{ChangesFormat, ChangesQuery, CursorCheck, CursorToken};
use quadrat_core::definition::Definition;
use quadrat_core::export::csv::CsvWriter;
use quadrat_core::export::jsonw::push_str;
use quadrat_core::export::render::{ExportPlan, PlanOptions};
use quadrat_core::mappings::MappingList;
use quadrat_core::project_state::ProjectAccess;
use quadrat_core::time::{iso_zero_millis, sql_datetime};
use quadrat_store::{ChangeItem, ChangesSelect, ProjectEvent, Tombstone};

use crate::export::row_view;
use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// The request as the feed needs it (as [`crate::export::EntriesRequest`]).
#[derive(Debug, Clone, Copy)]
pub struct ChangesRequest<'a> {
    /// The query string without `?` (`""` when none).
    pub query: &'a str,
    /// Where links and media URLs point, without a trailing slash.
    pub origin: &'a str,
    /// The request path as sent.
    pub path: &'a str,
}

/// A rendered page with what the headers repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesPage {
    pub format: ChangesFormat,
    pub body: Vec<u8>,
    pub next_cursor: String,
    pub has_more: bool,
    /// `links.next` (set while `has_more`).
    pub next_link: Option<String>,
    pub structure_last_updated: String,
    pub latest_seq: i64,
    pub count: usize,
}

impl ChangesPage {
    pub fn content_type(&self) -> &'static str {
        match self.format {
            ChangesFormat::Json => "application/vnd.api+json; charset=utf-8",
            ChangesFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// The export plans of one page, one per form or branch met, under the page's map.
struct Plans<'a> {
    def: &'a Definition,
    maps: &'a MappingList,
    map_index: usize,
    private: bool,
    slug: &'a str,
    origin: &'a str,
    plans: HashMap<(String, String), ExportPlan>,
}

impl Plans<'_> {
    fn get(&mut self, form_ref: &str, branch_ref: &str) -> &ExportPlan {
        let key = (form_ref.to_string(), branch_ref.to_string());
        self.plans.entry(key).or_insert_with(|| {
            ExportPlan::new(
                self.def,
                self.maps,
                &PlanOptions {
                    form_ref,
                    branch_ref: (!branch_ref.is_empty()).then_some(branch_ref),
                    map_index: self.map_index,
                    private: self.private,
                    slug: self.slug,
                    origin: self.origin,
                },
            )
        })
    }
}

impl App {
    /// One page of the changes feed (docs/protocol.md §17.2–16.7). The route has throttled and
    /// resolved the project with the entries export's access checks.
    pub async fn export_changes(
        &self,
        project: &ResolvedProject,
        req: &ChangesRequest<'_>,
    ) -> Result<ChangesPage> {
        let def = project.definition()?;
        let maps = crate::mappings::mapping_list(project)?;
        let query =
            ChangesQuery::parse(req.query, &def, &maps).map_err(|errors| AppError::Client {
                status: 400,
                errors,
            })?;
        let (after, horizon) = match &query.cursor {
            Some(c) => (c.s, c.h),
            // An initial walk skips every tombstone and event of its own snapshot.
            None => (0, i64::MAX),
        };
        let page = self
            .store
            .changes_page(&ChangesSelect {
                project_id: project.id,
                after,
                horizon,
                form_ref: query.form_ref.as_deref(),
                branch_ref: query.branch_ref.as_deref(),
                limit: query.per_page + 1,
                // The uploader's email is read always: whether the page shows it depends on the
                // access read in the page's own snapshot (the renderer leaves it out when public).
                with_created_by: true,
            })
            .await?;
        let state = &page.state;
        if let Some(c) = &query.cursor {
            c.check(&CursorCheck {
                project_ref: &project.project_ref,
                epoch: &state.epoch,
                latest_seq: state.last_seq,
                tombstone_floor: state.tombstone_floor,
            })
            .map_err(|(status, e)| AppError::Client {
                status,
                errors: vec![e],
            })?;
        }
        // Rendering uses the definition, mapping and access of the page's own snapshot.
        let def = Definition::from_data(&parse(&page.definition)?)
            .map_err(|e| AppError::internal("reading a stored definition", e.to_string()))?;
        let maps = MappingList::from_stored(&parse(&page.mapping)?);
        let map_index = if maps.indexes().any(|i| i == query.map_index) {
            query.map_index
        } else {
            maps.default_index()
        };
        let private = ProjectAccess::parse(&page.access) == Some(ProjectAccess::Private);
        let mut items = page.items;
        let has_more = items.len() as i64 > query.per_page;
        items.truncate(query.per_page as usize);
        let next_seq = match (has_more, items.last()) {
            (true, Some(last)) => last.seq(),
            // Caught up: jump to the snapshot's latest seq, so filtered walks never rescan.
            _ => state.last_seq.max(after),
        };
        let token = CursorToken {
            p: project.project_ref.clone(),
            e: state.epoch.clone(),
            s: next_seq,
            h: match &query.cursor {
                Some(c) => c.h,
                None => state.last_seq,
            },
        };
        let next_cursor = token.encode();
        let base = format!("{}{}", req.origin, req.path);
        let self_link = if req.query.is_empty() {
            base.clone()
        } else {
            format!("{base}?{}", req.query)
        };
        let next_link =
            has_more.then(|| format!("{base}?{}", with_cursor(req.query, &next_cursor)));
        let structure_last_updated = sql_datetime(page.structure_updated_at);
        let mut plans = Plans {
            def: &def,
            maps: &maps,
            map_index,
            private,
            slug: &project.slug,
            origin: req.origin,
            plans: HashMap::new(),
        };
        let count = items.len();
        let body = match query.format {
            ChangesFormat::Json => {
                let mut out: Vec<u8> = Vec::with_capacity(count * 512 + 512);
                out.extend_from_slice(b"{\"meta\":{\"per_page\":");
                out.extend_from_slice(query.per_page.to_string().as_bytes());
                out.extend_from_slice(b",\"count\":");
                out.extend_from_slice(count.to_string().as_bytes());
                out.extend_from_slice(b",\"has_more\":");
                out.extend_from_slice(if has_more { b"true" } else { b"false" });
                out.extend_from_slice(b",\"latest_seq\":");
                out.extend_from_slice(state.last_seq.to_string().as_bytes());
                out.extend_from_slice(b",\"structure_last_updated\":");
                push_str(&mut out, &structure_last_updated);
                out.extend_from_slice(b",\"next_cursor\":");
                push_str(&mut out, &next_cursor);
                out.extend_from_slice(b",\"mapping\":{\"map_name\":");
                push_str(&mut out, maps.name(map_index).unwrap_or_default());
                out.extend_from_slice(b",\"map_index\":");
                out.extend_from_slice(map_index.to_string().as_bytes());
                out.extend_from_slice(b"}},\"data\":{\"id\":");
                push_str(&mut out, &project.slug);
                out.extend_from_slice(b",\"type\":\"changes\",\"changes\":[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_item_json(item, &mut plans, &mut out);
                }
                out.extend_from_slice(b"]},\"links\":{\"self\":");
                push_str(&mut out, &self_link);
                out.extend_from_slice(b",\"next\":");
                match &next_link {
                    Some(l) => push_str(&mut out, l),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b"}}");
                out
            }
            ChangesFormat::Csv => {
                let form_ref = query.form_ref.clone().unwrap_or_default();
                let branch_ref = query.branch_ref.clone().unwrap_or_default();
                let plan = plans.get(&form_ref, &branch_ref).clone();
                let mut csv = CsvWriter::with_capacity(count * 256 + 256);
                if query.headers {
                    csv.record(
                        ["ec5_seq", "ec5_op"]
                            .into_iter()
                            .chain(plan.header().iter().map(String::as_str)),
                    );
                }
                for item in &items {
                    write_item_csv(item, &plan, &branch_ref, &mut csv);
                }
                csv.into_bytes()
            }
        };
        Ok(ChangesPage {
            format: query.format,
            body,
            next_cursor,
            has_more,
            next_link,
            structure_last_updated,
            latest_seq: state.last_seq,
            count,
        })
    }
}

fn parse(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| AppError::internal("reading stored JSON", e))
}

/// The query string with `cursor` replaced (other keys kept in their order).
fn with_cursor(query: &str, cursor: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k != "cursor" {
            out.append_pair(&k, &v);
        }
    }
    out.append_pair("cursor", cursor);
    out.finish()
}

fn key(out: &mut Vec<u8>, name: &str) {
    out.push(b',');
    push_str(out, name);
    out.push(b':');
}

fn write_item_json(item: &ChangeItem, plans: &mut Plans<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(item.seq().to_string().as_bytes());
    match item {
        ChangeItem::Upsert {
            form_ref,
            branch_ref,
            row,
            ..
        } => {
            let branch = !branch_ref.is_empty();
            key(out, "op");
            push_str(out, "upsert");
            key(out, "type");
            push_str(out, if branch { "branch_entry" } else { "entry" });
            key(out, "form_ref");
            push_str(out, form_ref);
            if branch {
                key(out, "branch_ref");
                push_str(out, branch_ref);
            }
            key(out, "uuid");
            push_str(out, &row.uuid);
            key(out, "entry");
            plans
                .get(form_ref, branch_ref)
                .write_json(&row_view(&row.as_ref(), branch), out);
        }
        ChangeItem::Tombstone(t) => write_tombstone_json(t, out),
        ChangeItem::Project(p) => write_event_json(p, out),
    }
    out.push(b'}');
}

fn write_tombstone_json(t: &Tombstone, out: &mut Vec<u8>) {
    let branch = t.kind == "branch_entry";
    key(out, "op");
    push_str(out, "delete");
    key(out, "type");
    push_str(out, &t.kind);
    key(out, "form_ref");
    push_str(out, &t.form_ref);
    if branch {
        key(out, "branch_ref");
        push_str(out, &t.branch_ref);
    }
    key(out, "uuid");
    push_str(out, &t.uuid);
    if branch {
        key(out, "owner_uuid");
        push_str(out, &t.relation_uuid);
    } else {
        key(out, "parent_form_ref");
        push_str(out, &t.parent_form_ref);
        key(out, "parent_uuid");
        push_str(out, &t.relation_uuid);
    }
    key(out, "deleted_at");
    push_str(out, &iso_zero_millis(t.deleted_at));
}

fn write_event_json(p: &ProjectEvent, out: &mut Vec<u8>) {
    key(out, "op");
    push_str(out, "project");
    key(out, "reason");
    push_str(out, &p.reason);
    key(out, "structure_last_updated");
    push_str(out, &p.structure_last_updated);
    key(out, "access");
    push_str(out, &p.access);
}

/// A CSV record: `ec5_seq`, `ec5_op`, then the export's columns of the selected form or branch.
/// Project events have no row; items of another stream (the form's branch entries when no
/// `branch_ref` was sent) are left out.
fn write_item_csv(item: &ChangeItem, plan: &ExportPlan, branch_ref: &str, csv: &mut CsvWriter) {
    match item {
        ChangeItem::Upsert {
            seq,
            branch_ref: b,
            row,
            ..
        } if b == branch_ref => {
            csv.field(&seq.to_string());
            csv.field("upsert");
            plan.write_csv(&row_view(&row.as_ref(), !b.is_empty()), csv);
        }
        ChangeItem::Tombstone(t) if t.branch_ref == branch_ref => {
            csv.field(&t.seq.to_string());
            csv.field("delete");
            for name in plan.header() {
                match name.as_str() {
                    "ec5_uuid" | "ec5_branch_uuid" => csv.field(&t.uuid),
                    "ec5_parent_uuid" | "ec5_branch_owner_uuid" => csv.field(&t.relation_uuid),
                    "uploaded_at" => csv.field(&iso_zero_millis(t.deleted_at)),
                    _ => csv.field(""),
                }
            }
            csv.end_record();
        }
        _ => {}
    }
}

/// What `quadrat entries export --since` prints.
#[derive(Debug, Clone, Default)]
pub struct ChangesOptions {
    pub slug: String,
    /// `None`: from the beginning.
    pub cursor: Option<String>,
    pub form_ref: Option<String>,
    pub branch_ref: Option<String>,
    pub csv: bool,
    pub map_index: Option<usize>,
}

/// Items per page when the CLI walks the feed.
pub const CLI_PAGE: usize = 1000;

impl App {
    /// Walks the feed from `opts.cursor` until caught up, writing each page as the route renders
    /// it (JSON: one page per line; CSV: the header once, then the rows). Returns the cursor to
    /// resume from.
    pub async fn stream_changes<W: std::io::Write>(
        &self,
        opts: &ChangesOptions,
        out: &mut W,
    ) -> Result<String> {
        let project = self.find_project(&opts.slug).await?;
        let path = format!("/api/export/changes/{}", project.slug);
        let mut cursor = opts.cursor.clone();
        let io = |e: std::io::Error| AppError::internal("writing the changes", e);
        let mut first = true;
        loop {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("per_page", &CLI_PAGE.to_string());
            if let Some(f) = &opts.form_ref {
                q.append_pair("form_ref", f);
            }
            if let Some(b) = &opts.branch_ref {
                q.append_pair("branch_ref", b);
            }
            if let Some(m) = opts.map_index {
                q.append_pair("map_index", &m.to_string());
            }
            if opts.csv {
                q.append_pair("format", "csv");
                q.append_pair("headers", if first { "true" } else { "false" });
            }
            if let Some(c) = &cursor {
                q.append_pair("cursor", c);
            }
            let query = q.finish();
            let page = self
                .export_changes(
                    &project,
                    &ChangesRequest {
                        query: &query,
                        origin: &self.config.public_url,
                        path: &path,
                    },
                )
                .await?;
            out.write_all(&page.body).map_err(io)?;
            if !opts.csv {
                out.write_all(b"\n").map_err(io)?;
            }
            first = false;
            cursor = Some(page.next_cursor.clone());
            if !page.has_more {
                out.flush().map_err(io)?;
                return Ok(page.next_cursor);
            }
        }
    }
}
