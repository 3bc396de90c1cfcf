//! Client apps and the OAuth2 client-credentials exchange (docs/protocol.md §13, §13.1):
//! the rules that need no IO. Request bodies are read the way Laravel and league/oauth2-server
//! read them, so every client that works against five.epicollect.net gets the same answer here.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::Ec5Error;

/// Token lifetime, fixed by the real server's configuration.
pub const TOKEN_LIFETIME_SECS: i64 = 7200;

/// Length of a client secret (Passport's `Str::random(40)`).
pub const SECRET_LEN: usize = 40;

/// Where token-endpoint errors point (docs/protocol.md §13.5).
pub const TOKEN_SOURCE: &str = "token issue";

/// Where bearer-check errors point (docs/protocol.md §13.8).
pub const MIDDLEWARE_SOURCE: &str = "middleware";

/// The app-name rule of the real `RuleProjectApp`: required, 3–50 characters, ASCII letters,
/// digits, underscore and space. Surrounding spaces are not part of the name (Laravel trims input).
pub fn validate_app_name(name: &str) -> Result<&str, Ec5Error> {
    const SOURCE: &str = "application_name";
    let name = name.trim_matches(' ');
    let len = name.chars().count();
    if len == 0 {
        return Err(Ec5Error::new("ec5_21", SOURCE));
    }
    if len < 3 {
        return Err(Ec5Error::new("ec5_43", SOURCE));
    }
    if len > 50 {
        return Err(Ec5Error::new("ec5_44", SOURCE));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ')
    {
        return Err(Ec5Error::new("ec5_205", SOURCE));
    }
    Ok(name)
}

/// The four parameters the token endpoint reads from the body. `None` is "absent or null" (PHP's
/// `??` does not tell them apart); anything else is kept as sent, so a wrong type can be refused
/// with the right code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenParams {
    pub grant_type: Option<Value>,
    pub client_id: Option<Value>,
    pub client_secret: Option<Value>,
    pub scope: Option<Value>,
}

impl TokenParams {
    /// The four parameters, each looked up by name among the request's body parameters (as the
    /// HTTP layer's one body reader hands them over: JSON values as sent, form fields as
    /// strings, PHP arrays as arrays). A null counts as absent.
    pub fn from_lookup(get: impl Fn(&str) -> Option<Value>) -> TokenParams {
        let get = |k: &str| get(k).filter(|v| !v.is_null());
        TokenParams {
            grant_type: get("grant_type"),
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            scope: get("scope"),
        }
    }
}

/// The grants the real server answers to (`password` is not enabled there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
    PersonalAccess,
}

/// The grant asked for, or `ec5_261` when it is missing or not one the server offers.
pub fn grant(params: &TokenParams) -> Result<Grant, Ec5Error> {
    match params.grant_type.as_ref().and_then(Value::as_str) {
        Some("client_credentials") => Ok(Grant::ClientCredentials),
        Some("authorization_code") => Ok(Grant::AuthorizationCode),
        Some("refresh_token") => Ok(Grant::RefreshToken),
        Some("personal_access") => Ok(Grant::PersonalAccess),
        _ => Err(Ec5Error::new("ec5_261", TOKEN_SOURCE)),
    }
}

/// The client a token request names, and the secret it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `None` when a client id was sent but cannot be any client's (not an integer).
    pub client_id: Option<i64>,
    /// `None` when no secret was sent, or not as a string.
    pub secret: Option<String>,
}

/// Reads the credentials from the body, falling back to HTTP Basic for whichever is missing
/// (league's `getClientCredentials`). A missing client id is `ec5_254`, as the real server
/// answers.
pub fn credentials(
    params: &TokenParams,
    basic: Option<&(String, String)>,
) -> Result<Credentials, Ec5Error> {
    let id = match (&params.client_id, basic) {
        (Some(v), _) => client_id_of(v),
        (None, Some((user, _))) => client_id_of(&Value::String(user.clone())),
        (None, None) => return Err(Ec5Error::new("ec5_254", TOKEN_SOURCE)),
    };
    let secret = match (&params.client_secret, basic) {
        (Some(Value::String(s)), _) => Some(s.clone()),
        (Some(_), _) => None,
        (None, Some((_, password))) => Some(password.clone()),
        (None, None) => None,
    };
    Ok(Credentials {
        client_id: id,
        secret,
    })
}

/// A client id sent as a JSON number or as a string of digits.
fn client_id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s)
            if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
    .filter(|id| *id > 0)
}

