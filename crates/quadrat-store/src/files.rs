//! The SQLite database file holds password hashes and the user-token signing key: only its
//! owner may read it (docs/security.md). It is created 0600 whatever the umask, before SQLite
//! opens it (SQLite gives its `-wal` and `-shm` files the database's own mode), and a file
//! found readable by others is made 0600 with a warning.

use std::path::{Path, PathBuf};

/// The companion files SQLite keeps beside a database.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates the database file at `path` (mode 0600) if it is missing, and makes it and its
/// companion files 0600 if others may read them.
#[cfg(unix)]
pub(crate) fn secure_database_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    let name = path.to_string_lossy();
    if name.is_empty() || name.starts_with(':') || name.starts_with("file:") {
        return Ok(()); // in memory: nothing on disk
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for file in std::iter::once(path.to_path_buf()).chain(companions(path)) {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            tracing::warn!(
                file = %file.display(),
                was = format!("{mode:o}"),
                "the database file was readable by others; it is now 0600 (owner only)"
            );
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn secure_database_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

fn companions(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    COMPANIONS.iter().map(move |suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_0600_and_open_ones_are_closed() {
        let dir = tempfile_dir();
        let db = dir.join("quadrat.sqlite");
        secure_database_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wal = dir.join("quadrat.sqlite-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o664)).unwrap();
        secure_database_file(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
        secure_database_file(Path::new(":memory:")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "quadrat-files-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
