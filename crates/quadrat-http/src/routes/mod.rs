//! The route table.

mod auth;
mod entries;
mod fallback;
mod oauth;
mod projects;
mod upload;

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/export/project/{slug}",
            readable(get(projects::export_project)),
        )
        .route(
            "/api/export/entries/{slug}",
            readable(get(entries::export_entries)),
        )
        .route(
            "/api/projects",
            readable(get(projects::search_projects_empty)),
        )
        .route(
            "/api/projects/{name}",
            readable(get(projects::search_projects)),
        )
        .route(
            "/api/json/projects",
            readable(get(projects::search_projects_empty)),
        )
        .route(
            "/api/json/projects/{name}",
            readable(get(projects::search_projects)),
        )
        .route(
            "/api/project-version/{slug}",
            readable(get(projects::project_version)),
        )
        .route(
            "/api/project/{slug}",
            readable(get(projects::download_project)),
        )
        .route(
            "/api/json/project/{slug}",
            readable(get(projects::download_project)),
        )
        .route("/api/login", readable(get(auth::login_methods)))
        .route("/api/json/login", readable(get(auth::login_methods)))
        .route(
            "/api/login/local",
            post(auth::login_local).options(auth::preflight_post),
        )
        // A browser preflights the guide's JSON token request (Laravel's router answers it).
        .route(
            "/api/oauth/token",
            post(oauth::issue_token).options(auth::preflight_post),
        )
        .route(
            "/myprojects/{slug}/apps",
            get(oauth::show_app).post(oauth::create_app),
        )
        .route(
            "/myprojects/{slug}/app-revoke",
            post(oauth::revoke_app_tokens),
        )
        .route(
            "/myprojects/{slug}/app-rotate-secret",
            post(oauth::rotate_app_secret),
        )
        .route("/myprojects/{slug}/app-delete", post(oauth::delete_app))
        .route(
            "/api/upload/{slug}",
            post(upload::upload).options(upload::preflight),
        )
        .route(
            "/api/json/upload/{slug}",
            post(upload::upload).options(upload::preflight),
        )
        .fallback(fallback::page_not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
}

/// A GET route that also answers a CORS preflight.
fn readable(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.options(fallback::preflight_get)
}
