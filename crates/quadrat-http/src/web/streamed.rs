//! Bodies written by a use-case as they are made (the project zip, the map feed): the use-case
//! runs on a blocking thread and writes into a [`ChannelWriter`], whose chunks the response
//! sends on. The channel holds a few chunks, so a slow client slows the writer instead of the
//! server buffering the file: memory stays a few chunks whatever the size.

use std::future::Future;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use quadrat_app::AppError;

/// Bytes handed on at a time.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the client at most.
const QUEUED: usize = 4;

type Item = io::Result<Bytes>;

/// A `Write` whose bytes become the response body, in chunks of [`CHUNK`].
pub struct ChannelWriter {
    tx: SyncSender<Item>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        // The receiver is gone when the client went away: stop writing.
        self.tx
            .send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        // What is left goes out; a gone client has nothing to hear.
        let _ = self.send();
    }
}

/// A body that `write` fills: it runs on a blocking thread with a [`ChannelWriter`]. When it
/// fails after the first bytes, the body ends with an error, so the client sees a cut transfer
/// rather than a file that looks whole.
pub fn body<F, Fut>(write: F) -> Body
where
    F: FnOnce(ChannelWriter) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), AppError>>,
{
    let (tx, rx) = sync_channel::<Item>(QUEUED);
    let failed = tx.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = runtime.block_on(write(writer)) {
            tracing::warn!(error = %e.chain(), "a streamed download stopped");
            let _ = failed.send(Err(io::Error::other("the download stopped")));
        }
    });
    let rx: Arc<Mutex<Receiver<Item>>> = Arc::new(Mutex::new(rx));
    let chunks = futures_util::stream::unfold(rx, |rx| async move {
        let waiting = rx.clone();
        let next =
            tokio::task::spawn_blocking(move || waiting.lock().ok().and_then(|r| r.recv().ok()))
                .await
                .ok()
                .flatten();
        next.map(|item| (item, rx))
    });
    Body::from_stream(chunks)
}
