//! Use-cases shared by the HTTP server and the CLI. Neither HTTP nor SQL appears here: requests
//! come in as plain values, storage goes through [`quadrat_store::Store`].

pub mod access;
pub mod accounts;
pub mod bulk;
pub mod change_upkeep;
pub mod changes;
pub mod demo;
pub mod download;
pub mod entries;
pub mod error;
pub mod export;
pub mod geojson;
pub mod images;
pub mod login;
pub mod mappings;
pub mod media;
pub mod members;
pub mod mirror;
pub mod model;
pub mod oauth;
pub mod passwords;
pub mod projects;
pub mod ratelimit;
pub mod readiness;
pub mod render_ahead;
pub mod replace;
pub mod sessions;
pub mod structure_cache;
pub mod upload;
pub mod upload_batch;
pub mod zip_stream;

use std::path::PathBuf;
use std::sync::Arc;

use quadrat_store::{MediaStore, Store};

pub use error::{AppError, Result};
use images::ImageWorkers;
use passwords::{PasswordSettings, Passwords};

/// Settings the services need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The public base URL of this server (no trailing slash), used where the real server uses
    /// its configured `APP_URL`: project homepages.
    pub public_url: String,
    /// The operator set `public_url`: every link and media URL in an answer starts with it. When
    /// not, links follow the request (its `Host`, or a trusted proxy's forwarded headers).
    pub links_from_public_url: bool,
    /// The keys that sign and check access tokens; without them no token is issued or accepted.
    pub keys: Option<Arc<oauth::KeyRing>>,
    /// The media folder (`<data dir>/media`): the media store unless [`App::with_media_store`]
    /// names a bucket, and where uploads are received either way.
    pub media_dir: PathBuf,
    /// The largest upload body accepted (a video file with its multipart wrapping).
    pub max_upload_bytes: u64,
    /// The largest JSON upload body, and all the text fields of a multipart upload together.
    pub max_json_body_bytes: usize,
    /// What the request bodies being read and parsed may take together (bytes).
    pub body_memory_bytes: usize,
    /// How many password hashes run at once, and how many more may wait.
    pub passwords: PasswordSettings,
    /// The map pages' tile layer: a Leaflet URL template and its attribution (HTML).
    pub map_tiles: MapTiles,
    /// How many images are decoded and resized at once (default: one per core).
    pub image_workers: usize,
    /// Which of Quadrat's additions to the compatible surface answer (docs/protocol.md §17.0).
    pub extensions: Extensions,
}

/// Quadrat's additions beyond the real server (`[extensions]`; `compat.strict = true` turns
/// every one off, so the server answers exactly as five.epicollect.net does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extensions {
    /// `GET /api/export/changes/{slug}`.
    pub changes_feed: bool,
    /// `format=geojson` on the entries export.
    pub geojson: bool,
    /// `GET /api/openapi.json`.
    pub openapi: bool,
}

impl Default for Extensions {
    fn default() -> Self {
        Extensions {
            changes_feed: true,
            geojson: true,
            openapi: true,
        }
    }
}

impl Extensions {
    /// Everything off: the compatible surface only.
    pub fn strict() -> Extensions {
        Extensions {
            changes_feed: false,
            geojson: false,
            openapi: false,
        }
    }
}

/// Where the map pages load their tiles from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapTiles {
    /// A Leaflet URL template (`{s}`, `{z}`, `{x}`, `{y}`).
    pub url: String,
    /// Shown in the map's corner; may hold links (HTML), as tile providers require.
    pub attribution: String,
}

impl Default for MapTiles {
    /// OpenStreetMap's standard tiles.
    fn default() -> Self {
        MapTiles {
            url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png".into(),
            attribution: "&copy; <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a> contributors".into(),
        }
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            public_url: String::new(),
            links_from_public_url: false,
            keys: None,
            media_dir: PathBuf::new(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_json_body_bytes: DEFAULT_MAX_JSON_BODY_BYTES,
            body_memory_bytes: DEFAULT_BODY_MEMORY_BYTES,
            passwords: PasswordSettings::default(),
            map_tiles: MapTiles::default(),
            image_workers: ImageWorkers::default_concurrency(),
            extensions: Extensions::default(),
        }
    }
}

/// 512 MiB: the app's largest file (a 500 000 KB video) and its multipart wrapping.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;

/// 1 MiB: an entry is a few KB; 300 answers of 1,000 characters with their keys stay under it.
pub const DEFAULT_MAX_JSON_BODY_BYTES: usize = 1024 * 1024;

/// 128 MiB for request bodies held and parsed at once (docs/security.md, README: the budget).
pub const DEFAULT_BODY_MEMORY_BYTES: usize = 128 * 1024 * 1024;

/// The services, over one store.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Store,
    pub config: AppConfig,
    /// Password hashing, bounded (shared by every clone of the services).
    pub passwords: Passwords,
    /// Pixel work, bounded (shared by every clone of the services).
    pub images: ImageWorkers,
    /// Where media files are kept: the media folder, or a bucket.
    media: MediaStore,
    /// One maker per derivative (thumbnails, mobile logos) at a time.
    derivative_locks: media::SharedLocks,
    /// Projects' structures parsed once per stored version (shared by every clone).
    structures: structure_cache::StructureCache,
    /// Projects whose entries wait to be rendered ahead (shared by every clone).
    ahead_queue: Arc<render_ahead::AheadQueue>,
}

impl App {
    pub fn new(store: Store, config: AppConfig) -> App {
        let passwords = Passwords::new(&config.passwords);
        let images = ImageWorkers::new(config.image_workers);
        let media = MediaStore::folder(config.media_dir.clone());
        App {
            store,
            config,
            passwords,
            images,
            media,
            derivative_locks: Arc::default(),
            structures: structure_cache::StructureCache::default(),
            ahead_queue: Arc::default(),
        }
    }

    /// These services keeping media files in `media` (a bucket) instead of the media folder.
    pub fn with_media_store(mut self, media: MediaStore) -> App {
        self.media = media;
        self
    }
}
