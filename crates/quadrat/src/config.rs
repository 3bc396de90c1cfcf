//! Configuration: defaults → `quadrat.toml` in the data directory → `QUADRAT_*` environment →
//! command-line flags, each layer overriding the one before.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use quadrat_app::oauth::KeySettings;
use quadrat_app::passwords::PasswordSettings;
use quadrat_app::ratelimit::{RateLimitConfig, string_list};
use quadrat_store::Durability;
use serde::{Deserialize, Serialize};

pub const DEFAULT_DATA_DIR: &str = "./quadrat-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The settings every command shares.
#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: String,
    /// `sqlite://PATH` or `postgres://…`; the SQLite file in the data directory when unset.
    pub database_url: Option<String>,
    /// The URL users reach this server at (project homepages); `http://<listen>` when unset.
    pub public_url: Option<String>,
    /// `[oauth]`: where the token-signing keys are.
    #[serde(default)]
    pub oauth: OAuthSettings,
    /// `[rate_limits]`: the limits, where counters live, trusted proxies.
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    /// The largest upload body accepted, in bytes (media files come in one request).
    pub max_upload_bytes: u64,
    /// The largest JSON upload body (and a multipart upload's text fields together), in bytes.
    pub max_json_body_bytes: usize,
    /// What request bodies being read and parsed may take together, in bytes.
    pub body_memory_bytes: usize,
    /// `[passwords]`: how many password hashes run at once, and how many more may wait.
    #[serde(default)]
    pub passwords: PasswordSettings,
    /// `"safe"` (default) or `"relaxed"`: how far a write is carried before it is acknowledged
    /// (docs/durability.md). Read with [`Config::durability`].
    pub durability: String,
}

/// `[oauth]` (env `QUADRAT_OAUTH__PRIVATE_KEY_FILE`, `QUADRAT_OAUTH__PUBLIC_KEY_FILES`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthSettings {
    /// A PEM private key to sign with, instead of `<data dir>/keys/oauth-private.pem`.
    pub private_key_file: Option<PathBuf>,
    /// More PEM public keys whose tokens are accepted (keys being rotated out elsewhere).
    #[serde(deserialize_with = "string_list")]
    pub public_key_files: Vec<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field(
                "database_url",
                &self.database_url.as_deref().map(quadrat_store::redact),
            )
            .field("public_url", &self.public_url)
            .field("oauth", &self.oauth)
            .field("rate_limits", &self.rate_limits)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("max_json_body_bytes", &self.max_json_body_bytes)
            .field("body_memory_bytes", &self.body_memory_bytes)
            .field("passwords", &self.passwords)
            .field("durability", &self.durability)
            .finish()
    }
}

/// Values given on the command line (unset ones leave lower layers alone).
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimitOverrides>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durability: Option<String>,
}

/// `serve --no-rate-limits`.
#[derive(Debug, Default, Serialize)]
pub struct RateLimitOverrides {
    pub enabled: bool,
}

impl Config {
    /// Resolves the layers. The data directory is settled first (flag, then
    /// `QUADRAT_DATA_DIR`, then the default) because `quadrat.toml` lives in it.
    pub fn load(flags: Overrides) -> anyhow::Result<Config> {
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| std::env::var_os("QUADRAT_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let defaults = Config {
            data_dir: data_dir.clone(),
            listen: DEFAULT_LISTEN.to_string(),
            database_url: None,
            public_url: None,
            oauth: OAuthSettings::default(),
            rate_limits: RateLimitConfig::default(),
            max_upload_bytes: quadrat_app::DEFAULT_MAX_UPLOAD_BYTES,
            max_json_body_bytes: quadrat_app::DEFAULT_MAX_JSON_BODY_BYTES,
            body_memory_bytes: quadrat_app::DEFAULT_BODY_MEMORY_BYTES,
            passwords: PasswordSettings::default(),
            durability: Durability::default().to_string(),
        };
        let toml_path = data_dir.join("quadrat.toml");
        let mut config: Config = Figment::from(Serialized::defaults(defaults))
            .merge(Toml::file(&toml_path))
            .merge(Env::prefixed("QUADRAT_").split("__").ignore(&["data_dir"]))
            .merge(Serialized::defaults(flags))
            .extract()
            .with_context(|| format!("reading configuration (file {})", toml_path.display()))?;
        config.data_dir = data_dir;
        config
            .durability()
            .with_context(|| format!("reading configuration (file {})", toml_path.display()))?;
        Ok(config)
    }

    /// The durability mode (checked by [`Config::load`]).
    pub fn durability(&self) -> anyhow::Result<Durability> {
        self.durability
            .parse()
            .map_err(|e: String| anyhow::anyhow!("durability: {e}"))
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}",
                self.data_dir.join("quadrat.sqlite").display()
            ),
        }
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) if !url.is_empty() => url.trim_end_matches('/').to_string(),
            _ => format!("http://{}", self.listen),
        }
    }

    /// Where the token-signing keys are.
    pub fn key_settings(&self) -> KeySettings {
        KeySettings {
            private_key_file: self.oauth.private_key_file.clone(),
            public_key_files: self
                .oauth
                .public_key_files
                .iter()
                .map(PathBuf::from)
                .collect(),
            ..KeySettings::in_data_dir(&self.data_dir)
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }

    /// Creates the data directory (mode 0700, owner only, whatever the umask: it holds the
    /// database, the keys and private projects' media) and the media folder if they are
    /// missing. A data directory others may enter is made 0700, with a warning.
    pub fn ensure_dirs(&self) -> anyhow::Result<()> {
        create_private_dir(&self.data_dir)?;
        create_dir(&self.media_dir())
    }
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let mode = std::fs::metadata(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).with_context(
            || {
                format!(
                    "{} (mode {mode:o}) is open to other users and could not be made 0700; \
                     make it owner-only (chmod 700) or choose another --data-dir",
                    dir.display()
                )
            },
        )?;
        tracing::warn!(
            dir = %dir.display(),
            was = format!("{mode:o}"),
            "the data directory was open to other users; it is now 0700 (owner only)"
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    create_dir(dir)
}
