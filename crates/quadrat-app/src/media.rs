//! The Get Media API (docs/protocol.md §15.1) and project logos: which file a request names,
//! what a missing one answers, and the derivatives (entry thumbnails, mobile logos) made once,
//! on their first request, and kept in the media store beside the originals.
//!
//! The HTTP layer streams what [`App::media_answer`] names, honouring `Range`; nothing here
//! knows HTTP.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use quadrat_core::entry::MediaKind;
use quadrat_core::media::{IMMUTABLE, MediaFormat, MediaRequest};
use quadrat_store::{ByteStream, LOGO_NAME, MediaKey, MediaStore, safe_name};
use tokio::sync::Mutex;

use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// The largest stored image read into memory to make a derivative from (stored photos are
/// about 100 KB; the app's limit is 5000 KB).
const MAX_SOURCE_BYTES: u64 = 20 * 1024 * 1024;

/// The source of errors the media service answers itself.
const SOURCE: &str = "media-service";

/// What the body of a media answer is.
#[derive(Debug, Clone)]
pub enum MediaBody {
    /// A stored file (an original or a kept derivative) of `size` bytes: the HTTP layer streams
    /// it with [`App::media_read`], honouring `Range`.
    Stored { key: MediaKey, size: u64 },
    /// An image made for this answer (a placeholder, a default logo).
    Made(Bytes),
}

/// One answer of the Get Media API.
#[derive(Debug, Clone)]
pub struct MediaAnswer {
    pub body: MediaBody,
    pub content_type: &'static str,
    pub cache_control: Option<&'static str>,
    /// A placeholder stands in for a missing photo (decision 9: `X-Media-Placeholder: true`).
    pub placeholder: bool,
}

/// Serialises the making of each derivative: a request that finds none takes its key's lock,
/// looks again, and makes it only if it is still missing, so a thousand first requests make
/// one. Keys share a fixed set of locks (by hash), so memory stays fixed whatever the keys.
#[derive(Debug)]
pub struct DerivativeLocks {
    stripes: Vec<Mutex<()>>,
    /// How many derivatives this process has made (each one is made once).
    made: AtomicU64,
}

impl Default for DerivativeLocks {
    fn default() -> Self {
        DerivativeLocks {
            stripes: (0..64).map(|_| Mutex::new(())).collect(),
            made: AtomicU64::new(0),
        }
    }
}

impl DerivativeLocks {
    fn lock_for(&self, key: &MediaKey) -> &Mutex<()> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let i = usize::try_from(hasher.finish() % self.stripes.len() as u64).unwrap_or(0);
        &self.stripes[i]
    }
}

/// How a derivative is made from its source.
#[derive(Debug, Clone, Copy)]
enum Derive {
    EntryThumb,
    MobileLogo,
}

fn internal(what: &'static str) -> impl FnOnce(io::Error) -> AppError {
    move |e| AppError::internal(what, e)
}

impl App {
    /// The media store (the folder or a bucket).
    pub fn media(&self) -> &MediaStore {
        &self.media
    }

    /// What `GET /api/media/{slug}` and `/api/export/media/{slug}` answer for `query` (the raw
    /// query string) on `project`, whose access the caller has checked. Refusals: the
    /// parameters' (400, docs/protocol.md §15.1); `400 ec5_103` for `format=temp` and for a
    /// name that could be a path (nothing is opened); `404 ec5_69` for missing audio or video.
    pub async fn media_answer(
        &self,
        project: &ResolvedProject,
        query: &str,
    ) -> Result<MediaAnswer> {
        let req = MediaRequest::parse(query).map_err(|errors| AppError::Client {
            status: 400,
            errors,
        })?;
        if req.format == MediaFormat::Temp || !safe_name(&req.name) {
            return Err(AppError::client(400, "ec5_103", SOURCE));
        }
        let r = &project.project_ref;
        let unsafe_name = |_| AppError::client(400, "ec5_103", SOURCE);
        let (key, derive) = match req.format {
            MediaFormat::EntryOriginal => (MediaKey::entry(MediaKind::Photo, r, &req.name), None),
            MediaFormat::EntryThumb => (
                MediaKey::entry_thumb(r, &req.name),
                Some((
                    MediaKey::entry(MediaKind::Photo, r, &req.name),
                    Derive::EntryThumb,
                )),
            ),
            MediaFormat::ProjectThumb => (MediaKey::project_file(r, &req.name), None),
            MediaFormat::ProjectMobileLogo => (
                MediaKey::mobile_logo(r, &req.name),
                Some((MediaKey::project_file(r, &req.name), Derive::MobileLogo)),
            ),
            MediaFormat::Audio => (MediaKey::entry(MediaKind::Audio, r, &req.name), None),
            MediaFormat::Video => (MediaKey::entry(MediaKind::Video, r, &req.name), None),
            MediaFormat::Temp => return Err(AppError::client(400, "ec5_103", SOURCE)),
        };
        let key = key.map_err(unsafe_name)?;
        let derive = match derive {
            Some((source, how)) => Some((source.map_err(unsafe_name)?, how)),
            None => None,
        };
        let found = match derive {
            None => self
                .media
                .size_of(&key)
                .await
                .map_err(internal("reading media"))?,
            Some((source, how)) => self.derivative(&key, &source, how).await?,
        };
        let stored = |size| MediaAnswer {
            body: MediaBody::Stored {
                key: key.clone(),
                size,
            },
            content_type: req.content_type(),
            cache_control: req.cache_control(),
            placeholder: false,
        };
        match (found, req.kind) {
            (Some(size), _) => Ok(stored(size)),
            (None, MediaKind::Photo) => Ok(self.placeholder(project, &req)),
            (None, MediaKind::Audio | MediaKind::Video) => {
                Err(AppError::client(404, "ec5_69", SOURCE))
            }
        }
    }

