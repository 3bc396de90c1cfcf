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
        // The API's total is exact (docs/protocol.md §8).
        count_cap: None,
    };
    let page = state.app.export_entries(&project, &request).await?;
    let content_type = HeaderValue::from_static(page.content_type());
    let link = page
        .link_header
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok());
    let mut response = Response::new(Body::from(page.body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    // Only GeoJSON answers (an extension) carry a Link header.
    if let Some(link) = link {
        headers.insert(header::LINK, link);
        headers.insert(
            "access-control-expose-headers",
            HeaderValue::from_static(crate::cors::EXTENSION_EXPOSE_HEADERS),
        );
    }
    Ok(response)
}
