//! `GET /healthz` (the process answers; nothing else is asked) and `GET /readyz` (the
//! database, the media store and the rate limiter's store answer), for load balancers and
//! orchestrators; and `GET /metrics` on the public listener, behind a bearer token. None of
//! them is rate limited. A failed check is named in the answer; its cause is logged, not shown.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use quadrat_app::App;

use crate::AppState;
use crate::metrics::Metrics;

pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let checks = state.app.readiness(&state.limiter).await;
    let mut named = Map::new();
    let mut failed = Vec::new();
    for check in &checks {
        let word = match &check.error {
            None => "ok",
            Some(error) => {
                tracing::warn!(check = check.name, %error, "readiness check failed");
                failed.push(Value::from(check.name));
                "failed"
            }
        };
        named.insert(check.name.to_string(), Value::from(word));
    }
    if failed.is_empty() {
        Json(json!({"status": "ok", "checks": named})).into_response()
    } else {
        let body = json!({"status": "unavailable", "checks": named, "failed": failed});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// `/metrics` on the public listener: only with `Authorization: Bearer <metrics token>`.
pub async fn metrics_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.metrics_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Digests compared, so the time taken says nothing about how much of the token matched.
    if given.is_empty() || Sha256::digest(given) != Sha256::digest(expected.as_bytes()) {
        let mut refused =
            (StatusCode::UNAUTHORIZED, "metrics need the bearer token\n").into_response();
        refused
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refused;
    }
    metrics_text(&state)
}

fn metrics_text(state: &AppState) -> Response {
    metrics_body(&state.metrics, &state.app)
}

pub fn metrics_body(metrics: &Metrics, app: &App) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        metrics.render(app),
    )
        .into_response()
}
