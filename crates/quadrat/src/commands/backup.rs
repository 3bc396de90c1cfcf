//! `quadrat backup` and `quadrat restore` (the archive: `backup_archive.rs`). SQLite only:
//! PostgreSQL and object storage have their own tools (README, Operations).

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail, ensure};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quadrat_store::Store;

use crate::backup_archive::{
    self as archive, DATABASE, DatabaseManifest, FORMAT, MANIFEST, MEDIA, Manifest, MediaManifest,
    VERSION,
};
use crate::config::Config;

const POSTGRES_BACKUP: &str = "quadrat backup copies the embedded SQLite database; this server \
     uses PostgreSQL: back it up with pg_dump (e.g. `pg_dump -Fc -f quadrat.dump DBNAME`, put \
     back with pg_restore) and copy the media folder or bucket with its own tools (README, \
     Operations)";

const POSTGRES_RESTORE: &str = "quadrat restore puts a SQLite backup into a data directory; \
     this configuration uses PostgreSQL: restore it with pg_restore (README, Operations)";

/// `quadrat backup -o FILE [--media]`
pub async fn backup(config: &Config, output: &Path, media: bool) -> anyhow::Result<ExitCode> {
    let url = config.database_url();
    let Some(db_path) = sqlite_path(&url) else {
        bail!(POSTGRES_BACKUP);
    };
    ensure!(
        db_path.is_file(),
        "no database at {}: nothing to back up (check --data-dir or --database-url)",
        db_path.display()
    );
    ensure!(
        !output.exists(),
        "{} exists: choose a new file name (a backup never overwrites)",
        output.display()
    );
    let created_at = quadrat_core::time::now_millis();
    let parts = Leftovers(vec![sibling(output, ".db.part"), sibling(output, ".part")]);
    let (copy, partial) = (&parts.0[0], &parts.0[1]);
    // The copy first: one read transaction, so writers go on and the copy is consistent.
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening database {}", quadrat_store::redact(&url)))?;
    let copied = store.sqlite_copy_into(copy).await;
    store.close().await;
    copied.with_context(|| format!("copying the database into {}", copy.display()))?;
    let (counts, integrity) = inspect(copy).await?;
    if let Err(findings) = integrity {
        bail!("the database copy fails its integrity check: {findings}");
    }
    let media_files = match media {
        true => Some(
            archive::media_files(&config.media_dir())
                .with_context(|| format!("listing {}", config.media_dir().display()))?,
        ),
        false => None,
    };
    let db_bytes = std::fs::metadata(copy)?.len();
    let sha256 = {
        let mut file = File::open(copy)?;
        archive::copy_hashing(&mut file, &mut std::io::sink(), &mut |_| {})?.1
    };
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: VERSION,
        quadrat_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        database: DatabaseManifest {
            file: DATABASE.to_string(),
            bytes: db_bytes,
            sha256,
            schema_version: counts.schema_version,
            projects: counts.projects,
            users: counts.users,
            entries: counts.entries,
            branch_entries: counts.branch_entries,
        },
        media: media_files.as_ref().map(|files| MediaManifest {
            files: files.len() as u64,
            bytes: files.iter().map(|(_, n)| n).sum(),
        }),
    };
    let total = db_bytes + manifest.media.as_ref().map_or(0, |m| m.bytes);
    let bar = progress(total);
    write_archive(
        partial,
        &manifest,
        copy,
        &config.media_dir(),
        media_files.as_deref().unwrap_or_default(),
        &bar,
    )
    .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(partial, output)
        .with_context(|| format!("moving the backup to {}", output.display()))?;
    bar.finish_and_clear();
    let media_note = match &manifest.media {
        Some(m) => format!(", {} media files ({} bytes)", m.files, m.bytes),
        None => ", no media (add --media)".to_string(),
    };
    outln!(
        "backup written to {}: {} projects, {} entries, {} branch entries, {} users{media_note}",
        output.display(),
        counts.projects,
        counts.entries,
        counts.branch_entries,
        counts.users
    );
    Ok(ExitCode::SUCCESS)
}

