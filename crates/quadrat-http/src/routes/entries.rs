//! `GET /api/export/entries/{slug}` (docs/protocol.md §8).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::Response;
use quadrat_app::export::EntriesRequest;

use crate::AppState;
use crate::extract::ExportProject;
use crate::origin::RequestOrigin;
use crate::respond::ApiError;

/// One page of entries as JSON or CSV. The throttle and the bearer checks have run before (the
/// middleware and [`ExportProject`]), in the order of docs/protocol.md §8.1.
pub async fn export_entries(
    State(state): State<AppState>,
    ExportProject(project): ExportProject,
    RawQuery(query): RawQuery,
    RequestOrigin(origin): RequestOrigin,
    uri: Uri,
) -> Result<Response, ApiError> {
    let request = EntriesRequest {
        query: query.as_deref().unwrap_or_default(),
        origin: &origin,
        path: uri.path(),
    };
    let page = state.app.export_entries(&project, &request).await?;
    let content_type = HeaderValue::from_static(page.content_type());
    let mut response = Response::new(Body::from(page.body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    Ok(response)
}
