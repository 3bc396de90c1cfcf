//! `GET /api/export/changes/{slug}`: the changes feed (docs/protocol.md §17), a Quadrat
//! extension mounted only while `[extensions] changes_feed` is on.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderName, HeaderValue, Uri, header};
use axum::response::Response;
use quadrat_app::changes::ChangesRequest;

use crate::AppState;
use crate::cors::EXTENSION_EXPOSE_HEADERS;
use crate::extract::ExportProject;
use crate::origin::RequestOrigin;
use crate::respond::ApiError;

/// One page of changes. Access and throttling as the entries export (the extractor and the
/// route's own `api-export-changes` bucket).
pub async fn export_changes(
    State(state): State<AppState>,
    ExportProject(project): ExportProject,
    RawQuery(query): RawQuery,
    RequestOrigin(origin): RequestOrigin,
    uri: Uri,
) -> Result<Response, ApiError> {
    let request = ChangesRequest {
        query: query.as_deref().unwrap_or_default(),
        origin: &origin,
        path: uri.path(),
    };
    let page = state.app.export_changes(&project, &request).await?;
    let mut response = Response::new(Body::from(page.body.clone()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(page.content_type()),
    );
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-quadrat-next-cursor", &page.next_cursor);
    set(
        "x-quadrat-has-more",
        if page.has_more { "true" } else { "false" },
    );
    set(
        "x-quadrat-structure-last-updated",
        &page.structure_last_updated,
    );
    if let Some(next) = &page.next_link {
        set("link", &format!("<{next}>; rel=\"next\""));
    }
    set("access-control-expose-headers", EXTENSION_EXPOSE_HEADERS);
    Ok(response)
}
