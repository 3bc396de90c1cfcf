//! The route table: each route with its `/api/json/…` alias where it has one, and the rate-limit
//! budget its requests count against (docs/protocol.md §14). Nothing else decides which route is
//! which: a route added here is limited as it says, whichever of its paths is called.

mod auth;
mod changes;
mod entries;
mod fallback;
pub(crate) mod media;
mod oauth;
mod projects;
mod upload;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use quadrat_core::ratelimit::Budget;

use crate::{AppState, health, throttle, web};

pub fn routes(state: &AppState) -> Router<AppState> {
    let table = table(state);
    let api = table.api_paths();
    let extensions = state.app.config.extensions;
    // The document describes the table it is served from (docs/protocol.md §17.10).
    let document = std::sync::Arc::new(crate::openapi::document(&api, extensions));
    table
        .extension(
            extensions.openapi,
            crate::openapi::PATH,
            Budget::Global,
            readable(get(move || {
                let document = document.clone();
                async move { crate::openapi::respond(&document) }
            })),
        )
        .into_router()
}

/// The API paths of the route table (web pages left out), the OpenAPI document's included.
pub fn api_paths(state: &AppState) -> Vec<String> {
    let mut paths = table(state).api_paths();
    if state.app.config.extensions.openapi {
        paths.push(crate::openapi::PATH.to_string());
    }
    paths
}

fn table(state: &AppState) -> Table<'_> {
    Table::new(state)
        .route(
            "/api/export/project/{slug}",
            Budget::ExportProject,
            readable(get(projects::export_project)),
        )
        .route(
            "/api/export/entries/{slug}",
            Budget::ExportEntries,
            readable(get(entries::export_entries)),
        )
        // GET also answers HEAD (the same headers, no body, nothing opened).
        .route(
            "/api/export/media/{slug}",
            Budget::ExportMedia,
            readable(get(media::export_media)),
        )
        .route_and_json_alias(
            "/api/media/{slug}",
            Budget::AppMedia,
            readable(get(media::app_media)),
        )
        .extension(
            state.app.config.extensions.changes_feed,
            "/api/export/changes/{slug}",
            Budget::ExportChanges,
            readable(get(changes::export_changes)),
        )
        .route_and_json_alias(
            "/api/projects",
            Budget::Global,
            readable(get(projects::search_projects_empty)),
        )
        .route_and_json_alias(
            "/api/projects/{name}",
            Budget::Global,
            readable(get(projects::search_projects)),
        )
        .route(
            "/api/project-version/{slug}",
            Budget::Global,
            readable(get(projects::project_version)),
        )
        .route_and_json_alias(
            "/api/project/{slug}",
            Budget::Global,
            readable(get(projects::download_project)),
        )
        .route_and_json_alias(
            "/api/login",
            Budget::Global,
            readable(get(auth::login_methods)),
        )
        .route(
            "/api/login/local",
            Budget::Global,
            post(auth::login_local).options(auth::preflight_post),
        )
        // A browser preflights the guide's JSON token request (Laravel's router answers it).
        .route(
            "/api/oauth/token",
            Budget::Token,
            post(oauth::issue_token).options(auth::preflight_post),
        )
        // The Apps routes are both the JSON API of docs/protocol.md §13.2 and the Apps page:
        // each request goes to one of them (`web::wants_page`).
        .route(
            "/myprojects/{slug}/apps",
            Budget::Global,
            page(get(apps_get).post(apps_create)),
        )
        .route(
            "/myprojects/{slug}/app-revoke",
            Budget::Global,
            page(post(apps_revoke)),
        )
        .route(
            "/myprojects/{slug}/app-rotate-secret",
            Budget::Global,
            page(post(apps_rotate)),
        )
        .route(
            "/myprojects/{slug}/app-delete",
            Budget::Global,
            page(post(apps_delete)),
        )
        .route_and_json_alias(
            "/api/upload/{slug}",
            Budget::Upload,
            post(upload::upload).options(upload::preflight),
        )
        .pages()
        // Operations (README: Operations): probes and metrics, never rate limited.
        .unlimited("/healthz", get(health::healthz))
        .unlimited("/readyz", get(health::readyz))
        .metrics_behind_token()
}

/// A page route: every answer carries the pages' security headers.
fn page(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.layer(axum::middleware::map_response(web::security_headers))
}

