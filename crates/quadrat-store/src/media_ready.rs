//! Readiness of the media store: whether an upload could be stored now. Any other media store
//! (object storage) answers the same question with its own probe.

use std::io;

use crate::MediaStore;

impl MediaStore {
    /// `Ok` when the media folder exists and a file can be written in it: a probe file is
    /// created where uploads land first (`.tmp`) and removed.
    pub async fn check_ready(&self) -> io::Result<()> {
        let root = self.root();
        if !tokio::fs::metadata(root).await?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        let dir = root.join(".tmp");
        tokio::fs::create_dir_all(&dir).await?;
        let probe = dir.join(format!("ready-{}.probe", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await
    }
}
