//! Entries: the upload payload of the mobile app protocol (docs/protocol.md §5), its validation,
//! and the records stored for it (docs/protocol.md §6). No IO: what needs the database (existing
//! rows, uniqueness, limits) is asked for by the caller and passed in.

pub mod answers;
pub mod datetime;
pub mod device;
pub mod media;
pub mod payload;
pub mod pcre;
pub mod record;
pub mod title;

use serde_json::Value;

pub use answers::{
    Scopes, StoredAnswer, UniqueKey, ValidatedAnswers, answerable_inputs, unique_keys,
    validate_answers,
};
pub use media::MediaKind;
pub use payload::{
    DataUpload, EntryKind, FileUpload, Relationships, Upload, parse_upload, parse_upload_owned,
};
pub use pcre::PatternCache;
pub use record::{EntryRecord, build_record};

use crate::codes::Ec5Error;

/// Lowercase RFC 4122 text form, any version (`ec5_334` otherwise).
pub fn is_entry_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

/// The whole-payload scan: `<`/`>` anywhere → `ec5_220`, emoji → `ec5_323`; then a NUL
/// character anywhere → `ec5_29` (PostgreSQL text cannot hold one; no client sends it).
pub fn scan_payload(data: &Value) -> Result<(), Ec5Error> {
    // One walk over the strings finds all three; the codes keep their order.
    let found = crate::definition::validate::scan::scan_strings(data);
    if let Some(code) = found.code() {
        return Err(Ec5Error::new(code, "validation"));
    }
    if found.nul {
        return Err(Ec5Error::new("ec5_29", "validation"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_shape() {
        assert!(super::is_entry_uuid("5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90"));
        assert!(!super::is_entry_uuid(
            "5F0C2A9E-7B1D-4C3E-9A8F-2D6B1E4C7A90"
        ));
        assert!(!super::is_entry_uuid(
            "5f0c2a9e07b1d-4c3e-9a8f-2d6b1e4c7a90"
        ));
    }
}