/// Sends the request to the page handler or the JSON API handler.
macro_rules! page_or_api {
    ($name:ident, $page:expr, $api:expr) => {
        async fn $name(State(state): State<AppState>, request: Request) -> Response {
            if web::wants_page(request.headers(), request.uri().query()) {
                Handler::call($page, request, state).await
            } else {
                Handler::call($api, request, state).await
            }
        }
    };
}

page_or_api!(apps_get, web::apps::page, oauth::show_app);
page_or_api!(apps_create, web::apps::create, oauth::create_app);
page_or_api!(apps_revoke, web::apps::revoke, oauth::revoke_app_tokens);
page_or_api!(apps_rotate, web::apps::rotate, oauth::rotate_app_secret);
page_or_api!(apps_delete, web::apps::delete, oauth::delete_app);

/// Unknown paths: the API's `422 ec5_219`, or for a browser outside `/api` a 404 page.
async fn not_found(request: Request) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api") && web::wants_page(request.headers(), request.uri().query()) {
        return web::security_headers(web::not_found_page()).await;
    }
    fallback::page_not_found().await.into_response()
}

/// A GET route that also answers a CORS preflight.
fn readable(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.options(fallback::preflight_get)
}

/// Builds the router, attaching to every route its budget.
struct Table<'a> {
    state: &'a AppState,
    router: Router<AppState>,
    /// Every mounted path, in order.
    paths: Vec<String>,
    /// Those of the web pages.
    pages: Vec<String>,
}

impl<'a> Table<'a> {
    fn new(state: &'a AppState) -> Table<'a> {
        Table {
            state,
            router: Router::new(),
            paths: Vec::new(),
            pages: Vec::new(),
        }
    }

    /// Mounts `route` at `path`, its requests (every method, wrong ones included) counted
    /// against `budget` before the handler runs.
    fn route(mut self, path: &str, budget: Budget, route: MethodRouter<AppState>) -> Self {
        // The wrong-method answer is set before the limiter wraps the route, so that it is
        // counted too.
        let limited = route.fallback(fallback::method_not_allowed).layer(
            axum::middleware::from_fn_with_state(
                throttle::Throttled::new(self.state, budget),
                throttle::throttle,
            ),
        );
        self.router = self.router.route(path, limited);
        self.paths.push(path.to_string());
        self
    }

    /// The mounted paths that are not web pages.
    fn api_paths(&self) -> Vec<String> {
        self.paths
            .iter()
            .filter(|p| !self.pages.contains(p))
            .cloned()
            .collect()
    }

    /// A Quadrat extension's route, mounted only when `enabled`: switched off (or under
    /// `compat.strict`), its path answers as any unknown route (docs/protocol.md §17.0).
    fn extension(
        self,
        enabled: bool,
        path: &str,
        budget: Budget,
        route: MethodRouter<AppState>,
    ) -> Self {
        if enabled {
            self.route(path, budget, route)
        } else {
            self
        }
    }

    /// [`Table::route`] at `path` (which starts with `/api/`) and at its `/api/json/…` alias,
    /// both counted against the same budget (and, per project, the same buckets).
    fn route_and_json_alias(
        self,
        path: &str,
        budget: Budget,
        route: MethodRouter<AppState>,
    ) -> Self {
        let alias = json_alias(path);
        self.route(path, budget, route.clone())
            .route(&alias, budget, route)
    }

    /// Mounts `route` at `path`, counted against no budget (probes must answer whatever the
    /// load).
    fn unlimited(mut self, path: &str, route: MethodRouter<AppState>) -> Self {
        self.router = self
            .router
            .route(path, route.fallback(fallback::method_not_allowed));
        self
    }

    /// `/metrics` on this listener only when a metrics token is configured.
    fn metrics_behind_token(self) -> Self {
        match self.state.metrics_token {
            Some(_) => self.unlimited("/metrics", get(health::metrics_with_token)),
            None => self,
        }
    }

    /// Mounts the web pages, each counted against the global budget.
    fn pages(mut self) -> Self {
        for (path, route) in web::mount() {
            self = self.route(path, Budget::Global, page(route));
            self.pages.push(path.to_string());
        }
        self
    }

    fn into_router(self) -> Router<AppState> {
        self.router.fallback(not_found)
    }
}

/// `/api/x…` → `/api/json/x…`.
fn json_alias(path: &str) -> String {
    debug_assert!(path.starts_with("/api/"), "{path} has no JSON alias");
    path.replacen("/api/", "/api/json/", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_aliases_insert_json_after_api() {
        assert_eq!(json_alias("/api/upload/{slug}"), "/api/json/upload/{slug}");
        assert_eq!(json_alias("/api/projects"), "/api/json/projects");
    }
}
