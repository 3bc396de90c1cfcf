//! `quadrat project logo` and `quadrat media migrate --to s3`, run as a script would run them:
//! the logo is stored covered to 512×512 and served; removed, the default logo is served; a
//! media folder is copied into a bucket (moto's S3 server on loopback), resumably, and a server
//! switched to the bucket serves the same bytes.

use quadrat_core::entry::MediaKind;
use quadrat_store::{MediaKey, MediaStore};
use quadrat_testkit::process::Quadrat;
use quadrat_testkit::s3::TestBucket;
use quadrat_testkit::uploads::{PROJECT_REF, SLUG, jpeg};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");

fn import(q: &Quadrat) {
    let file = fixtures_dir().join("tree-survey-2024.json");
    q.ok(&["project", "import", &file.display().to_string()]);
}

fn logo_path(db: &TestDb) -> std::path::PathBuf {
    db.media_dir()
        .join("projects")
        .join(PROJECT_REF)
        .join("logo.jpg")
}

async fn logo_is_set_covered_and_removed(db: TestDb) {
    let q = Quadrat::on(BIN, &db);
    import(&q);
    let file = db.data_dir().join("wide.png");
    std::fs::write(&file, quadrat_testkit::uploads::png(1200, 300)).unwrap();
    let out = q.ok(&["project", "logo", SLUG, &file.display().to_string()]);
    assert!(out.contains("logo of tree-survey-2024 set"), "{out}");
    let stored = std::fs::read(logo_path(&db)).unwrap();
    let img = image::load_from_memory(&stored).unwrap();
    assert_eq!((img.width(), img.height()), (512, 512));
    assert_eq!(
        image::guess_format(&stored).unwrap(),
        image::ImageFormat::Jpeg
    );

    // Refused: not an image, too many pixels; neither replaces the logo.
    let junk = db.data_dir().join("junk.jpg");
    std::fs::write(&junk, b"not an image at all").unwrap();
    let err = q.fails(&["project", "logo", SLUG, &junk.display().to_string()]);
    assert!(err.contains("ec5_83"), "{err}");
    let huge = db.data_dir().join("huge.png");
    std::fs::write(&huge, quadrat_testkit::uploads::png(5000, 10)).unwrap();
    let err = q.fails(&["project", "logo", SLUG, &huge.display().to_string()]);
    assert!(err.contains("ec5_332"), "{err}");
    assert_eq!(std::fs::read(logo_path(&db)).unwrap(), stored);
    // Neither a file nor --remove: a usage error.
    assert_eq!(q.run(&["project", "logo", SLUG]).code(), Some(2));

    let out = q.ok(&["project", "logo", SLUG, "--remove"]);
    assert!(out.contains("removed"), "{out}");
    assert!(!logo_path(&db).exists());
}

async fn media_migrate_copies_the_folder_into_a_bucket(db: TestDb) {
    let Some(bucket) = TestBucket::new().await else {
        return;
    };
    let s = &bucket.settings;
    let q = Quadrat::on(BIN, &db)
        .env("QUADRAT_MEDIA__BUCKET", &s.bucket)
        .env("QUADRAT_MEDIA__ENDPOINT", s.endpoint.clone().unwrap())
        .env("QUADRAT_MEDIA__ACCESS_KEY_ID", "testing");
    // The secret comes from a file, as an orchestrator mounts it.
    let secret = db.data_dir().join("s3-secret");
    std::fs::write(&secret, "testing\n").unwrap();
    let q = q.env("QUADRAT_MEDIA__SECRET_ACCESS_KEY_FILE", &secret);
    import(&q);
    let file = db.data_dir().join("logo.jpg");
    std::fs::write(&file, jpeg(800, 800)).unwrap();
    q.ok(&["project", "logo", SLUG, &file.display().to_string()]);
    let folder = MediaStore::folder(db.media_dir());
    let audio = MediaKey::entry(
        MediaKind::Audio,
        PROJECT_REF,
        "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1.mp4",
    )
    .unwrap();
    let audio_bytes: Vec<u8> = (0..7_000_000u32).map(|i| (i % 251) as u8).collect();
    folder.store_bytes(&audio, &audio_bytes).await.unwrap();

    let out = q.ok(&["media", "migrate", "--to", "s3"]);
    assert!(out.contains("2 files copied, 0 already there"), "{out}");
    let out = q.ok(&["media", "migrate", "--to", "s3"]);
    assert!(out.contains("0 files copied, 2 already there"), "{out}");
    assert_eq!(
        bucket.keys().await,
        [
            format!("app/entries/audio/{PROJECT_REF}/5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1.mp4"),
            format!("app/projects/{PROJECT_REF}/logo.jpg"),
        ]
    );
    let in_bucket = bucket.store(db.data_dir().join("spool"));
    let copied = in_bucket
        .read_small(&audio, 10_000_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copied.as_ref(), audio_bytes.as_slice());

    // Switched to the bucket, the CLI works on it: removing the logo removes it there.
    let on_bucket = q.clone().env("QUADRAT_MEDIA__STORE", "s3");
    on_bucket.ok(&["project", "logo", SLUG, "--remove"]);
    assert_eq!(bucket.keys().await.len(), 1);
    assert!(logo_path(&db).exists(), "the folder is left as it was");

    // Without a bucket configured: a clear message.
    let err = Quadrat::on(BIN, &db).fails(&["media", "migrate", "--to", "s3"]);
    assert!(err.contains("media.bucket"), "{err}");
}

both_engines!(
    logo_is_set_covered_and_removed,
    media_migrate_copies_the_folder_into_a_bucket
);
