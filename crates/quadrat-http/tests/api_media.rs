//! The Get Media API over real HTTP (docs/protocol.md §15.1): parameters, photos, thumbnails,
//! logos and placeholders, audio and video with ranges, from the media folder and from a bucket
//! (moto's S3 server on loopback) alike; hostile names; who may read a private project's files;
//! the URLs in entry exports.

mod oauth_support;

use std::sync::Arc;

use quadrat_app::projects::ResolvedProject;
use quadrat_core::entry::MediaKind;
use quadrat_core::project_state::ProjectSetting;
use quadrat_store::MediaKey;
use quadrat_testkit::s3::TestBucket;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::Value;

const AUDIO: &str = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406130.mp4";
const VIDEO: &str = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406131.mp4";

/// A reply, body read whole.
struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn error(&self) -> (String, String) {
        let v: Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)));
        (
            v["errors"][0]["code"].as_str().unwrap_or_default().into(),
            v["errors"][0]["source"].as_str().unwrap_or_default().into(),
        )
    }

    fn dimensions(&self) -> (u32, u32) {
        let img = image::load_from_memory(&self.body).expect("a decodable image");
        (img.width(), img.height())
    }
}

async fn fetch(url: &str, headers: &[(&str, &str)]) -> Got {
    let mut request = reqwest::Client::new().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    Got {
        status,
        headers,
        body,
    }
}

fn media_url(server: &TestServer, route: &str, query: &str) -> String {
    server.url(&format!("{route}/{SLUG}?{query}"))
}

/// A deterministic "video" of `n` bytes that passes the MP4 content check.
fn video_bytes(n: usize) -> Vec<u8> {
    let mut v = mp4_bytes();
    v.extend((v.len()..n).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1]));
    v.truncate(n);
    v
}

/// The worked example's project (public), its site entry, the site's photo uploaded through the
/// upload use-case, and an audio and a video file put straight into the store.
async fn seeded(server: &TestServer) -> ResolvedProject {
    let app = &server.app;
    let project = import_tree_survey(app).await;
    let version = version_of(&project);
    ingest_entry(app, &project, &site_entry(&version)).await;
    ingest_file(app, &project, &photo_entry(&version), &photo_bytes()).await;
    let r = &project.project_ref;
    let audio = MediaKey::entry(MediaKind::Audio, r, AUDIO).unwrap();
    app.media()
        .store_bytes(&audio, &video_bytes(70_001))
        .await
        .unwrap();
    let video = MediaKey::entry(MediaKind::Video, r, VIDEO).unwrap();
    app.media()
        .store_bytes(&video, &video_bytes(300_007))
        .await
        .unwrap();
    project
}

/// A server over `db`, its media in the folder or (when `bucket` is given) in the bucket.
async fn server(db: &TestDb, bucket: Option<&TestBucket>) -> TestServer {
    let mut app = db.app().await;
    if let Some(bucket) = bucket {
        app = app.with_media_store(bucket.store(db.media_dir().join(".tmp")));
    }
    TestServer::start_app(app).await
}

async fn stored(server: &TestServer, key: &MediaKey) -> Vec<u8> {
    server
        .app
        .media()
        .read_small(key, 10_000_000)
        .await
        .unwrap()
        .expect("stored")
        .to_vec()
}

async fn parameters_are_checked_in_the_real_order(db: TestDb) {
    let server = server(&db, None).await;
    seeded(&server).await;
    for route in ["/api/export/media", "/api/media", "/api/json/media"] {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "",
                &[("ec5_21", "type"), ("ec5_21", "name"), ("ec5_21", "format")],
            ),
            (
                "type=image&name[]=x&format=big",
                &[("ec5_29", "type"), ("ec5_87", "name"), ("ec5_29", "format")],
            ),
            ("type=photo&name=a.jpg", &[("ec5_21", "format")]),
        ];
        for (query, want) in cases {
            let got = fetch(&media_url(&server, route, query), &[]).await;
            assert_eq!(got.status, 400, "{route}?{query}");
            let v: Value = serde_json::from_slice(&got.body).unwrap();
            let codes: Vec<(&str, &str)> = v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["code"].as_str().unwrap(), e["source"].as_str().unwrap()))
                .collect();
            assert_eq!(&codes, want, "{route}?{query}");
        }
        let temp = fetch(
            &media_url(&server, route, "type=photo&name=a.jpg&format=temp"),
            &[],
        )
        .await;
        assert_eq!((temp.status, temp.error().0.as_str()), (400, "ec5_103"));
    }
}

