//! One log line and one metrics record per request, and its request id. The id is the client's
//! `X-Request-Id` when it is printable ASCII of at most 200 characters, else a new UUID v4; it
//! is echoed in the answer and names the span the handler runs in, so an error logged while
//! answering carries it. The line holds the route's pattern, never the path or query string
//! (a `jwt=` parameter, a setup token) nor any header or body: secrets stay out of the logs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::AppState;
use crate::metrics::Metrics;

pub const REQUEST_ID: &str = "x-request-id";

/// The longest request id taken from a client.
const MAX_REQUEST_ID: usize = 200;

/// The request's id, in its extensions for whoever wants it.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// Routes probed often by machines: their lines go out at debug level.
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

pub async fn log_request(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id: Arc<str> = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(Arc::from)
        .unwrap_or_else(|| Arc::from(uuid::Uuid::new_v4().to_string()));
    request.extensions_mut().insert(RequestId(id.clone()));
    let route: Arc<str> = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| Arc::from(m.as_str()))
        .unwrap_or_else(|| Arc::from("unmatched"));
    let method = method_label(request.method());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let client_ip = state.limiter.client_ip(peer, forwarded);
    let span = tracing::info_span!("request", request_id = %id, method, route = %route);
    state.metrics.request_started();
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let done = Finished {
        metrics: state.metrics.clone(),
        started,
        id,
        route,
        method,
        status,
        client_ip,
    };
    response.map(|body| {
        Body::new(Counted {
            inner: body,
            bytes: 0,
            done: Some(done),
        })
    })
}

/// Printable ASCII (no spaces, no controls), 1 to 200 characters.
fn valid_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The method as a label: the standard ones by name, anything else `other` (a client must not
/// be able to make new series at will).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// What is logged once the answer's body is done with (sent, or dropped by a client that left).
struct Finished {
    metrics: Arc<Metrics>,
    started: Instant,
    id: Arc<str>,
    route: Arc<str>,
    method: &'static str,
    status: u16,
    client_ip: IpAddr,
}

impl Finished {
    fn log(self, bytes: u64, complete: bool) {
        let latency = self.started.elapsed();
        self.metrics.request_ended();
        self.metrics
            .request_done(&self.route, self.method, self.status, latency, bytes);
        // Milliseconds to the microsecond, a number in JSON.
        let latency_ms = (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: "quadrat::request",
                    $level,
                    request_id = %self.id,
                    method = self.method,
                    route = %self.route,
                    status = self.status,
                    latency_ms,
                    bytes,
                    client_ip = %self.client_ip,
                    complete,
                    "request"
                )
            };
        }
        if is_probe(&self.route) {
            line!(tracing::Level::DEBUG);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}

/// The answer's body, counting the bytes it sends; logs when done.
struct Counted {
    inner: Body,
    bytes: u64,
    done: Option<Finished>,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) => {
                if let Some(done) = this.done.take() {
                    done.log(this.bytes, true);
                }
            }
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            // A body hyper never polled to the end: empty (a status alone) or cut short.
            let complete = self.inner.is_end_stream();
            done.log(self.bytes, complete);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_printable_and_bounded() {
        assert!(valid_request_id("abc-123_XYZ.:/"));
        assert!(valid_request_id(&"a".repeat(200)));
        assert!(!valid_request_id(&"a".repeat(201)));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("has space"));
        assert!(!valid_request_id("tab\there"));
        assert!(!valid_request_id("é"));
    }
}
