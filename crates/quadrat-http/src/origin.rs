//! Where the links and media URLs of an answer point (docs/protocol.md §8.6): the configured
//! `public_url` when the operator set one; else, when the request came through a trusted proxy,
//! the scheme and host that proxy forwarded (`Forwarded`, or `X-Forwarded-Proto` and
//! `X-Forwarded-Host`); else the request's own `Host` over plain HTTP, as the server speaks it.
//! A header that is not a plain host name (or `http`/`https`) is ignored, so a client cannot
//! write markup or another path into the links.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use quadrat_core::export::links::LinkBase;

use crate::AppState;

/// `scheme://host[:port]` (or the configured public URL, path prefix included), no trailing
/// slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin(pub String);

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<RequestOrigin, Infallible> {
        let config = &state.app.config;
        if config.links_from_public_url {
            return Ok(RequestOrigin(
                config.public_url.trim_end_matches('/').to_string(),
            ));
        }
        let from_proxy = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| state.limiter.trusts(peer.ip()));
        let own_host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        Ok(RequestOrigin(origin_of(
            &parts.headers,
            own_host,
            from_proxy,
        )))
    }
}

/// The origin of a request with these headers, `own_host` its `Host`, `from_proxy` whether its
/// peer is a trusted proxy.
pub fn origin_of(headers: &HeaderMap, own_host: Option<&str>, from_proxy: bool) -> String {
    let (mut scheme, mut host) = ("http", own_host.filter(|h| is_host(h)));
    if from_proxy {
        let forwarded = forwarded(headers);
        if let Some(known) = forwarded
            .proto
            .or_else(|| first_value(headers, "x-forwarded-proto"))
            .and_then(known_scheme)
        {
            scheme = known;
        }
        if let Some(h) = forwarded
            .host
            .or_else(|| first_value(headers, "x-forwarded-host"))
            .filter(|h| is_host(h))
        {
            host = Some(h);
        }
    }
    LinkBase::new(scheme, host.unwrap_or("localhost"), "")
        .as_str()
        .to_string()
}

/// The first value of a comma-separated header (the hop nearest the client).
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let text = headers.get(name)?.to_str().ok()?;
    let first = text.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

fn known_scheme(proto: &str) -> Option<&'static str> {
    if proto.eq_ignore_ascii_case("https") {
        Some("https")
    } else if proto.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

/// A host name, IPv4 or bracketed IPv6 address, with an optional port: nothing that could
/// change a link's path or end its attribute.
fn is_host(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 255
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// `proto` and `host` of the first element of RFC 7239's `Forwarded` header.
#[derive(Default)]
struct Forwarded<'a> {
    proto: Option<&'a str>,
    host: Option<&'a str>,
}

fn forwarded(headers: &HeaderMap) -> Forwarded<'_> {
    let mut found = Forwarded::default();
    let Some(first) = first_value(headers, "forwarded") else {
        return found;
    };
    for pair in first.split(';') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "proto" => found.proto = Some(value),
            "host" => found.host = Some(value),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn own_host_over_http_without_a_proxy() {
        let h = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ]);
        assert_eq!(
            origin_of(&h, Some("Quadrat.local:8080"), false),
            "http://quadrat.local:8080"
        );
    }

    #[test]
    fn a_trusted_proxy_sets_scheme_and_host() {
        let h = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "data.example.org"),
        ]);
        assert_eq!(
            origin_of(&h, Some("10.0.0.5:8080"), true),
            "https://data.example.org"
        );
        let h = headers(&[("x-forwarded-proto", "https, http")]);
        assert_eq!(
            origin_of(&h, Some("data.example.org:443"), true),
            "https://data.example.org"
        );
    }

    #[test]
    fn forwarded_wins_over_the_x_headers() {
        let h = headers(&[
            (
                "forwarded",
                "for=192.0.2.60;proto=https;host=\"data.example.org\", for=10.0.0.1",
            ),
            ("x-forwarded-host", "other.example"),
        ]);
        assert_eq!(
            origin_of(&h, Some("10.0.0.5"), true),
            "https://data.example.org"
        );
    }

    #[test]
    fn hostile_values_are_ignored() {
        let h = headers(&[
            ("x-forwarded-proto", "javascript"),
            ("x-forwarded-host", "evil.example/\"><script>"),
        ]);
        assert_eq!(
            origin_of(&h, Some("quadrat.local"), true),
            "http://quadrat.local"
        );
        assert_eq!(
            origin_of(&HeaderMap::new(), Some("a b"), false),
            "http://localhost"
        );
        assert_eq!(
            origin_of(&HeaderMap::new(), None, false),
            "http://localhost"
        );
    }
}
