//! Extractors whose rejections come out in the Epicollect5 envelope.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::respond::ApiError;

/// The `{slug}` (or `{name}`) path segment, percent-decoded. An undecodable segment cannot name
/// a project.
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(s)) => Ok(Segment(s)),
            Err(_) => Err(ApiError::new(404, "ec5_11", "middleware")),
        }
    }
}