    /// How many thumbnails and mobile logos this process has made and kept.
    pub fn derivatives_made(&self) -> u64 {
        self.derivative_locks.made.load(Ordering::Relaxed)
    }

    /// The bytes `range` of a stored file named by a [`MediaAnswer`], streamed.
    pub async fn media_read(&self, key: &MediaKey, range: Range<u64>) -> Result<ByteStream> {
        self.media
            .read(key, range)
            .await
            .map_err(internal("reading a media file"))
    }

    /// The size of the kept derivative `key` of `source`, making it first when it is missing
    /// (once, whatever the concurrent requests); `None` when there is no source, or the source
    /// is not an image we can read (logged: a stored file Quadrat did not check).
    async fn derivative(
        &self,
        key: &MediaKey,
        source: &MediaKey,
        how: Derive,
    ) -> Result<Option<u64>> {
        let read = internal("reading media");
        if let Some(size) = self.media.size_of(key).await.map_err(read)? {
            return Ok(Some(size));
        }
        let _turn = self.derivative_locks.lock_for(key).lock().await;
        if let Some(size) = self
            .media
            .size_of(key)
            .await
            .map_err(internal("reading media"))?
        {
            return Ok(Some(size));
        }
        let Some(original) = self
            .media
            .read_small(source, MAX_SOURCE_BYTES)
            .await
            .map_err(internal("reading media"))?
        else {
            return Ok(None);
        };
        let made = self
            .images
            .run(move || match how {
                Derive::EntryThumb => quadrat_imaging::entry_thumb(&original),
                Derive::MobileLogo => quadrat_imaging::cover_jpeg(
                    &original,
                    quadrat_imaging::MOBILE_LOGO_SIDE,
                    quadrat_imaging::MOBILE_LOGO_SIDE,
                ),
            })
            .await;
        let bytes = match made {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(file = source.as_relative(), error = %e, "a stored image cannot be read");
                return Ok(None);
            }
        };
        self.media
            .store_bytes(key, &bytes)
            .await
            .map_err(internal("keeping a thumbnail"))?;
        self.derivative_locks.made.fetch_add(1, Ordering::Relaxed);
        Ok(Some(bytes.len() as u64))
    }

    /// What a missing photo answers (decision 9): the project's default logo for its
    /// `logo.jpg` (`project_thumb` 512×512, `project_mobile_logo` 128×128), the generic
    /// placeholder for `logo.jpg` elsewhere, and the same "not synced yet" image for any
    /// other name.
    fn placeholder(&self, project: &ResolvedProject, req: &MediaRequest) -> MediaAnswer {
        use quadrat_imaging::{LOGO_SIDE, MOBILE_LOGO_SIDE};
        let made = match (req.name == LOGO_NAME, req.format) {
            (true, MediaFormat::ProjectThumb) => {
                quadrat_imaging::default_logo(&project.name, &project.project_ref, LOGO_SIDE)
            }
            (true, MediaFormat::ProjectMobileLogo) => {
                quadrat_imaging::default_logo(&project.name, &project.project_ref, MOBILE_LOGO_SIDE)
            }
            (true, _) => quadrat_imaging::placeholder_logo(256, 256),
            (false, _) => quadrat_imaging::placeholder_unsynced().to_vec(),
        };
        MediaAnswer {
            body: MediaBody::Made(Bytes::from(made)),
            content_type: "image/jpeg",
            cache_control: Some(IMMUTABLE),
            placeholder: true,
        }
    }

    /// Sets a project's logo from an image file's bytes (JPEG, PNG or GIF, at most 5000 KB
    /// and 4096 px a side), covered to 512×512 JPEG: `ec5_*` refusals as the real server's
    /// logo upload (`ec5_332` too large in pixels, `ec5_403` in bytes, `ec5_83` unreadable).
    pub async fn set_project_logo(&self, project: &ResolvedProject, bytes: Vec<u8>) -> Result<()> {
        let logo = self
            .images
            .run(move || quadrat_imaging::project_logo(&bytes))
            .await
            .map_err(|e| AppError::client(400, e.code(), e.to_string()))?;
        let r = &project.project_ref;
        let key = MediaKey::logo(r).map_err(|_| AppError::client(400, "ec5_103", SOURCE))?;
        self.media
            .store_bytes(&key, &logo)
            .await
            .map_err(internal("storing a logo"))?;
        self.forget_mobile_logo(r).await
    }

    /// Removes a project's logo (its default logo is served from then on).
    pub async fn remove_project_logo(&self, project: &ResolvedProject) -> Result<()> {
        let r = &project.project_ref;
        let key = MediaKey::logo(r).map_err(|_| AppError::client(400, "ec5_103", SOURCE))?;
        self.media
            .remove(&key)
            .await
            .map_err(internal("removing a logo"))?;
        self.forget_mobile_logo(r).await
    }

    async fn forget_mobile_logo(&self, project_ref: &str) -> Result<()> {
        if let Ok(key) = MediaKey::mobile_logo(project_ref, LOGO_NAME) {
            self.media
                .remove(&key)
                .await
                .map_err(internal("removing a mobile logo"))?;
        }
        Ok(())
    }
}

/// Shared by every clone of the services.
pub type SharedLocks = Arc<DerivativeLocks>;
