//! The headers the real deployment's web server adds to every response (docs/protocol.md §2.7).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub async fn add_cors_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET,POST,OPTIONS"),
        (
            "access-control-allow-headers",
            "Content-Type, Authorization, X-XSRF-TOKEN",
        ),
        (
            "access-control-expose-headers",
            "Authorization, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining",
        ),
        ("accept-ranges", "bytes"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