async fn photos_thumbnails_logos_and_placeholders(db: TestDb) {
    let server = server(&db, None).await;
    let project = seeded(&server).await;
    let r = &project.project_ref;
    let photo = stored(
        &server,
        &MediaKey::entry(MediaKind::Photo, r, PHOTO_NAME).unwrap(),
    )
    .await;
    for route in ["/api/media", "/api/export/media"] {
        let q = |rest: &str| media_url(&server, route, rest);
        // The stored photo, a day's cache without `v`, a year's with it.
        let got = fetch(
            &q(&format!(
                "type=photo&format=entry_original&name={PHOTO_NAME}"
            )),
            &[],
        )
        .await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, photo);
        assert_eq!(got.header("content-type"), Some("image/jpeg"));
        assert_eq!(got.header("cache-control"), Some("public, max-age=86400"));
        assert_eq!(got.header("x-media-placeholder"), None);
        let got = fetch(
            &q(&format!(
                "type=photo&format=entry_original&name={PHOTO_NAME}&v=1717406127"
            )),
            &[],
        )
        .await;
        assert_eq!(
            got.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        // The thumbnail: 100×100.
        let thumb = fetch(
            &q(&format!("type=photo&format=entry_thumb&name={PHOTO_NAME}")),
            &[],
        )
        .await;
        assert_eq!((thumb.status, thumb.dimensions()), (200, (100, 100)));
        assert_eq!(thumb.header("x-media-placeholder"), None);

        // Any missing photo: the same "not synced" image, marked.
        let a = fetch(&q("type=photo&format=entry_original&name=nope_1.jpg"), &[]).await;
        let b = fetch(&q("type=photo&format=entry_thumb&name=other.jpg&v=3"), &[]).await;
        assert_eq!((a.status, b.status), (200, 200));
        assert_eq!(a.body, b.body);
        assert_eq!(a.dimensions(), (512, 512));
        for got in [&a, &b] {
            assert_eq!(got.header("x-media-placeholder"), Some("true"));
            assert_eq!(
                got.header("cache-control"),
                Some("public, max-age=31536000, immutable")
            );
            assert_eq!(got.header("content-type"), Some("image/jpeg"));
        }
        // logo.jpg outside the project folder: the generic placeholder.
        let generic = fetch(&q("type=photo&format=entry_original&name=logo.jpg"), &[]).await;
        assert_eq!(generic.dimensions(), (256, 256));
        assert_ne!(generic.body, a.body);
        // No logo yet: the project's default logo, 512 and (as the app asks for it) 128.
        let thumb = fetch(&q("type=photo&format=project_thumb&name=logo.jpg"), &[]).await;
        assert_eq!(thumb.dimensions(), (512, 512));
        assert_eq!(thumb.header("x-media-placeholder"), Some("true"));
        let mobile = fetch(
            &q("type=photo&name=logo.jpg&format=project_mobile_logo"),
            &[],
        )
        .await;
        assert_eq!(mobile.dimensions(), (128, 128));
        assert_eq!(mobile.header("x-media-placeholder"), Some("true"));
    }

    // A logo set: served as stored (512×512), its mobile version 128×128; removed: default.
    let logo = jpeg(900, 600);
    server.app.set_project_logo(&project, logo).await.unwrap();
    let q = |rest: &str| media_url(&server, "/api/media", rest);
    let thumb = fetch(&q("type=photo&format=project_thumb&name=logo.jpg"), &[]).await;
    assert_eq!(thumb.dimensions(), (512, 512));
    assert_eq!(thumb.header("x-media-placeholder"), None);
    assert_eq!(
        thumb.body,
        stored(&server, &MediaKey::logo(r).unwrap()).await
    );
    let mobile = fetch(
        &q("type=photo&format=project_mobile_logo&name=logo.jpg"),
        &[],
    )
    .await;
    assert_eq!(mobile.dimensions(), (128, 128));
    assert_eq!(mobile.header("x-media-placeholder"), None);
    server.app.remove_project_logo(&project).await.unwrap();
    let mobile = fetch(
        &q("type=photo&format=project_mobile_logo&name=logo.jpg"),
        &[],
    )
    .await;
    assert_eq!(mobile.header("x-media-placeholder"), Some("true"));
    let refused = server
        .app
        .set_project_logo(&project, b"not an image".to_vec())
        .await
        .unwrap_err();
    match refused {
        quadrat_app::AppError::Client { status, errors } => {
            assert_eq!((status, errors[0].code.as_str()), (400, "ec5_83"));
        }
        other => panic!("{other}"),
    }
}

