//! Entries rendered ahead (docs/architecture.md, "Entries rendered ahead"): a public project's
//! form entries are rendered once as the JSON export writes them with the default map, and
//! kept by the store (`entry_renders`), so a page of JSON copies them instead of rendering each
//! row again.
//!
//! Only SQLite's pages take them for now (`quadrat_store::Store::reads_rendered_ahead`):
//! PostgreSQL's pages render each row, and nothing is rendered ahead there.
//!
//! A background job does the rendering, after uploads and whenever a page had to render rows
//! of its own (their objects missing or rendered with another structure): requests never wait
//! for it, and a page always writes the same bytes whether it took stored objects or not.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quadrat_core::export::render::ExportPlan;
use quadrat_store::RenderScan;
use tokio::sync::Notify;

use crate::export::row_view;
use crate::projects::ResolvedProject;
use crate::{App, Result};

/// Entries rendered and stored per transaction: short enough not to hold up uploads for long.
const BATCH: i64 = 500;

/// The job waits this long after being woken, so a burst of uploads is rendered in one go.
const GATHER: Duration = Duration::from_millis(200);

/// The projects waiting for the job, and how far it got in each (shared by every clone of the
/// app).
#[derive(Debug, Default)]
pub(crate) struct AheadQueue {
    /// Project slug → whether its whole forms are to be searched (a page missed objects),
    /// not only the entries stored since the job's last visit.
    due: Mutex<BTreeMap<String, bool>>,
    /// Project slug → the highest entry id when the job last searched it whole or in part:
    /// after an upload only the entries above it are new.
    seen: Mutex<HashMap<String, i64>>,
    /// The job runs ([`App::start_render_ahead`]): a server's does, a command's does not.
    running: AtomicBool,
    wake: Notify,
}

impl App {
    /// After a write of the project's entries: the new ones are rendered in the background.
    pub(crate) fn entries_written(&self, project: &ResolvedProject) {
        if !project.is_private() {
            self.render_ahead_later(&project.slug, false);
        }
    }

    /// Has the background job render the project's entries that have no current object:
    /// those of its whole forms when `whole` (a page had to render rows itself, after an
    /// edit or a change of the structure), else those stored since its last visit. Nothing
    /// when the job does not run ([`App::start_render_ahead`]: only where pages take them).
    pub(crate) fn render_ahead_later(&self, slug: &str, whole: bool) {
        let queue = &self.ahead_queue;
        if !queue.running.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut due) = queue.due.lock() {
            *due.entry(slug.to_string()).or_default() |= whole;
        }
        queue.wake.notify_one();
    }

    /// Starts the background job that renders entries ahead, for as long as the server runs
    /// (once per app and its clones). Commands do not start it: a bulk import leaves its
    /// entries to the server, which renders them once a page misses them.
    pub fn start_render_ahead(&self) {
        if self.store.reads_rendered_ahead()
            && !self.ahead_queue.running.swap(true, Ordering::AcqRel)
        {
            let app = self.clone();
            tokio::spawn(async move { app.run_render_ahead().await });
        }
    }

    async fn run_render_ahead(self) {
        let queue: Arc<AheadQueue> = self.ahead_queue.clone();
        loop {
            queue.wake.notified().await;
            tokio::time::sleep(GATHER).await;
            let due = match queue.due.lock() {
                Ok(mut due) => std::mem::take(&mut *due),
                Err(_) => return,
            };
            for (slug, whole) in due {
                let since = match whole {
                    true => None,
                    false => queue
                        .seen
                        .lock()
                        .ok()
                        .and_then(|seen| seen.get(&slug).copied()),
                };
                match self.render_ahead_from(&slug, since).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(slug, rendered = n, "entries rendered ahead"),
                    // The pages render these rows themselves meanwhile, and call again.
                    Err(e) => tracing::warn!(slug, error = %e, "rendering entries ahead"),
                }
            }
        }
    }

    /// Renders and stores the entries of every form of the project `slug` that have no object
    /// of the form's current plan; how many it rendered. Private projects' pages render every
    /// row (they show each uploader): nothing is rendered for them.
    pub async fn render_entries_ahead(&self, slug: &str) -> Result<u64> {
        self.render_ahead_from(slug, None).await
    }

    /// [`App::render_entries_ahead`], of the entries with an id above `since` only when given.
    async fn render_ahead_from(&self, slug: &str, since: Option<i64>) -> Result<u64> {
        if !self.store.reads_rendered_ahead() {
            return Ok(0);
        }
        let project = self.find_project(slug).await?;
        if project.is_private() {
            return Ok(0);
        }
        // Entries stored from now on are above it (and are searched for next time).
        let last = self.store.last_entry_id().await?;
        let def = project.shared_definition()?;
        let maps = project.mappings()?;
        let version = project.structure.version();
        let mut rendered = 0;
        for form in &def.forms {
            let form_ref = form.form_ref.as_str();
            let plan = ExportPlan::ahead(&def, &maps, form_ref, &project.slug);
            let Some(key) = plan.ahead_key(version, form_ref, &project.slug) else {
                continue;
            };
            let mut scan = match since {
                Some(id) => RenderScan::Since(id),
                None => RenderScan::Form(None),
            };
            loop {
                let batch = self
                    .store
                    .entries_to_render(project.id, form_ref, key, scan, BATCH)
                    .await?;
                rendered += self
                    .store
                    .render_ahead(key, &batch.ids, |row| {
                        let mut out = Vec::with_capacity(1024);
                        plan.write_json(&row_view(row, false), &mut out);
                        // Written from `str`s and ASCII: always UTF-8.
                        String::from_utf8_lossy(&out).into_owned()
                    })
                    .await? as u64;
                match batch.next {
                    Some(next) => scan = next,
                    None => break,
                }
            }
        }
        if let Ok(mut seen) = self.ahead_queue.seen.lock() {
            seen.insert(slug.to_string(), last);
        }
        Ok(rendered)
    }
}
