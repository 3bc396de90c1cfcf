//! A project's data for anyone who may read it: its home, the entries table, one entry, and
//! an entry's deletion. Every table and entry is the export use-case's own JSON page
//! ([`quadrat_app::App::export_entries`]) shown as HTML, so the pages show answers exactly as
//! the export renders them and read the store through the export's one query path.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use quadrat_app::AppError;
use quadrat_app::access::Caller;
use quadrat_app::entries::may_delete_entries;
use quadrat_app::export::{EntriesRequest, PageKeys};
use quadrat_app::model::User;
use quadrat_app::projects::ResolvedProject;
use quadrat_app::sessions::{Flash, WebSession};
use quadrat_core::definition::Definition;
use quadrat_core::export::keyset::{PageAt, SortKey};
use quadrat_core::export::params::SortBy;
use quadrat_core::roles::Actor;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::web::render::{self, Chrome, Refusal, iso};
use crate::web::session::{LoggedIn, PostedForm, Visitor};

/// Anyone asking for a data page: a visitor (maybe with a session) or a logged-in user.
pub struct Reader {
    pub state: AppState,
    pub session: Option<WebSession>,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Visitor(session) = Visitor::from_request_parts(parts, state).await?;
        Ok(Reader {
            state: state.clone(),
            session,
        })
    }
}

impl Reader {
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().and_then(|s| s.user.as_ref())
    }

    fn logged_in(&self) -> Option<LoggedIn> {
        let session = self.session.clone()?;
        let user = session.user.clone()?;
        Some(LoggedIn {
            state: self.state.clone(),
            session,
            user,
        })
    }

    /// The project `slug` if this reader may read its data, with who they are on it.
    pub async fn project(&self, slug: &str) -> Result<(ResolvedProject, Actor), Response> {
        self.state
            .app
            .data_reader_as(slug, Caller::User(self.user()))
            .await
            .map_err(|e| self.refused(e))
    }

    pub async fn chrome(&self, title: &str) -> Chrome {
        match self.logged_in() {
            Some(me) => me.chrome(title, "").await,
            None => Chrome::bare(title),
        }
    }

    pub fn refused(&self, e: AppError) -> Response {
        match self.logged_in() {
            Some(me) => me.refused(e),
            None => render::refusal_page(Refusal::from(e)),
        }
    }
}

/// The tabs above every data page.
pub struct Tabs {
    pub slug: String,
    pub name: String,
    /// `home`, `data`, `map`, `bulk`.
    pub current: &'static str,
    pub can_manage: bool,
    pub can_bulk: bool,
    /// The data pages' script.
    pub script: String,
}

impl Tabs {
    pub fn new(project: &ResolvedProject, actor: &Actor, current: &'static str) -> Tabs {
        let role = actor.effective_role();
        Tabs {
            slug: project.slug.clone(),
            name: project.name.clone(),
            current,
            can_manage: role.is_some_and(|r| r.can_manage_project()),
            can_bulk: may_delete_entries(actor),
            script: crate::web::assets::data_js_url(),
        }
    }
}

/// `/project/{slug}/media?…`: a media URL of the export, served to this reader.
fn media_url(slug: &str, export_url: &str, format: Option<&str>) -> Option<(String, String)> {
    let query = export_url.strip_prefix(&format!("/api/media/{slug}?"))?;
    let mut kind = String::new();
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match (&*k, format) {
            ("type", _) => {
                kind = v.to_string();
                out.append_pair("type", &v);
            }
            ("format", Some(f)) => {
                out.append_pair("format", f);
            }
            _ => {
                out.append_pair(&k, &v);
            }
        }
    }
    Some((kind, format!("/project/{slug}/media?{}", out.finish())))
}

/// One answer as the page shows it.
pub enum Cell {
    Text(String),
    Photo { thumb: String, full: String },
    Audio(String),
    Video(String),
    Location { lat: f64, long: f64, text: String },
}

