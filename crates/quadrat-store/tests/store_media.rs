//! The media store, on the folder and on a real S3-compatible server (moto on loopback) alike:
//! keys in the real server's layout, byte-exact ranged reads, streamed uploads, deletions by
//! entry and by project, and the folder-to-bucket copy (resumed, checked by size).

use std::collections::HashSet;

use futures_util::StreamExt;
use quadrat_core::entry::MediaKind;
use quadrat_store::{MediaKey, MediaStore};
use quadrat_testkit::s3::TestBucket;

const REF: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const UUID_A: &str = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90";
const UUID_B: &str = "6e1d3b8f-8c2e-4d4f-8b90-3e7c2f5d8b01";

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn read(store: &MediaStore, key: &MediaKey, range: std::ops::Range<u64>) -> Vec<u8> {
    let mut stream = store.read(key, range).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

/// Every behaviour of the store, on `store`.
async fn exercise(store: &MediaStore) {
    let video =
        MediaKey::entry(MediaKind::Video, REF, &format!("{UUID_A}_1717406127.mp4")).unwrap();
    let photo =
        MediaKey::entry(MediaKind::Photo, REF, &format!("{UUID_B}_1717406128.jpg")).unwrap();
    let thumb = MediaKey::entry_thumb(REF, &format!("{UUID_B}_1717406128.jpg")).unwrap();
    let logo = MediaKey::logo(REF).unwrap();
    assert_eq!(store.size_of(&video).await.unwrap(), None);

    // A 12 MiB upload streamed through a temporary file (several parts on S3).
    let big = bytes(12 * 1024 * 1024 + 17, 3);
    let mut upload = store.temp_upload().await.unwrap();
    for chunk in big.chunks(64 * 1024) {
        upload.write(chunk).await.unwrap();
    }
    let spooled = upload.path().to_path_buf();
    store.store_upload(upload, &video).await.unwrap();
    assert!(!spooled.exists(), "the temporary file is gone once stored");
    let size = big.len() as u64;
    assert_eq!(store.size_of(&video).await.unwrap(), Some(size));
    assert_eq!(read(store, &video, 0..size).await, big);
    for range in [0..1, 0..100, 5_000_000..5_300_000, size - 10..size, 7..8] {
        let (a, b) = (range.start as usize, range.end as usize);
        assert_eq!(read(store, &video, range).await, &big[a..b]);
    }
    assert!(read(store, &video, 3..3).await.is_empty());

    let small = bytes(4000, 9);
    store.store_bytes(&photo, &small).await.unwrap();
    store.store_bytes(&thumb, b"thumb").await.unwrap();
    store.store_bytes(&logo, b"logo").await.unwrap();
    assert_eq!(
        store.read_small(&photo, 10_000).await.unwrap().unwrap(),
        small
    );
    assert!(store.read_small(&photo, 100).await.is_err());
    assert_eq!(
        store
            .read_small(&MediaKey::logo("other").unwrap(), 100)
            .await
            .unwrap(),
        None
    );
    // Replacing keeps one file with the new bytes.
    store.store_bytes(&photo, &small[..100]).await.unwrap();
    assert_eq!(store.size_of(&photo).await.unwrap(), Some(100));

    let photos = store.list(MediaKind::Photo, REF).await.unwrap();
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].bytes, 100);

    // Deleting entry B takes its photo and its thumbnail, and nothing of entry A.
    let gone = store
        .delete_for_uuids(REF, &HashSet::from([UUID_B.to_string()]))
        .await
        .unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].kind, gone[0].bytes), (MediaKind::Photo, 100));
    assert_eq!(store.size_of(&thumb).await.unwrap(), None);
    assert_eq!(store.size_of(&video).await.unwrap(), Some(size));

    // Deleting the project takes the rest, and says which entry files went.
    let gone = store.delete_project(REF).await.unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].kind, gone[0].bytes), (MediaKind::Video, size));
    assert_eq!(store.size_of(&logo).await.unwrap(), None);
    assert_eq!(store.size_of(&video).await.unwrap(), None);
    // Removing what is not there is no error.
    store.remove(&video).await.unwrap();
}

