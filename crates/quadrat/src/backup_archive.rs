//! The backup archive: one tar holding, in this order,
//!
//! - `manifest.json`: `{"format": "quadrat-backup", "version": 1, …}` with the database's size,
//!   SHA-256 and counts, and the media files' count and bytes;
//! - `quadrat.sqlite`: a consistent copy of the database (`VACUUM INTO`);
//! - `media/…`: the media folder as laid out on disk (with `--media`).
//!
//! The manifest comes first so a restore can refuse a foreign or newer archive before writing
//! anything, and checks everything else against it once written.

use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const FORMAT: &str = "quadrat-backup";
pub const VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const DATABASE: &str = "quadrat.sqlite";
pub const MEDIA: &str = "media";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The version of Quadrat that wrote it.
    pub quadrat_version: String,
    /// When the database copy began (Unix ms): it holds what was committed before.
    pub created_at: i64,
    pub database: DatabaseManifest,
    /// `None` without `--media`.
    pub media: Option<MediaManifest>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatabaseManifest {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub schema_version: i64,
    pub projects: i64,
    pub users: i64,
    pub entries: i64,
    pub branch_entries: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MediaManifest {
    pub files: u64,
    pub bytes: u64,
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies `from` into `to`, returning the bytes copied and their SHA-256 (hex); `progress` is
/// told of each chunk.
pub fn copy_hashing(
    from: &mut impl Read,
    to: &mut impl Write,
    progress: &mut dyn FnMut(u64),
) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        total += n as u64;
        progress(n as u64);
    }
    Ok((total, hex(&hasher.finalize())))
}

/// Every file under the media folder (relative paths, sorted, with sizes), leaving out the
/// uploads still being received (`.tmp`).
pub fn media_files(root: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    if root.exists() {
        walk(root, Path::new(""), &mut files)?;
    }
    files.sort();
    Ok(files)
}

fn walk(root: &Path, rel: &Path, files: &mut Vec<(PathBuf, u64)>) -> io::Result<()> {
    for entry in std::fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        if rel.as_os_str().is_empty() && name == ".tmp" {
            continue;
        }
        let path = rel.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, files)?;
        } else if kind.is_file() {
            files.push((path, entry.metadata()?.len()));
        }
    }
    Ok(())
}

/// A member's path under `media/` as a relative path of plain components, or `None` when it
/// could escape the folder (`..`, absolute, a prefix).
pub fn media_member(path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(MEDIA).ok()?;
    let mut clean = PathBuf::new();
    for component in rel.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            _ => return None,
        }
    }
    (!clean.as_os_str().is_empty()).then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_members_stay_inside_the_folder() {
        assert_eq!(
            media_member(Path::new("media/entries/photo/abc/x.jpg")),
            Some(PathBuf::from("entries/photo/abc/x.jpg"))
        );
        assert_eq!(media_member(Path::new("media/../etc/passwd")), None);
        assert_eq!(media_member(Path::new("media/a/../../b")), None);
        assert_eq!(media_member(Path::new("media")), None);
        assert_eq!(media_member(Path::new("other/x")), None);
    }
}
