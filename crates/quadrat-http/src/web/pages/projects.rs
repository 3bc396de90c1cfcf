//! My projects, and creating a project by importing a definition file.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use quadrat_app::AppError;
use quadrat_app::projects::ImportOptions;
use quadrat_core::Ec5Error;
use quadrat_core::project_state::{ProjectAccess, ProjectStatus};
use quadrat_core::roles::Role;
use serde::Deserialize;
use serde_json::Value;

use crate::web::forms::{Fields, MAX_FILE_BYTES};
use crate::web::render::{self, Chrome, describe, iso, page_with_status};
use crate::web::session::{LoggedIn, PostedForm};

pub struct Card {
    pub name: String,
    pub slug: String,
    pub role: String,
    pub access: &'static str,
    pub status: &'static str,
    pub created: String,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "my_projects.html")]
struct MyProjectsPage {
    c: Chrome,
    cards: Vec<Card>,
    total: usize,
    search: String,
    filter: String,
}

/// The filter menu: `(value, label)`.
const FILTERS: [(&str, &str); 11] = [
    ("", "Show all"),
    (ProjectAccess::Public.as_str(), "Public"),
    (ProjectAccess::Private.as_str(), "Private"),
    (ProjectStatus::Active.as_str(), "Active"),
    (ProjectStatus::Locked.as_str(), "Locked"),
    (ProjectStatus::Trashed.as_str(), "Trashed"),
    ("creator", "Creator"),
    ("manager", "Manager"),
    ("curator", "Curator"),
    ("collector", "Collector"),
    ("viewer", "Viewer"),
];

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    filter: String,
}

/// `GET /myprojects?search=&filter=`
pub async fn my_projects(me: LoggedIn, Query(q): Query<ListQuery>) -> Response {
    let all = match me.state.app.my_projects(&me.user).await {
        Ok(p) => p,
        Err(e) => return me.refused(e),
    };
    let total = all.len();
    let needle = q.search.trim().to_lowercase();
    let cards = all
        .into_iter()
        .filter(|p| needle.is_empty() || p.project.name.to_lowercase().contains(&needle))
        .filter(|p| {
            let role = p.role.map(Role::as_str);
            match q.filter.as_str() {
                "" => true,
                f if ProjectAccess::parse(f).is_some() => p.project.access.as_str() == f,
                f if ProjectStatus::parse(f).is_some() => p.project.status.as_str() == f,
                f => role == Some(f),
            }
        })
        .map(|p| {
            let effective = p
                .role
                .or(me.user.server_role.is_admin().then_some(Role::Creator));
            Card {
                role: match p.role {
                    Some(r) => r.as_str().to_string(),
                    None => "server admin".into(),
                },
                can_manage: effective.is_some_and(Role::can_manage_project),
                access: p.project.access.as_str(),
                status: p.project.status.as_str(),
                created: iso(p.project.created_at),
                name: p.project.name,
                slug: p.project.slug,
            }
        })
        .collect();
    let page = MyProjectsPage {
        c: me.chrome("My projects", "projects").await,
        cards,
        total,
        search: q.search,
        filter: q.filter,
    };
    render::page(&page)
}

impl MyProjectsPage {
    fn filters(&self) -> &'static [(&'static str, &'static str)] {
        &FILTERS
    }
}

#[derive(Template)]
#[template(path = "create.html")]
struct CreatePage {
    c: Chrome,
    name: String,
    keep_refs: bool,
    errors: Vec<String>,
}

/// `GET /myprojects/create`
pub async fn create_form(me: LoggedIn) -> Response {
    let page = CreatePage {
        c: me.chrome("Create project", "create").await,
        name: String::new(),
        keep_refs: false,
        errors: Vec::new(),
    };
    render::page(&page)
}

/// Reads the uploaded definition file, with the real import's first checks.
pub fn definition_file(fields: &Fields, field: &str) -> Result<Value, Vec<Ec5Error>> {
    if fields.too_large {
        return Err(vec![Ec5Error::new("ec5_206", field)]);
    }
    let Some(file) = fields.file(field) else {
        return Err(vec![Ec5Error::new("ec5_21", field)]);
    };
    if file.bytes.len() > MAX_FILE_BYTES {
        return Err(vec![Ec5Error::new("ec5_206", field)]);
    }
    if file.bytes.is_empty() {
        return Err(vec![Ec5Error::new("ec5_69", field)]);
    }
    serde_json::from_slice(&file.bytes).map_err(|_| vec![Ec5Error::new("ec5_62", field)])
}

/// `POST /myprojects/import` (multipart: `name`, `file`, `keep_refs`): a new project whose
/// creator is the user. Refs are made anew, as the real import makes them, unless "Keep refs"
/// is ticked (a project moved from another server keeps answering to its scripts' refs).
pub async fn import(form: PostedForm) -> Response {
    let (me, fields) = match form.logged_in() {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = fields
        .get("name")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let keep_refs = fields.has("keep_refs");
    let outcome = match definition_file(&fields, "file") {
        Ok(file) => {
            let opts = ImportOptions {
                name: (!name.is_empty()).then(|| name.clone()),
                access: None,
                new_ref: !keep_refs,
                created_by: Some(me.user.id),
                slug: None,
            };
            me.state.app.import_project(&file, &opts).await
        }
        Err(errors) => Err(AppError::invalid(errors)),
    };
    match outcome {
        Ok(done) => {
            // The importer becomes the project's creator.
            if let Err(e) = me
                .state
                .app
                .add_member(&done.slug, &me.user.email, "creator", false)
                .await
            {
                return me.refused(e);
            }
            me.redirect_with(
                &format!("/myprojects/{}", done.slug),
                quadrat_app::sessions::Flash::success(format!(
                    "Project \u{201c}{}\u{201d} imported.",
                    done.name
                )),
            )
            .await
        }
        Err(AppError::Client { errors, .. }) => {
            let page = CreatePage {
                c: me.chrome("Create project", "create").await,
                name,
                keep_refs,
                errors: errors.iter().map(describe).collect(),
            };
            page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => me.refused(e),
    }
}
