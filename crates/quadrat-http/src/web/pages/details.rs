//! A project's details page: its facts and settings, replacing its definition, downloading
//! it, deleting it.

use askama::Template;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::AppError;
use quadrat_app::access::Caller;
use quadrat_app::projects::ResolvedProject;
use quadrat_app::replace::Replacement;
use quadrat_app::sessions::Flash;
use quadrat_core::codes;
use quadrat_core::project_state::{
    ProjectAccess, ProjectSetting, ProjectStatus, ProjectVisibility, SettingField,
};
use quadrat_core::roles::{Actor, Role};

use super::projects::definition_file;
use crate::web::forms::Fields;
use crate::web::render::{self, Chrome, describe, iso, page_with_status, refusal_flash};
use crate::web::session::{LoggedIn, PostedForm};

/// The project `slug` for `me`, if they manage it.
pub async fn managed(me: &LoggedIn, slug: &str) -> Result<(ResolvedProject, Actor), Response> {
    me.state
        .app
        .project_manager_as(slug, Caller::User(Some(&me.user)))
        .await
        .map_err(|e| me.refused(e))
}

/// A form posted to a page of a project by one of its managers.
pub struct ManagerForm {
    pub me: LoggedIn,
    pub fields: Fields,
    pub project: ResolvedProject,
    pub actor: Actor,
}

/// The form `form` posted to project `slug`'s page, if its sender manages the project; else
/// the page that refuses (the login page for a visitor).
pub async fn managed_form(form: PostedForm, slug: &str) -> Result<ManagerForm, Response> {
    let (me, fields) = form.logged_in()?;
    let (project, actor) = managed(&me, slug).await?;
    Ok(ManagerForm {
        me,
        fields,
        project,
        actor,
    })
}

/// One button of a setting row.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "details.html")]
struct DetailsPage {
    c: Chrome,
    name: String,
    slug: String,
    project_ref: String,
    small_description: String,
    description: String,
    created: String,
    version: String,
    homepage: String,
    status: &'static str,
    access: Vec<Choice>,
    visibility: Vec<Choice>,
    /// The statuses the project may move to: `(value, button label)`.
    moves: Vec<(&'static str, &'static str)>,
    can_delete: bool,
    entries: i64,
}

fn choices<S: Copy + PartialEq>(all: &[S], now: S, word: fn(S) -> &'static str) -> Vec<Choice> {
    all.iter()
        .map(|&v| Choice {
            value: word(v),
            label: word(v),
            current: v == now,
        })
        .collect()
}

/// `GET /myprojects/{slug}`
pub async fn details(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, actor) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let entries = match me.state.app.project_stats(&project).await {
        Ok(stats) => stats.total_entries,
        Err(e) => return me.refused(e),
    };
    let moves = project
        .status
        .next_statuses()
        .iter()
        .map(|s| match s {
            ProjectStatus::Trashed => (s.as_str(), "Move to trash"),
            ProjectStatus::Locked => (s.as_str(), "Lock"),
            _ if project.status == ProjectStatus::Trashed => {
                (ProjectStatus::Active.as_str(), "Restore")
            }
            _ => (ProjectStatus::Active.as_str(), "Unlock"),
        })
        .collect();
    let page = DetailsPage {
        c: me
            .project_chrome("Details", &project.slug, &project.name, "details")
            .await,
        slug: project.slug.clone(),
        project_ref: project.project_ref.clone(),
        small_description: project.small_description.clone(),
        description: project.description.clone(),
        created: iso(project.created_at),
        version: iso(project.structure.updated_at),
        homepage: format!(
            "{}/project/{}",
            me.state.app.config.public_url, project.slug
        ),
        status: project.status.as_str(),
        access: choices(ProjectAccess::ALL, project.access, ProjectAccess::as_str),
        visibility: choices(
            ProjectVisibility::ALL,
            project.visibility,
            ProjectVisibility::as_str,
        ),
        moves,
        can_delete: actor.effective_role() == Some(Role::Creator)
            && project.status == ProjectStatus::Trashed,
        entries,
        name: project.project.name,
    };
    render::page(&page)
}

/// `POST /myprojects/{slug}/settings/{action}` `{value}`: one setting, then back to the page.
pub async fn settings(Path((slug, action)): Path<(String, String)>, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor: _,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!("/myprojects/{}", project.slug);
    let setting = SettingField::parse(&action)
        .ok_or_else(|| AppError::client(400, "ec5_29", "action"))
        .and_then(|field| {
            ProjectSetting::parse(field, fields.get("value"))
                .map_err(|e| AppError::invalid(vec![e.into()]))
        });
    let done = match setting {
        Ok(setting) => me.state.app.change_project_setting(&project, setting).await,
        Err(e) => Err(e),
    };
    let flash = match done {
        Ok(()) => Flash::success(codes::title("ec5_123").unwrap_or("Settings updated.")),
        Err(e) => match refusal_flash(e) {
            Ok(flash) => flash,
            Err(e) => return me.refused(e),
        },
    };
    me.redirect_with(&back, flash).await
}

