//! `POST /api/oauth/token` (docs/protocol.md §13) and the management of a project's client app.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::oauth::{ClientApp, ClientSecret, TokenRequest};
use quadrat_core::oauth::{TokenParams, basic_credentials};
use quadrat_core::time::{now_millis, sql_datetime};
use serde_json::{Value, json};

use crate::body::{Param, read_params};
use crate::extract::{Segment, authorization};
use crate::metrics::TokenKind;
use crate::respond::{ApiError, json_ok};
use crate::{AppState, UserToken};

/// No token request needs more; a larger body is read as carrying no parameters.
const MAX_BODY: usize = 64 * 1024;

/// `POST /api/oauth/token`
pub async fn issue_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = match read_params(&state.bodies, &headers, body, MAX_BODY).await {
        Ok((params, _held)) => params,
        Err(_) => return ApiError::busy("token issue").into_response(),
    };
    let request = TokenRequest {
        params: TokenParams::from_lookup(|name| params.get(name).map(Param::to_json)),
        basic: authorization(&headers).and_then(|h| basic_credentials(&h)),
    };
    match state.app.issue_token(&request, now_millis()).await {
        Ok(token) => {
            state.metrics.token_issued(TokenKind::Client);
            // Key order and content type as the real server's (not vnd.api+json).
            let body = json!({
                "token_type": "Bearer",
                "expires_in": token.expires_in,
                "access_token": token.access_token,
            });
            let mut response = (StatusCode::OK, body.to_string()).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=UTF-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn app_json(app: &ClientApp) -> Value {
    json!({
        "client_id": app.client_id,
        "name": app.name,
        "created_at": sql_datetime(app.created_at),
        "updated_at": sql_datetime(app.updated_at),
        "live_tokens": app.live_tokens,
    })
}

fn secret_json(secret: &ClientSecret) -> Value {
    json!({ "client_id": secret.client_id, "client_secret": secret.client_secret })
}

/// `GET /myprojects/{slug}/apps`: the project's app, as a list of zero or one.
pub async fn show_app(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
) -> Result<Response, ApiError> {
    let (project, _) = state.app.project_manager(&slug, token.get()).await?;
    let apps: Vec<Value> = state
        .app
        .client_app(&project)
        .await?
        .iter()
        .map(app_json)
        .collect();
    Ok(json_ok(&json!({ "data": { "apps": apps } })))
}

/// `POST /myprojects/{slug}/apps` `{application_name}`: creates the app; the secret is in this
/// answer only.
pub async fn create_app(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (project, actor) = state.app.project_manager(&slug, token.get()).await?;
    let (params, _held) = read_params(&state.bodies, &headers, body, MAX_BODY)
        .await
        .map_err(|_| ApiError::busy("apps"))?;
    let name = params
        .get("application_name")
        .and_then(Param::as_text)
        .unwrap_or_default();
    let owner = (!actor.is_anonymous()).then_some(actor.user_id);
    let secret = state.app.create_client_app(&project, &name, owner).await?;
    let mut data = json!({"code": "ec5_259", "title": quadrat_core::codes::title("ec5_259")});
    merge(&mut data, secret_json(&secret));
    Ok(json_ok(&json!({ "data": data })))
}

/// `POST /myprojects/{slug}/app-revoke`: revokes every token of the app.
pub async fn revoke_app_tokens(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
) -> Result<Response, ApiError> {
    let (project, _) = state.app.project_manager(&slug, token.get()).await?;
    let revoked = state.app.revoke_client_tokens(&project).await?;
    Ok(json_ok(&json!({ "data": {
        "code": "ec5_398",
        "title": quadrat_core::codes::title("ec5_398"),
        "revoked_tokens": revoked,
    }})))
}

/// `POST /myprojects/{slug}/app-rotate-secret`: a new secret, shown once; the old one stops
/// working.
pub async fn rotate_app_secret(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
) -> Result<Response, ApiError> {
    let (project, _) = state.app.project_manager(&slug, token.get()).await?;
    let secret = state.app.rotate_client_secret(&project).await?;
    Ok(json_ok(&json!({ "data": secret_json(&secret) })))
}

/// `POST /myprojects/{slug}/app-delete`: deletes the app and its tokens.
pub async fn delete_app(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
) -> Result<Response, ApiError> {
    let (project, _) = state.app.project_manager(&slug, token.get()).await?;
    let deleted = state.app.delete_client_app(&project).await?;
    Ok(json_ok(
        &json!({ "data": { "deleted": app_json(&deleted) } }),
    ))
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
