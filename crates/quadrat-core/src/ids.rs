//! Identifier newtypes, so a form ref never travels where an input ref is expected.

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }
    };
}

string_id!(
    /// A project ref: 32 lowercase hex characters.
    ProjectRef
);
string_id!(
    /// A form ref: `{project_ref}_{13}`.
    FormRef
);
string_id!(
    /// An input ref at any depth: `{parent_ref}_{13}`.
    InputRef
);
string_id!(
    /// An entry or branch entry uuid, as RFC 4122 text.
    EntryUuid
);
string_id!(
    /// A normalised project slug.
    Slug
);

/// The 13-character suffix generator the real server uses (`uniqid()`): 8 hex digits of seconds
/// and 5 of microseconds. Quadrat keeps the shape; `counter` keeps suffixes made in the same
/// microsecond distinct.
pub fn uniqid(unix_micros: i64, counter: u32) -> String {
    let secs = unix_micros.div_euclid(1_000_000);
    let micros = unix_micros.rem_euclid(1_000_000) as u32;
    let mixed = (micros + counter) % 0x10_0000;
    format!("{:08x}{:05x}", secs as u32, mixed)
}

/// True when `s` is a 32-character lowercase hex project ref.
pub fn is_project_ref(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniqid_is_13_hex_chars() {
        let id = uniqid(1_717_406_127_123_456, 0);
        assert_eq!(id.len(), 13);
        assert_eq!(&id[..8], "665d89af");
        assert_ne!(uniqid(1, 0), uniqid(1, 1));
    }

    #[test]
    fn project_ref_shape() {
        assert!(is_project_ref("d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50"));
        assert!(!is_project_ref("D3F1A9C27B5E4F0C8A6B1E2D9C7F3A50"));
        assert!(!is_project_ref("d3f1"));
    }
}
