//! The mobile app's login: which methods exist, and the local (email and password) login.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::accounts::{LOGIN_SOURCE, LoginField};
use quadrat_app::login::LoginAttempt;
use serde_json::json;

use crate::AppState;
use crate::body::{Param, Params, read_params};
use crate::metrics::TokenKind;
use crate::respond::{ApiError, json_ok};
use crate::throttle::ClientAddress;

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
/// Failures are throttled per account and per client address (`429 ec5_37`, with
/// `Retry-After`), as the real server throttles its login form.
pub async fn login_local(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let attempt = match read_params(&state.bodies, &headers, body, LOGIN_BODY_LIMIT).await {
        // The fields are copied out and the body's memory given back before the password
        // check, which may wait its turn.
        Ok((params, _held)) => {
            let input = params.or(Params::query(query.as_deref()));
            LoginAttempt {
                username: login_field(input.get("username")),
                password: login_field(input.get("password")),
                client,
            }
        }
        Err(_) => return ApiError::busy(LOGIN_SOURCE).into_response(),
    };
    match state.app.login_app(&state.limiter, attempt).await {
        Ok(answer) => {
            state.metrics.token_issued(TokenKind::User);
            json_ok(&answer)
        }
        Err(refusal) => {
            let retry_after = refusal.retry_after();
            let mut response = ApiError::from(refusal.into_app_error(LOGIN_SOURCE)).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            response
        }
    }
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