fn write_archive(
    path: &Path,
    manifest: &Manifest,
    database: &Path,
    media_root: &Path,
    media: &[(PathBuf, u64)],
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let file = private_file(path)?;
    let mut tar = tar::Builder::new(BufWriter::new(file));
    let text = serde_json::to_vec_pretty(manifest)?;
    append(&mut tar, MANIFEST, text.len() as u64, &mut text.as_slice())?;
    let mut db = File::open(database)?;
    let db_len = db.metadata()?.len();
    append(&mut tar, DATABASE, db_len, &mut Counting(&mut db, bar))?;
    for (rel, size) in media {
        let source = media_root.join(rel);
        let mut file = File::open(&source).with_context(|| {
            format!(
                "{} went away during the backup (deleted meanwhile): run it again",
                source.display()
            )
        })?;
        // The size listed, so the manifest's count and bytes hold; files are written once
        // and renamed into place, never changed after.
        let name = Path::new(MEDIA).join(rel);
        append(
            &mut tar,
            &name.to_string_lossy(),
            *size,
            &mut Counting(&mut file, bar),
        )?;
    }
    let writer = tar.into_inner()?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

fn append(
    tar: &mut tar::Builder<impl std::io::Write>,
    name: &str,
    size: u64,
    data: &mut impl Read,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(quadrat_core::time::now_millis() / 1000).unwrap_or_default());
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data.take(size))
        .with_context(|| format!("adding {name}"))?;
    Ok(())
}

/// A reader that moves the progress bar.
struct Counting<'a, R>(&'a mut R, &'a ProgressBar);

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1.inc(n as u64);
        Ok(n)
    }
}