#[tokio::test]
async fn the_folder_store_keeps_files_in_the_real_layout() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::folder(dir.path().join("media"));
    let name = format!("{UUID_A}_1.mp4");
    let key = MediaKey::entry(MediaKind::Audio, REF, &name).unwrap();
    store.store_bytes(&key, b"abc").await.unwrap();
    let path = dir.path().join("media/entries/audio").join(REF).join(&name);
    assert_eq!(std::fs::read(&path).unwrap(), b"abc");
    assert_eq!(
        store.file_path(&key).unwrap(),
        std::path::absolute(&path).unwrap()
    );
    store.remove(&key).await.unwrap();
    assert!(!path.exists());
    exercise(&store).await;
}

#[tokio::test]
async fn the_bucket_store_keeps_files_under_its_prefix_in_the_real_layout() {
    let Some(bucket) = TestBucket::new().await else {
        return;
    };
    let spool = tempfile::tempdir().unwrap();
    let store = bucket.store(spool.path());
    let name = format!("{UUID_A}_1.mp4");
    let key = MediaKey::entry(MediaKind::Audio, REF, &name).unwrap();
    store.store_bytes(&key, b"abc").await.unwrap();
    store
        .store_bytes(&MediaKey::logo(REF).unwrap(), b"logo")
        .await
        .unwrap();
    assert_eq!(
        bucket.keys().await,
        [
            format!("app/entries/audio/{REF}/{name}"),
            format!("app/projects/{REF}/logo.jpg")
        ]
    );
    store.delete_project(REF).await.unwrap();
    assert!(bucket.keys().await.is_empty());
    exercise(&store).await;
    assert!(bucket.keys().await.is_empty());
    assert_eq!(
        std::fs::read_dir(spool.path()).unwrap().count(),
        0,
        "no upload left behind"
    );
}

#[tokio::test]
async fn the_folder_is_copied_into_a_bucket_resumably_and_checked() {
    let Some(bucket) = TestBucket::new().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let folder = MediaStore::folder(dir.path().join("media"));
    let files = [
        (
            MediaKey::entry(MediaKind::Photo, REF, &format!("{UUID_A}_1.jpg")).unwrap(),
            bytes(3000, 1),
        ),
        (
            MediaKey::entry(MediaKind::Video, REF, &format!("{UUID_A}_2.mp4")).unwrap(),
            bytes(6 * 1024 * 1024, 2),
        ),
        (MediaKey::logo(REF).unwrap(), bytes(500, 3)),
        (
            MediaKey::entry_thumb(REF, &format!("{UUID_A}_1.jpg")).unwrap(),
            bytes(50, 4),
        ),
    ];
    for (key, content) in &files {
        folder.store_bytes(key, content).await.unwrap();
    }
    // An upload being received is not copied.
    let mut pending = folder.temp_upload().await.unwrap();
    pending.write(b"half").await.unwrap();
    let target = bucket.store(dir.path().join("spool"));
    // A first run that copied only the logo (as if interrupted).
    target.store_bytes(&files[2].0, &files[2].1).await.unwrap();

    let mut seen = Vec::new();
    let report = folder.copy_all_to(&target, |p| seen.push(p)).await.unwrap();
    assert_eq!((report.copied, report.skipped), (3, 1));
    let total: u64 = files.iter().map(|(_, c)| c.len() as u64).sum();
    assert_eq!(report.bytes, total);
    let last = seen.last().unwrap();
    assert_eq!((last.files_done, last.files_total), (4, 4));
    assert_eq!((last.bytes_done, last.bytes_total), (total, total));
    for (key, content) in &files {
        let size = content.len() as u64;
        assert_eq!(&read(&target, key, 0..size).await, content);
    }
    assert_eq!(bucket.keys().await.len(), 4);

    // Run again: everything is there already.
    let again = folder.copy_all_to(&target, |_| {}).await.unwrap();
    assert_eq!((again.copied, again.skipped), (0, 4));
    drop(pending);
}

#[test]
fn hostile_names_make_no_key() {
    for name in [
        "../../etc/passwd",
        "..",
        "a/../../b",
        "..\\..\\win.ini",
        "x\0.jpg",
        ".htaccess",
        "%2e%2e/x",
        "",
    ] {
        assert!(
            MediaKey::entry(MediaKind::Photo, REF, name).is_err(),
            "{name:?}"
        );
        assert!(MediaKey::entry_thumb(REF, name).is_err(), "{name:?}");
        assert!(MediaKey::project_file(REF, name).is_err(), "{name:?}");
    }
}
