//! pyepicollect (from PyPI) fetches media with its own `get_media`, nothing changed but its base
//! URLs: the project logo as the app asks for it (the default logo while none is set) and an
//! uploaded photo, from a public project without a token and from a private one with its
//! client app's token; the bytes are those stored, or an image of the stated size.

mod oauth_support;

use quadrat_core::entry::MediaKind;
use quadrat_core::project_state::ProjectSetting;
use quadrat_store::MediaKey;
use quadrat_testkit::python::{run_script, venv_with};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::Value;

const SCRIPT: &str = r#"
import base64, json, sys
from pyepicollect import api, auth
auth.REQ_URL = sys.argv[1] + "/api"
slug, photo, token = sys.argv[2], sys.argv[3], sys.argv[4] or None

def fetch(name, file_type, file_format):
    r = api.get_media(slug, name, file_type=file_type, file_format=file_format, token=token)
    return {
        "status": r.status_code,
        "type": r.headers.get("Content-Type"),
        "placeholder": r.headers.get("X-Media-Placeholder"),
        "body": base64.b64encode(r.content).decode(),
    }

print(json.dumps({
    "logo": fetch("logo.jpg", "photo", "project_mobile_logo"),
    # The photo with its type guessed from the name, as a script would do it.
    "photo": fetch(photo, None, None),
    "thumb": fetch(photo, "photo", "entry_thumb"),
}))
"#;

fn decode(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(v["body"].as_str().unwrap())
        .unwrap()
}

fn size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("an image");
    (img.width(), img.height())
}

async fn pyepicollect_gets_logos_and_photos_from_public_and_private_projects(db: TestDb) {
    let Some(python) = venv_with(&["pyepicollect==5.1.1"]) else {
        return;
    };
    let server = TestServer::start(&db).await;
    let app = &server.app;
    let project = import_tree_survey(app).await;
    let version = version_of(&project);
    ingest_entry(app, &project, &site_entry(&version)).await;
    ingest_file(app, &project, &photo_entry(&version), &photo_bytes()).await;
    let key = MediaKey::entry(MediaKind::Photo, &project.project_ref, PHOTO_NAME).unwrap();
    let stored = app
        .media()
        .read_small(&key, 10_000_000)
        .await
        .unwrap()
        .unwrap();

    let run = |token: String| {
        let (python, base) = (python.clone(), server.base_url.clone());
        async move {
            let out = tokio::task::spawn_blocking(move || {
                run_script(&python, SCRIPT, &[&base, SLUG, PHOTO_NAME, &token])
            })
            .await
            .unwrap();
            serde_json::from_str::<Value>(out.trim()).unwrap()
        }
    };
    let check = |v: &Value| {
        for part in ["logo", "photo", "thumb"] {
            assert_eq!(v[part]["status"], 200, "{part}: {v}");
            assert_eq!(v[part]["type"], "image/jpeg", "{part}");
        }
        // No logo set: the project's default logo, 128×128, marked as standing in.
        assert_eq!(size(&decode(&v["logo"])), (128, 128));
        assert_eq!(v["logo"]["placeholder"], "true");
        assert_eq!(decode(&v["photo"]), stored.as_ref());
        assert_eq!(size(&decode(&v["photo"])), (1024, 768));
        assert!(v["photo"]["placeholder"].is_null());
        assert_eq!(size(&decode(&v["thumb"])), (100, 100));
    };
    let public = run(String::new()).await;
    check(&public);

    app.set_project_setting(SLUG, ProjectSetting::Access("private".parse().unwrap()))
        .await
        .unwrap();
    let secret = oauth_support::create_app(&server, SLUG).await;
    let token = oauth_support::token_for(&server, &secret).await;
    let private = run(token).await;
    check(&private);
    assert_eq!(decode(&private["photo"]), decode(&public["photo"]));
    // Without the token the private project's files are refused.
    let denied = run(String::new()).await;
    assert_eq!(denied["photo"]["status"], 404);
}

both_engines!(pyepicollect_gets_logos_and_photos_from_public_and_private_projects);
