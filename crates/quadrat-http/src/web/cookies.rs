//! The session cookie, and how a request says whether it comes from a browser.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::UserToken;

pub const SESSION_COOKIE: &str = "quadrat_session";

/// The session id the request's cookies carry, if any.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a session id: never readable by scripts, sent on top-level navigation from
/// other sites but not on their form posts, and only over HTTPS when the server is public over
/// HTTPS. No expiry: the browser forgets it when closed; the server forgets it sooner.
pub fn set_session(id: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("quadrat_session=; Path=/"))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("quadrat_session=; Path=/; Max-Age=0"))
}

/// Whether a request to a path that is both a JSON API and a page (the Apps routes) wants the
/// page: it carries no user token (the API's credential), and it has a session cookie or
/// accepts HTML, as a browser's navigation and form posts do. Scripts send a token, or at
/// least no `text/html`, and get JSON as before.
pub fn wants_page(headers: &HeaderMap, query: Option<&str>) -> bool {
    if UserToken::from_parts(headers, query).get().is_some() {
        return false;
    }
    let accepts_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    accepts_html || session_id(headers).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_the_session_among_other_cookies() {
        let h = headers(&[(header::COOKIE, "a=1; quadrat_session=abc ; b=2")]);
        assert_eq!(session_id(&h).as_deref(), Some("abc"));
        assert_eq!(session_id(&headers(&[(header::COOKIE, "a=1")])), None);
        assert_eq!(
            session_id(&headers(&[(header::COOKIE, "quadrat_session=")])),
            None
        );
    }

    #[test]
    fn cookie_flags() {
        let c = set_session("x", true);
        assert_eq!(
            c.to_str().unwrap(),
            "quadrat_session=x; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!set_session("x", false).to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn browsers_get_pages_and_token_holders_json() {
        let html = (header::ACCEPT, "text/html,application/xhtml+xml");
        assert!(wants_page(&headers(std::slice::from_ref(&html)), None));
        assert!(wants_page(
            &headers(&[(header::COOKIE, "quadrat_session=a")]),
            None
        ));
        assert!(!wants_page(
            &headers(std::slice::from_ref(&html)),
            Some("jwt=abc")
        ));
        assert!(!wants_page(
            &headers(&[html, (header::AUTHORIZATION, "Bearer x")]),
            None
        ));
        assert!(!wants_page(&headers(&[(header::ACCEPT, "*/*")]), None));
        assert!(!wants_page(&HeaderMap::new(), None));
    }
}
