//! Unknown routes, wrong methods and preflights.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::respond::ApiError;

pub async fn page_not_found() -> ApiError {
    ApiError::new(422, "ec5_219", "page not found exception")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(422, "ec5_219", "method not allowed exception")
}

/// A preflight on an existing GET path: 200, empty body, `Allow`.
pub async fn preflight_get() -> Response {
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
    response
}