#[derive(Template)]
#[template(path = "delete.html")]
struct DeletePage {
    c: Chrome,
    name: String,
    slug: String,
    error: Option<String>,
}

/// `GET /myprojects/{slug}/delete`: type the name to confirm.
pub async fn delete_form(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, _) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = DeletePage {
        c: me
            .project_chrome("Delete project", &project.slug, &project.name, "details")
            .await,
        slug: project.slug.clone(),
        name: project.project.name,
        error: None,
    };
    render::page(&page)
}

/// `POST /myprojects/{slug}/delete` `{project-name}`
pub async fn delete(Path(slug): Path<String>, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match me
        .state
        .app
        .delete_project_confirmed(&project, &actor, fields.get("project-name"))
        .await
    {
        Ok(_) => {
            me.redirect_with(
                "/myprojects",
                Flash::success(codes::title("ec5_114").unwrap_or("Project deleted.")),
            )
            .await
        }
        Err(AppError::Client { errors, .. })
            if errors.first().is_some_and(|e| e.source == "project-name") =>
        {
            let page = DeletePage {
                c: me
                    .project_chrome("Delete project", &project.slug, &project.name, "details")
                    .await,
                slug: project.slug.clone(),
                name: project.project.name,
                error: Some("The name you typed is not the project's name.".into()),
            };
            page_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => me.refused(e),
    }
}

#[derive(Template)]
#[template(path = "replace.html")]
struct ReplacePage {
    c: Chrome,
    slug: String,
    project_ref: String,
    errors: Vec<String>,
    /// Set when the change needs confirming: the file, to send again, and what changes.
    pending: Option<Pending>,
}

pub struct Pending {
    pub definition: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// `GET /myprojects/{slug}/replace-definition`
pub async fn replace_form(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, _) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = ReplacePage {
        c: me
            .project_chrome(
                "Replace definition",
                &project.slug,
                &project.name,
                "details",
            )
            .await,
        slug: project.slug.clone(),
        project_ref: project.project_ref.clone(),
        errors: Vec::new(),
        pending: None,
    };
    render::page(&page)
}

/// `POST /myprojects/{slug}/replace-definition`: a file (`file`), or after a confirmation page
/// the same definition again (`definition`, `confirmed`).
pub async fn replace(Path(slug): Path<String>, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor: _,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let confirmed = fields.get("confirmed") == "yes";
    let file = match fields.get("definition") {
        "" => definition_file(&fields, "file"),
        text => serde_json::from_str(text)
            .map_err(|_| vec![quadrat_core::Ec5Error::new("ec5_62", "definition")]),
    };
    let outcome = match &file {
        Ok(file) => {
            me.state
                .app
                .replace_definition(&project, file, confirmed)
                .await
        }
        Err(errors) => Err(AppError::invalid(errors.clone())),
    };
    let back = format!("/myprojects/{}", project.slug);
    let (errors, pending) = match outcome {
        Ok(Replacement::Replaced) => {
            return me
                .redirect_with(
                    &back,
                    Flash::success(
                        "Definition replaced. The mobile app will download the new version.",
                    ),
                )
                .await;
        }
        Ok(Replacement::NeedsConfirmation { added, removed }) => (
            Vec::new(),
            Some(Pending {
                definition: file.as_ref().map(|f| f.to_string()).unwrap_or_default(),
                added,
                removed,
            }),
        ),
        Err(AppError::Client { errors, .. }) => (errors.iter().map(describe).collect(), None),
        Err(e) => return me.refused(e),
    };
    let status = match pending {
        Some(_) => StatusCode::OK,
        None => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = ReplacePage {
        c: me
            .project_chrome(
                "Replace definition",
                &project.slug,
                &project.name,
                "details",
            )
            .await,
        slug: project.slug.clone(),
        project_ref: project.project_ref.clone(),
        errors,
        pending,
    };
    page_with_status(status, &page)
}

/// `GET /myprojects/{slug}/download-project-definition`: the re-importable `<slug>.json`.
pub async fn download(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, _) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let body = match me.state.app.export_definition(&project.slug).await {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(e) => return me.refused(e),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.json\"", project.slug))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
