//! The mobile app's login: which methods exist, and the local (email and password) login.

use axum::body::{Body, to_bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::accounts::LoginField;
use serde_json::{Value, json};

use crate::AppState;
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

/// `POST /api/login/local` with `username` (the email) and `password`, in a JSON body (the app
/// sends `application/vnd.api+json`), a form body, or the query string.
pub async fn login_local(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let body = to_bytes(body, LOGIN_BODY_LIMIT).await.unwrap_or_default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let from_body = |name: &str| body_field(&content_type, &body, name);
    let field = |name: &str| match from_body(name) {
        LoginField::Absent => query_field(query.as_deref(), name),
        found => found,
    };
    let answer = state
        .app
        .login_local(field("username"), field("password"))
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

/// A field of the body, read as Laravel reads input: JSON when the content type says `/json` or
/// `+json`, url-encoded form fields for a form; any other body carries no fields.
fn body_field(content_type: &str, body: &[u8], name: &str) -> LoginField {
    if content_type.contains("/json") || content_type.contains("+json") {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return LoginField::Absent;
        };
        return match map.get(name) {
            None => LoginField::Absent,
            Some(Value::String(s)) => LoginField::Text(s.clone()),
            Some(_) => LoginField::Other,
        };
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_field(body, name);
    }
    LoginField::Absent
}

fn query_field(query: Option<&str>, name: &str) -> LoginField {
    form_field(query.unwrap_or_default().as_bytes(), name)
}

/// The last `name` field of url-encoded pairs; `name[…]` makes it a PHP array, which can never
/// match.
fn form_field(encoded: &[u8], name: &str) -> LoginField {
    let mut found = LoginField::Absent;
    for (key, value) in form_urlencoded::parse(encoded) {
        if key == name {
            found = LoginField::Text(value.into_owned());
        } else if key
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('['))
        {
            found = LoginField::Other;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_per_content_type() {
        let json = br#"{"username":"a@b.co","password":7}"#;
        assert_eq!(
            body_field("application/vnd.api+json", json, "username"),
            LoginField::Text("a@b.co".into())
        );
        assert_eq!(
            body_field("application/json; charset=utf-8", json, "password"),
            LoginField::Other
        );
        assert_eq!(
            body_field("text/plain", json, "username"),
            LoginField::Absent
        );
        assert_eq!(
            body_field("application/json", b"[1,2]", "username"),
            LoginField::Absent
        );
        let form = b"username=a%40b.co&password[]=x";
        assert_eq!(
            body_field("application/x-www-form-urlencoded", form, "username"),
            LoginField::Text("a@b.co".into())
        );
        assert_eq!(
            body_field("application/x-www-form-urlencoded", form, "password"),
            LoginField::Other
        );
        assert_eq!(
            query_field(Some("usernamex=1"), "username"),
            LoginField::Absent
        );
    }
}
