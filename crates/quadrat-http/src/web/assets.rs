//! The pages' static files, compiled into the binary. Each is served under a name that holds a
//! digest of its content (`/assets/app.3f2a9c1d.css`), so it can be cached for a year: a new
//! build with a changed file gets a new name.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    stem: &'static str,
    ext: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const FILES: [Asset; 4] = [
    Asset {
        stem: "app",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/app.css"),
    },
    Asset {
        stem: "app",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/app.js"),
    },
    Asset {
        stem: "icon",
        ext: "svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/icon.svg"),
    },
    Asset {
        stem: "data",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/data.js"),
    },
];

/// Each asset's served name, in the order of `FILES`.
fn names() -> &'static [String; 4] {
    static NAMES: OnceLock<[String; 4]> = OnceLock::new();
    NAMES.get_or_init(|| {
        FILES.each_ref().map(|a| {
            let digest = Sha256::digest(a.body);
            let short: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            format!("{}.{short}.{}", a.stem, a.ext)
        })
    })
}

/// The URLs the layout links to.
pub fn css_url() -> String {
    format!("/assets/{}", names()[0])
}

pub fn js_url() -> String {
    format!("/assets/{}", names()[1])
}

pub fn icon_url() -> String {
    format!("/assets/{}", names()[2])
}

/// The data pages' script: the maps and the bulk upload's progress.
pub fn data_js_url() -> String {
    format!("/assets/{}", names()[3])
}

/// `GET /assets/{name}`: only the current names exist.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(i) = names().iter().position(|n| *n == name) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let asset = &FILES[i];
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_digest_of_the_content() {
        let css = css_url();
        assert!(
            css.starts_with("/assets/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/assets/app.12345678.css".len());
        assert_ne!(css_url(), js_url());
    }
}

/// The map library vendored by `build.rs` from the npm registry, if the build could fetch it.
mod vendored {
    include!(concat!(env!("OUT_DIR"), "/vendor.rs"));
}

/// Whether the map library is in this build.
pub fn has_map_library() -> bool {
    vendored::MAP_LIBRARY.is_some()
}

/// `GET /assets/vendor/{*path}`: the map library's files (Leaflet's CSS finds its images
/// beside it, under `images/`). Their names carry the pinned versions' content, not a digest,
/// so they are cached for a day.
pub async fn serve_vendor(Path(path): Path<String>) -> Response {
    let found = vendored::MAP_LIBRARY
        .unwrap_or_default()
        .iter()
        .find(|(name, _, _)| *name == path);
    match found {
        Some((_, kind, body)) => {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
