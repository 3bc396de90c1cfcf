//! The bulk import (docs/protocol.md §5.10): rows of a CSV file written against the bulk-upload
//! template turned into the upload payloads the app would send, and JSON lines read as upload
//! bodies. No IO: the caller reads the file, supplies fresh uuids and the clock, and sends the
//! payloads through the upload validation.
//!
//! The template of a form (or of one branch of it) is `ec5_uuid` (`ec5_branch_uuid`) followed
//! by the selected map's `map_to` of every bulk-uploadable input, groups flattened, locations as
//! `lat_X`, `long_X`, `accuracy_X`. A template column missing from a file is an empty answer; a
//! column that is neither in the template nor one the export writes is refused for the whole
//! file, before any row is read.
//!
//! - `template`: the [`Template`] of a form or branch and a file's header bound to it;
//! - `convert`: one row of fields as the upload payload the app would send;
//! - `export_row`: one row of the JSON entries export (map 0) as the payload that stored it,
//!   for `quadrat mirror`;
//! - `json_lines`: one line of a JSON lines file as an upload body.

mod convert;
mod export_row;
mod json_lines;
mod template;

pub use convert::{RowContext, split_multi};
pub use export_row::{ExportRowContext, Losses, MediaName, Rebuilt};
pub use json_lines::json_line;
pub use template::{Binding, Template};

/// The platform stored for imported entries.
pub const PLATFORM: &str = "CLI";