/// Every range form, byte for byte, on the store `bucket` names (the folder when `None`).
async fn ranges_are_byte_exact(db: &TestDb, bucket: Option<&TestBucket>) {
    let server = server(db, bucket).await;
    let project = seeded(&server).await;
    let r = &project.project_ref;
    let video = stored(
        &server,
        &MediaKey::entry(MediaKind::Video, r, VIDEO).unwrap(),
    )
    .await;
    let photo = stored(
        &server,
        &MediaKey::entry(MediaKind::Photo, r, PHOTO_NAME).unwrap(),
    )
    .await;
    let size = video.len();
    let url = media_url(
        &server,
        "/api/export/media",
        &format!("type=video&format=video&name={VIDEO}"),
    );
    let whole = fetch(&url, &[]).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, video);
    assert_eq!(whole.header("content-type"), Some("video/mp4"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        whole.header("content-length"),
        Some(size.to_string().as_str())
    );
    let cases: [(&str, usize, usize); 7] = [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=-500", size - 500, size - 1),
        ("bytes=250000-", 250_000, size - 1),
        ("bytes=300000-999999", 300_000, size - 1),
        ("bytes=10-19,100-199", 10, 19),
        ("bytes=-999999", 0, size - 1),
    ];
    for (range, start, end) in cases {
        let got = fetch(&url, &[("range", range)]).await;
        assert_eq!(got.status, 206, "{range}");
        assert_eq!(got.body, &video[start..=end], "{range}");
        assert_eq!(
            got.header("content-range"),
            Some(format!("bytes {start}-{end}/{size}").as_str()),
            "{range}"
        );
        assert_eq!(
            got.header("content-length"),
            Some((end - start + 1).to_string().as_str())
        );
    }
    for past in [
        format!("bytes={size}-"),
        "bytes=999999-1000000".into(),
        "bytes=-0".into(),
    ] {
        let got = fetch(&url, &[("range", &past)]).await;
        assert_eq!(got.status, 416, "{past}");
        assert_eq!(
            got.header("content-range"),
            Some(format!("bytes */{size}").as_str())
        );
        assert!(got.body.is_empty());
    }
    // A range in another unit is ignored.
    assert_eq!(fetch(&url, &[("range", "items=0-1")]).await.status, 200);
    // HEAD: the headers, no body.
    let head = reqwest::Client::new()
        .head(&url)
        .header("range", "bytes=5-9")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 206);
    assert_eq!(
        head.headers().get("content-range").unwrap(),
        &format!("bytes 5-9/{size}")
    );
    // Audio (with its own type) and photos take ranges too.
    let audio = media_url(
        &server,
        "/api/media",
        &format!("type=audio&format=audio&name={AUDIO}"),
    );
    let got = fetch(&audio, &[("range", "bytes=-10")]).await;
    assert_eq!(
        (got.status, got.header("content-type")),
        (206, Some("audio/mp4"))
    );
    let stored_audio = stored(
        &server,
        &MediaKey::entry(MediaKind::Audio, r, AUDIO).unwrap(),
    )
    .await;
    assert_eq!(got.body, &stored_audio[stored_audio.len() - 10..]);
    let photo_url = media_url(
        &server,
        "/api/media",
        &format!("type=photo&format=entry_original&name={PHOTO_NAME}"),
    );
    let got = fetch(&photo_url, &[("range", "bytes=2-5")]).await;
    assert_eq!((got.status, got.body.as_slice()), (206, &photo[2..=5]));
    // Missing audio and video: 404 ec5_69.
    for q in [
        "type=audio&format=audio&name=gone.mp4",
        "type=video&format=video&name=gone.mp4",
    ] {
        let got = fetch(&media_url(&server, "/api/media", q), &[]).await;
        assert_eq!(got.status, 404);
        assert_eq!(got.error(), ("ec5_69".into(), "media-service".into()));
    }
}

