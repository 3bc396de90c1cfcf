//! The changes feed's upkeep (docs/protocol.md §17.7): tombstones older than the retention are
//! purged by a background job (raising each project's floor, so cursors older than the purge
//! answer 410 and their clients walk again), and epochs are renewed after a restore.

use std::time::Duration;

use quadrat_core::time::now_millis;

use crate::{App, Result};

/// How often the retention job runs once the server is up.
const PURGE_EVERY: Duration = Duration::from_secs(60 * 60);
/// The first run waits a little, so a starting server answers its first requests first.
const FIRST_PURGE_AFTER: Duration = Duration::from_secs(60);
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `[sync] tombstone_retention`: how many days a deletion stays in the feed (0: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TombstoneRetention {
    pub days: u32,
}

impl TombstoneRetention {
    pub const DEFAULT_DAYS: u32 = 90;

    /// Tombstones deleted before this moment (Unix ms) are due, `None` when kept for ever.
    pub fn cutoff(self, now: i64) -> Option<i64> {
        (self.days > 0).then(|| now - i64::from(self.days) * DAY_MS)
    }
}

impl Default for TombstoneRetention {
    fn default() -> Self {
        TombstoneRetention {
            days: Self::DEFAULT_DAYS,
        }
    }
}

impl App {
    /// Purges the tombstones `retention` lets go at `now` (Unix ms); how many went.
    pub async fn purge_old_tombstones(
        &self,
        retention: TombstoneRetention,
        now: i64,
    ) -> Result<u64> {
        match retention.cutoff(now) {
            Some(before) => Ok(self.store.purge_tombstones(before).await?),
            None => Ok(0),
        }
    }

    /// Renews the change epoch of the project `slug`, or of every project: each cursor handed
    /// out before is refused (410) and its client walks again. How many projects were reset.
    pub async fn reset_change_epochs(&self, slug: Option<&str>) -> Result<u64> {
        let project_id = match slug {
            Some(slug) => Some(self.find_project(slug).await?.id),
            None => None,
        };
        Ok(self.store.reset_change_epoch(project_id).await?)
    }

    /// Runs the retention job for as long as the server runs: a minute after start, then
    /// hourly. Several instances may all run it; a purge is one idempotent transaction.
    pub fn spawn_tombstone_retention(&self, retention: TombstoneRetention) {
        if retention.days == 0 {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(FIRST_PURGE_AFTER).await;
            let mut every = tokio::time::interval(PURGE_EVERY);
            loop {
                every.tick().await;
                match app.purge_old_tombstones(retention, now_millis()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        purged = n,
                        days = retention.days,
                        "changes feed: purged tombstones past their retention"
                    ),
                    Err(e) => tracing::warn!(error = %e, "changes feed: purging tombstones failed"),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_is_days_before_now_and_zero_keeps_for_ever() {
        let now = 1_000 * DAY_MS;
        assert_eq!(
            TombstoneRetention { days: 90 }.cutoff(now),
            Some(910 * DAY_MS)
        );
        assert_eq!(TombstoneRetention { days: 0 }.cutoff(now), None);
        assert_eq!(TombstoneRetention::default().days, 90);
    }
}