fn cell(slug: &str, value: &Value) -> Cell {
    match value {
        Value::String(s) if s.starts_with("/api/media/") => {
            match media_url(slug, s, None).zip(media_url(slug, s, Some("entry_thumb"))) {
                Some(((kind, full), (_, thumb))) => match kind.as_str() {
                    "photo" => Cell::Photo { thumb, full },
                    "audio" => Cell::Audio(full),
                    "video" => Cell::Video(full),
                    _ => Cell::Text(s.clone()),
                },
                None => Cell::Text(s.clone()),
            }
        }
        Value::String(s) => Cell::Text(s.clone()),
        Value::Null => Cell::Text(String::new()),
        Value::Array(items) => Cell::Text(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Object(o) => {
            let num = |k: &str| match o.get(k) {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            };
            let text = o
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("{k}: {v}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            match (num("latitude"), num("longitude")) {
                (Some(lat), Some(long)) => Cell::Location { lat, long, text },
                _ => Cell::Text(text),
            }
        }
        other => Cell::Text(other.to_string()),
    }
}

/// An export page read back: its `meta`, its entries, the sort keys at its ends, and whether
/// its count stopped at [`COUNT_CAP`].
type ExportJson = (
    Value,
    Vec<serde_json::Map<String, Value>>,
    Option<PageKeys>,
    bool,
);

/// A filtered table counts its rows up to this many, then says "more than": a title search
/// matching half a million entries is not counted on every page (a thousand rows counted
/// cost a few ms on SQLite at a million entries; ten thousand, some 70).
pub const COUNT_CAP: i64 = 1_000;

/// The export's JSON page for `query` (its rows chosen by `at` when given), parsed.
async fn export_json(
    state: &AppState,
    project: &ResolvedProject,
    query: &str,
    at: Option<&PageAt>,
) -> Result<ExportJson, AppError> {
    let path = format!("/api/export/entries/{}", project.slug);
    let page = state
        .app
        .export_entries_at(
            project,
            &EntriesRequest {
                query,
                // Media URLs become `/api/media/{slug}?…`, which the pages rewrite to their own.
                origin: "",
                path: &path,
                count_cap: Some(COUNT_CAP),
            },
            at,
        )
        .await?;
    let mut body: Value = serde_json::from_slice(&page.body)
        .map_err(|e| AppError::internal("reading the export's page", e))?;
    let meta = body.get_mut("meta").map(Value::take).unwrap_or_default();
    let entries = match body.pointer_mut("/data/entries").map(Value::take) {
        Some(Value::Array(list)) => list
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok((meta, entries, page.keys, page.more))
}

fn meta_int(meta: &Value, key: &str) -> i64 {
    meta.get(key).and_then(Value::as_i64).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Project home

pub struct FormCount {
    pub form_ref: String,
    pub name: String,
    pub count: i64,
    pub branches: Vec<(String, String, i64)>,
}

#[derive(Template)]
#[template(path = "project_home.html")]
struct HomePage {
    c: Chrome,
    t: Tabs,
    small_description: String,
    description: String,
    logo: String,
    total: i64,
    last: Option<String>,
    forms: Vec<FormCount>,
    private: bool,
}

/// `GET /project/{slug}`
pub async fn home(reader: Reader, Path(slug): Path<String>) -> Response {
    let (project, actor) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let stats = match reader.state.app.project_stats(&project).await {
        Ok(s) => s,
        Err(e) => return reader.refused(e),
    };
    let def = match project.definition() {
        Ok(d) => d,
        Err(e) => return reader.refused(e),
    };
    let count_of = |list: &[(String, quadrat_core::stats::Counter)], r: &str| {
        list.iter()
            .find(|(k, _)| k == r)
            .map_or(0, |(_, c)| c.count)
    };
    let forms = def
        .forms
        .iter()
        .map(|f| FormCount {
            form_ref: f.form_ref.0.clone(),
            name: f.name.clone(),
            count: count_of(&stats.form_counts, f.form_ref.as_str()),
            branches: f
                .branches()
                .map(|b| {
                    (
                        b.input_ref.0.clone(),
                        b.question.clone(),
                        count_of(&stats.branch_counts, b.input_ref.as_str()),
                    )
                })
                .collect(),
        })
        .collect();
    let last = stats
        .form_counts
        .iter()
        .chain(&stats.branch_counts)
        .map(|(_, c)| c.last_created_at)
        .filter(|t| *t > 0)
        .max()
        .map(iso);
    let page = HomePage {
        c: reader.chrome(&format!("Home – {}", project.name)).await,
        t: Tabs::new(&project, &actor, "home"),
        small_description: project.small_description.clone(),
        description: project.description.clone(),
        logo: format!(
            "/project/{}/media?type=photo&format=project_thumb&name=logo.jpg",
            project.slug
        ),
        total: stats.total_entries,
        last,
        forms,
        private: project.is_private(),
    };
    render::page(&page)
}

// ---------------------------------------------------------------------------------------
// Entries table

/// The table's query string, as the page's links and filter form send it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TableQuery {
    pub form_ref: String,
    pub branch_ref: String,
    pub parent_uuid: String,
    pub branch_owner_uuid: String,
    /// The page's number as the pager shows it, or `last`; alone (an older link) a number is
    /// read as the export's own `page`.
    pub page: String,
    /// Keyset paging: the page is the rows after (or before) this sort key ([`SortKey`]).
    pub after: String,
    pub before: String,
    pub title: String,
    pub from: String,
    pub to: String,
    /// `created_at-desc` (default), `created_at-asc`, `uploaded_at-…`, `title-…`.
    pub sort: String,
    pub map_index: String,
}

pub struct Row {
    pub uuid: String,
    pub title: String,
    pub cells: Vec<Cell>,
    /// `(label, href)`: child entries and branch entries.
    pub links: Vec<(String, String)>,
}

pub struct Crumb {
    pub label: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "entries.html")]
struct EntriesPageT {
    c: Chrome,
    t: Tabs,
    caption: String,
    crumbs: Vec<Crumb>,
    forms: Vec<(String, String, bool)>,
    headers: Vec<String>,
    rows: Vec<Row>,
    total: i64,
    /// `total` is [`COUNT_CAP`] and more rows match.
    more: bool,
    page: Option<i64>,
    last_page: Option<i64>,
    prev: Option<String>,
    next: Option<String>,
    first: Option<String>,
    last: Option<String>,
    q: TableQuery,
    sorts: Vec<(&'static str, &'static str)>,
    maps: Vec<(usize, String, bool)>,
    /// Hidden fields the filter form keeps: `(name, value)`.
    keep: Vec<(&'static str, String)>,
    entry_query: String,
    csv_link: String,
    logged_in: bool,
    can_delete: bool,
}

const SORTS: [(&str, &str); 6] = [
    ("created_at-desc", "Newest first"),
    ("created_at-asc", "Oldest first"),
    ("uploaded_at-desc", "Uploaded, newest first"),
    ("uploaded_at-asc", "Uploaded, oldest first"),
    ("title-asc", "Title, A to Z"),
    ("title-desc", "Title, Z to A"),
];

/// Rows per page, as the real data viewer shows them.
pub const PER_PAGE: i64 = 50;

impl TableQuery {
    /// The export's query string for this table page.
    fn export_query(&self, def: &Definition) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let form_ref = if self.form_ref.is_empty() {
            def.forms
                .first()
                .map(|f| f.form_ref.0.clone())
                .unwrap_or_default()
        } else {
            self.form_ref.clone()
        };
        q.append_pair("form_ref", &form_ref);
        q.append_pair("format", "json");
        q.append_pair("per_page", &PER_PAGE.to_string());
        // An older link's page number goes to the export; keyset pages pass their key.
        if self.page.parse::<i64>().is_ok_and(|p| p > 1)
            && self.after.is_empty()
            && self.before.is_empty()
        {
            q.append_pair("page", &self.page);
        }
        if !self.branch_ref.is_empty() {
            q.append_pair("branch_ref", &self.branch_ref);
            if !self.branch_owner_uuid.is_empty() {
                q.append_pair("branch_owner_uuid", &self.branch_owner_uuid);
            }
        } else if !self.parent_uuid.is_empty() {
            let parent = def
                .form_index(&form_ref)
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| def.forms.get(i));
            if let Some(parent) = parent {
                q.append_pair("parent_form_ref", parent.form_ref.as_str());
            }
            q.append_pair("parent_uuid", &self.parent_uuid);
        }
        let (by, order) = self.sort.split_once('-').unwrap_or(("created_at", "desc"));
        q.append_pair("sort_by", by);
        q.append_pair("sort_order", order);
        if !self.title.is_empty() {
            q.append_pair("title", &self.title);
        }
        if !self.from.is_empty() || !self.to.is_empty() {
            q.append_pair("filter_by", "created_at");
            if !self.from.is_empty() {
                q.append_pair("filter_from", &self.from);
            }
            if !self.to.is_empty() {
                q.append_pair("filter_to", &self.to);
            }
        }
        if !self.map_index.is_empty() {
            q.append_pair("map_index", &self.map_index);
        }
        q.finish()
    }
}