async fn ranges_from_the_folder(db: TestDb) {
    ranges_are_byte_exact(&db, None).await;
}

async fn ranges_from_a_bucket(db: TestDb) {
    let Some(bucket) = TestBucket::new().await else {
        return;
    };
    ranges_are_byte_exact(&db, Some(&bucket)).await;
}

/// Names that could be paths, in every spelling a client might send, never reach another
/// project's files or anything outside the project's folder (or prefix).
async fn hostile_names_stay_in_the_project(db: &TestDb, bucket: Option<&TestBucket>) {
    let server = server(db, bucket).await;
    let project = seeded(&server).await;
    // A secret elsewhere: another project's audio file, a file at the store's root.
    let other = MediaKey::entry(
        MediaKind::Audio,
        "ffffffffffffffffffffffffffffffff",
        "x.mp4",
    )
    .unwrap();
    let secret = b"SECRET-BYTES-1234567890".to_vec();
    server
        .app
        .media()
        .store_bytes(&other, &secret)
        .await
        .unwrap();
    std::fs::create_dir_all(db.media_dir()).unwrap();
    std::fs::write(db.media_dir().join("passwd"), &secret).unwrap();
    let r = &project.project_ref;
    let separators = [
        "../ffffffffffffffffffffffffffffffff/x.mp4".to_string(),
        "..%2Fffffffffffffffffffffffffffffffff%2Fx.mp4".into(),
        "%2e%2e%2fpasswd".into(),
        "%2E%2E%5Cpasswd".into(),
        "..%5c..%5cpasswd".into(),
        "....//....//passwd".into(),
        "%2e%2e".into(),
        "..".into(),
        ".".into(),
        ".hidden".into(),
        "x%00.mp4".into(),
        "/etc/passwd".into(),
        "%2Fetc%2Fpasswd".into(),
        format!("..%2F..%2F..%2Fentries%2Faudio%2F{r}%2F{AUDIO}"),
        // Longer than any file name can be.
        "a".repeat(256),
        "b".repeat(10_000),
    ];
    for name in &separators {
        for (route, t, f) in [
            ("/api/media", "audio", "audio"),
            ("/api/export/media", "photo", "entry_original"),
            ("/api/media", "photo", "project_mobile_logo"),
        ] {
            let got = fetch(
                &media_url(&server, route, &format!("type={t}&format={f}&name={name}")),
                &[],
            )
            .await;
            assert_eq!(got.status, 400, "{name}");
            assert_eq!(
                got.error(),
                ("ec5_103".into(), "media-service".into()),
                "{name}"
            );
        }
    }
    // Names that are not paths: looked up inside the project and not found.
    let longest = "c".repeat(255);
    let plain = [
        "%252e%252e%252fpasswd",
        "%C0%AE%C0%AE%C0%AFpasswd",
        "%EF%BC%8E%EF%BC%8E%EF%BC%8Fpasswd",
        "%E2%80%A4%E2%80%A4%E2%88%95passwd",
        "%D1%84%D0%BE%D1%82%D0%BE.mp4",
        "passwd",
        "x.mp4",
        longest.as_str(),
        "%F0%9F%93%B7.mp4",
        "a%20b.mp4",
    ];
    for name in plain {
        let audio = fetch(
            &media_url(
                &server,
                "/api/media",
                &format!("type=audio&format=audio&name={name}"),
            ),
            &[],
        )
        .await;
        assert_eq!(audio.status, 404, "{name}");
        assert_eq!(audio.error().0, "ec5_69", "{name}");
        let photo = fetch(
            &media_url(
                &server,
                "/api/media",
                &format!("type=photo&format=entry_original&name={name}"),
            ),
            &[],
        )
        .await;
        assert_eq!(photo.status, 200, "{name}");
        assert_eq!(photo.header("x-media-placeholder"), Some("true"), "{name}");
        assert!(!photo.body.windows(secret.len()).any(|w| w == secret));
    }
    // A real file is still found by its own name.
    let ok = fetch(
        &media_url(
            &server,
            "/api/media",
            &format!("type=audio&format=audio&name={AUDIO}"),
        ),
        &[],
    )
    .await;
    assert_eq!(ok.status, 200);
    if let Some(bucket) = bucket {
        // Nothing was written outside the bucket's prefix.
        assert!(bucket.keys().await.iter().all(|k| k.starts_with("app/")));
    }
}

