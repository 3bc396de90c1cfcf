//! The HTTP API. Handlers are thin: they extract, call a use-case in `quadrat-app`, and answer
//! in the Epicollect5 envelopes of [`respond`].

mod body;
mod cors;
mod extract;
mod origin;
mod respond;
mod routes;
mod throttle;
mod user_token;
mod web;

use std::sync::Arc;

use axum::Router;
use quadrat_app::App;
use quadrat_app::ratelimit::Limiter;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

pub use respond::ApiError;
pub use user_token::UserToken;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub limiter: Arc<Limiter>,
    /// The memory request bodies may take together (`body.rs`).
    pub(crate) bodies: Arc<body::BodyBudget>,
}

/// The whole API as a router, with no rate limits.
pub fn router(app: App) -> Router {
    router_with(app, Limiter::disabled())
}

/// The whole API as a router, every route counted by `limiter` (tests build the same one the
/// server runs).
pub fn router_with(app: App, limiter: Limiter) -> Router {
    let bodies =
        body::BodyBudget::new(app.config.body_memory_bytes, app.config.max_json_body_bytes);
    let state = AppState {
        app: Arc::new(app),
        limiter: Arc::new(limiter),
        bodies: Arc::new(bodies),
    };
    routes::routes(&state)
        .with_state(state)
        .layer(axum::middleware::from_fn(cors::add_cors_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            respond::panic_response,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves the API on `listener`, with no rate limits, until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, Limiter::disabled(), shutdown).await
}

/// Serves the API on `listener` until `shutdown` resolves, counting requests with `limiter`.
/// A trailing slash is tolerated on every path, as the real server's redirect makes it.
pub async fn serve_with(
    listener: TcpListener,
    app: App,
    limiter: Limiter,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = NormalizePathLayer::trim_trailing_slash().layer(router_with(app, limiter));
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(service),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
