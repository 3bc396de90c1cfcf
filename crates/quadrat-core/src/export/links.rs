//! `meta` and `links` of a JSON entries page (docs/protocol.md §8.6), as Laravel's
//! `LengthAwarePaginator` builds them for the real server.

use serde_json::{Value, json};

use super::jsonw::{push_i64, push_str};
use super::params::EntriesQuery;
use crate::time::{UnixMillis, iso_zero_millis};

/// The part of every link before `?`: the request's scheme, host (with its port unless it is
/// the scheme's default) and path as requested, without trailing slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase(String);

impl LinkBase {
    /// `host` is the request's `Host` (port included when sent); `path` the request path as
    /// sent, still percent-encoded.
    pub fn new(scheme: &str, host: &str, path: &str) -> LinkBase {
        let scheme = scheme.to_ascii_lowercase();
        let (name, port) = split_port(host);
        let default_port = match scheme.as_str() {
            "https" => "443",
            _ => "80",
        };
        let mut base = format!("{scheme}://{}", name.to_ascii_lowercase());
        if let Some(port) = port.filter(|p| *p != default_port) {
            base.push(':');
            base.push_str(port);
        }
        base.push_str(path);
        while base.ends_with('/') {
            base.pop();
        }
        LinkBase(base)
    }

    /// `path` under an origin already in its final form (`scheme://host[:port][/prefix]`, such
    /// as a configured public URL).
    pub fn under(origin: &str, path: &str) -> LinkBase {
        let mut base = format!("{}{path}", origin.trim_end_matches('/'));
        while base.ends_with('/') {
            base.pop();
        }
        LinkBase(base)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The link to `page` of `query`.
    pub fn url(&self, query: &EntriesQuery, page: i64) -> String {
        format!("{}?{}", self.0, query.link_query(page))
    }
}

/// `host:port` → (`host`, `port`); an IPv6 literal keeps its brackets.
fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.starts_with('[') || name.ends_with(']')) =>
        {
            (name, Some(port))
        }
        _ => (host, None),
    }
}

/// The paginator's numbers for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub total: i64,
    pub per_page: i64,
    /// As requested (at least 1), even beyond the last page.
    pub current_page: i64,
    /// `total / per_page` rounded up, at least 1.
    pub last_page: i64,
}

impl Pagination {
    pub fn new(total: i64, per_page: i64, page: i64) -> Pagination {
        let per_page = per_page.max(1);
        let total = total.max(0);
        let last_page = (total / per_page + i64::from(total % per_page != 0)).max(1);
        Pagination {
            total,
            per_page,
            current_page: page.max(1),
            last_page,
        }
    }

    pub fn for_query(total: i64, query: &EntriesQuery) -> Pagination {
        Pagination::new(total, query.per_page, query.page)
    }
}

/// `meta` of a JSON page. `from` and `to` repeat `current_page` and `last_page`, as on the real
/// server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub pagination: Pagination,
    /// `YYYY-MM-DDTHH:MM:SS.000Z`.
    pub newest: String,
    pub oldest: String,
}

impl Meta {
    /// `newest`/`oldest` are the largest and smallest `created_at` of the whole filtered set,
    /// `None` when it is empty: both are then `now`.
    pub fn new(
        pagination: Pagination,
        newest: Option<UnixMillis>,
        oldest: Option<UnixMillis>,
        now: UnixMillis,
    ) -> Meta {
        Meta {
            pagination,
            newest: iso_zero_millis(newest.unwrap_or(now)),
            oldest: iso_zero_millis(oldest.unwrap_or(now)),
        }
    }

    pub fn write_json(&self, out: &mut Vec<u8>) {
        let p = &self.pagination;
        let numbers = [
            ("total", p.total),
            ("per_page", p.per_page),
            ("current_page", p.current_page),
            ("last_page", p.last_page),
            ("from", p.current_page),
            ("to", p.last_page),
        ];
        out.push(b'{');
        for (key, n) in numbers {
            push_str(out, key);
            out.push(b':');
            push_i64(out, n);
            out.push(b',');
        }
        out.extend_from_slice(b"\"newest\":");
        push_str(out, &self.newest);
        out.extend_from_slice(b",\"oldest\":");
        push_str(out, &self.oldest);
        out.push(b'}');
    }

