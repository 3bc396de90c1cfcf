//! Photos through the app's upload route (docs/protocol.md §5.9): stored normalised, as JPEG of
//! exactly 1024x768 or 768x1024 under the uploaded name; an unreadable one refused with its code
//! and nothing stored. Checked by decoding what is on disk, on both engines.

use quadrat_app::projects::ResolvedProject;
use quadrat_core::entry::MediaKind;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};

async fn server_with_site(db: &TestDb) -> (TestServer, ResolvedProject) {
    let server = TestServer::start(db).await;
    let project = import_tree_survey(&server.app).await;
    let answer = post_entry(&server, SLUG, &site_entry(&version_of(&project))).await;
    assert!(answer.is_uploaded(), "{answer:?}");
    (server, project)
}

fn stored_photo(server: &TestServer, project: &ResolvedProject) -> Option<Vec<u8>> {
    let path = server
        .app
        .media()
        .path(MediaKind::Photo, &project.project_ref, PHOTO_NAME)
        .unwrap();
    std::fs::read(path).ok()
}

async fn photo_upload_is_stored_as_normalised_jpeg(db: TestDb) {
    let (server, project) = server_with_site(&db).await;
    let data = photo_entry(&version_of(&project));
    for (label, bytes, size) in [
        ("landscape JPEG", jpeg(1024, 600), (1024, 768)),
        ("small JPEG, upscaled", jpeg(320, 240), (1024, 768)),
        ("portrait PNG", png(600, 900), (768, 1024)),
        ("square JPEG", jpeg(700, 700), (768, 1024)),
    ] {
        let answer = post_file(
            &server,
            SLUG,
            &data,
            Some((PHOTO_NAME, "image/jpeg", &bytes)),
        )
        .await;
        assert!(answer.is_uploaded(), "{label}: {answer:?}");
        let stored = stored_photo(&server, &project).expect("the stored photo");
        assert_eq!(jpeg_size(&stored), size, "{label}");
        let media = server.app.store.media_totals(project.id).await.unwrap();
        assert_eq!(
            (media.photo_files, media.photo_bytes),
            (1, stored.len() as i64),
            "{label}: one file, counted at its stored size"
        );
    }
}

async fn truncated_photo_is_refused_and_stores_nothing(db: TestDb) {
    let (server, project) = server_with_site(&db).await;
    let data = photo_entry(&version_of(&project));
    let before = snapshot(&server.app, &project).await;
    let whole = jpeg(1024, 768);
    let cut = &whole[..whole.len() / 2];
    let answer = post_file(&server, SLUG, &data, Some((PHOTO_NAME, "image/jpeg", cut))).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(
        answer.errors(),
        vec![("ec5_83".to_string(), PHOTO.to_string())],
        "{}",
        answer.body
    );
    assert_eq!(snapshot(&server.app, &project).await, before);
    assert_eq!(stored_photo(&server, &project), None);
}

both_engines!(
    photo_upload_is_stored_as_normalised_jpeg,
    truncated_photo_is_refused_and_stores_nothing,
);
