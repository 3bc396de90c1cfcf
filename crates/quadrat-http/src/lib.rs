//! The HTTP API. Handlers are thin: they extract, call a use-case in `quadrat-app`, and answer
//! in the Epicollect5 envelopes of [`respond`].

mod body;
mod cors;
mod extract;
mod health;
pub mod metrics;
mod openapi;
mod origin;
mod request_log;
mod respond;
mod routes;
mod shutdown;
mod throttle;
mod user_token;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use quadrat_app::App;
use quadrat_app::ratelimit::Limiter;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

pub use metrics::Metrics;
pub use request_log::RequestId;
pub use respond::ApiError;
pub use user_token::UserToken;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub limiter: Arc<Limiter>,
    /// The memory request bodies may take together (`body.rs`).
    pub(crate) bodies: Arc<body::BodyBudget>,
    /// This server's metrics (`/metrics`); media routes add the bytes they serve.
    pub metrics: Arc<Metrics>,
    /// With a token, `/metrics` is served on this listener to whoever presents it.
    pub(crate) metrics_token: Option<Arc<str>>,
}

/// How a server runs besides its routes: metrics and shutdown.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where requests are counted (shared with a separate metrics listener).
    pub metrics: Arc<Metrics>,
    /// Serve `/metrics` on the public listener to `Authorization: Bearer <token>`; without a
    /// token the route does not exist there.
    pub metrics_token: Option<String>,
    /// After the shutdown signal, how long requests in flight may take to finish.
    pub grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            metrics: Arc::new(Metrics::new()),
            metrics_token: None,
            grace: Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SECONDS),
        }
    }
}

/// How long requests in flight may take to finish after SIGTERM, by default.
pub const DEFAULT_SHUTDOWN_GRACE_SECONDS: u64 = 30;

/// The whole API as a router, with no rate limits.
pub fn router(app: App) -> Router {
    router_with(app, Limiter::disabled())
}

/// The whole API as a router, every route counted by `limiter` (tests build the same one the
/// server runs).
pub fn router_with(app: App, limiter: Limiter) -> Router {
    router_with_options(app, limiter, &ServeOptions::default())
}

/// [`router_with`], with the metrics and token of `options`.
pub fn router_with_options(app: App, limiter: Limiter, options: &ServeOptions) -> Router {
    let bodies =
        body::BodyBudget::new(app.config.body_memory_bytes, app.config.max_json_body_bytes);
    let state = AppState {
        app: Arc::new(app),
        limiter: Arc::new(limiter),
        bodies: Arc::new(bodies),
        metrics: options.metrics.clone(),
        metrics_token: options
            .metrics_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(Arc::from),
    };
    // Layers run after routing (the route's pattern is known), the last added first: the
    // request log sees every answer, a panic's included.
    routes::routes(&state)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(cors::add_cors_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            respond::panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            request_log::log_request,
        ))
}

/// Only `GET /metrics`, unauthenticated, for a listener of its own (`metrics.listen`, kept off
/// the public network by the operator).
pub fn metrics_router(app: App, metrics: Arc<Metrics>) -> Router {
    let app = Arc::new(app);
    Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (app, metrics) = (app.clone(), metrics.clone());
            async move { health::metrics_body(&metrics, &app) }
        }),
    )
}

/// The API paths of the route table (web pages left out), as the router mounts them for `app`'s
/// configuration: what the OpenAPI document must describe.
pub fn api_route_paths(app: App) -> Vec<String> {
    let bodies =
        body::BodyBudget::new(app.config.body_memory_bytes, app.config.max_json_body_bytes);
    let state = AppState {
        app: Arc::new(app),
        limiter: Arc::new(Limiter::disabled()),
        bodies: Arc::new(bodies),
        metrics: Arc::new(Metrics::new()),
        metrics_token: None,
    };
    routes::api_paths(&state)
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
    serve_with_options(listener, app, limiter, ServeOptions::default(), shutdown).await
}

/// [`serve_with`] with `options`. When `shutdown` resolves the listener is closed (new
/// connections are refused), idle connections are closed, and requests in flight (streamed
/// answers included) get `options.grace` to finish; then whatever is left is cut off.
pub async fn serve_with_options(
    listener: TcpListener,
    app: App,
    limiter: Limiter,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let metrics = options.metrics.clone();
    let service = NormalizePathLayer::trim_trailing_slash()
        .layer(router_with_options(app, limiter, &options));
    let make_service =
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(service);
    shutdown::serve_gracefully(listener, make_service, shutdown, options.grace, metrics).await
}

/// Serves [`metrics_router`] on `listener` until `shutdown` resolves.
pub async fn serve_metrics(
    listener: TcpListener,
    app: App,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(app, metrics))
        .with_graceful_shutdown(shutdown)
        .await
}
