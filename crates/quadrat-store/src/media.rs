//! Media files of entries on the local filesystem, laid out as the real server lays them out
//! (docs/protocol.md §6.8): `<root>/entries/{photo|audio|video}/{project_ref}/{name}`. Every write
//! lands in a temporary file first and is renamed into place, so a reader never sees half a
//! file. Object storage (S3) would be a second implementation of the same methods.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use quadrat_core::entry::MediaKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub kind: MediaKind,
    pub name: String,
    pub bytes: u64,
}

/// The media folder.
#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
}

impl MediaStore {
    pub fn new(root: impl Into<PathBuf>) -> MediaStore {
        MediaStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, kind: MediaKind, project_ref: &str) -> PathBuf {
        self.root
            .join("entries")
            .join(kind.as_str())
            .join(project_ref)
    }

    /// Where a file lives. Names and refs reach here validated; anything that could be a path
    /// is refused all the same.
    pub fn path(&self, kind: MediaKind, project_ref: &str, name: &str) -> io::Result<PathBuf> {
        let plain =
            |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0']);
        if !plain(project_ref) || !plain(name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a plain file name",
            ));
        }
        Ok(self.dir(kind, project_ref).join(name))
    }

    /// A temporary file to stream an upload into, removed unless it is stored.
    pub async fn temp_upload(&self) -> io::Result<TempUpload> {
        let dir = self.root.join(".tmp");
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&path).await?;
        Ok(TempUpload {
            path,
            file: Some(file),
            size: 0,
            stored: false,
        })
    }

    /// The size of a stored file, `None` when there is none.
    pub async fn size_of(
        &self,
        kind: MediaKind,
        project_ref: &str,
        name: &str,
    ) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(kind, project_ref, name)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Moves a finished temporary upload into place (replacing a file of the same name).
    pub async fn store_upload(
        &self,
        mut upload: TempUpload,
        kind: MediaKind,
        project_ref: &str,
        name: &str,
    ) -> io::Result<()> {
        let target = self.path(kind, project_ref, name)?;
        // The file's bytes are synced before the rename, the folder after it, so the name never
        // points at a file whose data a power cut could lose (docs/durability.md).
        upload.finish().await?;
        let dir = self.dir(kind, project_ref);
        let new_dir = !tokio::fs::try_exists(&dir).await.unwrap_or(false);
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::rename(&upload.path, &target).await?;
        upload.stored = true;
        sync_dir(&dir).await?;
        if new_dir {
            // Folders made just now must be on disk too: their parents hold their names.
            for parent in dir.ancestors().skip(1) {
                sync_dir(parent).await?;
                if parent == self.root {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Writes `bytes` as a stored file, atomically.
    pub async fn store_bytes(
        &self,
        kind: MediaKind,
        project_ref: &str,
        name: &str,
        bytes: &[u8],
    ) -> io::Result<()> {
        let mut upload = self.temp_upload().await?;
        upload.write(bytes).await?;
        self.store_upload(upload, kind, project_ref, name).await
    }

    /// Removes one stored file; a missing file is not an error.
    pub async fn remove(&self, kind: MediaKind, project_ref: &str, name: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(kind, project_ref, name)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The files of one kind in a project's folder.
    pub async fn list(&self, kind: MediaKind, project_ref: &str) -> io::Result<Vec<MediaFile>> {
        let mut out = Vec::new();
        let mut dir = match tokio::fs::read_dir(self.dir(kind, project_ref)).await {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        while let Some(item) = dir.next_entry().await? {
            let meta = item.metadata().await?;
            if let (true, Some(name)) = (meta.is_file(), item.file_name().to_str()) {
                out.push(MediaFile {
                    kind,
                    name: name.to_string(),
                    bytes: meta.len(),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Removes every file of the project whose name starts with one of `uuids`
    /// (docs/protocol.md §6.8: media names start with their entry's uuid) and says what went.
    pub async fn delete_for_uuids(
        &self,
        project_ref: &str,
        uuids: &HashSet<String>,
    ) -> io::Result<Vec<MediaFile>> {
        let mut removed = Vec::new();
        for kind in MediaKind::ALL {
            for file in self.list(kind, project_ref).await? {
                let owner = file.name.get(..36).unwrap_or_default();
                if uuids.contains(owner) {
                    self.remove(kind, project_ref, &file.name).await?;
                    removed.push(file);
                }
            }
        }
        Ok(removed)
    }
}

/// Syncs a folder, so the names it holds (a rename into it) survive a power cut.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
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
