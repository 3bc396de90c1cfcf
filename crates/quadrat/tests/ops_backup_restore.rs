//! `quadrat backup` of a server taking uploads, `quadrat restore` into a new data directory,
//! and a server on the restored copy: its export holds every entry acknowledged before the
//! backup began, each exactly as the original serves it, and nothing else but entries the
//! original also holds (no half-written one); the photo comes back byte for byte.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use quadrat_testkit::process::Quadrat;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const PUBLIC: &str = "http://quadrat.test";

/// Every Sites entry the server at `base` exports, by uuid.
async fn export_sites(base: &str) -> BTreeMap<String, Value> {
    let url = format!("{base}/api/export/entries/{SLUG}?form_ref={SITES}&per_page=1000");
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let entries = body["data"]["entries"].as_array().unwrap();
    assert!(entries.len() < 1000, "one page holds them all");
    entries
        .iter()
        .map(|e| (e["ec5_uuid"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

async fn upload(base: &str, content_type: &str, body: Vec<u8>) -> bool {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/upload/{SLUG}"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    response.status().as_u16() == 200
}

/// One page of the changes feed after `query`: status and `next_cursor`.
async fn feed_cursor(base: &str, query: &str) -> (u16, Option<String>) {
    let response = reqwest::get(format!("{base}/api/export/changes/{SLUG}?{query}"))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let cursor = body["meta"]["next_cursor"].as_str().map(str::to_string);
    (status, cursor)
}

/// Waits (a minute at most) until `n` uploads are acknowledged.
async fn wait_for(acknowledged: &Mutex<Vec<String>>, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {n} uploads acknowledged",
            acknowledged.lock().unwrap().len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn backup_under_upload_load_restores_to_the_moment_it_began(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    // Uploads come faster than the per-project upload budget allows.
    // Both servers write media URLs from one public URL, so their exports compare whole.
    let server = Quadrat::on(BIN, &db).serve(&["--no-rate-limits", "--public-url", PUBLIC]);
    let base = server.base.clone();
    // A site with its photo.
    let site = json!({"data": site_entry(&version)}).to_string();
    assert!(upload(&base, "application/vnd.api+json", site.into_bytes()).await);
    let (content_type, body) = multipart(
        &photo_entry(&version).to_string(),
        Some((PHOTO_NAME, "image/jpeg", &photo_bytes())),
    );
    assert!(upload(&base, &content_type, body).await);

    // Uploads go on, one after another, until told to stop; each acknowledged uuid is noted.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (acknowledged, stop, base, version) = (
            acknowledged.clone(),
            stop.clone(),
            base.clone(),
            version.clone(),
        );
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 600 {
                let uuid = new_uuid();
                let entry = json!({"data": another_site(&version, &uuid, &format!("Load {i}"))});
                if upload(
                    &base,
                    "application/vnd.api+json",
                    entry.to_string().into_bytes(),
                )
                .await
                {
                    acknowledged.lock().unwrap().push(uuid);
                }
                i += 1;
            }
        })
    };
    wait_for(&acknowledged, 20).await;
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("quadrat-backup.tar");
    let archive_arg = archive.display().to_string();
    let q = Quadrat::on(BIN, &db);
    let printed =
        tokio::task::spawn_blocking(move || q.ok(&["backup", "-o", &archive_arg, "--media"]))
            .await
            .unwrap();
    assert!(printed.contains("backup written to"), "{printed}");
    // Uploads went on during the backup; a few more after it, then stop.
    let during = acknowledged.lock().unwrap().len();
    wait_for(&acknowledged, during + 5).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let original = export_sites(&base).await;
    assert_eq!(original.len(), acknowledged.lock().unwrap().len() + 1);
    // A client of the changes feed, caught up with the original.
    let cursor = feed_cursor(&base, "").await.1.expect("a cursor");

    let restored_dir = dir.path().join("restored");
    let restored = Quadrat::new(BIN).data_dir(&restored_dir);
    let printed = restored.ok(&["restore", &archive.display().to_string()]);
    assert!(printed.contains("integrity check ok"), "{printed}");
    // The restored database passes SQLite's own check.
    let store = quadrat_store::Store::connect(&format!(
        "sqlite://{}",
        restored_dir.join("quadrat.sqlite").display()
    ))
    .await
    .unwrap();
    assert_eq!(store.sqlite_integrity().await.unwrap(), Ok(()));
    store.close().await;

    let copy = restored.serve(&["--public-url", PUBLIC]);
    let restored_sites = export_sites(&copy.base).await;
    // The restored feed would re-issue seqs that cursor has passed: it is expired (410), and a
    // fresh walk works.
    assert!(printed.contains("410"), "{printed}");
    let (status, _) = feed_cursor(&copy.base, &format!("cursor={cursor}")).await;
    assert_eq!(status, 410);
    assert_eq!(feed_cursor(&copy.base, "").await.0, 200);
    for uuid in before.iter().chain([&SITE_UUID.to_string()]) {
        assert!(
            restored_sites.contains_key(uuid),
            "{uuid} was acknowledged before the backup"
        );
    }
    for (uuid, entry) in &restored_sites {
        assert_eq!(
            original.get(uuid),
            Some(entry),
            "{uuid} differs from the original's"
        );
    }
    assert!(
        restored_sites.len() < original.len(),
        "the uploads after the backup are not in it ({} of {})",
        restored_sites.len(),
        original.len()
    );
    let photo = Path::new("entries/photo")
        .join(PROJECT_REF)
        .join(PHOTO_NAME);
    assert_eq!(
        std::fs::read(restored_dir.join("media").join(&photo)).unwrap(),
        std::fs::read(db.media_dir().join(&photo)).unwrap()
    );

    // A second restore into the now full directory is refused, and a backup never overwrites.
    let refused = restored.fails(&["restore", &archive.display().to_string()]);
    assert!(refused.contains("is not empty"), "{refused}");
    let refused = Quadrat::on(BIN, &db).fails(&["backup", "-o", &archive.display().to_string()]);
    assert!(refused.contains("never overwrites"), "{refused}");
}

async fn backup_and_restore_of_postgresql_point_at_pg_dump(db: TestDb) {
    let q = Quadrat::on(BIN, &db);
    q.ok(&["migrate"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.tar").display().to_string();
    let result = q.run(&["backup", "-o", &out]);
    if db.url.starts_with("postgres") {
        let message = result.failed();
        assert!(message.contains("pg_dump"), "{message}");
        let message = Quadrat::new(BIN)
            .data_dir(dir.path().join("new"))
            .database_url(&db.url)
            .fails(&["restore", &out]);
        assert!(message.contains("pg_restore"), "{message}");
    } else {
        result.ok();
        assert!(Path::new(&out).is_file());
    }
}

async fn restore_refuses_what_is_not_a_quadrat_backup(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.tar");
    std::fs::write(&bogus, vec![0u8; 4096]).unwrap();
    let target = dir.path().join("new");
    let message = Quadrat::new(BIN)
        .data_dir(&target)
        .fails(&["restore", &bogus.display().to_string()]);
    assert!(
        message.contains("Quadrat backup") || message.contains("empty"),
        "{message}"
    );
    // Nothing half-restored is left behind.
    assert!(!target.join("quadrat.sqlite").exists());
    drop(db);
}

mod sqlite_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn backup_under_upload_load_restores_to_the_moment_it_began() {
        super::backup_under_upload_load_restores_to_the_moment_it_began(
            quadrat_testkit::TestDb::sqlite().await,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn restore_refuses_what_is_not_a_quadrat_backup() {
        super::restore_refuses_what_is_not_a_quadrat_backup(
            quadrat_testkit::TestDb::sqlite().await,
        )
        .await;
    }
}

both_engines!(backup_and_restore_of_postgresql_point_at_pg_dump);
