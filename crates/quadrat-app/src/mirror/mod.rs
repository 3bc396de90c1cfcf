//! `quadrat mirror` (docs/protocol.md §18): a project copied from any Epicollect5-compatible
//! server through its public export API into the local database and media store, resumable and
//! incremental. The command prints; the decisions live here:
//!
//! - `remote`: requests, retries, 429s, tokens; `pacing`: per-bucket pacing from the headers;
//!   `token`: credentials and the token cache;
//! - `project`: the source guards, the definition and mappings kept equal to the remote's;
//! - `apply`: export rows rebuilt as stored entries (through the upload rules) in batches;
//! - `walk`: the entries export walked per stream with an `uploaded_at` keyset, and deletions
//!   found through the counts; `feed`: the changes feed of a Quadrat remote;
//! - `media`: the media queue, `placeholders`: what a remote serves for a file it lacks;
//!   `state`: what a run leaves for the next.

mod apply;
mod feed;
mod media;
pub mod pacing;
mod placeholders;
mod project;
pub mod remote;
pub mod state;
pub mod token;
mod walk;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use quadrat_core::Ec5Error;
use quadrat_core::bulk::Losses;
use quadrat_core::entry::MediaKind;
use quadrat_core::time::now_millis;
use quadrat_store::StoreError;
use serde::Serialize;

pub use pacing::{Bucket, Rates};
use remote::{Remote, RequestStats};
use state::MirrorState;
pub use token::{Credentials, TokenCache};

use crate::{App, AppError};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// Nothing was done: a guard or a wrong argument (the message says which).
    #[error("{0}")]
    Refused(String),
    /// The remote failed, or answered what a mirror cannot use.
    #[error("{0}")]
    Remote(String),
    /// A `Retry-After` longer than `--max-wait`: the state is saved, the next run resumes.
    #[error(
        "stopped by the remote's rate limit: Retry-After {}s is longer than --max-wait; run again later to resume",
        .wait.as_secs()
    )]
    RateLimited { wait: Duration },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for MirrorError {
    fn from(e: StoreError) -> Self {
        MirrorError::App(e.into())
    }
}

/// Where a run reports progress (bars on a terminal, log lines otherwise).
pub trait MirrorProgress: Sync {
    /// Rows read of one stream (`total` when known).
    fn stream(&self, name: &str, read: u64, total: Option<u64>);
    fn media(&self, done: u64, total: u64);
    fn waiting(&self, why: &str, wait: Duration);
    fn note(&self, text: &str);
}

/// Which project to mirror.
#[derive(Debug, Clone)]
pub enum MirrorSource {
    /// The project's homepage URL on the remote (`https://host/project/slug`).
    Url(String),
    /// A local mirror, re-run from its stored source.
    Local(String),
}

#[derive(Debug, Clone)]
pub struct MirrorOptions {
    pub source: MirrorSource,
    pub client_id: Option<String>,
    /// The local slug of a new mirror (default: the remote name's slug).
    pub local_slug: Option<String>,
    /// Read by the caller from a file or the environment, never from the command line.
    pub client_secret: Option<String>,
    /// The media types to copy (empty: none).
    pub media: Vec<MediaKind>,
    /// Forget the marks (or the cursor) and read everything again.
    pub full: bool,
    /// Walk every stream for deletions even when the counts agree.
    pub reconcile: bool,
    pub overlap: Duration,
    pub max_wait: Duration,
    pub rates: Rates,
    /// The local owner (`created_by`) of a new mirror, by e-mail.
    pub owner: Option<String>,
    /// `Some(true)`: the mirror takes uploads; `Some(false)`: it refuses them again.
    pub unlocked: Option<bool>,
    pub dry_run: bool,
    pub tokens: TokenCache,
    pub per_page: u32,
    /// Use the changes feed when the remote has one (tests turn it off).
    pub use_changes_feed: bool,
}

/// One stream's counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamReport {
    pub read: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MediaReport {
    pub downloaded: u64,
    pub bytes: u64,
    pub missing: u64,
    pub failed: u64,
    /// Queued but not fetched in this run (`--media none` or types left out).
    pub left: u64,
}

