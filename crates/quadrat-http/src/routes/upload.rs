//! `POST /api/upload/{slug}` (and `/api/json/upload/{slug}`): the mobile app's uploads. JSON
//! bodies carry an entry or a branch entry; multipart bodies a media file (`name`) with its
//! JSON payload (`data`). The project and user are checked before the body is read.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use quadrat_app::App;
use quadrat_app::access::AppRoute;
use quadrat_app::upload::{TempUpload, UPLOADED};
use quadrat_core::codes;
use serde_json::{Value, json};

use crate::extract::Segment;
use crate::respond::{ApiError, json_ok};
use crate::{AppState, UserToken};

/// The largest JSON body (an entry with 300 long answers is well under 1 MB).
const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;

pub async fn upload(
    State(state): State<AppState>,
    Segment(slug): Segment,
    token: UserToken,
    request: Request,
) -> Result<Response, ApiError> {
    let app = &state.app;
    let (project, actor) = app.app_user(&slug, token.get(), AppRoute::Upload).await?;
    let (data, file) = read_body(app, request).await?;
    let Some(data) = data else {
        return Err(ApiError::new(400, "ec5_269", "validation"));
    };
    app.ingest(&project, &actor, &data, file).await?;
    Ok(json_ok(&json!({
        "data": {"code": UPLOADED, "title": codes::title(UPLOADED).unwrap_or_default()}
    })))
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// The `data` member and the file, from either kind of body. Any other content type has no
/// `data` (`ec5_269`, as the real server answers).
async fn read_body(
    app: &App,
    request: Request,
) -> Result<(Option<Value>, Option<TempUpload>), ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if is_json(&content_type) {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BYTES)
            .await
            .map_err(|_| too_large())?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|_| bad_json())?;
        return Ok((body.get("data").cloned(), None));
    }
    if let Ok(boundary) = multer::parse_boundary(&content_type) {
        return read_multipart(app, request.into_body(), boundary).await;
    }
    Ok((None, None))
}

fn too_large() -> ApiError {
    ApiError::new(400, "ec5_206", "upload")
}

fn bad_json() -> ApiError {
    ApiError::new(400, "ec5_62", "validation")
}

fn multipart_error(e: multer::Error) -> ApiError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            too_large()
        }
        other => {
            tracing::debug!(error = %other, "unreadable multipart body");
            ApiError::new(400, "ec5_62", "validation")
        }
    }
}

/// A file entry: the `data` field (the payload as a JSON string) and the `name` file part,
/// streamed to a temporary file beside the media folder.
async fn read_multipart(
    app: &App,
    body: Body,
    boundary: String,
) -> Result<(Option<Value>, Option<TempUpload>), ApiError> {
    let limits = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(app.config.max_upload_bytes)
            .for_field("data", MAX_JSON_BYTES as u64),
    );
    let mut form = multer::Multipart::with_constraints(body.into_data_stream(), boundary, limits);
    let mut data = None;
    let mut file = None;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("data") if data.is_none() => {
                let text = field.bytes().await.map_err(multipart_error)?;
                data = Some(serde_json::from_slice::<Value>(&text).map_err(|_| bad_json())?);
            }
            Some("name") if file.is_none() => {
                let mut upload = app.media().temp_upload().await.map_err(|e| {
                    tracing::error!(error = %e, "creating a temporary upload file");
                    ApiError::new(400, "ec5_83", "upload")
                })?;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    upload.write(&chunk).await.map_err(|e| {
                        tracing::error!(error = %e, "writing a temporary upload file");
                        ApiError::new(400, "ec5_83", "upload")
                    })?;
                }
                file = Some(upload);
            }
            // Other fields (the app's own parameters) are read past.
            _ => while field.chunk().await.map_err(multipart_error)?.is_some() {},
        }
    }
    Ok((data, file))
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
