//! The HTTP API. Handlers are thin: they extract, call a use-case in `quadrat-app`, and answer
//! in the Epicollect5 envelopes of [`respond`].

mod cors;
mod extract;
mod respond;
mod routes;
mod user_token;

use std::sync::Arc;

use axum::Router;
use quadrat_app::App;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

pub use respond::ApiError;
pub use user_token::UserToken;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Arc<App>,
}

/// The whole API as a router (tests build the same one the server runs).
pub fn router(app: App) -> Router {
    let state = AppState { app: Arc::new(app) };
    routes::routes()
        .with_state(state)
        .layer(axum::middleware::from_fn(cors::add_cors_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            respond::panic_response,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves the API on `listener` until `shutdown` resolves. A trailing slash is tolerated on
/// every path, as the real server's redirect makes it.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = NormalizePathLayer::trim_trailing_slash().layer(router(app));
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(service),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
