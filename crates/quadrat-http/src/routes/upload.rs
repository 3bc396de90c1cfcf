//! `POST /api/upload/{slug}` (and `/api/json/upload/{slug}`): the mobile app's uploads. JSON
//! bodies carry an entry or a branch entry; multipart bodies a media file (`name`) with its
//! JSON payload (`data`). The project and user are checked before the body is read.

use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use quadrat_app::App;
use quadrat_app::access::AppRoute;
use quadrat_app::upload::{TempUpload, UPLOADED};
use quadrat_core::codes;
use serde_json::{Value, json};

use crate::body::{BodyError, FileLimits, Held, Param, parse_json, read_with_files};
use crate::extract::Segment;
use crate::respond::{ApiError, json_ok};
use crate::{AppState, UserToken};

pub async fn upload(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
    request: Request,
) -> Result<Response, ApiError> {
    let app = &state.app;
    let (project, actor) = app.app_user(&slug, token.get(), AppRoute::Upload).await?;
    // The body's memory stays counted until the entry is stored.
    let (data, file, _held) = read_upload(&state, request).await?;
    app.ingest(&project, &actor, &data, file).await?;
    Ok(json_ok(&json!({
        "data": {"code": UPLOADED, "title": codes::title(UPLOADED).unwrap_or_default()}
    })))
}

/// The body's `data` (the payload: a JSON body's member as sent, or a form field's JSON text)
/// and the `name` file part, streamed to a temporary file beside the media folder (the last
/// one sent, as PHP keeps it), with the memory the body holds. No `data` is `ec5_269`, as the
/// real server answers. A JSON body, or a multipart body's text fields together, may have
/// `max_json_body_bytes` (1 MiB by default; an entry is a few KB).
async fn read_upload(
    state: &AppState,
    request: Request,
) -> Result<(Value, Option<TempUpload>, Held), ApiError> {
    let app: &App = &state.app;
    let limits = FileLimits {
        body: app.config.max_upload_bytes,
        fields: app.config.max_json_body_bytes,
    };
    let (parts, body) = request.into_parts();
    let mut body = read_with_files(&state.bodies, &parts.headers, body, limits)
        .await
        .map_err(body_error)?;
    let mut file = None;
    while let Some(mut part) = body.next_file().await.map_err(body_error)? {
        if part.name() != "name" {
            continue;
        }
        let mut upload = app.media().temp_upload().await.map_err(write_error)?;
        while let Some(chunk) = part.chunk().await.map_err(body_error)? {
            upload.write(&chunk).await.map_err(write_error)?;
        }
        file = Some(upload);
    }
    let (mut params, mut held) = body.into_params();
    let data = match params.take("data") {
        Some(Param::Json(data)) => data,
        Some(Param::Text(text)) => parse_json(&state.bodies, &mut held, text)
            .await
            .map_err(body_error)?,
        Some(Param::List) | None => return Err(ApiError::new(400, "ec5_269", "validation")),
    };
    Ok((data, file, held))
}

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooLarge => ApiError::new(400, "ec5_206", "upload"),
        BodyError::Malformed => bad_body(),
        BodyError::Busy => ApiError::busy("upload"),
    }
}

fn bad_body() -> ApiError {
    ApiError::new(400, "ec5_62", "validation")
}

fn write_error(e: std::io::Error) -> ApiError {
    if quadrat_app::error::is_disk_full_io(&e) {
        tracing::error!("an upload was refused: the disk is full");
        return ApiError::new(507, "ec5_83", "disk-full");
    }
    tracing::error!(error = %e, "writing a temporary upload file");
    ApiError::new(400, "ec5_83", "upload")
}

/// A preflight on an upload path: 200, empty body, `Allow`.
pub async fn preflight() -> Response {
    use axum::http::{HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
