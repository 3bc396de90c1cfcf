//! Use-cases shared by the HTTP server and the CLI. Neither HTTP nor SQL appears here: requests
//! come in as plain values, storage goes through [`quadrat_store::Store`].

pub mod accounts;
pub mod error;
pub mod mappings;
pub mod projects;

use quadrat_store::Store;

pub use error::{AppError, Result};

/// Settings the services need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The public base URL of this server (no trailing slash), used where the real server uses
    /// its configured `APP_URL`: project homepages.
    pub public_url: String,
}

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
