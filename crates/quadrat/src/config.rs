//! Configuration: defaults → `quadrat.toml` in the data directory → `QUADRAT_*` environment →
//! command-line flags, each layer overriding the one before.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use quadrat_app::change_upkeep::TombstoneRetention;
use quadrat_app::oauth::KeySettings;
use quadrat_app::passwords::PasswordSettings;
use quadrat_app::ratelimit::{RateLimitConfig, string_list};
use quadrat_store::{Durability, MediaStore, S3Settings};
use serde::{Deserialize, Serialize};

use crate::deployment::Deployment;

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
    /// `[media]`: where media files are kept (the media folder, or an S3-compatible bucket).
    #[serde(default)]
    pub media: MediaSettings,
    /// `single` (default) or `cluster`: several instances share the database, keys and limits.
    #[serde(default)]
    pub deployment: Deployment,
    /// `text` (human lines) or `json` (one object per line).
    #[serde(default)]
    pub log_format: LogFormat,
    /// After SIGTERM or SIGINT, how long requests in flight may take to finish (seconds).
    #[serde(default = "default_grace")]
    pub shutdown_grace_seconds: u64,
    /// `[metrics]`: where `/metrics` is served, if anywhere.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// `"safe"` (default) or `"relaxed"`: how far a write is carried before it is acknowledged
    /// (docs/durability.md). Read with [`Config::durability`].
    pub durability: String,
    /// `[extensions]`: Quadrat's additions beyond the real server, each switchable.
    #[serde(default)]
    pub extensions: ExtensionSettings,
    /// `[compat]`: `strict = true` answers exactly as the real server (every extension off).
    #[serde(default)]
    pub compat: CompatSettings,
    /// `[map]`: the map pages' tiles (default: OpenStreetMap's standard tiles).
    #[serde(default)]
    pub map: MapConfig,
    /// `[sync]`: the changes feed's upkeep.
    #[serde(default)]
    pub sync: SyncSettings,
}

/// `[sync] tombstone_retention`: days a deletion stays in the changes feed (0: for ever).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncSettings {
    pub tombstone_retention: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            tombstone_retention: TombstoneRetention::DEFAULT_DAYS,
        }
    }
}

impl SyncSettings {
    pub fn retention(&self) -> TombstoneRetention {
        TombstoneRetention {
            days: self.tombstone_retention,
        }
    }
}

/// `[map] tile_url`, `[map] attribution`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapConfig {
    pub tile_url: Option<String>,
    pub attribution: Option<String>,
}

/// `[extensions]` (docs/protocol.md §17.0), each on by default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtensionSettings {
    /// `GET /api/export/changes/{slug}`.
    pub changes_feed: bool,
    /// `format=geojson` on the entries export.
    pub geojson: bool,
    /// `GET /api/openapi.json`.
    pub openapi: bool,
}

impl Default for ExtensionSettings {
    fn default() -> Self {
        ExtensionSettings {
            changes_feed: true,
            geojson: true,
            openapi: true,
        }
    }
}

/// `[compat]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CompatSettings {
    /// Turns every extension off, whatever `[extensions]` says.
    pub strict: bool,
}

/// Which media store `[media] store` names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaStoreKind {
    /// `<data dir>/media`.
    #[default]
    Folder,
    /// The bucket of `[media]`.
    S3,
}

/// `[media]` (env `QUADRAT_MEDIA__STORE`, `QUADRAT_MEDIA__BUCKET`, …). Credentials may be given
/// here, in files named by the `*_file` keys (secrets mounted by an orchestrator), or left to
/// the standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaSettings {
    pub store: MediaStoreKind,
    pub bucket: String,
    /// Prefix of every key in the bucket; the real server's layout starts at `app/`.
    pub prefix: String,
    /// An S3-compatible server's URL (MinIO, Garage, …); AWS itself when unset.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub access_key_id_file: Option<PathBuf>,
    pub secret_access_key: Option<String>,
    pub secret_access_key_file: Option<PathBuf>,
    pub session_token: Option<String>,
    pub session_token_file: Option<PathBuf>,
    /// `endpoint/bucket/key` (what self-hosted servers expect) rather than `bucket.endpoint/key`.
    pub path_style: bool,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            store: MediaStoreKind::Folder,
            bucket: String::new(),
            prefix: "app".into(),
            endpoint: None,
            region: "us-east-1".into(),
            access_key_id: None,
            access_key_id_file: None,
            secret_access_key: None,
            secret_access_key_file: None,
            session_token: None,
            session_token_file: None,
            path_style: true,
        }
    }
}

