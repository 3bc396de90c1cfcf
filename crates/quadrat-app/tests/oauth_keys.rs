//! The token-signing keys: generated once, never silently replaced, rotated with old tokens
//! still accepted, read from configured files, reloaded when the files change.

use quadrat_app::oauth::keys::generate;
use quadrat_app::oauth::{KeyError, KeyRing, KeySettings};
use serde_json::json;

fn settings(dir: &std::path::Path) -> KeySettings {
    KeySettings::in_data_dir(dir)
}

fn aud_of(ring: &KeyRing, token: &str) -> Option<String> {
    ring.verify(token)
        .and_then(|c| c.get("aud").and_then(|a| a.as_str()).map(str::to_string))
}

#[test]
fn open_or_generate_first_start_writes_private_key_0600_then_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, made) = KeyRing::open_or_generate(settings(dir.path())).unwrap();
    let kid = made.expect("generated on first start");
    assert_eq!(ring.kid().as_deref(), Some(kid.as_str()));
    let private = dir.path().join("keys/oauth-private.pem");
    let text = std::fs::read_to_string(&private).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");
    assert!(
        std::fs::read_to_string(dir.path().join("keys/oauth-public.pem"))
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (again, made) = KeyRing::open_or_generate(settings(dir.path())).unwrap();
    assert_eq!(made, None);
    assert_eq!(again.kid(), ring.kid());
    // The same files, read twice, sign and verify for each other.
    let token = ring.sign(&json!({"aud": "3"})).unwrap();
    assert_eq!(aud_of(&again, &token).as_deref(), Some("3"));
}

#[test]
fn generate_existing_key_without_force_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(&settings(dir.path()), false).unwrap();
    let before = std::fs::read(&first.private_path).unwrap();
    let err = generate(&settings(dir.path()), false).unwrap_err();
    assert!(matches!(err, KeyError::Exists(_)), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(std::fs::read(&first.private_path).unwrap(), before);
}

#[test]
fn generate_force_rotates_and_old_tokens_still_verify_on_a_running_ring() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, _) = KeyRing::open_or_generate(settings(dir.path())).unwrap();
    let old_kid = ring.kid().unwrap();
    let old_token = ring.sign(&json!({"aud": "1"})).unwrap();
    let rotated = generate(&settings(dir.path()), true).unwrap();
    assert_ne!(rotated.kid, old_kid);
    assert_eq!(
        rotated.retired.as_deref(),
        Some(
            dir.path()
                .join(format!("keys/retired/{old_kid}.pem"))
                .as_path()
        )
    );
    // The ring already held in memory notices the change at its next use.
    assert_eq!(ring.kid().as_deref(), Some(rotated.kid.as_str()));
    let new_token = ring.sign(&json!({"aud": "2"})).unwrap();
    assert_eq!(aud_of(&ring, &old_token).as_deref(), Some("1"));
    assert_eq!(aud_of(&ring, &new_token).as_deref(), Some("2"));
    // Once the retired key is deleted, its tokens are no longer accepted.
    std::fs::remove_file(rotated.retired.unwrap()).unwrap();
    assert_eq!(aud_of(&ring, &old_token), None);
    assert_eq!(aud_of(&ring, &new_token).as_deref(), Some("2"));
}

#[test]
fn configured_private_key_must_exist_and_is_never_generated() {
    let dir = tempfile::tempdir().unwrap();
    let missing = KeySettings {
        private_key_file: Some(dir.path().join("elsewhere/private.pem")),
        ..settings(dir.path())
    };
    let err = KeyRing::open_or_generate(missing.clone()).unwrap_err();
    assert!(matches!(err, KeyError::Missing(_)), "{err}");
    assert!(!missing.private_path().exists());
    assert!(!dir.path().join("keys").exists());
}

#[test]
fn configured_files_sign_and_extra_public_keys_verify_by_kid() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let key_a = generate(&settings(a.path()), false).unwrap();
    let key_b = generate(&settings(b.path()), false).unwrap();
    let (ring_b, _) = KeyRing::open_or_generate(settings(b.path())).unwrap();
    let token_b = ring_b.sign(&json!({"aud": "9"})).unwrap();

    let configured = KeySettings {
        private_key_file: Some(key_a.private_path.clone()),
        public_key_files: vec![key_b.public_path.clone()],
        ..settings(tempfile::tempdir().unwrap().path())
    };
    let ring = KeyRing::open(configured).unwrap();
    assert_eq!(ring.kid().as_deref(), Some(key_a.kid.as_str()));
    assert_eq!(aud_of(&ring, &token_b).as_deref(), Some("9"));
    // Without the extra public key, B's tokens are unknown here.
    let alone = KeyRing::open(KeySettings {
        private_key_file: Some(key_a.private_path),
        ..settings(a.path())
    })
    .unwrap();
    assert_eq!(aud_of(&alone, &token_b), None);
}

#[test]
fn verify_refuses_tampered_unsigned_and_kidless_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (ring, _) = KeyRing::open_or_generate(settings(dir.path())).unwrap();
    let token = ring.sign(&json!({"aud": "1"})).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = base64_url(br#"{"aud":"2"}"#);
    assert_eq!(
        aud_of(
            &ring,
            &format!("{}.{}.{}", parts[0], forged_claims, parts[2])
        ),
        None
    );
    let none_header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
    assert_eq!(aud_of(&ring, &format!("{none_header}.{}.", parts[1])), None);
    let no_kid = base64_url(br#"{"alg":"RS256","typ":"JWT"}"#);
    assert_eq!(
        aud_of(&ring, &format!("{no_kid}.{}.{}", parts[1], parts[2])),
        None
    );
    assert_eq!(aud_of(&ring, "not a token"), None);
}

#[test]
fn unreadable_key_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pem");
    std::fs::write(
        &path,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let err = KeyRing::open(KeySettings {
        private_key_file: Some(path.clone()),
        ..settings(dir.path())
    })
    .unwrap_err();
    assert!(err.to_string().contains("bad.pem"), "{err}");
}

fn base64_url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
