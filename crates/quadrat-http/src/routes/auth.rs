//! The mobile app's login: which methods exist, and the local (email and password) login.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::accounts::LoginField;
use serde_json::json;

use crate::AppState;
use crate::body::{Param, Params, read_params};
use crate::respond::{ApiError, json_ok};

/// A login body is two short strings; anything longer is not read.
const LOGIN_BODY_LIMIT: usize = 64 * 1024;

/// `GET /api/login`: the app shows a login form for each method listed. Quadrat has local
/// accounts only.
pub async fn login_methods() -> Response {
    json_ok(&json!({
        "data": {"type": "login", "login": {"methods": ["local"], "auth_ids": []}}
    }))
}

/// `POST /api/login/local` with `username` (the email) and `password`, from the body (the app
/// sends `application/vnd.api+json`) or else the query string, as Laravel's `input()` reads them.
pub async fn login_local(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let input = read_params(&headers, body, LOGIN_BODY_LIMIT)
        .await
        .or(Params::query(query.as_deref()));
    let answer = state
        .app
        .login_local(
            login_field(input.get("username")),
            login_field(input.get("password")),
        )
        .await?;
    Ok(json_ok(&answer))
}

/// A preflight on the login route.
pub async fn preflight_post() -> Response {
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// A login field as sent: a string, or anything else (which can never match).
fn login_field(param: Option<&Param>) -> LoginField {
    match param {
        None => LoginField::Absent,
        Some(p) => p
            .as_text()
            .map_or(LoginField::Other, |t| LoginField::Text(t.into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_strings_can_be_credentials() {
        assert_eq!(login_field(None), LoginField::Absent);
        assert_eq!(
            login_field(Some(&Param::Text(b"a@b.co".to_vec()))),
            LoginField::Text("a@b.co".into())
        );
        assert_eq!(
            login_field(Some(&Param::Json(json!("a@b.co")))),
            LoginField::Text("a@b.co".into())
        );
        for other in [Param::Json(json!(7)), Param::Json(json!(null)), Param::List] {
            assert_eq!(login_field(Some(&other)), LoginField::Other);
        }
    }
}
