//! The mirror's resumable state, kept in `mirror_sources.state` (docs/protocol.md §18.5): the
//! remote structure last copied, the changes cursor or each stream's marks, the media queue.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MirrorState {
    /// The remote `structure_last_updated` the local definition was copied from.
    #[serde(default)]
    pub structure: String,
    /// The remote's mapping list as last copied (compact JSON).
    #[serde(default)]
    pub mapping: String,
    /// The changes-feed cursor of a Quadrat remote (`None`: from the beginning).
    #[serde(default)]
    pub cursor: Option<String>,
    /// Per stream (`form_ref` or `form_ref branch_ref`), for remotes without the feed.
    #[serde(default)]
    pub streams: BTreeMap<String, StreamMark>,
    /// Media files named by mirrored rows: `type/name` → state.
    #[serde(default)]
    pub media: BTreeMap<String, MediaState>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamMark {
    /// Where the next run starts: `uploaded_at ≥ mark` (ISO), `None` from the beginning.
    pub mark: Option<String>,
    /// Within a run: the bound of the page to read next, so a killed run resumes there.
    pub walking: Option<String>,
}

impl StreamMark {
    /// The mark in Unix ms.
    pub fn mark_millis(&self) -> Option<i64> {
        self.mark.as_deref().and_then(super::apply::iso_millis)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaStatus {
    Pending,
    Done,
    /// The remote has no such file (placeholder or 404): retried on later runs.
    Missing,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    pub status: MediaStatus,
    #[serde(default)]
    pub attempts: u32,
}

impl MirrorState {
    pub fn parse(text: &str) -> MirrorState {
        serde_json::from_str(text).unwrap_or_default()
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Queues a media file unless it is already stored.
    pub fn want_media(&mut self, key: String) {
        let entry = self.media.entry(key).or_insert(MediaState {
            status: MediaStatus::Pending,
            attempts: 0,
        });
        if entry.status != MediaStatus::Done {
            entry.status = MediaStatus::Pending;
        }
    }
}
