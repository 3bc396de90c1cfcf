//! The Get Media API's rules (docs/protocol.md §15.1), free of IO: the query's parameters checked
//! in the real server's order with its codes, which stored file a request names, its content
//! type and cache header, and the `Range` header read as RFC 9110 says (decision 8).

use crate::Ec5Error;
use crate::entry::MediaKind;
use crate::export::params::{RawParam, parse_query_string};
use crate::php::values::trim;

/// `format`: which stored file (or derivative) a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFormat {
    /// The stored photo.
    EntryOriginal,
    /// A 100×100 cover crop of the stored photo.
    EntryThumb,
    /// The project's stored logo.
    ProjectThumb,
    /// A 128×128 cover crop of the project's logo.
    ProjectMobileLogo,
    Audio,
    Video,
    /// Passes validation, then refused (`400 ec5_103`), as on the real server.
    Temp,
}

impl MediaFormat {
    pub const ALL: [MediaFormat; 7] = [
        MediaFormat::EntryOriginal,
        MediaFormat::EntryThumb,
        MediaFormat::ProjectThumb,
        MediaFormat::ProjectMobileLogo,
        MediaFormat::Audio,
        MediaFormat::Video,
        MediaFormat::Temp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaFormat::EntryOriginal => "entry_original",
            MediaFormat::EntryThumb => "entry_thumb",
            MediaFormat::ProjectThumb => "project_thumb",
            MediaFormat::ProjectMobileLogo => "project_mobile_logo",
            MediaFormat::Audio => "audio",
            MediaFormat::Video => "video",
            MediaFormat::Temp => "temp",
        }
    }

    pub fn parse(s: &str) -> Option<MediaFormat> {
        MediaFormat::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// A request's `type`, `name`, `format` and `v`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRequest {
    /// `type`: the content type and what a missing file answers.
    pub kind: MediaKind,
    /// `name` as sent (whether it is a safe file name is the storage layer's check).
    pub name: String,
    pub format: MediaFormat,
    /// Whether `v` is truthy (PHP: present, not empty, not `"0"`).
    pub versioned: bool,
}

impl MediaRequest {
    /// Reads the query string as the real server validates it: `type` (`required`, then one of
    /// photo/audio/video: `ec5_21`, `ec5_29`), `name` (`required|string`: `ec5_21`, `ec5_87`),
    /// `format` (`required`, one of [`MediaFormat::ALL`]: `ec5_21`, `ec5_29`); a failed `required`
    /// ends that field's checks; every field is checked and every failure reported, in that order,
    /// each with the field as its source (HTTP 400).
    pub fn parse(query: &str) -> Result<MediaRequest, Vec<Ec5Error>> {
        let params = parse_query_string(query);
        let get = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let mut errors = Vec::new();
        // Laravel's `required`: missing, a blank string or an empty array fails.
        let present = |v: Option<&RawParam>| match v {
            None => false,
            Some(RawParam::Str(s)) => !trim(s).is_empty(),
            Some(RawParam::Array(items)) => !items.is_empty(),
        };
        let kind = match get("type") {
            v if !present(v) => {
                errors.push(Ec5Error::new("ec5_21", "type"));
                None
            }
            Some(RawParam::Str(s)) => match MediaKind::parse(s) {
                Some(kind) => Some(kind),
                None => {
                    errors.push(Ec5Error::new("ec5_29", "type"));
                    None
                }
            },
            _ => {
                errors.push(Ec5Error::new("ec5_29", "type"));
                None
            }
        };
        let name = match get("name") {
            v if !present(v) => {
                errors.push(Ec5Error::new("ec5_21", "name"));
                None
            }
            Some(RawParam::Str(s)) => Some(s.clone()),
            _ => {
                errors.push(Ec5Error::new("ec5_87", "name"));
                None
            }
        };
        let format = match get("format") {
            v if !present(v) => {
                errors.push(Ec5Error::new("ec5_21", "format"));
                None
            }
            Some(RawParam::Str(s)) => match MediaFormat::parse(s) {
                Some(format) => Some(format),
                None => {
                    errors.push(Ec5Error::new("ec5_29", "format"));
                    None
                }
            },
            _ => {
                errors.push(Ec5Error::new("ec5_29", "format"));
                None
            }
        };
        let versioned = match get("v") {
            Some(RawParam::Str(s)) => !s.is_empty() && s != "0",
            Some(RawParam::Array(items)) => !items.is_empty(),
            None => false,
        };
        match (kind, name, format) {
            (Some(kind), Some(name), Some(format)) if errors.is_empty() => Ok(MediaRequest {
                kind,
                name,
                format,
                versioned,
            }),
            _ => Err(errors),
        }
    }