/// A row the local rules refused.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedRow {
    pub uuid: String,
    pub errors: Vec<Ec5Error>,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MirrorReport {
    pub source: String,
    pub local_slug: String,
    /// `full` (first run or `--full`) or `incremental`.
    pub mode: String,
    /// `changes feed` or `entries export`.
    pub via: String,
    pub duration_ms: u64,
    pub requests: RequestStats,
    /// Per stream name (form name, or `form › branch question`), plus `changes` on the feed.
    pub streams: BTreeMap<String, StreamReport>,
    pub media: MediaReport,
    pub refused: Vec<RefusedRow>,
    /// What the rows read lost in the rebuild (shared labels, partial dates).
    pub reconstruction: Losses,
    /// Placeholder users made for `created_by` e-mails of a private project unknown here.
    pub users_created: u64,
    pub warnings: Vec<String>,
    /// Where the next run starts.
    pub next_run: String,
    /// `--dry-run`: the requests and time the limits imply; nothing was written.
    pub plan: Option<String>,
}

impl MirrorReport {
    /// Done cleanly, or done with warnings (media missing, rows refused or unverified).
    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty()
            || !self.refused.is_empty()
            || self.media.missing > 0
            || self.media.failed > 0
    }
}

/// How long a run's lease lasts without a checkpoint renewing it.
const LEASE_MS: i64 = 10 * 60 * 1000;

/// The run itself: the remote, the local project and the state it advances.
struct Run<'a> {
    app: &'a App,
    opts: &'a MirrorOptions,
    progress: &'a dyn MirrorProgress,
    remote: Remote,
    project_id: i64,
    local_slug: String,
    project_ref: String,
    state: MirrorState,
    lease: String,
    report: MirrorReport,
    /// Rows per page: the option's, halved while the remote refuses it (`ec5_335`).
    per_page: u32,
}

impl App {
    /// Mirrors a project (docs/protocol.md §18). The local mirror refuses uploads with
    /// `ec5_202` unless unlocked.
    pub async fn mirror(
        &self,
        opts: &MirrorOptions,
        progress: &dyn MirrorProgress,
    ) -> Result<MirrorReport, MirrorError> {
        let started = Instant::now();
        let mut run = project::prepare(self, opts, progress).await?;
        if run.report.plan.is_some() {
            run.report.duration_ms = started.elapsed().as_millis() as u64;
            run.report.requests = run.remote.stats.clone();
            return Ok(run.report);
        }
        let outcome = run.copy().await;
        let released = self
            .store
            .release_mirror_lease(run.project_id, &run.lease)
            .await;
        outcome?;
        released?;
        run.report.duration_ms = started.elapsed().as_millis() as u64;
        run.report.requests = run.remote.stats.clone();
        Ok(run.report)
    }

    /// The mirror source of a local project, `None` when it is not a mirror.
    pub async fn mirror_status(
        &self,
        raw_slug: &str,
    ) -> crate::Result<Option<(quadrat_store::MirrorSource, MirrorState)>> {
        let project = self.find_project(raw_slug).await?;
        Ok(self.store.mirror_source(project.id).await?.map(|s| {
            let state = MirrorState::parse(&s.state);
            (s, state)
        }))
    }
}

impl Run<'_> {
    async fn copy(&mut self) -> Result<(), MirrorError> {
        let feed = self.opts.use_changes_feed && feed::available(self).await?;
        if feed {
            self.report.via = "changes feed".into();
            // A walk from the start brings no tombstones of rows deleted before it: a copy made
            // earlier (through the entries export, or before the cursor expired) is checked
            // through the counts as other remotes are.
            let from_start = self.state.cursor.is_none();
            feed::pull(self).await?;
            if from_start {
                walk::deletions(self).await?;
            }
        } else {
            self.report.via = "entries export".into();
            walk::pull(self).await?;
            walk::deletions(self).await?;
        }
        if !self.opts.media.is_empty() {
            media::logo(self).await?;
        }
        media::fetch(self).await?;
        self.checkpoint(true).await?;
        Ok(())
    }

    /// Saves the state (and, at the end of a run, its time) and renews the lease.
    async fn checkpoint(&mut self, finished: bool) -> Result<(), MirrorError> {
        let now = now_millis();
        self.app
            .store
            .save_mirror_state(
                self.project_id,
                &self.state.to_text(),
                finished.then_some(now),
            )
            .await?;
        if !finished {
            self.app
                .store
                .take_mirror_lease(self.project_id, &self.lease, now, now + LEASE_MS)
                .await?;
        }
        Ok(())
    }
}
