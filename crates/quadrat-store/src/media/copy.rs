//! Copying every stored file from one media store to another (`quadrat media migrate`): each
//! file is streamed, skipped when the target already holds it at the same size (so a copy that
//! stopped half way is resumed by running it again), and checked by size once written.

use std::io;

use futures_util::TryStreamExt;

use super::{Listed, MediaStore};

/// Where a copy stands, after each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyProgress {
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// What a copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Files written to the target.
    pub copied: u64,
    /// Files the target held already, at the same size.
    pub skipped: u64,
    /// Bytes of every file (copied or skipped).
    pub bytes: u64,
}

impl MediaStore {
    /// Copies every file of this store (entry media, logos, thumbnails; not uploads being
    /// received) into `target` under the same keys; `progress` is called after each file.
    pub async fn copy_all_to(
        &self,
        target: &MediaStore,
        mut progress: impl FnMut(CopyProgress),
    ) -> io::Result<CopyReport> {
        let files: Vec<Listed> = self
            .list_under(&[])
            .await?
            .into_iter()
            .filter(|l| l.key.first().is_some_and(|p| !p.starts_with('.')))
            .collect();
        let bytes_total = files.iter().map(|l| l.size).sum();
        let mut report = CopyReport::default();
        let mut at = CopyProgress {
            files_done: 0,
            files_total: files.len() as u64,
            bytes_done: 0,
            bytes_total,
        };
        progress(at);
        for file in &files {
            let to = target.location_of_listed(file);
            if target.size_at(&to).await? == Some(file.size) {
                report.skipped += 1;
            } else {
                let stream = self.read_listed(file).await?;
                let reader = tokio_util::io::StreamReader::new(stream.map_err(io::Error::other));
                target.put_at(&to, reader, file.size).await?;
                let written = target.size_at(&to).await?;
                if written != Some(file.size) {
                    return Err(io::Error::other(format!(
                        "{}: {} bytes in the source, {} in the target after copying",
                        file.key.join("/"),
                        file.size,
                        written.map_or("none".to_string(), |n| n.to_string())
                    )));
                }
                report.copied += 1;
            }
            report.bytes += file.size;
            at.files_done += 1;
            at.bytes_done += file.size;
            progress(at);
        }
        Ok(report)
    }
}
