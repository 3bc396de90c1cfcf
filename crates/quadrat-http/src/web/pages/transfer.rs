//! Files in and out of a project's data: the whole project as one streamed zip
//! ([`quadrat_app::App::download_project`]), and the bulk upload of a CSV file for a form or
//! branch ([`quadrat_app::App::bulk_import`], the rules and report of `quadrat entries import`)
//! with its templates.

use std::io::Cursor;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::AppError;
use quadrat_app::bulk::{BulkError, BulkFormat, BulkOptions};
use quadrat_app::download::{DownloadOptions, download_name};
use quadrat_app::entries::may_delete_entries;
use quadrat_app::projects::ResolvedProject;
use quadrat_core::Ec5Error;
use quadrat_core::roles::Actor;
use serde::Deserialize;

use super::data::{Reader, Tabs};
use crate::origin::RequestOrigin;
use crate::web::render::{self, Chrome, describe, page_with_status};
use crate::web::session::{LoggedIn, PostedForm};
use crate::web::streamed;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DownloadQuery {
    /// `csv` (default) or `json`.
    pub format: String,
    pub map_index: String,
    /// `1`: with the media files.
    pub media: String,
}

/// `GET /project/{slug}/download`: the zip, for a logged-in reader (the real server asks for a
/// login even on public projects).
pub async fn download(
    me: LoggedIn,
    RequestOrigin(origin): RequestOrigin,
    Path(slug): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let reader = Reader {
        state: me.state.clone(),
        session: Some(me.session.clone()),
    };
    let (project, _) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let map_index = match q.map_index.as_str() {
        "" => None,
        s => match s.parse::<usize>() {
            Ok(i) if super::data::project_maps(&project).iter().any(|m| m.0 == i) => Some(i),
            _ => return me.refused(AppError::client(400, "ec5_322", "map_index")),
        },
    };
    let opts = DownloadOptions {
        map_index,
        json: q.format == "json",
        media: q.media == "1",
        origin: Some(origin),
    };
    let name = download_name(&project, opts.json);
    let app = me.state.app.clone();
    let body = streamed::body(move |out| async move {
        app.download_project(&project, &opts, out).await.map(|_| ())
    });
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// A form or one of its branches that takes a bulk upload: `(value, label)`, the value being
/// `form_ref` or `form_ref|branch_ref`.
fn targets(project: &ResolvedProject) -> Vec<(String, String)> {
    let Ok(def) = project.definition() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in &def.forms {
        out.push((f.form_ref.0.clone(), format!("Form: {}", f.name)));
        for b in f.branches() {
            out.push((
                format!("{}|{}", f.form_ref.as_str(), b.input_ref.as_str()),
                format!("Branch of {}: {}", f.name, b.question),
            ));
        }
    }
    out
}

pub struct Report {
    pub accepted: u64,
    pub rejected: Vec<(u64, String)>,
}

#[derive(Template)]
#[template(path = "bulk.html")]
struct BulkPage {
    c: Chrome,
    t: Tabs,
    slug: String,
    targets: Vec<(String, String)>,
    chosen: String,
    errors: Vec<String>,
    report: Option<Report>,
}

async fn bulk_allowed(me: &LoggedIn, slug: &str) -> Result<(ResolvedProject, Actor), Response> {
    let reader = Reader {
        state: me.state.clone(),
        session: Some(me.session.clone()),
    };
    let (project, actor) = reader.project(slug).await?;
    if !may_delete_entries(&actor) {
        return Err(me.refused(AppError::client(403, "ec5_91", "bulk-upload")));
    }
    Ok((project, actor))
}

/// `GET /project/{slug}/bulk-upload` (creators, managers and curators).
pub async fn bulk_form(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, actor) = match bulk_allowed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = BulkPage {
        c: me
            .chrome(&format!("Bulk upload – {}", project.name), "")
            .await,
        t: Tabs::new(&project, &actor, "bulk"),
        slug: project.slug.clone(),
        targets: targets(&project),
        chosen: String::new(),
        errors: Vec::new(),
        report: None,
    };
    render::page(&page)
}

fn split_target(target: &str) -> (String, Option<String>) {
    match target.split_once('|') {
        Some((f, b)) => (f.to_string(), Some(b.to_string())),
        None => (target.to_string(), None),
    }
}

/// `POST /project/{slug}/bulk-upload` `{target, file}`: the import, then its report.
pub async fn bulk_upload(Path(slug): Path<String>, form: PostedForm) -> Response {
    let (me, fields) = match form.logged_in() {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (project, actor) = match bulk_allowed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let chosen = fields.get("target").to_string();
    let (form_ref, branch) = split_target(&chosen);
    let mut errors = Vec::new();
    let mut report = None;
    if fields.too_large {
        errors.push(format!(
            "The file is too large for the page (at most {} MB); import it with `quadrat entries import`.",
            crate::web::forms::MAX_FORM_BYTES / (1024 * 1024)
        ));
    } else if let Some(file) = fields.file("file") {
        let options = BulkOptions {
            form: Some(form_ref),
            branch,
            ..BulkOptions::default()
        };
        let outcome = me
            .state
            .app
            .bulk_import(
                &project.slug,
                BulkFormat::Csv,
                Cursor::new(file.bytes.clone()),
                &options,
                &mut |_| {},
            )
            .await;
        match outcome {
            Ok(r) => {
                report = Some(Report {
                    accepted: r.accepted,
                    rejected: r
                        .rejected
                        .iter()
                        .map(|rej| (rej.line, join(&rej.errors)))
                        .collect(),
                });
            }
            Err(BulkError::Refused(list)) => errors.push(join(&list)),
            Err(BulkError::Unreadable { error, stored }) => errors.push(format!(
                "The file could not be read to its end ({error}); {stored} rows were stored."
            )),
            Err(BulkError::App(e)) => return me.refused(e),
        }
    } else {
        errors.push("Choose a CSV file to upload.".into());
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = BulkPage {
        c: me
            .chrome(&format!("Bulk upload – {}", project.name), "")
            .await,
        t: Tabs::new(&project, &actor, "bulk"),
        slug: project.slug.clone(),
        targets: targets(&project),
        chosen,
        errors,
        report,
    };
    page_with_status(status, &page)
}

fn join(errors: &[Ec5Error]) -> String {
    errors.iter().map(describe).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TemplateQuery {
    pub target: String,
}

/// `GET /project/{slug}/bulk-upload/template?target=`: the header row the importer expects.
pub async fn template(
    me: LoggedIn,
    Path(slug): Path<String>,
    Query(q): Query<TemplateQuery>,
) -> Response {
    let (project, _) = match bulk_allowed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let target = match me.state.app.import_target(&project.slug).await {
        Ok(t) => t,
        Err(e) => return me.refused(e),
    };
    let (form_ref, branch) = split_target(&q.target);
    let template = match target.template(&form_ref, branch.as_deref(), None) {
        Ok(t) => t,
        Err(e) => return me.refused(AppError::invalid(vec![e])),
    };
    let mut csv = quadrat_core::export::csv::CsvWriter::with_capacity(1024);
    let headers = template.headers();
    csv.record(headers.iter().map(String::as_str));
    let name = match &branch {
        Some(b) => format!("{}__{form_ref}__{b}__template.csv", project.slug),
        None => format!("{}__{form_ref}__template.csv", project.slug),
    };
    let mut response = csv.into_bytes().into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
