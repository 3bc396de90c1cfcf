//! The RS256 key pair that signs access tokens (docs/protocol.md §13.7).
//!
//! The private key is one PEM file: `<data dir>/keys/oauth-private.pem` by default (created on
//! the server's first start, mode 0600), or the file `oauth.private_key_file` names. Beside it,
//! `oauth-public.pem` is written for operators to copy, and `retired/*.pem` keeps the public keys
//! of replaced pairs so tokens they signed stay valid until they expire. Extra public keys
//! (`oauth.public_key_files`) are accepted too. Tokens name their key by `kid`, a digest of the
//! public key, so every instance that reads the same files agrees without configuring ids.
//!
//! The files are the only truth: a [`KeyRing`] looks at their modification stamps on every use
//! and reloads when they change, so `quadrat keys generate --force` reaches a running server at
//! its next request.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKey};
use aws_lc_rs::signature::KeyPair as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{Map, Value};

/// Where the keys are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySettings {
    /// The default folder, `<data dir>/keys`.
    pub dir: PathBuf,
    /// A private key PEM file to use instead of the one in `dir`.
    pub private_key_file: Option<PathBuf>,
    /// More public keys (PEM) whose tokens are accepted.
    pub public_key_files: Vec<PathBuf>,
}

impl KeySettings {
    pub fn in_data_dir(data_dir: &Path) -> KeySettings {
        KeySettings {
            dir: data_dir.join("keys"),
            ..KeySettings::default()
        }
    }

    pub fn private_path(&self) -> PathBuf {
        self.private_key_file
            .clone()
            .unwrap_or_else(|| self.dir.join("oauth-private.pem"))
    }

    fn folder(&self) -> PathBuf {
        match self.private_path().parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// The current public key, written for operators (other instances, other tools).
    pub fn public_path(&self) -> PathBuf {
        self.folder().join("oauth-public.pem")
    }

    /// Public keys of replaced pairs.
    pub fn retired_dir(&self) -> PathBuf {
        self.folder().join("retired")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no private key at {0}: create one with `quadrat keys generate`")]
    Missing(PathBuf),
    #[error(
        "a private key already exists at {0}; `quadrat keys generate --force` replaces it (tokens it signed stay valid until they expire)"
    )]
    Exists(PathBuf),
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("key operation failed: {0}")]
    Crypto(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |error| KeyError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// What `quadrat keys generate` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    pub kid: String,
    pub private_path: PathBuf,
    pub public_path: PathBuf,
    /// Where the replaced pair's public key went, with `--force`.
    pub retired: Option<PathBuf>,
}

struct Signing {
    kid: String,
    key: EncodingKey,
}

/// Modification time, length and (on Unix) inode: a file replaced by rename always differs.
type Stamp = Option<(SystemTime, u64, u64)>;

struct Loaded {
    stamp: Vec<Stamp>,
    signing: Option<Signing>,
    verifying: Vec<(String, DecodingKey)>,
}

/// The signing key and every accepted public key, reloaded when their files change.
pub struct KeyRing {
    settings: KeySettings,
    state: RwLock<Arc<Loaded>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("settings", &self.settings)
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the keys; the private key must exist.
    pub fn open(settings: KeySettings) -> Result<KeyRing, KeyError> {
        let loaded = load(&settings)?;
        Ok(KeyRing {
            settings,
            state: RwLock::new(Arc::new(loaded)),
        })
    }

