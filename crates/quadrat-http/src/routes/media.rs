//! `GET /api/export/media/{slug}` (the export API's reader: an OAuth token on private projects)
//! and `GET /api/media/{slug}` with `/api/json/media/{slug}` (the app's user on private
//! projects): photos, thumbnails, logos, audio and video (docs/protocol.md §15.1). `HEAD` answers
//! the same headers without opening the file. Every answer honours `Range` (decision 8).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use quadrat_app::access::AppRoute;
use quadrat_app::media::{MediaAnswer, MediaBody};
use quadrat_app::projects::ResolvedProject;
use quadrat_core::media::RangeAnswer;

use crate::extract::{ExportProject, Segment};
use crate::respond::ApiError;
use crate::{AppState, UserToken};

/// The export API's media route; the throttle and the bearer checks ran before.
pub async fn export_media(
    State(state): State<AppState>,
    ExportProject(project): ExportProject,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    answer(&state, &project, query, &method, &headers).await
}

/// The app's media route (and the URL in public exports).
pub async fn app_media(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (project, _actor) = state
        .app
        .app_user(&slug, token.get(), AppRoute::Media)
        .await?;
    answer(&state, &project, query, &method, &headers).await
}

async fn answer(
    state: &AppState,
    project: &ResolvedProject,
    query: Option<String>,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let MediaAnswer {
        body,
        content_type,
        cache_control,
        placeholder,
    } = state
        .app
        .media_answer(project, query.as_deref().unwrap_or_default())
        .await?;
    let size = match &body {
        MediaBody::Stored { size, .. } => *size,
        MediaBody::Made(bytes) => bytes.len() as u64,
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match RangeAnswer::parse(range, size) {
        RangeAnswer::Full => (StatusCode::OK, 0, size),
        RangeAnswer::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        RangeAnswer::Unsatisfiable => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            set(
                &mut response,
                header::CONTENT_RANGE,
                &format!("bytes */{size}"),
            );
            set(&mut response, header::CONTENT_TYPE, content_type);
            return Ok(response);
        }
    };
    let payload = if method == Method::HEAD {
        Body::empty()
    } else {
        match body {
            MediaBody::Stored { key, .. } => {
                Body::from_stream(state.app.media_read(&key, start..end).await?)
            }
            MediaBody::Made(bytes) => {
                let (a, b) = (
                    usize::try_from(start).unwrap_or(0),
                    usize::try_from(end).unwrap_or(0),
                );
                Body::from(bytes.slice(a..b))
            }
        }
    };
    let mut response = Response::new(payload);
    *response.status_mut() = status;
    set(&mut response, header::CONTENT_TYPE, content_type);
    set(
        &mut response,
        header::CONTENT_LENGTH,
        &(end - start).to_string(),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        let range = format!("bytes {start}-{}/{size}", end - 1);
        set(&mut response, header::CONTENT_RANGE, &range);
    }
    // Audio and video carry the framework's default, as on the real server.
    set(
        &mut response,
        header::CACHE_CONTROL,
        cache_control.unwrap_or("no-cache, private"),
    );
    if placeholder {
        set(&mut response, "x-media-placeholder", "true");
    }
    Ok(response)
}

fn set(response: &mut Response, name: impl header::IntoHeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// `GET /project/{slug}/media?…`: the pages' media, for whoever may read the project's data
/// pages (a member of a private project by their session), with the same answers and ranges.
pub async fn page_media(
    State(state): State<AppState>,
    crate::web::session::Visitor(session): crate::web::session::Visitor,
    axum::extract::Path(slug): axum::extract::Path<String>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = session.as_ref().and_then(|s| s.user.as_ref());
    let (project, _actor) = state
        .app
        .data_reader_as(&slug, quadrat_app::access::Caller::User(user))
        .await?;
    answer(&state, &project, query, &method, &headers).await
}
