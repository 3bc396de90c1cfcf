//! What a page's form sends: url-encoded fields, or a multipart body with a file. Unlike the
//! API's parameter reader (`crate::body`), names are kept as sent, brackets included, because
//! the mapping form names its fields by ref (`map_to[<input ref>]`).

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{HeaderMap, header};

/// Largest form body: a definition file (the real limit is 1000 KB) with its wrapping.
pub const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;
/// Largest definition file, as the real import allows (`ec5_206` above).
pub const MAX_FILE_BYTES: usize = 1000 * 1024;

/// An uploaded file.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Bytes,
}

/// The fields of a form, in the order sent.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    values: Vec<(String, String)>,
    files: Vec<(String, Upload)>,
    /// The body was larger than [`MAX_FORM_BYTES`] (its fields are then empty).
    pub too_large: bool,
}

impl Fields {
    /// The last value sent under `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether a field of that name was sent (a ticked box).
    pub fn has(&self, name: &str) -> bool {
        self.values.iter().any(|(k, _)| k == name)
    }

    /// Every `(name, value)`.
    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The file sent under `name` with a file name (an empty file input sends none).
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files
            .iter()
            .find(|(k, u)| k == name && !(u.file_name.is_empty() && u.bytes.is_empty()))
            .map(|(_, u)| u)
    }

    pub async fn read(headers: &HeaderMap, body: Body) -> Fields {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return Fields {
                too_large: true,
                ..Fields::default()
            };
        };
        if let Ok(boundary) = multer::parse_boundary(&content_type) {
            return Fields::multipart(bytes, boundary).await;
        }
        Fields {
            values: form_urlencoded::parse(&bytes).into_owned().collect(),
            ..Fields::default()
        }
    }

    async fn multipart(bytes: Bytes, boundary: String) -> Fields {
        let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        let mut fields = Fields::default();
        // A broken body keeps the fields read before the fault.
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_string();
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let Ok(bytes) = field.bytes().await else {
                        break;
                    };
                    fields.files.push((name, Upload { file_name, bytes }));
                }
                None => {
                    let Ok(text) = field.text().await else { break };
                    fields.values.push((name, text));
                }
            }
        }
        fields
    }
}

/// `prefix[a]` → `a`; `prefix[a][b]` → `a`, `b`.
pub fn bracketed<'a>(name: &'a str, prefix: &str) -> Option<Vec<&'a str>> {
    let rest = name.strip_prefix(prefix)?;
    let mut parts = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        parts.push(&inner[..end]);
        rest = &inner[end + 1..];
    }
    (!parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_names_give_their_keys() {
        assert_eq!(bracketed("map_to[r1]", "map_to"), Some(vec!["r1"]));
        assert_eq!(
            bracketed("answer[r1][a2]", "answer"),
            Some(vec!["r1", "a2"])
        );
        assert_eq!(bracketed("map_to", "map_to"), None);
        assert_eq!(bracketed("map_to[r1", "map_to"), None);
        assert_eq!(bracketed("hide[r]", "map_to"), None);
    }
}
