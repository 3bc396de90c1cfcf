//! Media files: the media folder (the default) or S3-compatible object storage, through one
//! interface and one code path (the `object_store` crate: `LocalFileSystem` for the folder,
//! `AmazonS3` for a bucket). Keys follow the real server's layout (`media/keys.rs`,
//! docs/protocol.md §6.8), under the folder or the bucket's prefix.
//!
//! Reads, listings and deletions go through the object store for both. Writes differ in one
//! place only: an upload is first received into a temporary file beside the media folder (it
//! is checked before it is kept); the folder store then fsyncs it and renames it into place, so
//! a reader never sees half a file and a crash never leaves one, while a bucket receives it
//! streamed in parts (an object appears whole when its upload completes). Nothing is ever held
//! whole in memory: reads are streams of chunks, uploads go in parts of a few MiB.

mod copy;
mod keys;
mod objects;

use std::collections::HashSet;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetResultPayload, ObjectStore, ObjectStoreExt, WriteMultipart};
use quadrat_core::entry::MediaKind;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

pub use copy::{CopyProgress, CopyReport};
pub use keys::{LOGO_NAME, MAX_NAME_BYTES, MediaKey, UnsafeName, safe_name};
pub use objects::S3Settings;

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub kind: MediaKind,
    pub name: String,
    pub bytes: u64,
}

/// A stored file's bytes as they are read, in chunks.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// How much of a file one read of the folder store hands on at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The size of each part of an upload to a bucket (S3's minimum is 5 MiB), and how many parts
/// may be in flight: an upload holds at most `PART_BYTES × PARTS_IN_FLIGHT` in memory.
const PART_BYTES: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

/// Where media files are kept: see the module documentation.
#[derive(Clone)]
pub struct MediaStore {
    objects: Arc<dyn ObjectStore>,
    /// The prefix of every key: the folder's absolute path, or the bucket's prefix.
    prefix: ObjectPath,
    /// The folder store's own file system (for the durable write path); `None` for a bucket.
    local: Option<Arc<LocalFileSystem>>,
    /// Where uploads are received before they are kept (inside the folder for the folder
    /// store, so that keeping one is a rename).
    spool: PathBuf,
    describe: String,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// A read of a missing key, a name that cannot be a key, or a key the store refuses: nothing.
fn absent(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::NotFound { .. } | object_store::Error::InvalidPath { .. }
    )
}

fn io_error(e: object_store::Error) -> io::Error {
    io::Error::other(e)
}

impl MediaStore {
    /// The media folder at `root` (created when the first file is written).
    pub fn folder(root: impl Into<PathBuf>) -> MediaStore {
        let root: PathBuf = root.into();
        let absolute = if root.as_os_str().is_empty() {
            std::path::absolute(".")
        } else {
            std::path::absolute(&root)
        }
        .unwrap_or_else(|_| root.clone());
        // A root that is not valid UTF-8 keeps its lossy spelling for reads and writes alike.
        let prefix = ObjectPath::from_absolute_path(&absolute)
            .unwrap_or_else(|_| ObjectPath::from(absolute.to_string_lossy().as_ref()));
        let local = Arc::new(LocalFileSystem::new());
        MediaStore {
            objects: local.clone(),
            prefix,
            local: Some(local),
            spool: absolute.join(".tmp"),
            describe: format!("media folder {}", absolute.display()),
        }
    }

    /// The bucket `settings` names; uploads are received in `spool` (a local folder) first.
    pub fn s3(settings: &S3Settings, spool: impl Into<PathBuf>) -> io::Result<MediaStore> {
        let objects = settings.build().map_err(io_error)?;
        Ok(MediaStore {
            objects: Arc::new(objects),
            prefix: settings.prefix_path(),
            local: None,
            spool: spool.into(),
            describe: settings.describe(),
        })
    }