impl std::fmt::Debug for MediaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |v: &Option<String>| v.as_ref().map(|_| "(set)");
        f.debug_struct("MediaSettings")
            .field("store", &self.store)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &secret(&self.access_key_id))
            .field("access_key_id_file", &self.access_key_id_file)
            .field("secret_access_key", &secret(&self.secret_access_key))
            .field("secret_access_key_file", &self.secret_access_key_file)
            .field("session_token", &secret(&self.session_token))
            .field("session_token_file", &self.session_token_file)
            .field("path_style", &self.path_style)
            .finish()
    }
}

impl MediaSettings {
    /// The bucket's settings, credentials read from their files; refused without a bucket.
    pub fn s3(&self) -> anyhow::Result<S3Settings> {
        anyhow::ensure!(
            !self.bucket.trim().is_empty(),
            "[media] names no bucket: set media.bucket (or QUADRAT_MEDIA__BUCKET)"
        );
        let secret = |value: &Option<String>, file: &Option<PathBuf>, key: &str| match (value, file)
        {
            (Some(v), _) => Ok(Some(v.clone())),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| Some(s.trim().to_string()))
                .with_context(|| format!("reading media.{key}_file {}", path.display())),
            (None, None) => Ok(None),
        };
        Ok(S3Settings {
            bucket: self.bucket.trim().to_string(),
            prefix: self.prefix.clone(),
            endpoint: self.endpoint.clone().filter(|e| !e.is_empty()),
            region: self.region.clone(),
            access_key_id: secret(
                &self.access_key_id,
                &self.access_key_id_file,
                "access_key_id",
            )?,
            secret_access_key: secret(
                &self.secret_access_key,
                &self.secret_access_key_file,
                "secret_access_key",
            )?,
            session_token: secret(
                &self.session_token,
                &self.session_token_file,
                "session_token",
            )?,
            path_style: self.path_style,
        })
    }
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
            .field("deployment", &self.deployment)
            .field("log_format", &self.log_format)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("metrics", &self.metrics)
            .field("durability", &self.durability)
            .field("extensions", &self.extensions)
            .field("compat", &self.compat)
            .field("map", &self.map)
            .field("sync", &self.sync)
            .field("media", &self.media)
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
            deployment: Deployment::default(),
            log_format: LogFormat::Text,
            shutdown_grace_seconds: default_grace(),
            metrics: MetricsSettings::default(),
            media: MediaSettings::default(),
            durability: Durability::default().to_string(),
            extensions: ExtensionSettings::default(),
            compat: CompatSettings::default(),
            map: MapConfig::default(),
            sync: SyncSettings::default(),
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

    /// The extensions that answer: `[extensions]`, all off under `compat.strict`.
    pub fn extensions(&self) -> quadrat_app::Extensions {
        if self.compat.strict {
            return quadrat_app::Extensions::strict();
        }
        quadrat_app::Extensions {
            changes_feed: self.extensions.changes_feed,
            geojson: self.extensions.geojson,
            openapi: self.extensions.openapi,
        }
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

    /// The media store `[media]` names.
    pub fn media_store(&self) -> anyhow::Result<MediaStore> {
        match self.media.store {
            MediaStoreKind::Folder => Ok(MediaStore::folder(self.media_dir())),
            MediaStoreKind::S3 => self.bucket_store(),
        }
    }

    /// The bucket of `[media]`, whatever `store` says (`quadrat media migrate` fills it before
    /// the server is switched to it).
    pub fn bucket_store(&self) -> anyhow::Result<MediaStore> {
        let settings = self.media.s3()?;
        MediaStore::s3(&settings, self.media_dir().join(".tmp"))
            .with_context(|| format!("opening the media bucket {:?}", settings.bucket))
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

fn default_grace() -> u64 {
    quadrat_http::DEFAULT_SHUTDOWN_GRACE_SECONDS
}

/// `log_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[metrics]` (env `QUADRAT_METRICS__LISTEN`, `QUADRAT_METRICS__TOKEN`,
/// `QUADRAT_METRICS__TOKEN_FILE`). Off unless one is set.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// A listen address of its own for `/metrics` (no token there: keep it private).
    pub listen: Option<String>,
    /// `/metrics` on the main listener to `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The token read from a file (its first line), instead of `token`.
    pub token_file: Option<PathBuf>,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("token_file", &self.token_file)
            .finish()
    }
}

impl MetricsSettings {
    /// The token `/metrics` on the main listener asks for, if any.
    pub fn resolved_token(&self) -> anyhow::Result<Option<String>> {
        if let Some(token) = self.token.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Some(token.to_string()));
        }
        let Some(path) = &self.token_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading metrics.token_file {}", path.display()))?;
        let token = text.lines().next().unwrap_or_default().trim();
        anyhow::ensure!(
            !token.is_empty(),
            "metrics.token_file {} is empty: put the token on its first line",
            path.display()
        );
        Ok(Some(token.to_string()))
    }

    pub fn listen(&self) -> Option<&str> {
        self.listen.as_deref().filter(|l| !l.is_empty())
    }
}
