//! Rate limits on every route (export-api.md §8, decision 10). Runs after routing, so the route
//! pattern tells which limiter applies, and before the handler, so refused, invalid and denied
//! requests count too. Preflights are not counted, as on the real server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quadrat_core::ratelimit::{Route, Verdict, limits_for};

use crate::AppState;
use crate::respond::ApiError;

pub async fn throttle(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.limiter.is_enabled() || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let pattern = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let slug = RawPathParams::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .and_then(|params| params.iter().next().map(|(_, v)| v.to_string()))
        .unwrap_or_default();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let ip = state
        .limiter
        .client_ip(peer, header_text(&parts.headers, "x-forwarded-for"));
    let user_agent = header_text(&parts.headers, "user-agent").unwrap_or_default();
    let limits = limits_for(
        route_of(&pattern, &slug),
        &ip.to_string(),
        user_agent,
        state.limiter.limits(),
    );
    let verdict = state.limiter.check(&limits).await;
    let request = Request::from_parts(parts, body);
    match verdict {
        None => next.run(request).await,
        Some(Verdict::Allowed { limit, remaining }) => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            response
        }
        Some(Verdict::Denied {
            limit,
            retry_after,
            reset_at,
        }) => {
            let mut response = ApiError::new(429, "ec5_255", "rate-limiter").into_response();
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            headers.insert("x-ratelimit-reset", HeaderValue::from(reset_at));
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0u64));
            response
        }
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The limiter of a route pattern. The upload route belongs to the upload API; naming its
/// pattern here gives it its per-project budget whenever it is mounted.
fn route_of<'a>(pattern: &str, slug: &'a str) -> Route<'a> {
    let under = |prefix: &str| {
        pattern
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('{') && !rest.contains('/'))
    };
    if under("/api/export/entries/") {
        Route::ExportEntries(slug)
    } else if under("/api/export/project/") {
        Route::ExportProject(slug)
    } else if under("/api/export/media/") {
        Route::ExportMedia(slug)
    } else if under("/api/upload/") {
        Route::Upload(slug)
    } else if pattern == "/api/oauth/token" {
        Route::Token
    } else {
        Route::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_pick_their_limiter() {
        assert_eq!(
            route_of("/api/export/project/{slug}", "x"),
            Route::ExportProject("x")
        );
        assert_eq!(
            route_of("/api/export/entries/{project_slug}", "x"),
            Route::ExportEntries("x")
        );
        assert_eq!(
            route_of("/api/export/media/{slug}", "x"),
            Route::ExportMedia("x")
        );
        assert_eq!(route_of("/api/upload/{slug}", "x"), Route::Upload("x"));
        assert_eq!(route_of("/api/oauth/token", ""), Route::Token);
        assert_eq!(route_of("/api/projects/{name}", "x"), Route::Other);
        assert_eq!(
            route_of("/api/export/project/{slug}/more", "x"),
            Route::Other
        );
    }
}