/// `quadrat restore FILE`
pub async fn restore(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let url = config.database_url();
    let Some(db_path) = sqlite_path(&url) else {
        bail!(POSTGRES_RESTORE);
    };
    let data_dir = &config.data_dir;
    if data_dir.exists() {
        let mut entries = std::fs::read_dir(data_dir)
            .with_context(|| format!("reading {}", data_dir.display()))?;
        ensure!(
            entries.next().is_none(),
            "{} is not empty: restore only into an empty or new data directory (nothing is \
             overwritten)",
            data_dir.display()
        );
    }
    ensure!(
        !db_path.exists(),
        "{} exists: restore only where there is no database",
        db_path.display()
    );
    let archive_file =
        File::open(file).with_context(|| format!("opening the backup {}", file.display()))?;
    let size = archive_file.metadata()?.len();
    config.ensure_dirs()?;
    let written = Leftovers(vec![
        db_path.clone(),
        sibling(&db_path, "-wal"),
        sibling(&db_path, "-shm"),
        config.media_dir(),
    ]);
    let bar = progress(size);
    let manifest = unpack(archive_file, &db_path, &config.media_dir(), &bar)
        .with_context(|| format!("restoring {}", file.display()))?;
    bar.finish_and_clear();
    let (counts, integrity) = inspect(&db_path).await?;
    if let Err(findings) = integrity {
        bail!("the restored database fails its integrity check: {findings}");
    }
    let db = &manifest.database;
    ensure!(
        (
            counts.projects,
            counts.users,
            counts.entries,
            counts.branch_entries
        ) == (db.projects, db.users, db.entries, db.branch_entries),
        "the restored database does not hold what the manifest counts"
    );
    // An archive of an older version gets the newer migrations now.
    let store = Store::connect(&url).await?;
    let migrated = store.migrate().await;
    // The restored feed re-issues seqs its clients have passed: new epochs make their cursors
    // answer 410, so they walk again instead of silently missing changes.
    let reset = match migrated {
        Ok(_) => store.reset_change_epoch(None).await.map(|_| ()),
        Err(e) => Err(e),
    };
    store.close().await;
    reset.context("migrating the restored database and renewing its change epochs")?;
    written.keep();
    let media_note = match &manifest.media {
        Some(m) => format!(", {} media files", m.files),
        None => String::new(),
    };
    outln!(
        "restored into {}: {} projects, {} entries, {} branch entries, {} users{media_note} \
         (backup taken {}); integrity check ok; changes-feed cursors handed out before answer \
         410 (their clients walk again)",
        data_dir.display(),
        db.projects,
        db.entries,
        db.branch_entries,
        db.users,
        quadrat_core::time::iso_zero_millis(manifest.created_at)
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the archive's members into place, checking each against the manifest.
fn unpack(
    file: File,
    db_path: &Path,
    media_root: &Path,
    bar: &ProgressBar,
) -> anyhow::Result<Manifest> {
    let mut reader = BufReader::new(file);
    let mut tar = tar::Archive::new(Counting(&mut reader, bar));
    let mut entries = tar.entries().context("not a tar archive")?;
    let mut first = entries
        .next()
        .context("the archive is empty")?
        .context("not a tar archive")?;
    ensure!(
        first.path()?.as_ref() == Path::new(MANIFEST),
        "not a Quadrat backup: its first member is not {MANIFEST}"
    );
    let mut text = String::new();
    (&mut first).take(1024 * 1024).read_to_string(&mut text)?;
    let manifest: Manifest =
        serde_json::from_str(&text).context("not a Quadrat backup: unreadable manifest")?;
    ensure!(
        manifest.format == FORMAT,
        "not a Quadrat backup (format {:?})",
        manifest.format
    );
    ensure!(
        manifest.version <= VERSION,
        "backup format version {} is newer than this Quadrat reads ({VERSION}): use Quadrat {} \
         or later",
        manifest.version,
        manifest.quadrat_version
    );
    let (mut database, mut media_files, mut media_bytes) = (None, 0u64, 0u64);
    for entry in entries {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path == Path::new(DATABASE) {
            ensure!(database.is_none(), "the archive holds two databases");
            let mut out = private_file(db_path)?;
            database = Some(archive::copy_hashing(&mut entry, &mut out, &mut |_| {})?);
            out.sync_all()?;
        } else if let Some(rel) = archive::media_member(&path) {
            let target = media_root.join(&rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut out = File::create(&target)?;
            let (n, _) = archive::copy_hashing(&mut entry, &mut out, &mut |_| {})?;
            media_files += 1;
            media_bytes += n;
        } else {
            bail!("unexpected member {} in the archive", path.display());
        }
    }
    let Some((bytes, sha256)) = database else {
        bail!("the archive holds no database ({DATABASE})");
    };
    ensure!(
        bytes == manifest.database.bytes && sha256 == manifest.database.sha256,
        "the database in the archive does not match its manifest (damaged archive)"
    );
    let listed = manifest
        .media
        .as_ref()
        .map_or((0, 0), |m| (m.files, m.bytes));
    ensure!(
        (media_files, media_bytes) == listed,
        "the archive holds {media_files} media files ({media_bytes} bytes), its manifest says \
         {} ({} bytes) (damaged archive)",
        listed.0,
        listed.1
    );
    Ok(manifest)
}

/// What a database file holds, and whether it passes `PRAGMA integrity_check`.
async fn inspect(
    path: &Path,
) -> anyhow::Result<(quadrat_store::DatabaseCounts, Result<(), String>)> {
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await?;
    let result = async {
        let integrity = store.sqlite_integrity().await?;
        let counts = store.counts().await?;
        anyhow::Ok((counts, integrity))
    }
    .await;
    store.close().await;
    result.with_context(|| format!("checking {}", path.display()))
}

/// The file of a `sqlite:` URL; `None` for any other database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    Some(PathBuf::from(path))
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A new file only its owner may read (a backup holds everything).
fn private_file(path: &Path) -> anyhow::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

fn progress(size: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Files and folders removed when dropped, unless kept: what a failed run leaves behind.
struct Leftovers(Vec<PathBuf>);

impl Leftovers {
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for path in &self.0 {
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(path);
            } else {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
