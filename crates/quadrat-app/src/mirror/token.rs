//! Client credentials and the token cache (docs/protocol.md §18.2): tokens are kept in a file
//! readable by its owner only (`$XDG_CACHE_HOME/quadrat/tokens.json`) until a minute before
//! they expire, to spare the remote's 10 tokens an hour. The secret itself is never stored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use quadrat_core::time::now_millis;
use serde::{Deserialize, Serialize};

/// A client app's id and secret.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    token: String,
    /// Unix ms.
    expires_at: i64,
}

/// The token cache: a file, or nothing (`None`: every run asks for a token).
#[derive(Debug, Clone)]
pub struct TokenCache {
    path: Option<PathBuf>,
}

/// Tokens are dropped this long before they expire.
const MARGIN_MS: i64 = 60_000;

impl TokenCache {
    pub fn new(path: Option<PathBuf>) -> TokenCache {
        TokenCache { path }
    }

    /// `$XDG_CACHE_HOME/quadrat/tokens.json`, or `~/.cache/quadrat/tokens.json`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("quadrat").join("tokens.json"))
    }

    fn key(base: &str, client_id: &str) -> String {
        format!("{base} {client_id}")
    }

    fn read(&self) -> BTreeMap<String, Cached> {
        self.path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn write(&self, all: &BTreeMap<String, Cached>) {
        let Some(path) = &self.path else { return };
        let written = (|| -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let text = serde_json::to_vec(all).map_err(std::io::Error::other)?;
            let tmp = path.with_extension("json.tmp");
            {
                use std::io::Write;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(&tmp)?;
                file.write_all(&text)?;
            }
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %path.display(), "could not cache the token");
        }
    }

    pub fn get(&self, base: &str, client_id: &str) -> Option<String> {
        let cached = self.read().remove(&Self::key(base, client_id))?;
        (cached.expires_at - MARGIN_MS > now_millis()).then_some(cached.token)
    }

    pub fn put(&self, base: &str, client_id: &str, token: &str, expires_in_secs: i64) {
        let mut all = self.read();
        let now = now_millis();
        all.retain(|_, c| c.expires_at > now);
        all.insert(
            Self::key(base, client_id),
            Cached {
                token: token.to_string(),
                expires_at: now + expires_in_secs * 1000,
            },
        );
        self.write(&all);
    }

    pub fn forget(&self, base: &str, client_id: &str) {
        let mut all = self.read();
        if all.remove(&Self::key(base, client_id)).is_some() {
            self.write(&all);
        }
    }
}