    /// The `Content-Type` of the answer: chosen by `type` (and a `.wav` name), not by `format`.
    pub fn content_type(&self) -> &'static str {
        match self.kind {
            MediaKind::Photo => "image/jpeg",
            MediaKind::Audio if self.name.to_ascii_lowercase().ends_with(".wav") => "audio/wav",
            MediaKind::Audio => "audio/mp4",
            MediaKind::Video => "video/mp4",
        }
    }

    /// The `Cache-Control` of a photo found: a year and immutable with a truthy `v` (the URL
    /// changes when the file does), a day otherwise. Audio and video get none of their own.
    pub fn cache_control(&self) -> Option<&'static str> {
        match self.kind {
            MediaKind::Photo if self.versioned => Some(IMMUTABLE),
            MediaKind::Photo => Some("public, max-age=86400"),
            MediaKind::Audio | MediaKind::Video => None,
        }
    }
}

/// The `Cache-Control` of a versioned photo and of every placeholder.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What a `Range` header asks of a file of a known size (RFC 9110 §14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No usable range: the whole file, `200`.
    Full,
    /// Bytes `start..=end`, `206` with `Content-Range: bytes start-end/size`.
    Partial { start: u64, end: u64 },
    /// `416` with `Content-Range: bytes */size`.
    Unsatisfiable,
}