impl TableQuery {
    fn sort_by(&self) -> SortBy {
        match self.sort.split_once('-').map(|(by, _)| by) {
            Some("uploaded_at") => SortBy::UploadedAt,
            Some("title") => SortBy::Title,
            _ => SortBy::CreatedAt,
        }
    }

    /// Where the page starts: `None` for an older `page=N` link, read by offset.
    fn page_at(&self) -> Result<Option<PageAt>, AppError> {
        let key = |text: &str, source: &str| {
            SortKey::decode(self.sort_by(), text)
                .ok_or_else(|| AppError::client(400, "ec5_29", source))
        };
        Ok(Some(if self.page == "last" {
            PageAt::Last
        } else if !self.after.is_empty() {
            PageAt::After(key(&self.after, "after")?)
        } else if !self.before.is_empty() {
            PageAt::Before(key(&self.before, "before")?)
        } else if self.page.parse::<i64>().is_ok_and(|p| p > 1) {
            return Ok(None);
        } else {
            PageAt::First
        }))
    }

    /// This table's URL at another page: its number, and the key it starts after or before.
    fn link(&self, slug: &str, page: &str, cursor: Option<(&str, &SortKey)>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("form_ref", &self.form_ref),
            ("branch_ref", &self.branch_ref),
            ("parent_uuid", &self.parent_uuid),
            ("branch_owner_uuid", &self.branch_owner_uuid),
            ("title", &self.title),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", &self.sort),
            ("map_index", &self.map_index),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("page", page);
        if let Some((name, key)) = cursor {
            q.append_pair(name, &key.encode());
        }
        format!("/project/{slug}/data?{}", q.finish())
    }
}

