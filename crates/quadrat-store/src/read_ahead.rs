//! The next page of a walk, read while the client is still taking the last one. A client
//! walking a form's pages in order (`page=1, 2, 3…`, as pyepicollect and the documented scripts
//! do) leaves the server idle between two of its requests: while a page travels, while the
//! client reads it, and while the next request comes. Once a walk shows (a page read past the
//! mark the page before it left, `page_marks.rs`), the page after it is read and written in
//! the background, on SQLite only (pages read in parts, `export.rs`). The request for that page
//! takes it only while it is the page a read would give: the same selection, writer and size,
//! read within [`FRESH`], and the project's data version unchanged (no entry added, edited or
//! deleted since). Otherwise it is dropped and the page read as usual.
//!
//! At most [`SLOTS`] pages are held, each the size of its answer; when all are taken no page
//! is read ahead, so many walkers at once never read a page that another evicts unread.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::Result;
use crate::page_parts::RenderedPage;

/// Pages held (or being read) at most.
const SLOTS: usize = 4;

/// How long a page read ahead may wait for its request. A walking client asks within
/// milliseconds; what the rows do not carry (an uploader's email, read with them) may change
/// unseen by the data version, so a page is not kept longer than a slow client needs.
const FRESH: Duration = Duration::from_secs(10);

/// Which page: its selection (`selection_key` in `export.rs`), what its rows are written as
/// (the caller's key for its writers), its offset and its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AheadKey {
    pub selection: String,
    pub writer: String,
    pub offset: i64,
    pub limit: i64,
}

/// A page read in parts and the data version its rows were read at (`None`: the parts did
/// not agree on one, the page is not kept).
pub(crate) type VersionedPage = Option<(RenderedPage, Option<i64>)>;

#[derive(Debug)]
struct Ahead {
    started: Instant,
    task: JoinHandle<Result<VersionedPage>>,
}

#[derive(Debug, Default)]
pub(crate) struct ReadAhead {
    pages: Mutex<HashMap<AheadKey, Ahead>>,
    /// Pages a request took (test-support's `Store::pages_taken_from_read_ahead`).
    taken: AtomicU64,
}

impl ReadAhead {
    /// The reading of `key`'s page, when one was started within [`FRESH`]; it is no longer
    /// held.
    pub(crate) fn take(&self, key: &AheadKey) -> Option<JoinHandle<Result<VersionedPage>>> {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        let ahead = pages.remove(key)?;
        if ahead.started.elapsed() > FRESH {
            ahead.task.abort();
            return None;
        }
        Some(ahead.task)
    }

    /// Starts the reading of `key`'s page (`read()` begins it and returns what finishes it),
    /// unless it is being read already or every slot is taken (pages older than [`FRESH`] are
    /// dropped first): then `read` is not called.
    pub(crate) fn start<R>(&self, key: AheadKey, read: impl FnOnce() -> R)
    where
        R: Future<Output = Result<VersionedPage>> + Send + 'static,
    {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.retain(|_, ahead| {
            let fresh = ahead.started.elapsed() <= FRESH;
            if !fresh {
                ahead.task.abort();
            }
            fresh
        });
        if pages.len() >= SLOTS || pages.contains_key(&key) {
            return;
        }
        let task = tokio::spawn(read());
        pages.insert(
            key,
            Ahead {
                started: Instant::now(),
                task,
            },
        );
    }

    pub(crate) fn count_taken(&self) {
        self.taken.fetch_add(1, Ordering::Relaxed);
    }

    #[cfg(feature = "test-support")]
    pub(crate) fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }
}
