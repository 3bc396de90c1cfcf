//! Device ids are stored hashed and used only to recognise the device that may edit its own
//! entries (docs/protocol.md §6.5). The real server uses bcrypt; a bulk import hashes thousands of
//! rows, so Quadrat uses a salted SHA-256 instead (docs/compatibility.md): a stored value never
//! shows the id, and comparing one costs microseconds.

use sha2::{Digest, Sha256};

const SCHEME: &str = "sha256";

/// `sha256$<salt hex>$<digest hex>` of `device_id` with `salt`; `""` for an empty id (nothing
/// to recognise).
pub fn hash_device_id(device_id: &str, salt: &[u8]) -> String {
    if device_id.is_empty() {
        return String::new();
    }
    format!("{SCHEME}${}${}", hex(salt), hex(&digest(salt, device_id)))
}

/// Whether `device_id` is the one `stored` was made from. Hashes Quadrat did not make (bcrypt
/// from a migrated server) never match.
pub fn device_id_matches(device_id: &str, stored: &str) -> bool {
    if device_id.is_empty() {
        return false;
    }
    let mut parts = stored.split('$');
    let (Some(SCHEME), Some(salt), Some(expected), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(salt) = unhex(salt) else {
        return false;
    };
    let actual = hex(&digest(&salt, device_id));
    // Equal-length hex strings compared without an early exit.
    actual.len() == expected.len()
        && actual
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn digest(salt: &[u8], device_id: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(device_id.as_bytes());
    h.finalize().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_hide_the_id() {
        let stored = hash_device_id("3f2a9c1e7b6d5a40", b"0123456789abcdef");
        assert!(!stored.contains("3f2a9c1e7b6d5a40"));
        assert!(device_id_matches("3f2a9c1e7b6d5a40", &stored));
        assert!(!device_id_matches("3f2a9c1e7b6d5a41", &stored));
        assert!(!device_id_matches("", &stored));
        assert_eq!(hash_device_id("", b"salt"), "");
        assert!(!device_id_matches("x", "$2y$10$abcdefghijklmnopqrstuv"));
        assert_ne!(
            stored,
            hash_device_id("3f2a9c1e7b6d5a40", b"another salt....")
        );
    }
}