    pub fn to_json(&self) -> Value {
        let p = &self.pagination;
        json!({
            "total": p.total,
            "per_page": p.per_page,
            "current_page": p.current_page,
            "last_page": p.last_page,
            "from": p.current_page,
            "to": p.last_page,
            "newest": self.newest,
            "oldest": self.oldest,
        })
    }
}

/// `links` of a JSON page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub self_link: String,
    pub first: String,
    /// `current − 1` whenever the current page is past the first, even beyond the last page.
    pub prev: Option<String>,
    /// Only while the current page is before the last.
    pub next: Option<String>,
    pub last: String,
}

impl Links {
    pub fn new(base: &LinkBase, query: &EntriesQuery, p: &Pagination) -> Links {
        Links {
            self_link: base.url(query, p.current_page),
            first: base.url(query, 1),
            prev: (p.current_page > 1).then(|| base.url(query, p.current_page - 1)),
            next: (p.current_page < p.last_page).then(|| base.url(query, p.current_page + 1)),
            last: base.url(query, p.last_page),
        }
    }

    pub fn write_json(&self, out: &mut Vec<u8>) {
        let optional = |out: &mut Vec<u8>, link: &Option<String>| match link {
            Some(l) => push_str(out, l),
            None => out.extend_from_slice(b"null"),
        };
        out.extend_from_slice(b"{\"self\":");
        push_str(out, &self.self_link);
        out.extend_from_slice(b",\"first\":");
        push_str(out, &self.first);
        out.extend_from_slice(b",\"prev\":");
        optional(out, &self.prev);
        out.extend_from_slice(b",\"next\":");
        optional(out, &self.next);
        out.extend_from_slice(b",\"last\":");
        push_str(out, &self.last);
        out.push(b'}');
    }

    pub fn to_json(&self) -> Value {
        json!({
            "self": self.self_link,
            "first": self.first,
            "prev": self.prev,
            "next": self.next,
            "last": self.last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_keeps_the_request_path_and_drops_default_ports() {
        let b = |s, h, p| LinkBase::new(s, h, p).as_str().to_string();
        assert_eq!(
            b(
                "https",
                "five.epicollect.net",
                "/api/export/entries/EC5-API-Test/"
            ),
            "https://five.epicollect.net/api/export/entries/EC5-API-Test"
        );
        assert_eq!(
            b("https", "Example.org:443", "/x//"),
            "https://example.org/x"
        );
        assert_eq!(b("http", "example.org:80", "/x"), "http://example.org/x");
        assert_eq!(b("http", "127.0.0.1:8080", "/x"), "http://127.0.0.1:8080/x");
        assert_eq!(
            b("https", "example.org:80", "/x"),
            "https://example.org:80/x"
        );
        assert_eq!(b("http", "[::1]:8080", "/x"), "http://[::1]:8080/x");
        assert_eq!(b("http", "[::1]", "/x%20y"), "http://[::1]/x%20y");
    }

    #[test]
    fn pagination_numbers() {
        assert_eq!(Pagination::new(0, 50, 1).last_page, 1);
        assert_eq!(Pagination::new(50, 50, 1).last_page, 1);
        assert_eq!(Pagination::new(51, 50, 1).last_page, 2);
        assert_eq!(Pagination::new(51, 50, 9).current_page, 9);
        assert_eq!(Pagination::new(i64::MAX, 1, 1).last_page, i64::MAX);
    }

    #[test]
    fn meta_shape_and_empty_set_dates() {
        let m = Meta::new(Pagination::new(3, 2, 2), None, None, 1_717_237_233_456);
        let mut out = Vec::new();
        m.write_json(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"total":3,"per_page":2,"current_page":2,"last_page":2,"from":2,"to":2,"newest":"2024-06-01T10:20:33.000Z","oldest":"2024-06-01T10:20:33.000Z"}"#
        );
        assert_eq!(serde_json::to_string(&m.to_json()).unwrap().len(), {
            let mut o = Vec::new();
            m.write_json(&mut o);
            o.len()
        });
    }
}