async fn hostile_names_in_the_folder(db: TestDb) {
    hostile_names_stay_in_the_project(&db, None).await;
}

async fn hostile_names_in_a_bucket(db: TestDb) {
    let Some(bucket) = TestBucket::new().await else {
        return;
    };
    hostile_names_stay_in_the_project(&db, Some(&bucket)).await;
}

/// A thousand concurrent first requests for a photo's thumbnail make it once; every answer is
/// the same 100×100 JPEG, which is kept and served as stored from then on.
async fn a_thousand_first_thumbnail_requests_make_one(db: TestDb) {
    let server = server(&db, None).await;
    seeded(&server).await;
    let url = Arc::new(media_url(
        &server,
        "/api/media",
        &format!("type=photo&format=entry_thumb&name={PHOTO_NAME}"),
    ));
    let client = reqwest::Client::new();
    let before = server.app.derivatives_made();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let response = client.get(url.as_str()).send().await.expect("request");
            assert_eq!(response.status().as_u16(), 200);
            response.bytes().await.expect("body").to_vec()
        }));
    }
    let mut bodies = Vec::new();
    for task in tasks {
        bodies.push(task.await.unwrap());
    }
    assert_eq!(server.app.derivatives_made() - before, 1);
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    let img = image::load_from_memory(&bodies[0]).unwrap();
    assert_eq!((img.width(), img.height()), (100, 100));
}

/// Private projects: `/api/media` wants a member's user token (not a viewer's), the export route
/// the project's own client app token.
async fn private_projects_answer_members_and_their_app(db: TestDb) {
    use quadrat_app::accounts::LoginField;
    use quadrat_core::roles::Role;
    let server = server(&db, None).await;
    seeded(&server).await;
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access("private".parse().unwrap()))
        .await
        .unwrap();
    let query = format!("type=photo&format=entry_original&name={PHOTO_NAME}");
    let app_url = media_url(&server, "/api/media", &query);
    let anonymous = fetch(&app_url, &[]).await;
    assert_eq!(
        (anonymous.status, anonymous.error().0.as_str()),
        (404, "ec5_77")
    );
    let mut tokens = Vec::new();
    for (email, role) in [
        ("none@example.org", None),
        ("viewer@example.org", Some(Role::Viewer)),
        ("collector@example.org", Some(Role::Collector)),
    ] {
        server
            .app
            .create_user(
                email,
                Some("Member"),
                Some("correct horse battery".into()),
                false,
            )
            .await
            .unwrap();
        if let Some(role) = role {
            server
                .app
                .add_member(SLUG, email, role.as_str(), false)
                .await
                .unwrap();
        }
        let body = server
            .app
            .login_local(
                LoginField::Text(email.into()),
                LoginField::Text("correct horse battery".into()),
            )
            .await
            .unwrap();
        tokens.push(body["data"]["jwt"].as_str().unwrap().to_string());
    }
    let with = |token: &str| format!("Bearer {token}");
    let none = fetch(&app_url, &[("authorization", &with(&tokens[0]))]).await;
    assert_eq!((none.status, none.error().0.as_str()), (404, "ec5_78"));
    let viewer = fetch(&app_url, &[("authorization", &with(&tokens[1]))]).await;
    assert_eq!((viewer.status, viewer.error().0.as_str()), (404, "ec5_91"));
    let collector = fetch(&app_url, &[("authorization", &with(&tokens[2]))]).await;
    assert_eq!(collector.status, 200);
    // The app's token in the `jwt` parameter works too.
    let by_param = fetch(&format!("{app_url}&jwt={}", tokens[2]), &[]).await;
    assert_eq!(by_param.body, collector.body);

    let export_url = media_url(&server, "/api/export/media", &query);
    let refused = fetch(&export_url, &[]).await;
    assert_eq!(
        (refused.status, refused.error().0.as_str()),
        (404, "ec5_256")
    );
    let secret = oauth_support::create_app(&server, SLUG).await;
    let token = oauth_support::token_for(&server, &secret).await;
    let allowed = fetch(&export_url, &[("authorization", &with(&token))]).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.body, collector.body);
}