/// The pager: the page's number (when known: not past the first pages of a count that
/// stopped at its cap) and its links (first, previous, next, last).
struct Pager {
    page: Option<i64>,
    /// `None` when the count stopped at its cap.
    last_page: Option<i64>,
    first: Option<String>,
    prev: Option<String>,
    next: Option<String>,
    last: Option<String>,
}

impl Pager {
    fn new(
        q: &TableQuery,
        slug: &str,
        at: Option<&PageAt>,
        keys: Option<&PageKeys>,
        meta: &Value,
        more: bool,
    ) -> Pager {
        let last_page = (!more).then(|| meta_int(meta, "last_page").max(1));
        let Some(keys) = keys else {
            return Pager {
                page: Some(1),
                last_page,
                first: None,
                prev: None,
                next: None,
                last: None,
            };
        };
        // The number a keyset link carries, kept true at the ends whatever was typed.
        let page = match at {
            None => Some(meta_int(meta, "current_page")),
            Some(PageAt::First) => Some(1),
            Some(PageAt::Last) => last_page,
            Some(_) if !keys.before => Some(1),
            Some(_) if !keys.after => last_page,
            Some(_) => q.page.parse().ok().or((!more).then_some(2)),
        }
        .map(|p| p.clamp(1, last_page.unwrap_or(i64::MAX)));
        // An unknown number stays unknown in the links (an empty `page`).
        let number = |p: Option<i64>| {
            p.map(|p| p.clamp(1, last_page.unwrap_or(i64::MAX)).to_string())
                .unwrap_or_default()
        };
        Pager {
            page,
            last_page,
            first: keys.before.then(|| q.link(slug, "1", None)),
            prev: keys.before.then(|| {
                q.link(
                    slug,
                    &number(page.map(|p| p - 1)),
                    Some(("before", &keys.first)),
                )
            }),
            next: keys.after.then(|| {
                q.link(
                    slug,
                    &number(page.map(|p| p + 1)),
                    Some(("after", &keys.last)),
                )
            }),
            last: keys.after.then(|| q.link(slug, "last", None)),
        }
    }
}

