//! Success and error bodies as the real server writes them: `application/vnd.api+json`, PHP's
//! escaping, and the `{"errors":[{code,title,source}]}` envelope.

use std::any::Any;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::AppError;
use quadrat_core::Ec5Error;
use quadrat_core::json::to_php_json;
use serde::Serialize;

const JSON_API: &str = "application/vnd.api+json; charset=utf-8";

/// A 200 JSON:API body.
pub fn json_ok<T: Serialize>(body: &T) -> Response {
    json_response(StatusCode::OK, to_php_json(body, false))
}

fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    response
}

/// An error answered in the Epicollect5 envelope.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<Ec5Error>,
    /// `Retry-After`, in seconds, when waiting helps.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, source: &str) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            errors: vec![Ec5Error::new(code, source)],
            retry_after: None,
        }
    }

    /// `429 ec5_255` with `Retry-After: 1`: the server is at its memory or hashing budget
    /// (docs/protocol.md §14.5); the same request a moment later may well pass.
    pub fn busy(source: &str) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(429, "ec5_255", source)
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    errors: &'a [Ec5Error],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(
            self.status,
            to_php_json(
                &Envelope {
                    errors: &self.errors,
                },
                true,
            ),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Client { status, errors } => ApiError {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                errors,
                retry_after: None,
            },
            e @ AppError::Internal { .. } => {
                tracing::error!(error = %e.chain(), "internal error");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    errors: vec![Ec5Error::new("ec5_116", "server")],
                    retry_after: None,
                }
            }
        }
    }
}

/// A panic is a bug: log it, answer in the envelope, keep serving.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(%detail, "handler panicked");
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        errors: vec![Ec5Error::new("ec5_116", "server")],
        retry_after: None,
    }
    .into_response()
}