    /// Loads the keys, generating the pair first when there is none at the default place (the
    /// server's first start). A configured private key file is never created: it must exist.
    /// Returns the ring and, when it made one, the new key's id.
    pub fn open_or_generate(settings: KeySettings) -> Result<(KeyRing, Option<String>), KeyError> {
        let path = settings.private_path();
        let mut made = None;
        if settings.private_key_file.is_none() && !path.exists() {
            match generate(&settings, false) {
                Ok(g) => made = Some(g.kid),
                // Another process generated it first: use theirs.
                Err(KeyError::Exists(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((KeyRing::open(settings)?, made))
    }

    pub fn settings(&self) -> &KeySettings {
        &self.settings
    }

    fn current(&self) -> Arc<Loaded> {
        let now = stamp(&self.settings);
        let held = match self.state.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if held.stamp == now {
            return held;
        }
        let next = match load(&self.settings) {
            Ok(loaded) => {
                tracing::info!(kid = ?loaded.signing.as_ref().map(|s| &s.kid), "signing keys reloaded");
                Arc::new(loaded)
            }
            Err(e) => {
                // Keep serving with the keys we have; say so once per change.
                tracing::error!(error = %e, "signing keys changed but cannot be read; keeping the previous ones");
                Arc::new(Loaded {
                    stamp: now,
                    signing: held.signing.as_ref().map(|s| Signing {
                        kid: s.kid.clone(),
                        key: s.key.clone(),
                    }),
                    verifying: held.verifying.clone(),
                })
            }
        };
        match self.state.write() {
            Ok(mut guard) => *guard = next.clone(),
            Err(poisoned) => *poisoned.into_inner() = next.clone(),
        }
        next
    }

    /// The id of the signing key.
    pub fn kid(&self) -> Option<String> {
        self.current().signing.as_ref().map(|s| s.kid.clone())
    }

    /// A compact RS256 JWT of `claims`, its header naming the signing key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let loaded = self.current();
        let signing = loaded
            .signing
            .as_ref()
            .ok_or_else(|| KeyError::Missing(self.settings.private_path()))?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signing.kid.clone());
        jsonwebtoken::encode(&header, claims, &signing.key)
            .map_err(|e| KeyError::Crypto(e.to_string()))
    }

    /// The claims of `token` when it is an RS256 JWT signed by one of the accepted keys (chosen
    /// by its `kid`). Time claims are not checked here.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let kid = header.kid?;
        let loaded = self.current();
        let (_, key) = loaded.verifying.iter().find(|(k, _)| *k == kid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// Writes a new pair. Without `force` an existing private key is an error; with it, the old
/// pair's public key moves to `retired/` (tokens it signed stay valid until they expire) and the
/// new private key replaces the old one in a single rename.
pub fn generate(settings: &KeySettings, force: bool) -> Result<GeneratedKey, KeyError> {
    let private_path = settings.private_path();
    let folder = settings.folder();
    create_private_dir(&folder)?;
    if private_path.exists() && !force {
        return Err(KeyError::Exists(private_path));
    }
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError::Crypto(e.to_string()))?;
    let der = pair.as_der().map_err(|e| KeyError::Crypto(e.to_string()))?;
    let private_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref()));
    let public = pair.public_key();
    let kid = kid_of(public)?;

    let tmp = folder.join(format!(".oauth-private.{}.tmp", std::process::id()));
    write_private(&tmp, private_pem.as_bytes())?;
    let mut retired = None;
    if force && private_path.exists() {
        if let Ok(old) = read_private(&private_path) {
            retired = Some(retire(settings, &old.0, &old.1)?);
        }
        std::fs::rename(&tmp, &private_path).map_err(io_err(&private_path))?;
    } else {
        // A hard link never replaces an existing file: two first starts cannot clobber each other.
        let linked = std::fs::hard_link(&tmp, &private_path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(KeyError::Exists(private_path));
            }
            Err(e) => return Err(io_err(&private_path)(e)),
        }
    }
    let public_path = settings.public_path();
    write_public(&public_path, public)?;
    Ok(GeneratedKey {
        kid,
        private_path,
        public_path,
        retired,
    })
}

fn retire(settings: &KeySettings, kid: &str, public: &PublicKey) -> Result<PathBuf, KeyError> {
    let dir = settings.retired_dir();
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let path = dir.join(format!("{kid}.pem"));
    write_public(&path, public)?;
    Ok(path)
}

fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_err(dir))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(bytes).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