/// `GET /project/{slug}/data`
pub async fn table(
    reader: Reader,
    Path(slug): Path<String>,
    Query(q): Query<TableQuery>,
) -> Response {
    let (project, actor) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let def = match project.definition() {
        Ok(d) => d,
        Err(e) => return reader.refused(e),
    };
    let export_query = q.export_query(&def);
    let at = match q.page_at() {
        Ok(at) => at,
        Err(e) => return reader.refused(e),
    };
    let (meta, entries, keys, more) =
        match export_json(&reader.state, &project, &export_query, at.as_ref()).await {
            Ok(x) => x,
            Err(e) => return reader.refused(e),
        };
    let form_index = def.form_index(&q.form_ref).unwrap_or(0);
    let Some(form) = def.forms.get(form_index) else {
        return reader.refused(AppError::client(400, "ec5_15", "form_ref"));
    };
    let branch = (!q.branch_ref.is_empty())
        .then(|| {
            form.branches()
                .find(|b| b.input_ref.as_str() == q.branch_ref)
        })
        .flatten();
    let child = def.forms.get(form_index + 1);
    let slug = project.slug.clone();
    let entry_query = {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("form_ref", form.form_ref.as_str());
        if let Some(b) = branch {
            s.append_pair("branch_ref", b.input_ref.as_str());
        }
        s.finish()
    };
    let hidden = |k: &str| k.starts_with("ec5_") || k == "title";
    let headers: Vec<String> = entries
        .first()
        .map(|e| e.keys().filter(|k| !hidden(k)).cloned().collect())
        .unwrap_or_default();
    let rows = entries
        .iter()
        .map(|e| {
            let uuid = e
                .get("ec5_uuid")
                .or_else(|| e.get("ec5_branch_uuid"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let mut links = Vec::new();
            if branch.is_none() {
                if let Some(child) = child {
                    links.push((
                        format!("{} entries", child.name),
                        format!(
                            "/project/{slug}/data?{}",
                            form_urlencoded::Serializer::new(String::new())
                                .append_pair("form_ref", child.form_ref.as_str())
                                .append_pair("parent_uuid", &uuid)
                                .finish()
                        ),
                    ));
                }
                for b in form.branches() {
                    links.push((
                        b.question.clone(),
                        format!(
                            "/project/{slug}/data?{}",
                            form_urlencoded::Serializer::new(String::new())
                                .append_pair("form_ref", form.form_ref.as_str())
                                .append_pair("branch_ref", b.input_ref.as_str())
                                .append_pair("branch_owner_uuid", &uuid)
                                .finish()
                        ),
                    ));
                }
            }
            Row {
                title: e
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                cells: headers
                    .iter()
                    .map(|h| cell(&slug, e.get(h).unwrap_or(&Value::Null)))
                    .collect(),
                links,
                uuid,
            }
        })
        .collect();
    let total = meta_int(&meta, "total");
    let pager = Pager::new(&q, &slug, at.as_ref(), keys.as_ref(), &meta, more);
    let mut crumbs = vec![Crumb {
        label: form.name.clone(),
        href: format!(
            "/project/{slug}/data?form_ref={}",
            form_urlencoded::byte_serialize(form.form_ref.as_str().as_bytes()).collect::<String>()
        ),
    }];
    let caption = match (branch, q.parent_uuid.is_empty()) {
        (Some(b), _) => {
            if !q.branch_owner_uuid.is_empty() {
                crumbs.push(Crumb {
                    label: format!("entry {}", q.branch_owner_uuid),
                    href: format!(
                        "/project/{slug}/entry/{}?form_ref={}",
                        form_urlencoded::byte_serialize(q.branch_owner_uuid.as_bytes())
                            .collect::<String>(),
                        form_urlencoded::byte_serialize(form.form_ref.as_str().as_bytes())
                            .collect::<String>()
                    ),
                });
            }
            format!("{}: {}", form.name, b.question)
        }
        (None, false) => {
            if let Some(parent) = form_index.checked_sub(1).and_then(|i| def.forms.get(i)) {
                crumbs.insert(
                    0,
                    Crumb {
                        label: parent.name.clone(),
                        href: format!(
                            "/project/{slug}/data?form_ref={}",
                            form_urlencoded::byte_serialize(parent.form_ref.as_str().as_bytes())
                                .collect::<String>()
                        ),
                    },
                );
            }
            format!("{} of entry {}", form.name, q.parent_uuid)
        }
        (None, true) => form.name.clone(),
    };
    let maps = project_maps(&project);
    let mut keep = Vec::new();
    for (k, v) in [
        ("form_ref", &q.form_ref),
        ("branch_ref", &q.branch_ref),
        ("parent_uuid", &q.parent_uuid),
        ("branch_owner_uuid", &q.branch_owner_uuid),
    ] {
        if !v.is_empty() {
            keep.push((k, v.clone()));
        }
    }
    let csv_link = if project.is_private() {
        String::new()
    } else {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("form_ref", form.form_ref.as_str());
        if let Some(b) = branch {
            s.append_pair("branch_ref", b.input_ref.as_str());
        }
        s.append_pair("format", "csv");
        s.append_pair("per_page", "1000");
        format!("/api/export/entries/{slug}?{}", s.finish())
    };
    let page_t = EntriesPageT {
        c: reader.chrome(&format!("Data – {}", project.name)).await,
        t: Tabs::new(&project, &actor, "data"),
        caption,
        crumbs,
        forms: def
            .forms
            .iter()
            .enumerate()
            .map(|(i, f)| (f.form_ref.0.clone(), f.name.clone(), i == form_index))
            .collect(),
        headers,
        rows,
        total,
        more,
        page: pager.page,
        last_page: pager.last_page,
        prev: pager.prev,
        next: pager.next,
        first: pager.first,
        last: pager.last,
        sorts: SORTS.to_vec(),
        maps,
        keep,
        entry_query,
        csv_link,
        logged_in: reader.user().is_some(),
        can_delete: may_delete_entries(&actor),
        q,
    };
    render::page(&page_t)
}

/// The project's maps: `(index, name, is default)`.
pub fn project_maps(project: &ResolvedProject) -> Vec<(usize, String, bool)> {
    let Ok(stored) = serde_json::from_str::<Value>(&project.structure.project_mapping) else {
        return Vec::new();
    };
    let list = quadrat_core::mappings::MappingList::from_stored(&stored);
    let default = list.default_index();
    stored
        .as_array()
        .map(|maps| {
            maps.iter()
                .filter_map(|m| {
                    let i = usize::try_from(m.get("map_index")?.as_u64()?).ok()?;
                    let name = m.get("name")?.as_str()?.to_string();
                    Some((i, name, i == default))
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// One entry

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EntryQuery {
    pub form_ref: String,
    pub branch_ref: String,
}

#[derive(Template)]
#[template(path = "entry.html")]
struct EntryPage {
    c: Chrome,
    t: Tabs,
    uuid: String,
    title: String,
    form_name: String,
    back: String,
    answers: Vec<(String, Cell)>,
    /// The first location: `(lat, long)`.
    place: Option<(f64, f64)>,
    delete: Option<String>,
    map_ready: bool,
    tiles: String,
    attribution: String,
}

/// The entry `uuid` as the export renders it, looked for in the form (or branch) the query
/// names, else in each form in turn: `(form ref, form name, entry)`.
async fn find_entry(
    reader: &Reader,
    project: &ResolvedProject,
    uuid: &str,
    q: &EntryQuery,
) -> Result<Option<(String, String, serde_json::Map<String, Value>)>, AppError> {
    let def = project.definition()?;
    let forms: Vec<_> = def
        .forms
        .iter()
        .filter(|f| q.form_ref.is_empty() || f.form_ref.as_str() == q.form_ref)
        .collect();
    for form in forms {
        // The serializer is not `Send`: it ends before the await.
        let query = {
            let mut s = form_urlencoded::Serializer::new(String::new());
            s.append_pair("form_ref", form.form_ref.as_str());
            if !q.branch_ref.is_empty() {
                s.append_pair("branch_ref", &q.branch_ref);
            }
            s.append_pair("uuid", uuid);
            s.append_pair("format", "json");
            s.finish()
        };
        let (_, mut entries, _, _) = export_json(&reader.state, project, &query, None).await?;
        if let Some(e) = entries.pop() {
            let name = match form
                .branches()
                .find(|b| b.input_ref.as_str() == q.branch_ref)
            {
                Some(b) => format!("{}: {}", form.name, b.question),
                None => form.name.clone(),
            };
            return Ok(Some((form.form_ref.0.clone(), name, e)));
        }
    }
    Ok(None)
}

fn not_found(reader: &Reader) -> Response {
    let r = Refusal {
        status: StatusCode::NOT_FOUND,
        heading: "Entry not found".into(),
        message: "There is no such entry in this project (it may have been deleted).".into(),
        errors: Vec::new(),
    };
    match reader.logged_in() {
        Some(me) => me.refused(AppError::client(404, "ec5_239", "uuid")),
        None => render::refusal_page(r),
    }
}

fn entry_query(form_ref: &str, branch_ref: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("form_ref", form_ref);
    if !branch_ref.is_empty() {
        s.append_pair("branch_ref", branch_ref);
    }
    s.finish()
}

/// `GET /project/{slug}/entry/{uuid}`
pub async fn entry(
    reader: Reader,
    Path((slug, uuid)): Path<(String, String)>,
    Query(q): Query<EntryQuery>,
) -> Response {
    let (project, actor) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (form_ref, form_name, e) = match find_entry(&reader, &project, &uuid, &q).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(&reader),
        Err(e) => return reader.refused(e),
    };
    let slug = project.slug.clone();
    let answers: Vec<(String, Cell)> = e
        .iter()
        .filter(|(k, _)| k.as_str() != "title")
        .map(|(k, v)| (k.clone(), cell(&slug, v)))
        .collect();
    let place = answers.iter().find_map(|(_, c)| match c {
        Cell::Location { lat, long, .. } => Some((*lat, *long)),
        _ => None,
    });
    let query = entry_query(&form_ref, &q.branch_ref);
    let tiles = &reader.state.app.config.map_tiles;
    let page = EntryPage {
        c: reader.chrome(&format!("Entry – {}", project.name)).await,
        t: Tabs::new(&project, &actor, "data"),
        title: e
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        back: format!("/project/{slug}/data?{query}"),
        delete: (reader.user().is_some() && may_delete_entries(&actor))
            .then(|| format!("/project/{slug}/entry/{uuid}/delete?{query}")),
        form_name,
        answers,
        place,
        map_ready: super::map::library_ready(),
        tiles: tiles.url.clone(),
        attribution: tiles.attribution.clone(),
        uuid,
    };
    super::map::with_tile_policy(render::page(&page), &tiles.url)
}

// ---------------------------------------------------------------------------------------
// Deleting an entry

#[derive(Template)]
#[template(path = "entry_delete.html")]
struct DeletePage {
    c: Chrome,
    t: Tabs,
    uuid: String,
    title: String,
    form_name: String,
    back: String,
    action: String,
    children: Vec<String>,
}

/// `GET /project/{slug}/entry/{uuid}/delete`: what goes, and a button to confirm.
pub async fn delete_form(
    me: LoggedIn,
    Path((slug, uuid)): Path<(String, String)>,
    Query(q): Query<EntryQuery>,
) -> Response {
    let reader = Reader {
        state: me.state.clone(),
        session: Some(me.session.clone()),
    };
    let (project, actor) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !may_delete_entries(&actor) {
        return me.refused(AppError::client(403, "ec5_91", "entry"));
    }
    let (form_ref, form_name, e) = match find_entry(&reader, &project, &uuid, &q).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(&reader),
        Err(e) => return reader.refused(e),
    };
    let def = match project.definition() {
        Ok(d) => d,
        Err(e) => return reader.refused(e),
    };
    let mut children = Vec::new();
    if q.branch_ref.is_empty()
        && let Some(i) = def.form_index(&form_ref)
    {
        if let Some(f) = def.forms.get(i + 1) {
            children.push(format!(
                "its {} entries (and theirs, down the forms)",
                f.name
            ));
        }
        if let Some(f) = def.forms.get(i) {
            for b in f.branches() {
                children.push(format!("its “{}” branch entries", b.question));
            }
        }
    }
    let query = entry_query(&form_ref, &q.branch_ref);
    let slug = project.slug.clone();
    let page = DeletePage {
        c: me
            .chrome(&format!("Delete entry – {}", project.name), "")
            .await,
        t: Tabs::new(&project, &actor, "data"),
        title: e
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        back: format!("/project/{slug}/entry/{uuid}?{query}"),
        action: format!("/project/{slug}/entry/{uuid}/delete?{query}"),
        form_name,
        children,
        uuid,
    };
    render::page(&page)
}

/// `POST /project/{slug}/entry/{uuid}/delete`
pub async fn delete(
    Path((slug, uuid)): Path<(String, String)>,
    Query(q): Query<EntryQuery>,
    form: PostedForm,
) -> Response {
    let (me, _fields) = match form.logged_in() {
        Ok(x) => x,
        Err(r) => return r,
    };
    let reader = Reader {
        state: me.state.clone(),
        session: Some(me.session.clone()),
    };
    let (project, actor) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!(
        "/project/{}/data?{}",
        project.slug,
        entry_query(
            if q.form_ref.is_empty() {
                ""
            } else {
                &q.form_ref
            },
            &q.branch_ref
        )
    );
    match me.state.app.delete_entry_as(&project, &actor, &uuid).await {
        Ok(report) => {
            let text = format!("Entry deleted: {} removed.", report.counts());
            me.redirect_with(&back, Flash::success(text)).await
        }
        Err(AppError::Client { status: 404, .. }) => not_found(&reader),
        Err(e) => me.refused(e),
    }
}