/// The media answers of entry exports name the file: the public URL as it is, the private file
/// name through the export media route with a token.
async fn media_urls_in_exports_resolve(db: TestDb) {
    let server = server(&db, None).await;
    let project = seeded(&server).await;
    let photo = stored(
        &server,
        &MediaKey::entry(MediaKind::Photo, &project.project_ref, PHOTO_NAME).unwrap(),
    )
    .await;
    let export = |auth: Option<String>| {
        let server = &server;
        async move {
            let mut headers = Vec::new();
            if let Some(a) = &auth {
                headers.push(("authorization", a.clone()));
            }
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let got = fetch(&server.url(&format!("/api/export/entries/{SLUG}")), &refs).await;
            assert_eq!(got.status, 200);
            let v: Value = serde_json::from_slice(&got.body).unwrap();
            let entry = &v["data"]["entries"][0];
            entry
                .as_object()
                .unwrap()
                .values()
                .filter_map(Value::as_str)
                .find(|s| s.contains(PHOTO_NAME))
                .expect("the photo answer")
                .to_string()
        }
    };
    let public = export(None).await;
    assert!(
        public.starts_with(&server.url(&format!("/api/media/{SLUG}?"))),
        "{public}"
    );
    assert!(public.contains("&v="), "{public}");
    let got = fetch(&public, &[]).await;
    assert_eq!((got.status, &got.body), (200, &photo));
    assert_eq!(
        got.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );

    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access("private".parse().unwrap()))
        .await
        .unwrap();
    let secret = oauth_support::create_app(&server, SLUG).await;
    let bearer = format!(
        "Bearer {}",
        oauth_support::token_for(&server, &secret).await
    );
    let name = export(Some(bearer.clone())).await;
    assert_eq!(name, PHOTO_NAME);
    let got = fetch(
        &media_url(
            &server,
            "/api/export/media",
            &format!("type=photo&format=entry_original&name={name}"),
        ),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!((got.status, &got.body), (200, &photo));
}

/// The app's media route: 5 a second and 300 a minute per project by default (shared by its
/// JSON alias), besides the global budget; the export media route: 30 a minute per project.
async fn media_routes_are_rate_limited_per_project(db: TestDb) {
    use quadrat_app::ratelimit::Limiter;
    use quadrat_core::ratelimit::Limits;
    use quadrat_testkit::ManualClock;
    const T0: i64 = 1_780_000_000_000;
    let clock = ManualClock::at(T0);
    let limits = Limits {
        app_media_per_minute: 12,
        ..Limits::default()
    };
    assert_eq!(
        (
            Limits::default().app_media_per_second,
            Limits::default().app_media_per_minute
        ),
        (5, 300)
    );
    let limiter = Limiter::in_memory(limits).with_clock(clock.clone());
    let server = TestServer::start_with_limiter(&db, limiter).await;
    seeded(&server).await;
    let query = "type=photo&format=entry_original&name=missing.jpg";
    let refused = |got: &Got, limit: &str| {
        assert_eq!(got.status, 429, "limit {limit}: {:?}", got.headers);
        assert_eq!(got.error(), ("ec5_255".into(), "rate-limiter".into()));
        assert_eq!(got.header("x-ratelimit-limit"), Some(limit));
        assert_eq!(got.header("x-ratelimit-remaining"), Some("0"));
        assert!(got.header("retry-after").is_some());
    };
    // Five a second, whichever alias and however the slug is spelt.
    for i in 0..5 {
        let route = if i % 2 == 0 {
            "/api/media"
        } else {
            "/api/json/media"
        };
        let got = fetch(
            &server.url(&format!("{route}/Tree-Survey-2024?{query}")),
            &[],
        )
        .await;
        assert_eq!(got.status, 200, "request {i}");
    }
    refused(
        &fetch(&media_url(&server, "/api/json/media", query), &[]).await,
        "5",
    );
    // The minute's budget (300; 12 here) holds across seconds.
    let mut granted = 5;
    while granted < 12 {
        clock.advance(1_000);
        for _ in 0..5.min(12 - granted) {
            let got = fetch(&media_url(&server, "/api/media", query), &[]).await;
            assert_eq!(got.status, 200, "request {granted}");
            granted += 1;
        }
    }
    clock.advance(1_000);
    refused(
        &fetch(&media_url(&server, "/api/media", query), &[]).await,
        "12",
    );

    // The export media route has a bucket of its own: 30 a minute.
    for i in 0..30 {
        let got = fetch(&media_url(&server, "/api/export/media", query), &[]).await;
        assert_eq!(got.status, 200, "export request {i}");
    }
    refused(
        &fetch(&media_url(&server, "/api/export/media", query), &[]).await,
        "30",
    );
    clock.advance(60_000);
    assert_eq!(
        fetch(&media_url(&server, "/api/export/media", query), &[])
            .await
            .status,
        200
    );
}

