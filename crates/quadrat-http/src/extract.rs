//! Extractors whose rejections come out in the Epicollect5 envelope.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use quadrat_app::projects::ResolvedProject;

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

/// The first `Authorization` header as received (`None` when absent). Bytes that are not UTF-8
/// are kept lossily: such a header is no token and must be refused like any other garbage.
pub fn authorization(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The project of an export route (`{slug}` segment), once the access policy's export reader
/// lets the request through ([`quadrat_app::App::export_reader`]): every export handler takes
/// this instead of resolving the slug itself. `is_private()` on the project tells whether
/// `created_by` belongs in the export.
pub struct ExportProject(pub ResolvedProject);

impl FromRequestParts<crate::AppState> for ExportProject {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        let Segment(slug) = Segment::from_request_parts(parts, state).await?;
        let header = authorization(&parts.headers);
        let (project, _reader) = state.app.export_reader(&slug, header.as_deref()).await?;
        Ok(ExportProject(project))
    }
}
