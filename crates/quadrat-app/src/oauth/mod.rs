//! Client apps, the client-credentials token exchange and the bearer checks on export routes
//! (docs/protocol.md §13).

pub mod clients;
pub mod keys;
pub mod tokens;

pub use clients::{ClientApp, ClientSecret, ClientStatus};
pub use keys::{GeneratedKey, KeyError, KeyRing, KeySettings};
pub use tokens::{IssuedToken, TokenRequest};

/// `n` cryptographically random bytes.
fn random_bytes<const N: usize>() -> Result<[u8; N], crate::AppError> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|e| crate::AppError::internal("reading random bytes", e.to_string()))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new client secret: 40 characters from `[A-Za-z0-9]` (about 238 bits), as Passport makes them.
fn new_secret() -> Result<String, crate::AppError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(quadrat_core::oauth::SECRET_LEN);
    while out.len() < quadrat_core::oauth::SECRET_LEN {
        for b in random_bytes::<64>()? {
            // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
            if b < 248 && out.len() < quadrat_core::oauth::SECRET_LEN {
                out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// How secrets are stored: SHA-256, hex, with the scheme named so it can change later.
///
/// A fast hash is enough here, and a slow one (Argon2id) would buy nothing: secrets are 40
/// random characters (~238 bits) made by the server, not chosen by people, so there is no
/// dictionary to try and no brute force that finishes; a leaked hash reveals nothing usable.
/// A slow hash would only make every token request cost tens of milliseconds of CPU, a lever
/// for anyone who can send requests. No key (pepper) either: it would be one more secret every
/// instance must share, protecting against nothing this entropy does not already rule out.
fn hash_secret(secret: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    format!("sha256:{}", hex(digest.as_ref()))
}

/// Compares in constant time, so response timing says nothing about how close a guess was.
fn secret_matches(secret: &str, stored: &str) -> bool {
    let candidate = hash_secret(secret);
    candidate.len() == stored.len()
        && candidate
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_40_alphanumerics_and_differ() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn hashes_verify_only_their_secret() {
        let stored = hash_secret("s3cret");
        assert!(stored.starts_with("sha256:"));
        assert!(secret_matches("s3cret", &stored));
        assert!(!secret_matches("s3cres", &stored));
        assert!(!secret_matches("", &stored));
        assert!(!secret_matches("s3cret", "sha256:"));
    }
}
