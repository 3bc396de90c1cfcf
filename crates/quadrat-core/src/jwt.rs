//! The mobile app's user token: an HS256 JWT as the real server's `Jwt` class makes it
//! (claims `iat`, `jti`, `iss`, `exp`, `sub`; `sub` is the user's current `api_token`, so a new
//! login or a logout revokes every earlier token of that user).
//!
//! Checked as `firebase/php-jwt` checks it: three base64url segments, header `alg` HS256, a
//! signature made with the server secret, `nbf`/`iat` not in the future and `exp` not reached,
//! with no leeway.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

/// The real server's default `JWT_EXPIRE`: 90 days.
pub const USER_TOKEN_LIFETIME_SECS: i64 = 7_776_000;

/// Unpadded base64url out, padding tolerated in (php-jwt strips it before decoding).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The claims of a user token, in the order the real server writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// A unique id for this token.
    pub jti: String,
    /// The issuing server's public URL.
    pub iss: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// The user's `api_token` at the time of login.
    pub sub: String,
}

impl UserClaims {
    /// Claims for a token issued now (`now_secs`) to the holder of `api_token`.
    pub fn new(api_token: &str, jti: &str, issuer: &str, now_secs: i64) -> UserClaims {
        UserClaims {
            iat: now_secs,
            jti: jti.to_string(),
            iss: issuer.to_string(),
            exp: now_secs.saturating_add(USER_TOKEN_LIFETIME_SECS),
            sub: api_token.to_string(),
        }
    }
}

/// Why a token was refused. Every variant means the same to a client (no user); the detail is for
/// logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not three base64url segments of JSON")]
    Malformed,
    #[error("algorithm missing or not HS256")]
    Algorithm,
    #[error("signature does not verify")]
    Signature,
    #[error("claims missing or of the wrong type")]
    Claims,
    #[error("not valid yet")]
    NotYetValid,
    #[error("expired")]
    Expired,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length")
}

/// Signs `claims` with `secret` (HS256). The header is `{"typ":"JWT","alg":"HS256"}`, as php-jwt
/// writes it.
pub fn sign<T: Serialize>(claims: &T, secret: &[u8]) -> String {
    let header = B64.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut m = mac(secret);
    m.update(signing_input.as_bytes());
    let signature = B64.encode(m.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies `token` against `secret` at `now_secs` and returns its claims.
pub fn verify(token: &str, secret: &[u8], now_secs: i64) -> Result<UserClaims, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode_json = |segment: &str| -> Result<Value, JwtError> {
        let bytes = B64.decode(segment).map_err(|_| JwtError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
    };
    let header = decode_json(h)?;
    let payload = decode_json(p)?;
    let signature = B64.decode(s).map_err(|_| JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::Algorithm);
    }
    let mut m = mac(secret);
    m.update(h.as_bytes());
    m.update(b".");
    m.update(p.as_bytes());
    m.verify_slice(&signature)
        .map_err(|_| JwtError::Signature)?;
    let number = |key: &str| payload.get(key).map(|v| v.as_f64().ok_or(JwtError::Claims));
    if let Some(nbf) = number("nbf").transpose()?
        && nbf > now_secs as f64
    {
        return Err(JwtError::NotYetValid);
    }
    let claims: UserClaims = serde_json::from_value(payload).map_err(|_| JwtError::Claims)?;
    if claims.iat > now_secs {
        return Err(JwtError::NotYetValid);
    }
    if now_secs >= claims.exp {
        return Err(JwtError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_780_000_000;

    fn token(claims: &UserClaims) -> String {
        sign(claims, SECRET)
    }

    #[test]
    fn signed_token_verifies_and_carries_the_claims_in_order() {
        let claims = UserClaims::new("7-abc", "j1", "https://q.example", NOW);
        let t = token(&claims);
        assert_eq!(verify(&t, SECRET, NOW + 10), Ok(claims.clone()));
        let payload = B64.decode(t.split('.').nth(1).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            format!(
                r#"{{"iat":{NOW},"jti":"j1","iss":"https://q.example","exp":{},"sub":"7-abc"}}"#,
                NOW + USER_TOKEN_LIFETIME_SECS
            )
        );
        assert!(t.starts_with("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."));
    }

    #[test]
    fn expiry_is_exclusive_and_future_tokens_are_refused() {
        let claims = UserClaims::new("7-abc", "j1", "i", NOW);
        let t = token(&claims);
        assert_eq!(verify(&t, SECRET, claims.exp - 1), Ok(claims.clone()));
        assert_eq!(verify(&t, SECRET, claims.exp), Err(JwtError::Expired));
        assert_eq!(verify(&t, SECRET, NOW - 1), Err(JwtError::NotYetValid));
    }

    #[test]
    fn tampering_wrong_secret_and_other_algorithms_are_refused() {
        let t = token(&UserClaims::new("7-abc", "j1", "i", NOW));
        assert_eq!(verify(&t, b"another secret", NOW), Err(JwtError::Signature));
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        let forged = UserClaims::new("8-abc", "j1", "i", NOW);
        parts[1] = B64.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            verify(&parts.join("."), SECRET, NOW),
            Err(JwtError::Signature)
        );
        let none_header = B64.encode(br#"{"typ":"JWT","alg":"none"}"#);
        let unsigned = format!("{none_header}.{}.", t.split('.').nth(1).unwrap());
        assert_eq!(verify(&unsigned, SECRET, NOW), Err(JwtError::Algorithm));
        for junk in ["", ".", "..", "a.b.c", "a.b.c.d", &format!("{t}.x")] {
            assert_eq!(
                verify(junk, SECRET, NOW),
                Err(JwtError::Malformed),
                "{junk}"
            );
        }
    }

    #[test]
    fn claims_of_the_wrong_shape_are_refused_after_the_signature() {
        let t = sign(&serde_json::json!({"sub": 5, "exp": "later"}), SECRET);
        assert_eq!(verify(&t, SECRET, NOW), Err(JwtError::Claims));
        let t = sign(
            &serde_json::json!({"iat": NOW, "jti": "j", "iss": "i", "exp": NOW + 5, "sub": "s", "nbf": NOW + 3}),
            SECRET,
        );
        assert_eq!(verify(&t, SECRET, NOW), Err(JwtError::NotYetValid));
    }
}
