//! Rate limits on every route (docs/protocol.md §14, §14.1). The route table wraps each route
//! in [`throttle`] with the budget it names, so it runs after routing (the `{slug}` segment keys
//! per-project budgets) and before the handler, so refused, invalid and denied requests count
//! too. A per-project budget is keyed by the project the slug names; a slug that names none
//! counts against the caller's global budget. Preflights are not counted, as on the real server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quadrat_core::ratelimit::{Budget, Verdict, address_key, limits_for};

use crate::AppState;
use crate::respond::ApiError;

/// The state of one route's limiter: the server's, and the budget the route counts against.
#[derive(Debug, Clone)]
pub struct Throttled {
    state: AppState,
    budget: Budget,
}

impl Throttled {
    pub fn new(state: &AppState, budget: Budget) -> Throttled {
        Throttled {
            state: state.clone(),
            budget,
        }
    }
}

/// The client's address as the limiter sees it: the socket peer, or what a trusted proxy says
/// in `X-Forwarded-For` (docs/protocol.md §14.4). The unspecified address when the server runs
/// without connection info (a router served by hand).
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts, state)))
    }
}

fn client_address(parts: &axum::http::request::Parts, state: &AppState) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    state
        .limiter
        .client_ip(peer, header_text(&parts.headers, "x-forwarded-for"))
}

pub async fn throttle(
    State(Throttled { state, budget }): State<Throttled>,
    request: Request,
    next: Next,
) -> Response {
    if !state.limiter.is_enabled() || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let slug = RawPathParams::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .and_then(|params| params.iter().next().map(|(_, v)| v.to_string()))
        .unwrap_or_default();
    let ip = client_address(&parts, &state);
    let user_agent = header_text(&parts.headers, "user-agent").unwrap_or_default();
    let project = match budget.is_per_project() {
        true => state.app.project_rate_key(&slug).await,
        false => None,
    };
    let limits = limits_for(
        budget,
        project.as_deref(),
        &address_key(ip),
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
            state.metrics.rate_limit_refused(budget);
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
