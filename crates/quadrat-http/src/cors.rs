//! The headers the real deployment's web server adds to every response (docs/protocol.md §2.7).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// What the extension routes expose to browsers: the real list plus `Link` and the
/// `X-Quadrat-*` headers.
pub const EXTENSION_EXPOSE_HEADERS: &str = "Authorization, Retry-After, X-RateLimit-Limit, \
     X-RateLimit-Remaining, Link, X-Quadrat-Next-Cursor, X-Quadrat-Has-More, \
     X-Quadrat-Structure-Last-Updated";

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
        // An extension route names more exposed headers of its own (docs/protocol.md §17.0);
        // every other answer gets the real server's list.
        if name == "access-control-expose-headers" && headers.contains_key(name) {
            continue;
        }
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