/// No scope, or an empty one: the only scope request the server grants.
pub fn scope_is_empty(params: &TokenParams) -> bool {
    match &params.scope {
        None => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

/// `Authorization: Basic base64(id:secret)`, as league reads it: the scheme is
/// case-insensitive, the decoded text must hold a colon, and it splits at the first one.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let scheme = header.get(..6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let encoded: String = header[6..]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let decoded = engine.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The token in an `Authorization` header, as league's bearer validator takes it: a leading
/// `Bearer` (case-sensitive) followed by whitespace is removed, then surrounding whitespace. A
/// header without that prefix is taken whole (and is then a bad token unless it is a bare JWT,
/// which the real server also accepts).
pub fn bearer_token(header: &str) -> &str {
    const PCRE_SPACE: &[char] = &[' ', '\t', '\n', '\u{0B}', '\u{0C}', '\r'];
    const PHP_TRIM: &[char] = &[' ', '\t', '\n', '\r', '\0', '\u{0B}'];
    let lead = header.trim_start_matches(PCRE_SPACE);
    let rest = match lead.strip_prefix("Bearer") {
        Some(after) if after.starts_with(PCRE_SPACE) => &after[1..],
        _ => header,
    };
    rest.trim_matches(PHP_TRIM)
}

/// The claims of one of our access tokens that the bearer check needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenClaims {
    pub client_id: i64,
    pub jti: String,
    pub iat: f64,
    pub nbf: f64,
    pub exp: f64,
}

impl TokenClaims {
    /// Reads the claims of a verified token; `None` when one is missing or of the wrong type.
    /// `aud` may be a string or a one-element array (both are valid JWT); times may be integers
    /// or floats (older Passport tokens).
    pub fn read(claims: &Map<String, Value>) -> Option<TokenClaims> {
        let aud = match claims.get("aud")? {
            Value::String(s) => s.as_str(),
            Value::Array(items) if items.len() == 1 => items[0].as_str()?,
            _ => return None,
        };
        let client_id = client_id_of(&Value::String(aud.to_string()))?;
        let jti = claims.get("jti")?.as_str()?.to_string();
        let time = |k: &str| claims.get(k).and_then(Value::as_f64);
        Some(TokenClaims {
            client_id,
            jti,
            iat: time("iat")?,
            nbf: time("nbf")?,
            exp: time("exp")?,
        })
    }

    /// Valid at `now` (seconds) with no leeway: issued and usable already, not yet expired.
    pub fn valid_at(&self, now: f64) -> bool {
        self.iat <= now && self.nbf <= now && self.exp > now
    }
}

/// A `jti`: 80 lower-case hex characters, as Passport writes them.
pub fn is_token_id(s: &str) -> bool {
    s.len() == 80 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn app_names_follow_the_real_rule() {
        assert_eq!(validate_app_name("My App_1").unwrap(), "My App_1");
        assert_eq!(validate_app_name("  abc ").unwrap(), "abc");
        assert_eq!(validate_app_name("").unwrap_err().code, "ec5_21");
        assert_eq!(validate_app_name("   ").unwrap_err().code, "ec5_21");
        assert_eq!(validate_app_name("ab").unwrap_err().code, "ec5_43");
        assert_eq!(
            validate_app_name(&"a".repeat(51)).unwrap_err().code,
            "ec5_44"
        );
        assert!(validate_app_name(&"a".repeat(50)).is_ok());
        assert_eq!(validate_app_name("app-one").unwrap_err().code, "ec5_205");
        assert_eq!(validate_app_name("tab\there").unwrap_err().code, "ec5_205");
        assert_eq!(validate_app_name("café app").unwrap_err().code, "ec5_205");
    }

    fn from_object(v: Value) -> TokenParams {
        TokenParams::from_lookup(|k| v.get(k).cloned())
    }

    #[test]
    fn json_nulls_count_as_absent() {
        let p = from_object(json!({"grant_type": "client_credentials", "client_id": null}));
        assert_eq!(p.grant_type, Some(json!("client_credentials")));
        assert_eq!(p.client_id, None);
    }

    #[test]
    fn grants_and_credentials_follow_league() {
        let p = from_object;
        assert_eq!(grant(&p(json!({}))).unwrap_err().code, "ec5_261");
        assert_eq!(
            grant(&p(json!({"grant_type": "password"})))
                .unwrap_err()
                .code,
            "ec5_261"
        );
        assert_eq!(
            grant(&p(json!({"grant_type": 1}))).unwrap_err().code,
            "ec5_261"
        );
        assert_eq!(
            grant(&p(json!({"grant_type": "client_credentials"}))).unwrap(),
            Grant::ClientCredentials
        );

        let missing = credentials(&p(json!({"client_secret": "s"})), None).unwrap_err();
        assert_eq!(missing.code, "ec5_254");
        let c = credentials(&p(json!({"client_id": 7, "client_secret": "s"})), None).unwrap();
        assert_eq!(
            c,
            Credentials {
                client_id: Some(7),
                secret: Some("s".into())
            }
        );
        let c = credentials(&p(json!({"client_id": "7"})), None).unwrap();
        assert_eq!(
            c,
            Credentials {
                client_id: Some(7),
                secret: None
            }
        );
        let c = credentials(&p(json!({"client_id": "7x", "client_secret": 5})), None).unwrap();
        assert_eq!(
            c,
            Credentials {
                client_id: None,
                secret: None
            }
        );
        let basic = ("9".to_string(), "pw".to_string());
        let c = credentials(&p(json!({})), Some(&basic)).unwrap();
        assert_eq!(
            c,
            Credentials {
                client_id: Some(9),
                secret: Some("pw".into())
            }
        );
        // The body wins over Basic for each parameter separately.
        let c = credentials(&p(json!({"client_id": 3})), Some(&basic)).unwrap();
        assert_eq!(
            c,
            Credentials {
                client_id: Some(3),
                secret: Some("pw".into())
            }
        );
    }

    #[test]
    fn scopes_other_than_empty_are_refused() {
        let p = from_object;
        assert!(scope_is_empty(&p(json!({}))));
        assert!(scope_is_empty(&p(json!({"scope": " "}))));
        assert!(!scope_is_empty(&p(json!({"scope": "*"}))));
        assert!(!scope_is_empty(&p(json!({"scope": ["a"]}))));
    }

    #[test]
    fn basic_header_is_read_like_league() {
        assert_eq!(
            basic_credentials("Basic MTI6c2VjcmV0"),
            Some(("12".into(), "secret".into()))
        );
        assert_eq!(
            basic_credentials("basic MTI6c2VjcmV0"),
            Some(("12".into(), "secret".into()))
        );
        // Colons after the first belong to the secret.
        assert_eq!(
            basic_credentials("Basic MTI6YTpi"),
            Some(("12".into(), "a:b".into()))
        );
        assert_eq!(basic_credentials("Basic MTI"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials("Bearer MTI6c2VjcmV0"), None);
        assert_eq!(basic_credentials("Basi"), None);
    }

    #[test]
    fn bearer_prefix_is_case_sensitive_and_needs_whitespace() {
        assert_eq!(bearer_token("Bearer abc"), "abc");
        assert_eq!(bearer_token("  Bearer\tabc  "), "abc");
        assert_eq!(bearer_token("bearer abc"), "bearer abc");
        assert_eq!(bearer_token("Bearerabc"), "Bearerabc");
        assert_eq!(bearer_token("abc"), "abc");
        assert_eq!(bearer_token("Bearer "), "");
        assert_eq!(bearer_token("é Bearer x"), "é Bearer x");
    }

    #[test]
    fn claims_need_every_field_and_no_leeway() {
        let map = |v: Value| v.as_object().unwrap().clone();
        let c = TokenClaims::read(&map(json!({
            "aud": "4", "jti": "x", "iat": 100, "nbf": 100, "exp": 200, "sub": "", "scopes": []
        })))
        .unwrap();
        assert_eq!(c.client_id, 4);
        assert!(c.valid_at(100.0));
        assert!(c.valid_at(199.9));
        assert!(!c.valid_at(200.0));
        assert!(!c.valid_at(99.9));
        assert!(
            TokenClaims::read(&map(json!({"aud": "4", "jti": "x", "iat": 1, "nbf": 1}))).is_none()
        );
        assert!(
            TokenClaims::read(&map(
                json!({"aud": 4, "jti": "x", "iat": 1, "nbf": 1, "exp": 2})
            ))
            .is_none()
        );
        assert_eq!(
            TokenClaims::read(&map(
                json!({"aud": ["4"], "jti": "x", "iat": 1.5, "nbf": 1, "exp": 2})
            ))
            .unwrap()
            .iat,
            1.5
        );
    }

    #[test]
    fn token_ids_are_80_hex() {
        assert!(is_token_id(&"a1".repeat(40)));
        assert!(!is_token_id(&"A1".repeat(40)));
        assert!(!is_token_id("abc"));
    }
}