/// Deleting an entry (and then its project) removes its files from the bucket that holds them,
/// thumbnails included, and the media counts follow.
async fn deletions_empty_the_bucket_and_keep_counts_exact(db: TestDb) {
    use quadrat_app::entries::Deletion;
    let Some(bucket) = TestBucket::new().await else {
        return;
    };
    let server = server(&db, Some(&bucket)).await;
    let project = seeded(&server).await;
    let totals = server.app.store.media_totals(project.id).await.unwrap();
    let photo = stored(
        &server,
        &MediaKey::entry(MediaKind::Photo, &project.project_ref, PHOTO_NAME).unwrap(),
    )
    .await;
    assert_eq!(
        (totals.photo_files, totals.photo_bytes),
        (1, photo.len() as i64)
    );
    let thumb = fetch(
        &media_url(
            &server,
            "/api/media",
            &format!("type=photo&format=entry_thumb&name={PHOTO_NAME}"),
        ),
        &[],
    )
    .await;
    assert_eq!(thumb.status, 200);
    let r = &project.project_ref;
    assert_eq!(
        bucket.keys().await,
        [
            format!("app/entries/audio/{r}/{AUDIO}"),
            format!("app/entries/photo/{r}/{PHOTO_NAME}"),
            format!("app/entries/video/{r}/{VIDEO}"),
            format!("app/thumbs/entry_thumb/{r}/{PHOTO_NAME}"),
        ]
    );
    let report = server
        .app
        .delete_entries(SLUG, &Deletion::Uuid(SITE_UUID.into()))
        .await
        .unwrap();
    // The site's photo, audio and video all start with its uuid.
    assert_eq!(report.files.len(), 3);
    assert!(bucket.keys().await.is_empty());
    let totals = server.app.store.media_totals(project.id).await.unwrap();
    assert_eq!((totals.photo_files, totals.photo_bytes), (0, 0));
    let gone = fetch(
        &media_url(
            &server,
            "/api/media",
            &format!("type=photo&format=entry_thumb&name={PHOTO_NAME}"),
        ),
        &[],
    )
    .await;
    assert_eq!(gone.header("x-media-placeholder"), Some("true"));
    // A project deleted takes its logo along.
    server
        .app
        .set_project_logo(&project, jpeg(600, 600))
        .await
        .unwrap();
    assert_eq!(bucket.keys().await, [format!("app/projects/{r}/logo.jpg")]);
    server.app.delete_project(SLUG).await.unwrap();
    assert!(bucket.keys().await.is_empty());
}

both_engines!(
    media_routes_are_rate_limited_per_project,
    deletions_empty_the_bucket_and_keep_counts_exact,
    parameters_are_checked_in_the_real_order,
    photos_thumbnails_logos_and_placeholders,
    ranges_from_the_folder,
    ranges_from_a_bucket,
    hostile_names_in_the_folder,
    hostile_names_in_a_bucket,
    a_thousand_first_thumbnail_requests_make_one,
    private_projects_answer_members_and_their_app,
    media_urls_in_exports_resolve,
);
