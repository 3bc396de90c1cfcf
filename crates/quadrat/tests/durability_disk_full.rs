//! A full disk (docs/durability.md): the data directory is a small tmpfs, filled to the last
//! byte while the server runs. Uploads are then refused with `507` and `ec5_45` (entries) or
//! `ec5_83` (files), never a 500; nothing half-written stays (`PRAGMA integrity_check`, the
//! counters match the rows); once space is freed, uploads are accepted again. Needs root (to
//! mount the tmpfs); skipped with the reason printed otherwise.

#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use quadrat_testkit::process::{Quadrat, ServedProcess};
use quadrat_testkit::uploads::{
    PHOTO, SITES, SLUG, another_site, multipart, new_uuid, photo_bytes, valid_file_entry,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs refused: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Writes a file until the disk has no byte left.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("the filler");
    let mut written = 0u64;
    for chunk in [1 << 20, 4096, 512, 1] {
        let bytes = vec![0xa5u8; chunk];
        while file.write_all(&bytes).is_ok() {
            written += chunk as u64;
        }
    }
    let _ = file.sync_all();
    written
}

/// `(status, first code)` of one entry upload.
async fn upload_site(
    http: &reqwest::Client,
    base: &str,
    version: &str,
    uuid: &str,
) -> (u16, String) {
    let data = another_site(version, uuid, &format!("Site {uuid}"));
    let response = http
        .post(format!("{base}/api/upload/{SLUG}"))
        .json(&json!({ "data": data }))
        .send()
        .await
        .expect("an answer");
    answer(response).await
}

async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    let code = body["errors"][0]["code"]
        .as_str()
        .or(body["data"]["code"].as_str())
        .unwrap_or_default()
        .to_string();
    (status, code)
}

fn integrity(db: &Path) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg("PRAGMA integrity_check")
        .output()
        .expect("sqlite3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn sqlite_count(db: &Path, sql: &str) -> i64 {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("sqlite3");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{sql}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_refuses_uploads_clearly_corrupts_nothing_and_recovers() {
    if Command::new("sqlite3").arg("-version").output().is_err() {
        eprintln!("skipped: the sqlite3 command is not installed");
        return;
    }
    let disk = match Tmpfs::mount("24m") {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!("skipped: no small filesystem to fill ({reason})");
            return;
        }
    };
    let data: PathBuf = disk.path().join("data");
    let quadrat = Quadrat::new(BIN).data_dir(&data);
    let file = quadrat_testkit::fixtures_dir().join("tree-survey-2024.json");
    quadrat.ok(&["project", "import", file.to_str().unwrap()]);
    let database = data.join("quadrat.sqlite");
    let version = {
        let updated = sqlite_count(
            &database,
            "SELECT s.updated_at FROM project_structures s JOIN projects p ON p.id = s.project_id",
        );
        quadrat_core::time::sql_datetime(updated)
    };
    let server: ServedProcess = quadrat.serve(&["--no-rate-limits"]);
    let base = server.base.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    // Some uploads while there is room, one of them the owner of a photo sent later.
    let mut stored = Vec::new();
    for _ in 0..5 {
        let uuid = new_uuid();
        assert_eq!(
            upload_site(&http, &base, &version, &uuid).await,
            (200, "ec5_237".to_string())
        );
        stored.push(uuid);
    }

    // The disk fills up.
    let filler = disk.path().join("filler");
    let filled = fill(&filler);
    eprintln!("filled {filled} bytes");
    let mut refused = 0;
    let mut others = Vec::new();
    for _ in 0..60 {
        let uuid = new_uuid();
        match upload_site(&http, &base, &version, &uuid).await {
            (200, code) if code == "ec5_237" => stored.push(uuid),
            (507, code) if code == "ec5_45" => refused += 1,
            other => others.push(other),
        }
    }
    let owner = &stored[0];
    let name = format!("{owner}_1717406127.jpg");
    let payload = valid_file_entry(&version, SITES, owner, PHOTO, "photo", &name);
    let bytes = photo_bytes();
    let (content_type, body) = multipart(
        &payload.to_string(),
        Some((name.as_str(), "image/jpeg", &bytes)),
    );
    let photo = answer(
        http.post(format!("{base}/api/upload/{SLUG}"))
            .header("content-type", content_type.clone())
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(others.is_empty(), "only 200 or 507 ec5_45: {others:?}");
    assert!(refused > 50, "uploads refused while full: {refused} of 60");
    assert_eq!(photo, (507, "ec5_83".to_string()), "a photo while full");

    // Nothing half-written: the database is sound and its counters match its rows.
    assert_eq!(integrity(&database), "ok");
    let rows = sqlite_count(&database, "SELECT count(*) FROM entries");
    assert_eq!(rows, stored.len() as i64);
    let counted = sqlite_count(
        &database,
        "SELECT sum(entry_count) FROM entry_counters WHERE branch_ref = ''",
    );
    assert_eq!(counted, rows);

    // Space returns: the service resumes without a restart.
    std::fs::remove_file(&filler).unwrap();
    for _ in 0..10 {
        let uuid = new_uuid();
        assert_eq!(
            upload_site(&http, &base, &version, &uuid).await,
            (200, "ec5_237".to_string()),
            "after space returned"
        );
        stored.push(uuid);
    }
    let photo = answer(
        http.post(format!("{base}/api/upload/{SLUG}"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        photo,
        (200, "ec5_237".to_string()),
        "a photo after space returned"
    );
    let export: Value = http
        .get(format!("{base}/api/export/project/{SLUG}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["meta"]["project_stats"]["total_entries"],
        stored.len(),
        "{export}"
    );
    drop(server);
    assert_eq!(integrity(&database), "ok");
    let rows = sqlite_count(&database, "SELECT count(*) FROM entries");
    assert_eq!(rows, stored.len() as i64);
    eprintln!(
        "{refused} uploads refused while the disk was full; {} stored in all",
        stored.len()
    );
}
