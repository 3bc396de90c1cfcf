//! Stored entries as the export writes them (docs/protocol.md §8.7–8.12): one mapped
//! JSON object or one CSV row per entry.
//!
//! [`ExportPlan`] resolves, once per request, everything that does not depend on the row: the
//! selected map (with the fallback to map 0 and the group merge), the inputs in output order
//! with their column names, answer labels and date formats, the JSON key layout and the CSV
//! header. Each row then costs one parse of its `entry_data` and writes into the caller's buffer.
//!
//! - `plan`: the [`ExportPlan`] of a request (columns, keys, header);
//! - `ahead`: entries rendered ahead of the requests, with the key that says which plan may
//!   use them;
//! - `json_page`: a row as a JSON entry, and the [`JsonPage`] around them;
//! - `csv_record`: a row as a CSV record, and the header row;
//! - `values`: one answer as each input type renders it (PHP's casts, labels, dates,
//!   locations with UTM, media URLs).

mod ahead;
mod csv_record;
mod geojson;
mod json_page;
mod plan;
mod values;

pub use ahead::{ORIGIN_MARK, push_rendered_ahead};
pub use geojson::{LocationInput, point};
pub use json_page::JsonPage;
pub use plan::{ExportPlan, PlanOptions};

use crate::time::UnixMillis;

/// One stored row, as the store reads it.
#[derive(Debug, Clone, Copy)]
pub struct StoredEntry<'a> {
    pub uuid: &'a str,
    /// Form mode: the parent entry's uuid (`""` for none).
    pub parent_uuid: &'a str,
    /// Branch mode: the owner entry's uuid.
    pub owner_uuid: &'a str,
    /// The `uploaded_at` column.
    pub uploaded_at: UnixMillis,
    pub title: &'a str,
    /// Private projects: the uploader's email; `None` (anonymous upload, user gone or
    /// archived) writes `"n/a"`.
    pub created_by: Option<&'a str>,
    /// The `entry_data` JSON text (docs/protocol.md §6.2).
    pub entry_data: &'a str,
    /// The `branch_counts` JSON text of a hierarchy entry.
    pub branch_counts: Option<&'a str>,
}
