//! The map of a form's located entries: a page with Leaflet (vendored at build time, see
//! `build.rs`), fed by the form's located entries streamed through the export's GeoJSON
//! ([`quadrat_app::App::stream_project_entries`]) as markers only: each Feature's id, point and
//! title, what the page shows (about a sixth of the whole Features' size).

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use quadrat_app::export::StreamOptions;
use serde::Deserialize;

use super::data::{Reader, Tabs};
use crate::web::assets;
use crate::web::render::{self, Chrome};
use crate::web::streamed;

pub fn library_ready() -> bool {
    assets::has_map_library()
}

/// The tile server's origin (`https://tile.openstreetmap.org`), for the page's policy.
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    // `{s}.tile.example.org`: any subdomain.
    let host = host.replace("{s}", "*");
    let ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'));
    (ok && matches!(scheme, "http" | "https")).then(|| format!("{scheme}://{host}"))
}

/// The pages' policy, with images also from the tile server.
pub fn with_tile_policy(mut response: Response, tile_url: &str) -> Response {
    let tiles = tile_origin(tile_url).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {tiles}; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        response.headers_mut().insert("content-security-policy", v);
    }
    response
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MapQuery {
    pub form_ref: String,
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    c: Chrome,
    t: Tabs,
    forms: Vec<(String, String, bool)>,
    feed: String,
    form_name: String,
    has_location: bool,
    map_ready: bool,
    tiles: String,
    attribution: String,
}

/// `GET /project/{slug}/data/map`
pub async fn page(reader: Reader, Path(slug): Path<String>, Query(q): Query<MapQuery>) -> Response {
    let (project, actor) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let def = match project.definition() {
        Ok(d) => d,
        Err(e) => return reader.refused(e),
    };
    let index = def.form_index(&q.form_ref).unwrap_or(0);
    let Some(form) = def.forms.get(index) else {
        return reader.refused(quadrat_app::AppError::client(400, "ec5_15", "form_ref"));
    };
    let has_location = form
        .inputs
        .iter()
        .flat_map(|i| std::iter::once(i).chain(i.children()))
        .any(|i| i.kind == quadrat_core::definition::InputType::Location);
    let tiles = &reader.state.app.config.map_tiles;
    let page = MapPage {
        c: reader.chrome(&format!("Map – {}", project.name)).await,
        t: Tabs::new(&project, &actor, "map"),
        forms: def
            .forms
            .iter()
            .enumerate()
            .map(|(i, f)| (f.form_ref.0.clone(), f.name.clone(), i == index))
            .collect(),
        feed: format!(
            "/project/{}/data/map.geojson?form_ref={}",
            project.slug,
            form_urlencoded::byte_serialize(form.form_ref.as_str().as_bytes()).collect::<String>()
        ),
        form_name: form.name.clone(),
        has_location,
        map_ready: library_ready(),
        tiles: tiles.url.clone(),
        attribution: tiles.attribution.clone(),
    };
    with_tile_policy(render::page(&page), &tiles.url)
}

/// `GET /project/{slug}/data/map.geojson?form_ref=`: the form's map markers, streamed a chunk of
/// entries at a time.
pub async fn feed(reader: Reader, Path(slug): Path<String>, Query(q): Query<MapQuery>) -> Response {
    let (project, _) = match reader.project(&slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let opts = StreamOptions {
        slug: project.slug.clone(),
        form_ref: (!q.form_ref.is_empty()).then_some(q.form_ref),
        geojson: true,
        markers: true,
        // Media URLs in the properties are not the map's: relative ones will do.
        origin: Some(String::new()),
        ..StreamOptions::default()
    };
    // An unknown form is refused before the stream starts.
    if let Some(f) = &opts.form_ref
        && project
            .definition()
            .map(|d| d.form(f).is_none())
            .unwrap_or(true)
    {
        return reader.refused(quadrat_app::AppError::client(400, "ec5_15", "form_ref"));
    }
    let app = reader.state.app.clone();
    let body = streamed::body(move |mut out| async move {
        app.stream_project_entries(&project, &opts, &mut out, &mut |_, _| {})
            .await
            .map(|_| ())
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    response
}
