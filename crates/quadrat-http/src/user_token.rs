//! Where a request carries the mobile app's user token, read as the real server's `JwtGuard`
//! reads it on `/api` routes: the `jwt` request parameter when it is not empty, else the
//! `Authorization: Bearer` header.

use std::borrow::Cow;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::body::{Param, Params};

/// The user token of a request, from its query string or `Authorization` header. A route that
/// reads a body with a `jwt` member (the upload) passes it to [`UserToken::with_body_jwt`], since
/// body parameters come before the query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserToken {
    query_jwt: Option<String>,
    bearer: Option<String>,
}

impl UserToken {
    pub fn from_parts(headers: &HeaderMap, query: Option<&str>) -> UserToken {
        UserToken {
            query_jwt: Params::query(query)
                .get("jwt")
                .and_then(Param::as_text)
                .map(Cow::into_owned),
            bearer: bearer_token(headers),
        }
    }

    /// The token to check: the first non-empty `jwt` parameter (body, then query), else the
    /// bearer token.
    pub fn with_body_jwt<'a>(&'a self, body_jwt: Option<&'a str>) -> Option<&'a str> {
        body_jwt
            .filter(|t| !t.is_empty())
            .or(self.query_jwt.as_deref().filter(|t| !t.is_empty()))
            .or(self.bearer.as_deref())
    }

    /// The token of a request without a body.
    pub fn get(&self) -> Option<&str> {
        self.with_body_jwt(None)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UserToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(UserToken::from_parts(&parts.headers, parts.uri.query()))
    }
}

/// Laravel's `bearerToken()`: what follows the last `Bearer ` (any case) in the header, up to a
/// comma.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let lower = value.to_ascii_lowercase();
    let at = lower.rfind("bearer ")?;
    let token = &value[at + "bearer ".len()..];
    let token = token.split(',').next().unwrap_or_default();
    Some(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        h
    }

    #[test]
    fn bearer_follows_laravel() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Some("abc".into()));
        assert_eq!(bearer_token(&headers("bearer abc")), Some("abc".into()));
        assert_eq!(bearer_token(&headers("Bearer a,b")), Some("a".into()));
        assert_eq!(bearer_token(&headers("Basic x Bearer y")), Some("y".into()));
        assert_eq!(bearer_token(&headers("Basic abc")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn jwt_parameter_comes_before_the_header_unless_empty() {
        let t = UserToken::from_parts(&headers("Bearer h"), Some("jwt=q&x=1"));
        assert_eq!(t.get(), Some("q"));
        assert_eq!(t.with_body_jwt(Some("b")), Some("b"));
        assert_eq!(t.with_body_jwt(Some("")), Some("q"));
        let t = UserToken::from_parts(&headers("Bearer h"), Some("jwt="));
        assert_eq!(t.get(), Some("h"));
        let t = UserToken::from_parts(&HeaderMap::new(), None);
        assert_eq!(t.get(), None);
    }
}
