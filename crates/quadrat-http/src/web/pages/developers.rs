//! The Developers section: the API page (everything a script needs to name) and the Apps page
//! (the project's client app). The Apps routes are also the JSON API of docs/protocol.md §13.2;
//! `crate::routes` sends each request to the page or the API ([`crate::web::wants_page`]).

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use quadrat_app::AppError;
use quadrat_app::oauth::ClientSecret;
use quadrat_app::projects::ResolvedProject;
use quadrat_app::sessions::Flash;
use quadrat_core::codes;
use quadrat_core::mappings::MappingList;

use super::details::{ManagerForm, managed, managed_form};
use crate::web::render::{self, Chrome, describe, iso, page_with_status};
use crate::web::session::{LoggedIn, PostedForm};

pub struct FormRow {
    pub name: String,
    pub slug: String,
    pub form_ref: String,
    pub parent_ref: Option<String>,
    pub json: String,
    pub csv: String,
    pub branches: Vec<BranchRow>,
}

pub struct BranchRow {
    pub question: String,
    pub branch_ref: String,
    pub json: String,
    pub csv: String,
}

pub struct MapRow {
    pub index: usize,
    pub name: String,
    pub is_default: bool,
}

#[derive(Template)]
#[template(path = "api.html")]
struct ApiPage {
    c: Chrome,
    name: String,
    slug: String,
    project_ref: String,
    private: bool,
    base: String,
    forms: Vec<FormRow>,
    maps: Vec<MapRow>,
    project_url: String,
    media_pattern: String,
    limits: quadrat_core::ratelimit::Limits,
    limits_on: bool,
}

fn mappings(project: &ResolvedProject) -> (Vec<MapRow>, usize) {
    let stored = serde_json::from_str(&project.structure.project_mapping).unwrap_or_default();
    let list = MappingList::from_stored(&stored);
    let rows = list
        .summaries()
        .into_iter()
        .map(|m| MapRow {
            index: m.index,
            name: m.name,
            is_default: m.is_default,
        })
        .collect();
    (rows, list.default_index())
}

/// `GET /myprojects/{slug}/api`
pub async fn api(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, _) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let def = match project.definition() {
        Ok(d) => d,
        Err(e) => return me.refused(e),
    };
    let base = me.state.app.config.public_url.clone();
    let (maps, default_map) = mappings(&project);
    let entries = format!("{base}/api/export/entries/{}", project.slug);
    let link = |query: &str, format: &str| {
        format!("{entries}?{query}&map_index={default_map}&format={format}")
    };
    let mut parent = None;
    let forms = def
        .forms
        .iter()
        .map(|f| {
            let q = format!("form_ref={}", f.form_ref.as_str());
            let row = FormRow {
                name: f.name.clone(),
                slug: f.slug.clone(),
                form_ref: f.form_ref.0.clone(),
                parent_ref: parent.clone(),
                json: link(&q, "json"),
                csv: link(&q, "csv"),
                branches: f
                    .branches()
                    .map(|b| {
                        let bq = format!("{q}&branch_ref={}", b.input_ref.as_str());
                        BranchRow {
                            question: b.question.clone(),
                            branch_ref: b.input_ref.0.clone(),
                            json: link(&bq, "json"),
                            csv: link(&bq, "csv"),
                        }
                    })
                    .collect(),
            };
            parent = Some(f.form_ref.0.clone());
            row
        })
        .collect();
    let page = ApiPage {
        c: me
            .project_chrome("API", &project.slug, &project.name, "api")
            .await,
        slug: project.slug.clone(),
        project_ref: project.project_ref.clone(),
        private: project.is_private(),
        project_url: format!("{base}/api/export/project/{}", project.slug),
        media_pattern: format!(
            "{base}/api/export/media/{}?type=photo&format=entry_original&name=FILE_NAME",
            project.slug
        ),
        base,
        forms,
        maps,
        limits: me.state.limiter.limits().clone(),
        limits_on: me.state.limiter.is_enabled(),
        name: project.project.name,
    };
    render::page(&page)
}

/// The fields the Apps page fills into its snippets.
pub struct Snippets {
    pub curl: String,
    pub python: String,
    pub r: String,
    pub pyepicollect: String,
}

fn snippets(base: &str, slug: &str, form_ref: &str, client_id: i64, secret: &str) -> Snippets {
    let token_url = format!("{base}/api/oauth/token");
    let entries = format!("{base}/api/export/entries/{slug}");
    Snippets {
        curl: format!(
            "TOKEN=$(curl -s -X POST '{token_url}' \\\n  -d grant_type=client_credentials \\\n  -d client_id={client_id} \\\n  -d client_secret={secret} \\\n  | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n\ncurl -H \"Authorization: Bearer $TOKEN\" \\\n  '{entries}?form_ref={form_ref}&per_page=500&format=csv'"
        ),
        python: format!(
            "import requests\n\ntoken = requests.post(\"{token_url}\", data={{\n    \"grant_type\": \"client_credentials\",\n    \"client_id\": {client_id},\n    \"client_secret\": \"{secret}\",\n}}).json()[\"access_token\"]\n\nheaders = {{\"Authorization\": f\"Bearer {{token}}\"}}\nurl = \"{entries}?form_ref={form_ref}&per_page=500\"\nentries = []\nwhile url:\n    page = requests.get(url, headers=headers).json()\n    entries += page[\"data\"][\"entries\"]\n    url = page[\"links\"][\"next\"]\nprint(len(entries), \"entries\")"
        ),
        r: format!(
            "library(httr)\nlibrary(jsonlite)\n\nres <- POST(\"{token_url}\",\n  body = list(grant_type = \"client_credentials\",\n              client_id = {client_id},\n              client_secret = \"{secret}\"))\ntoken <- content(res)$access_token\n\nres1 <- GET(\"{entries}?form_ref={form_ref}&per_page=500&format=csv\",\n  add_headers(Authorization = paste(\"Bearer\", token)))\nentries <- read.csv(text = content(res1, as = \"text\"))"
        ),
        pyepicollect: format!(
            "import pyepicollect as pyep\n\npyep.auth.TOKEN_REQ_URL = \"{token_url}\"\npyep.auth.REQ_URL = \"{base}/api\"\n\ntoken = pyep.auth.request_token({client_id}, \"{secret}\")\ndata = pyep.api.get_entries(\"{slug}\", token=token[\"access_token\"], form_ref=\"{form_ref}\")"
        ),
    }
}

