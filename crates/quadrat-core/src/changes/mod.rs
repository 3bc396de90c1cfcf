//! The changes feed's pure half (docs/protocol.md §17): the opaque cursor token and the query
//! of `GET /api/export/changes/{slug}`, checked with the entries export's codes.
//!
//! - `cursor`: the `q1.` token and the checks that refuse one (§16.7);
//! - `query`: the parameters with their defaults and errors (§16.2).

mod cursor;
mod query;

pub use cursor::{CursorCheck, CursorToken};
pub use query::{ChangesFormat, ChangesQuery};

use crate::codes::Ec5Error;

/// An error of the feed that the real server cannot have: a `qd_*` code (docs/protocol.md
/// §16.7), kept out of the ec5 table so that `/json/ec5-status-codes` stays the real one.
pub fn quadrat_error(code: &str, source: &str) -> Ec5Error {
    let title = match code {
        "qd_cursor_invalid" => "Invalid sync cursor.",
        "qd_cursor_project" => "This sync cursor belongs to another project.",
        "qd_cursor_expired" => "Sync cursor expired. Start again without a cursor.",
        other => other,
    };
    Ec5Error {
        code: code.to_string(),
        title: title.to_string(),
        source: source.to_string(),
    }
}
