//! Readiness: whether this instance can serve now. Each check names what it probed, so an
//! operator reading `/readyz` sees which dependency failed.

use std::future::Future;
use std::time::Duration;

use crate::App;
use crate::ratelimit::Limiter;

/// A check that has not answered by then has failed: a probe must answer quickly.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// One dependency's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `database`, `media` or `rate_limits`.
    pub name: &'static str,
    /// `None` when it answered, else why not.
    pub error: Option<String>,
}

impl App {
    /// The database answers a trivial query.
    pub async fn database_ready(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| e.to_string())
    }

    /// The media store could take an upload now (the folder exists and is writable). A media
    /// store on object storage answers with its own probe behind this same method.
    pub async fn media_ready(&self) -> Result<(), String> {
        self.media()
            .check_ready()
            .await
            .map_err(|e| format!("{}: {e}", self.media().describe()))
    }

    /// Every readiness check, in a fixed order, run at once.
    pub async fn readiness(&self, limiter: &Limiter) -> Vec<Check> {
        let (database, media, limits) = tokio::join!(
            bounded(self.database_ready()),
            bounded(self.media_ready()),
            bounded(limiter.store_ready())
        );
        [
            ("database", database),
            ("media", media),
            ("rate_limits", limits),
        ]
        .into_iter()
        .map(|(name, result)| Check {
            name,
            error: result.err(),
        })
        .collect()
    }
}

async fn bounded(check: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())))
}
