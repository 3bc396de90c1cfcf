//! The route table: each route with its `/api/json/…` alias where it has one, and the rate-limit
//! budget its requests count against (docs/protocol.md §14). Nothing else decides which route is
//! which: a route added here is limited as it says, whichever of its paths is called.

mod auth;
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

use crate::{AppState, throttle, web};

pub fn routes(state: &AppState) -> Router<AppState> {
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
        .into_router()
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
}

impl<'a> Table<'a> {
    fn new(state: &'a AppState) -> Table<'a> {
        Table {
            state,
            router: Router::new(),
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
        self
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

    /// Mounts the web pages, each counted against the global budget.
    fn pages(mut self) -> Self {
        for (path, route) in web::mount() {
            self = self.route(path, Budget::Global, page(route));
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