    /// What this store is, for messages (`media folder /…`, `s3://bucket/prefix`).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Whether this is the media folder (not a bucket).
    pub fn is_folder(&self) -> bool {
        self.local.is_some()
    }

    fn location(&self, key: &MediaKey) -> ObjectPath {
        let mut path = self.prefix.clone();
        for part in key.parts() {
            path = path.join(part);
        }
        path
    }

    /// The folder store's path of `key` (the one `LocalFileSystem` reads), `None` for a bucket.
    pub fn file_path(&self, key: &MediaKey) -> Option<PathBuf> {
        let local = self.local.as_ref()?;
        local.path_to_filesystem(&self.location(key)).ok()
    }

    /// Where an entry's file lives in the media folder (an error for a bucket, or for a name or
    /// ref that could be a path).
    pub fn path(&self, kind: MediaKind, project_ref: &str, name: &str) -> io::Result<PathBuf> {
        let key = MediaKey::entry(kind, project_ref, name).map_err(bad)?;
        self.file_path(&key)
            .ok_or_else(|| io::Error::other("media files are kept in a bucket, not a folder"))
    }

    /// A temporary file to stream an upload into, removed unless it is stored.
    pub async fn temp_upload(&self) -> io::Result<TempUpload> {
        tokio::fs::create_dir_all(&self.spool).await?;
        let path = self
            .spool
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(TempUpload {
            path,
            file: Some(file),
            size: 0,
            stored: false,
        })
    }

    /// The size of a stored file, `None` when there is none.
    pub async fn size_of(&self, key: &MediaKey) -> io::Result<Option<u64>> {
        self.size_at(&self.location(key)).await
    }

