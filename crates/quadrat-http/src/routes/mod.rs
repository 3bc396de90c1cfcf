//! The route table: each route with its `/api/json/…` alias where it has one, and the rate-limit
//! budget its requests count against (docs/protocol.md §14). Nothing else decides which route is
//! which: a route added here is limited as it says, whichever of its paths is called.

mod auth;
mod entries;
mod fallback;
mod oauth;
mod projects;
mod upload;

use axum::Router;
use axum::routing::{MethodRouter, get, post};
use quadrat_core::ratelimit::Budget;

use crate::{AppState, throttle};

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
        .route(
            "/myprojects/{slug}/apps",
            Budget::Global,
            get(oauth::show_app).post(oauth::create_app),
        )
        .route(
            "/myprojects/{slug}/app-revoke",
            Budget::Global,
            post(oauth::revoke_app_tokens),
        )
        .route(
            "/myprojects/{slug}/app-rotate-secret",
            Budget::Global,
            post(oauth::rotate_app_secret),
        )
        .route(
            "/myprojects/{slug}/app-delete",
            Budget::Global,
            post(oauth::delete_app),
        )
        .route_and_json_alias(
            "/api/upload/{slug}",
            Budget::Upload,
            post(upload::upload).options(upload::preflight),
        )
        .into_router()
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

    fn into_router(self) -> Router<AppState> {
        self.router.fallback(fallback::page_not_found)
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
