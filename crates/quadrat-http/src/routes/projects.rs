//! Project-level routes: export, search, version, the app's download.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use quadrat_app::access::AppRoute;

use crate::AppState;
use crate::body::{Param, Params};
use crate::extract::{ExportProject, Segment};
use crate::respond::{ApiError, json_ok};
use crate::user_token::UserToken;

/// `GET /api/export/project/{slug}`
pub async fn export_project(
    State(state): State<AppState>,
    ExportProject(project): ExportProject,
) -> Result<Response, ApiError> {
    Ok(json_ok(&state.app.project_export_body(&project).await?))
}

/// `GET /api/project/{slug}`: the app's project download. Private projects answer to their
/// members (not viewers) logged in with the app's user token.
pub async fn download_project(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
) -> Result<Response, ApiError> {
    let (project, actor) = state
        .app
        .app_user(&slug, token.get(), AppRoute::Read)
        .await?;
    Ok(json_ok(
        &state.app.project_download_body(&project, &actor).await?,
    ))
}

/// `GET /api/project-version/{slug}`
pub async fn project_version(
    State(state): State<AppState>,
    Segment(slug): Segment,
) -> Result<Response, ApiError> {
    Ok(json_ok(&state.app.project_version_body(&slug).await?))
}

/// `exact` read with PHP truthiness: present, non-empty and not `"0"` (so `exact=false` means
/// exact too).
fn exact_param(query: Option<&str>) -> bool {
    Params::query(query)
        .get("exact")
        .and_then(Param::as_text)
        .is_some_and(|v| !v.is_empty() && v != "0")
}

/// `GET /api/projects/{name}`
pub async fn search_projects(
    State(state): State<AppState>,
    Segment(name): Segment,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let exact = exact_param(query.as_deref());
    Ok(json_ok(
        &state.app.search_projects_body(&name, exact).await?,
    ))
}

/// `GET /api/projects` with no name.
pub async fn search_projects_empty(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json_ok(&state.app.search_projects_body("", false).await?))
}
