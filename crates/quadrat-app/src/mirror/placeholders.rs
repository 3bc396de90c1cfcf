//! The images a remote serves for a file it does not have (docs/protocol.md §18.2 step 7),
//! recognised by their bytes when no `X-Media-Placeholder` header says so (the real server never
//! sends it; a proxy may strip it): the real server's two files by their published SHA-256, and
//! Quadrat's own drawn by the same code that serves them, so the two cannot drift apart.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// The real server's placeholder photo (40,073 bytes).
const REAL_PHOTO: &str = "ebcd4e14828314b721458388c4f42afd36ca1dd477cc07920f87c4439474ee54";
/// The real server's default logo (3,735 bytes).
const REAL_LOGO: &str = "4cfe3fe36196b230cd44c6d925c1c73f5b6b6fffd2feaf879fb083321aa86c52";

/// Whether a photo answer (`entry_original`) is a placeholder rather than the file.
pub fn is_photo_placeholder(bytes: &[u8]) -> bool {
    static QUADRAT: OnceLock<String> = OnceLock::new();
    let quadrat = QUADRAT.get_or_init(|| sha256_hex(quadrat_imaging::placeholder_unsynced()));
    let hash = sha256_hex(bytes);
    hash == REAL_PHOTO || hash == *quadrat
}

/// Whether a `project_thumb` logo answer is a placeholder: the real server's default, or
/// Quadrat's drawn logo for a project of this name and ref (the initials logo, or the generic
/// one). Drawing takes a few milliseconds, once a run.
pub fn is_logo_placeholder(bytes: &[u8], project_name: &str, project_ref: &str) -> bool {
    let hash = sha256_hex(bytes);
    hash == REAL_LOGO
        || hash
            == sha256_hex(&quadrat_imaging::default_logo(
                project_name,
                project_ref,
                quadrat_imaging::LOGO_SIDE,
            ))
        || hash == sha256_hex(&quadrat_imaging::placeholder_logo(256, 256))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrat_placeholders_are_recognised_by_their_bytes() {
        assert!(is_photo_placeholder(quadrat_imaging::placeholder_unsynced()));
        assert!(!is_photo_placeholder(b"\xff\xd8 a real photo"));
        let logo =
            quadrat_imaging::default_logo("Tree survey", "abc123", quadrat_imaging::LOGO_SIDE);
        assert!(is_logo_placeholder(&logo, "Tree survey", "abc123"));
        assert!(!is_logo_placeholder(&logo, "Other name", "abc123"));
        assert!(is_logo_placeholder(
            &quadrat_imaging::placeholder_logo(256, 256),
            "x",
            "y"
        ));
    }

    #[test]
    fn hashes_are_lower_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
