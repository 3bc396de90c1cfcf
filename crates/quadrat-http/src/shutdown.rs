//! Graceful shutdown within a grace period: once the signal comes, axum stops accepting (the
//! listener is closed, so new connections are refused) and waits for the connections it has;
//! a timer started at the signal cuts that wait to the grace period. What happened is logged.

use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::response::Response;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;

use crate::metrics::Metrics;

pub async fn serve_gracefully<M, S>(
    listener: TcpListener,
    make_service: M,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    metrics: Arc<Metrics>,
) -> std::io::Result<()>
where
    M: for<'a> tower::Service<
            IncomingStream<'a, TcpListener>,
            Error = std::convert::Infallible,
            Response = S,
        > + Send
        + 'static,
    for<'a> <M as tower::Service<IncomingStream<'a, TcpListener>>>::Future: Send,
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<Instant>();
    let in_flight = metrics.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!(
            in_flight = in_flight.in_flight(),
            grace_seconds = grace.as_secs_f64(),
            "shutdown: no new connections; finishing the requests in flight"
        );
        let _ = signalled_tx.send(Instant::now());
    };
    let server = axum::serve(listener, make_service)
        .with_graceful_shutdown(signal)
        .into_future();
    tokio::pin!(server);
    let grace_over = async move {
        match signalled_rx.await {
            Ok(at) => {
                tokio::time::sleep_until((at + grace).into()).await;
                at
            }
            // The server ended without a signal: nothing to time.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = &mut server => {
            result?;
            tracing::info!("shutdown: every request finished");
            Ok(())
        }
        _ = grace_over => {
            tracing::warn!(
                cut_off = metrics.in_flight(),
                grace_seconds = grace.as_secs_f64(),
                "shutdown: grace period over; requests still in flight are cut off"
            );
            Ok(())
        }
    }
}