pub struct AppView {
    pub name: String,
    pub client_id: i64,
    pub created: String,
    pub created_by: String,
    pub live_tokens: i64,
    /// `(issued, expires)` of the newest live token.
    pub newest: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "apps.html")]
struct AppsPage {
    c: Chrome,
    slug: String,
    private: bool,
    app: Option<AppView>,
    /// Shown once, after create or rotate.
    secret: Option<ClientSecret>,
    snippets: Snippets,
    token_url: String,
    token_per_hour: u64,
    name: String,
    errors: Vec<String>,
}

async fn apps_page(
    me: &LoggedIn,
    project: &ResolvedProject,
    secret: Option<ClientSecret>,
    name: String,
    errors: Vec<String>,
) -> Result<AppsPage, AppError> {
    let status = me.state.app.client_status(project).await?;
    let def = project.definition()?;
    let form_ref = def
        .forms
        .first()
        .map(|f| f.form_ref.0.clone())
        .unwrap_or_default();
    let base = me.state.app.config.public_url.clone();
    let client_id = status.as_ref().map_or(0, |s| s.app.client_id);
    let shown = secret
        .as_ref()
        .map_or("YOUR_CLIENT_SECRET", |s| s.client_secret.as_str());
    let app = status.map(|s| AppView {
        name: s.app.name,
        client_id: s.app.client_id,
        created: iso(s.app.created_at),
        created_by: s.created_by.unwrap_or_else(|| "the command line".into()),
        live_tokens: s.app.live_tokens,
        newest: s.newest_token.map(|(a, b)| (iso(a), iso(b))),
    });
    Ok(AppsPage {
        c: me
            .project_chrome("Apps", &project.slug, &project.name, "apps")
            .await,
        slug: project.slug.clone(),
        private: project.is_private(),
        snippets: snippets(&base, &project.slug, &form_ref, client_id, shown),
        token_url: format!("{base}/api/oauth/token"),
        token_per_hour: me.state.limiter.limits().token_per_hour,
        app,
        secret,
        name,
        errors,
    })
}

/// `GET /myprojects/{slug}/apps` (a browser)
pub async fn page(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, _) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match apps_page(&me, &project, None, String::new(), Vec::new()).await {
        Ok(page) => render::page(&page),
        Err(e) => me.refused(e),
    }
}

/// Which app action a form asks for.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Create,
    Revoke,
    Rotate,
    Delete,
}

/// `POST /myprojects/{slug}/apps`, `…/app-revoke`, `…/app-rotate-secret`, `…/app-delete` (a
/// browser). Create and rotate answer with the page holding the new secret (it is stored
/// nowhere, so it cannot wait behind a redirect); the others redirect back to the page.
pub async fn act(slug: String, action: Action, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!("/myprojects/{}/apps", project.slug);
    let app = &me.state.app;
    let (secret, flash) = match action {
        Action::Create => {
            let name = fields.get("application_name").to_string();
            let owner = (!actor.is_anonymous()).then_some(actor.user_id);
            match app.create_client_app(&project, &name, owner).await {
                Ok(secret) => (Some(secret), "App created."),
                Err(AppError::Client { errors, .. }) => {
                    let errors = errors.iter().map(describe).collect();
                    return match apps_page(&me, &project, None, name, errors).await {
                        Ok(page) => page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page),
                        Err(e) => me.refused(e),
                    };
                }
                Err(e) => return me.refused(e),
            }
        }
        Action::Rotate => match app.rotate_client_secret(&project).await {
            Ok(secret) => (
                Some(secret),
                "New secret made. The old one no longer works.",
            ),
            Err(e) => return me.refused(e),
        },
        Action::Revoke => match app.revoke_client_tokens(&project).await {
            Ok(n) => {
                let text = format!(
                    "{} ({n} live token{} ended). The app's ID and secret still work.",
                    codes::title("ec5_398").unwrap_or("Token revoked"),
                    if n == 1 { "" } else { "s" }
                );
                return me.redirect_with(&back, Flash::success(text)).await;
            }
            Err(e) => return me.refused(e),
        },
        Action::Delete => match app.delete_client_app(&project).await {
            Ok(_) => {
                return me
                    .redirect_with(&back, Flash::success("App deleted."))
                    .await;
            }
            Err(e) => return me.refused(e),
        },
    };
    match apps_page(&me, &project, secret, String::new(), Vec::new()).await {
        Ok(mut page) => {
            page.c.flash_ok = Some(flash.to_string());
            render::page(&page)
        }
        Err(e) => me.refused(e),
    }
}