impl RangeAnswer {
    /// Reads `header` for a file of `size` bytes. Only `bytes=` ranges count; a header of
    /// another unit, or one that does not parse, is ignored (the whole file), as RFC 9110
    /// allows. Of several ranges the first is answered. `a-b` (with `b` past the end cut to
    /// the end), `a-`, and the suffix `-n` (the last `n` bytes) are understood; a first byte at
    /// or past the end, or a suffix of zero bytes, is unsatisfiable.
    pub fn parse(header: Option<&str>, size: u64) -> RangeAnswer {
        let Some(header) = header else {
            return RangeAnswer::Full;
        };
        let header = header.trim();
        let Some(unit_end) = header.find('=') else {
            return RangeAnswer::Full;
        };
        if !header[..unit_end].trim().eq_ignore_ascii_case("bytes") {
            return RangeAnswer::Full;
        }
        let specs = &header[unit_end + 1..];
        // Every spec must parse, or the header is ignored; the first is answered.
        let mut first = None;
        for spec in specs.split(',') {
            let spec = spec.trim();
            if spec.is_empty() {
                continue;
            }
            let Some(parsed) = Spec::parse(spec) else {
                return RangeAnswer::Full;
            };
            first.get_or_insert(parsed);
        }
        match first {
            None => RangeAnswer::Full,
            Some(spec) => spec.resolve(size),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Spec {
    From(u64, Option<u64>),
    Suffix(u64),
}

impl Spec {
    fn parse(spec: &str) -> Option<Spec> {
        let (a, b) = spec.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        let number = |s: &str| {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                None
            } else {
                // A number too large for u64 is still a valid (huge) position.
                Some(s.parse::<u64>().unwrap_or(u64::MAX))
            }
        };
        if a.is_empty() {
            return Some(Spec::Suffix(number(b)?));
        }
        let start = number(a)?;
        if b.is_empty() {
            return Some(Spec::From(start, None));
        }
        let end = number(b)?;
        if end < start {
            return None;
        }
        Some(Spec::From(start, Some(end)))
    }

    fn resolve(self, size: u64) -> RangeAnswer {
        match self {
            Spec::From(start, _) if start >= size => RangeAnswer::Unsatisfiable,
            Spec::From(start, end) => RangeAnswer::Partial {
                start,
                end: end.map_or(size - 1, |e| e.min(size - 1)),
            },
            Spec::Suffix(0) => RangeAnswer::Unsatisfiable,
            Spec::Suffix(_) if size == 0 => RangeAnswer::Unsatisfiable,
            Spec::Suffix(n) => RangeAnswer::Partial {
                start: size.saturating_sub(n),
                end: size - 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(query: &str) -> Vec<(String, String)> {
        MediaRequest::parse(query)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.code, e.source))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn parameters_are_checked_in_order_with_the_real_codes() {
        assert_eq!(
            codes(""),
            pairs(&[("ec5_21", "type"), ("ec5_21", "name"), ("ec5_21", "format")])
        );
        assert_eq!(
            codes("type=image&name[]=a&format=huge"),
            pairs(&[("ec5_29", "type"), ("ec5_87", "name"), ("ec5_29", "format")])
        );
        assert_eq!(
            codes("type=photo&name=%20&format=entry_original"),
            pairs(&[("ec5_21", "name")])
        );
        assert_eq!(
            codes("type[]=photo&name=a&format[]=audio"),
            pairs(&[("ec5_29", "type"), ("ec5_29", "format")])
        );
        let ok = MediaRequest::parse("type=audio&name=x.WAV&format=entry_thumb&v=0").unwrap();
        assert_eq!(ok.format, MediaFormat::EntryThumb);
        assert_eq!(ok.content_type(), "audio/wav");
        assert!(!ok.versioned);
        assert_eq!(ok.cache_control(), None);
        let photo = MediaRequest::parse("type=photo&name=x.jpg&format=temp&v=17").unwrap();
        assert_eq!(photo.cache_control(), Some(IMMUTABLE));
        let daily = MediaRequest::parse("type=photo&name=a+b.jpg&format=entry_original").unwrap();
        assert_eq!(daily.name, "a b.jpg");
        assert_eq!(daily.cache_control(), Some("public, max-age=86400"));
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        use RangeAnswer::*;
        let p = |h: &str| RangeAnswer::parse(Some(h), 1000);
        assert_eq!(RangeAnswer::parse(None, 1000), Full);
        assert_eq!(p("bytes=0-99"), Partial { start: 0, end: 99 });
        assert_eq!(
            p("bytes=500-"),
            Partial {
                start: 500,
                end: 999
            }
        );
        assert_eq!(
            p("bytes=-100"),
            Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(p("bytes=-5000"), Partial { start: 0, end: 999 });
        assert_eq!(
            p("bytes=990-2000"),
            Partial {
                start: 990,
                end: 999
            }
        );
        assert_eq!(p("bytes=10-19, 50-59"), Partial { start: 10, end: 19 });
        assert_eq!(p("BYTES = 1-1"), Partial { start: 1, end: 1 });
        assert_eq!(p("bytes=1000-"), Unsatisfiable);
        assert_eq!(p("bytes=1000-1001"), Unsatisfiable);
        assert_eq!(p("bytes=-0"), Unsatisfiable);
        assert_eq!(p("bytes=99999999999999999999999-"), Unsatisfiable);
        for ignored in [
            "items=0-1",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=",
            "bytes",
            "bytes=--1",
        ] {
            assert_eq!(p(ignored), Full, "{ignored}");
        }
        assert_eq!(RangeAnswer::parse(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(RangeAnswer::parse(Some("bytes=-1"), 0), Unsatisfiable);
    }
}