fn write_public(path: &Path, public: &PublicKey) -> Result<(), KeyError> {
    let der = public
        .as_der()
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
    let text = pem::encode(&pem::Pem::new("PUBLIC KEY", der.as_ref()));
    let tmp = path.with_extension("pem.tmp");
    std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// The key id: the first 16 hex digits of the SHA-256 of the public key (X.509 DER).
fn kid_of(public: &PublicKey) -> Result<String, KeyError> {
    let der = public
        .as_der()
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der.as_ref());
    Ok(digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Reads a private key PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, as Passport
/// writes them): its key id, its public key, and the PEM text for signing.
fn read_private(path: &Path) -> Result<(String, PublicKey, Vec<u8>), KeyError> {
    let text = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => KeyError::Missing(path.to_path_buf()),
        _ => io_err(path)(e),
    })?;
    let invalid = |reason: String| KeyError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let block = pem::parse(&text).map_err(|e| invalid(format!("not a PEM file: {e}")))?;
    let pair = match block.tag() {
        "PRIVATE KEY" => KeyPair::from_pkcs8(block.contents()),
        "RSA PRIVATE KEY" => KeyPair::from_der(block.contents()),
        other => {
            return Err(invalid(format!(
                "expected an RSA private key, found {other:?}"
            )));
        }
    }
    .map_err(|e| invalid(format!("not a usable RSA private key: {e}")))?;
    if pair.public_modulus_len() < 256 {
        return Err(invalid("RSA keys must have at least 2048 bits".into()));
    }
    let public = PublicKey::from_der(pair.public_key().as_ref())
        .map_err(|e| invalid(format!("public key: {e}")))?;
    Ok((kid_of(&public)?, public, text))
}

fn read_public(path: &Path) -> Result<(String, DecodingKey), KeyError> {
    let text = std::fs::read(path).map_err(io_err(path))?;
    let invalid = |reason: String| KeyError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let block = pem::parse(&text).map_err(|e| invalid(format!("not a PEM file: {e}")))?;
    if !matches!(block.tag(), "PUBLIC KEY" | "RSA PUBLIC KEY") {
        return Err(invalid(format!(
            "expected an RSA public key, found {:?}",
            block.tag()
        )));
    }
    let public = PublicKey::from_der(block.contents())
        .map_err(|e| invalid(format!("not a usable RSA public key: {e}")))?;
    Ok((kid_of(&public)?, DecodingKey::from_rsa_der(public.as_ref())))
}

/// The files whose change means a reload: the private key, the retired folder, extra keys.
fn watched(settings: &KeySettings) -> Vec<PathBuf> {
    let mut paths = vec![settings.private_path(), settings.retired_dir()];
    paths.extend(settings.public_key_files.iter().cloned());
    paths
}

fn stamp(settings: &KeySettings) -> Vec<Stamp> {
    watched(settings)
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).ok()?;
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&meta);
            #[cfg(not(unix))]
            let inode = 0;
            Some((meta.modified().ok()?, meta.len(), inode))
        })
        .collect()
}

fn load(settings: &KeySettings) -> Result<Loaded, KeyError> {
    // Stamp first: a change during the load is then seen at the next use.
    let stamp = stamp(settings);
    let (kid, public, private_pem) = read_private(&settings.private_path())?;
    let key = EncodingKey::from_rsa_pem(&private_pem).map_err(|e| KeyError::Invalid {
        path: settings.private_path(),
        reason: e.to_string(),
    })?;
    let mut verifying = vec![(kid.clone(), DecodingKey::from_rsa_der(public.as_ref()))];
    let retired = settings.retired_dir();
    if let Ok(entries) = std::fs::read_dir(&retired) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pem"))
            .collect();
        files.sort();
        for path in files {
            match read_public(&path) {
                Ok(k) => verifying.push(k),
                Err(e) => tracing::warn!(error = %e, "retired public key skipped"),
            }
        }
    }
    for path in &settings.public_key_files {
        verifying.push(read_public(path)?);
    }
    Ok(Loaded {
        stamp,
        signing: Some(Signing { kid, key }),
        verifying,
    })
}
