//! Use-cases shared by the HTTP server and the CLI. Neither HTTP nor SQL appears here: requests
//! come in as plain values, storage goes through [`quadrat_store::Store`].

pub mod access;
pub mod accounts;
pub mod bulk;
pub mod demo;
pub mod entries;
pub mod error;
pub mod export;
pub mod mappings;
pub mod members;
pub mod model;
pub mod oauth;
pub mod projects;
pub mod ratelimit;

use std::sync::Arc;
pub mod upload;

use std::path::PathBuf;

use quadrat_store::Store;

pub use error::{AppError, Result};

/// Settings the services need.
#[derive(Debug, Clone, Default)]
pub struct AppConfig {
    /// The public base URL of this server (no trailing slash), used where the real server uses
    /// its configured `APP_URL`: project homepages.
    pub public_url: String,
    /// The keys that sign and check access tokens; without them no token is issued or accepted.
    pub keys: Option<Arc<oauth::KeyRing>>,
    /// Where media files live (`<data dir>/media`).
    pub media_dir: PathBuf,
    /// The largest upload body accepted (a video file with its multipart wrapping).
    pub max_upload_bytes: u64,
}

/// 512 MiB: the app's largest file (a 500 000 KB video) and its multipart wrapping.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;

/// The services, over one store.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Store,
    pub config: AppConfig,
}

impl App {
    pub fn new(store: Store, config: AppConfig) -> App {
        App { store, config }
    }
}