    async fn size_at(&self, location: &ObjectPath) -> io::Result<Option<u64>> {
        match self.objects.head(location).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(e) if absent(&e) => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    /// The bytes `range` of a stored file, streamed. `range` lies within the file's size (as
    /// [`MediaStore::size_of`] gave it); a file gone meanwhile is `NotFound`.
    pub async fn read(&self, key: &MediaKey, range: Range<u64>) -> io::Result<ByteStream> {
        self.read_at(&self.location(key), range).await
    }

    async fn read_listed(&self, listed: &Listed) -> io::Result<ByteStream> {
        self.read_at(&listed.location, 0..listed.size).await
    }

    async fn read_at(&self, location: &ObjectPath, range: Range<u64>) -> io::Result<ByteStream> {
        if range.is_empty() {
            return Ok(futures_util::stream::empty().boxed());
        }
        let options = GetOptions::new().with_range(Some(range.clone()));
        let got = match self.objects.get_opts(location, options).await {
            Ok(got) => got,
            Err(e) if absent(&e) => return Err(io::ErrorKind::NotFound.into()),
            Err(e) => return Err(io_error(e)),
        };
        match got.payload {
            // The object store reads a file 8 KiB per blocking task; larger reads of the open
            // file keep a long video cheap to stream.
            GetResultPayload::File(file, _) => {
                let mut file = tokio::fs::File::from_std(file);
                file.seek(io::SeekFrom::Start(range.start)).await?;
                let limited = file.take(range.end - range.start);
                Ok(tokio_util::io::ReaderStream::with_capacity(limited, READ_CHUNK).boxed())
            }
            GetResultPayload::Stream(stream) => Ok(stream.map_err(io_error).boxed()),
        }
    }

    /// A whole stored file of at most `max` bytes in memory (images being processed), `None`
    /// when there is none; a larger one is an `InvalidData` error.
    pub async fn read_small(&self, key: &MediaKey, max: u64) -> io::Result<Option<Bytes>> {
        let Some(size) = self.size_of(key).await? else {
            return Ok(None);
        };
        if size > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is {size} bytes, more than {max}", key.as_relative()),
            ));
        }
        let mut stream = match self.read(key, 0..size).await {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
            if out.len() as u64 > max {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "file grew"));
            }
        }
        Ok(Some(Bytes::from(out)))
    }

    /// Keeps a finished temporary upload as `key` (replacing a file of that name).
    pub async fn store_upload(&self, mut upload: TempUpload, key: &MediaKey) -> io::Result<()> {
        upload.finish().await?;
        if let Some(target) = self.file_path(key) {
            // The folder: durable rename into place.
            if let Some(dir) = target.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            tokio::fs::rename(&upload.path, &target).await?;
            upload.stored = true;
            if let Some(dir) = target.parent() {
                sync_dir(dir).await?;
            }
            return Ok(());
        }
        let file = tokio::fs::File::open(&upload.path).await?;
        self.put_at(&self.location(key), file, upload.size).await
    }

    /// Writes `bytes` as a stored file, atomically.
    pub async fn store_bytes(&self, key: &MediaKey, bytes: &[u8]) -> io::Result<()> {
        let mut upload = self.temp_upload().await?;
        upload.write(bytes).await?;
        self.store_upload(upload, key).await
    }

    /// Streams `size` bytes of `reader` into the store at `location`: one request for a small
    /// file, a multipart upload (parts of [`PART_BYTES`], [`PARTS_IN_FLIGHT`] at a time)
    /// otherwise. (The folder store's multipart upload is its own staged file and rename.)
    async fn put_at(
        &self,
        location: &ObjectPath,
        mut reader: impl tokio::io::AsyncRead + Unpin,
        size: u64,
    ) -> io::Result<()> {
        if size <= PART_BYTES as u64 {
            let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            reader.read_to_end(&mut buf).await?;
            self.objects
                .put(location, buf.into())
                .await
                .map_err(io_error)?;
            return Ok(());
        }
        let upload = self
            .objects
            .put_multipart(location)
            .await
            .map_err(io_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e);
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(io_error(e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(io_error)?;
        Ok(())
    }

    /// Removes one stored file; a missing file is not an error.
    pub async fn remove(&self, key: &MediaKey) -> io::Result<()> {
        match self.objects.delete(&self.location(key)).await {
            Err(e) if !absent(&e) => Err(io_error(e)),
            _ => Ok(()),
        }
    }

    /// Every file under the folder `parts` (a key prefix), sorted by key.
    async fn list_under(&self, parts: &[String]) -> io::Result<Vec<Listed>> {
        let mut prefix = self.prefix.clone();
        for part in parts {
            prefix = prefix.join(part.as_str());
        }
        let mut listed = self.objects.list(Some(&prefix));
        let mut out = Vec::new();
        while let Some(item) = listed.next().await {
            let meta = match item {
                Ok(meta) => meta,
                Err(e) if absent(&e) => break,
                Err(e) => return Err(io_error(e)),
            };
            let Some(rest) = meta.location.prefix_match(&self.prefix) else {
                continue;
            };
            let key = rest.map(|p| p.as_ref().to_string()).collect();
            out.push(Listed {
                location: meta.location,
                key,
                size: meta.size,
            });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Where `listed` (found in another store) goes in this one: the same key under this
    /// store's prefix.
    fn location_of_listed(&self, listed: &Listed) -> ObjectPath {
        let mut raw = self.prefix.as_ref().to_string();
        for part in &listed.key {
            if !raw.is_empty() {
                raw.push('/');
            }
            raw.push_str(part);
        }
        // The parts come from a listing, already in the object store's spelling.
        ObjectPath::parse(&raw).unwrap_or_else(|_| ObjectPath::from(raw.as_str()))
    }

    async fn remove_listed(&self, listed: &Listed) -> io::Result<()> {
        match self.objects.delete(&listed.location).await {
            Err(e) if !absent(&e) => Err(io_error(e)),
            _ => Ok(()),
        }
    }

    /// The files of one kind in a project's folder.
    pub async fn list(&self, kind: MediaKind, project_ref: &str) -> io::Result<Vec<MediaFile>> {
        Ok(self
            .list_entries(kind, project_ref)
            .await?
            .into_iter()
            .map(|l| l.file(kind))
            .collect())
    }

    async fn list_entries(&self, kind: MediaKind, project_ref: &str) -> io::Result<Vec<Listed>> {
        if !safe_name(project_ref) {
            return Ok(Vec::new());
        }
        let folder = [
            "entries".to_string(),
            kind.as_str().into(),
            project_ref.into(),
        ];
        let mut files = self.list_under(&folder).await?;
        files.retain(|l| l.key.len() == 4);
        Ok(files)
    }

    /// Removes every file of the project whose name starts with one of `uuids`
    /// (docs/protocol.md §6.8: media names start with their entry's uuid), their thumbnails
    /// too, and says which entry files went (what the media counters count).
    pub async fn delete_for_uuids(
        &self,
        project_ref: &str,
        uuids: &HashSet<String>,
    ) -> io::Result<Vec<MediaFile>> {
        let owned =
            |l: &Listed| l.key.len() == 4 && uuids.contains(l.name().get(..36).unwrap_or_default());
        let mut removed = Vec::new();
        for kind in MediaKind::ALL {
            for listed in self.list_entries(kind, project_ref).await? {
                if owned(&listed) {
                    self.remove_listed(&listed).await?;
                    removed.push(listed.file(kind));
                }
            }
        }
        if safe_name(project_ref) {
            let thumbs = [
                "thumbs".to_string(),
                "entry_thumb".into(),
                project_ref.into(),
            ];
            for listed in self.list_under(&thumbs).await? {
                if owned(&listed) {
                    self.remove_listed(&listed).await?;
                }
            }
        }
        Ok(removed)
    }

    /// Removes everything a project has stored (entry files, logo, thumbnails) and says which
    /// entry files went.
    pub async fn delete_project(&self, project_ref: &str) -> io::Result<Vec<MediaFile>> {
        let mut removed = Vec::new();
        for folder in MediaKey::project_folders(project_ref).map_err(bad)? {
            for listed in self.list_under(&folder).await? {
                self.remove_listed(&listed).await?;
                let kind = MediaKind::ALL.into_iter().find(|k| {
                    listed.key.len() == 4
                        && listed.key[0] == "entries"
                        && listed.key[1] == k.as_str()
                });
                if let Some(kind) = kind {
                    removed.push(listed.file(kind));
                }
            }
        }
        Ok(removed)
    }
}

/// One object found by a listing.
#[derive(Debug, Clone)]
struct Listed {
    /// Its full location in the object store.
    location: ObjectPath,
    /// Its key's parts below the store's prefix, as stored.
    key: Vec<String>,
    size: u64,
}

impl Listed {
    fn name(&self) -> &str {
        self.key.last().map(String::as_str).unwrap_or_default()
    }

    fn file(&self, kind: MediaKind) -> MediaFile {
        MediaFile {
            kind,
            name: self.name().to_string(),
            bytes: self.size,
        }
    }
}

fn bad(e: UnsafeName) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e)
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

#[cfg(not(unix))]
async fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// An upload being received. Dropped before it is stored, the file goes.
#[derive(Debug)]
pub struct TempUpload {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    size: u64,
    stored: bool,
}

impl TempUpload {
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("upload already finished"))?;
        file.write_all(chunk).await?;
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the upload is being received (a local file).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The first `n` bytes (fewer when the file is shorter).
    pub async fn head(&mut self, n: usize) -> io::Result<Vec<u8>> {
        self.finish().await?;
        let file = tokio::fs::File::open(&self.path).await?;
        let mut buf = Vec::with_capacity(n.min(self.size as usize));
        file.take(n as u64).read_to_end(&mut buf).await?;
        Ok(buf)
    }

    /// Flushes and syncs what was written.
    async fn finish(&mut self) -> io::Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        Ok(())
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.stored {
            // Best effort: a leftover part file in .tmp harms nothing.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
