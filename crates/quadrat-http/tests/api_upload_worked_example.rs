//! The worked example of docs/protocol.md §16 over real HTTP, on both engines: the uploads of
//! docs/protocol.md §16.3 in the app's order, what docs/protocol.md §16.4 says is stored, the
//! errors of docs/protocol.md §16.5, and the project stats the export shows afterwards.

use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::{Value, json};

/// docs/protocol.md §16.4's `entry_data`, in its (MySQL) key order, with the project's real
/// version.
fn expected_entry_data(version: &str) -> String {
    let text = r#"{
  "id": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
  "type": "entry",
  "entry": {
    "title": "Oak Ridge",
    "answers": {
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c41b2c01": {"answer": "Oak Ridge", "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c4a3d902": {"answer": "37", "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c52e8a13": {"answer": "2024-06-03T00:00:00.000", "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c5b1f224": {"answer": "665b0c5f0a1b5", "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c63c4d35": {"answer": ["665b0c66a7e01", "665b0c66a7e03"], "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c6e9b446": {"answer": {"accuracy": 7, "latitude": 51.498765, "longitude": -0.174877}, "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7750557": {"answer": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg", "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7f2a668": {"answer": "", "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c96d7e79_665b0ca0c3d01": {"answer": "14.5", "was_jumped": false},
      "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c96d7e79_665b0ca6e4f02": {"answer": "665b0cab10a12", "was_jumped": false}
    },
    "created_at": "2024-06-03T09:15:27.000Z",
    "entry_uuid": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
    "project_version": "VERSION"
  },
  "attributes": {"form": {"ref": "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4", "type": "hierarchy"}},
  "relationships": {
    "branch": {"data": {"owner_input_ref": "", "owner_entry_uuid": ""}},
    "parent": {"data": {"parent_form_ref": "", "parent_entry_uuid": ""}}
  }
}"#
    .replace("VERSION", version);
    compact(&text)
}

/// docs/protocol.md §16.4's `geo_json_data`.
const EXPECTED_GEO_JSON: &str = r#"{
  "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c6e9b446": {
    "id": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [-0.174877, 51.498765]},
    "properties": {
      "uuid": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
      "title": "Oak Ridge",
      "accuracy": 7,
      "created_at": "2024-06-03",
      "possible_answers": {"665b0c5f0a1b5": 1, "665b0c66a7e01": 1, "665b0c66a7e03": 1, "665b0cab10a12": 1}
    }
  }
}"#;

/// Whitespace out, key order kept.
fn compact(text: &str) -> String {
    let v: Value = serde_json::from_str(text).expect("expected JSON");
    serde_json::to_string(&v).expect("compact")
}

async fn server_with_project(db: &TestDb) -> (TestServer, String) {
    let server = TestServer::start(db).await;
    import_tree_survey(&server.app).await;
    let answer = reqwest::get(server.url(&format!("/api/project-version/{SLUG}")))
        .await
        .expect("version request");
    let v: Value = answer.json().await.expect("version JSON");
    let version = v["data"]["attributes"]["structure_last_updated"]
        .as_str()
        .expect("structure_last_updated")
        .to_string();
    (server, version)
}

async fn worked_example_uploads_store_what_the_spec_shows(db: TestDb) {
    let (server, version) = server_with_project(&db).await;
    let before_upload = quadrat_core::time::whole_seconds(quadrat_core::time::now_millis());

    let site = post_entry(&server, SLUG, &site_entry(&version)).await;
    assert!(site.is_uploaded(), "{site:?}");
    let tree = post_entry(&server, SLUG, &tree_entry(&version)).await;
    assert!(tree.is_uploaded(), "{tree:?}");
    let visit = post_entry(&server, SLUG, &visit_entry(&version)).await;
    assert!(visit.is_uploaded(), "{visit:?}");
    let jpeg = photo_bytes();
    let photo = post_file(
        &server,
        SLUG,
        &photo_entry(&version),
        Some((PHOTO_NAME, "image/jpeg", &jpeg)),
    )
    .await;
    assert!(photo.is_uploaded(), "{photo:?}");

    let app = &server.app;
    let project = app.find_project(SLUG).await.unwrap();
    let row = app
        .store
        .entry_row(project.id, SITE_UUID)
        .await
        .unwrap()
        .expect("the site entry");
    assert_eq!(row.entry_data, expected_entry_data(&version));
    assert_eq!(
        row.geo_json_data.as_deref(),
        Some(compact(EXPECTED_GEO_JSON).as_str())
    );
    assert_eq!(row.title, "Oak Ridge");
    assert_eq!(row.form_ref, SITES);
    assert_eq!(
        (row.parent_uuid.as_str(), row.parent_form_ref.as_str()),
        ("", "")
    );
    assert_eq!(row.user_id, 0);
    assert_eq!(row.platform, "Android");
    assert!(row.device_id.starts_with("sha256$"), "{}", row.device_id);
    assert!(!row.device_id.contains("3f2a9c1e7b6d5a40"));
    assert_eq!(row.created_at, 1_717_406_127_000, "2024-06-03 09:15:27");
    assert!(row.uploaded_at >= before_upload && row.uploaded_at % 1000 == 0);
    assert_eq!(row.child_counts, 1);
    assert_eq!(
        row.branch_counts.as_deref(),
        Some(r#"{"d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7f2a668":1}"#)
    );

    let tree_row = app
        .store
        .branch_entry_row(project.id, TREE_UUID)
        .await
        .unwrap()
        .expect("the tree");
    assert_eq!(
        (
            tree_row.owner_uuid.as_str(),
            tree_row.owner_input_ref.as_str(),
            tree_row.form_ref.as_str()
        ),
        (SITE_UUID, TREES, SITES)
    );
    assert_eq!(tree_row.owner_entry_id, row.id);
    assert_eq!(tree_row.title, "T-0042");
    assert_eq!(tree_row.geo_json_data, None);
    let tree_data: Value = serde_json::from_str(&tree_row.entry_data).unwrap();
    assert_eq!(
        tree_data["relationships"],
        json!({"branch": {"data": {"owner_input_ref": TREES, "owner_entry_uuid": SITE_UUID}},
               "parent": {"data": {"parent_form_ref": "", "parent_entry_uuid": ""}}})
    );
    let keys: Vec<&str> = tree_data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["id", "type", "attributes", "branch_entry", "relationships"]
    );

    let visit_row = app
        .store
        .entry_row(project.id, VISIT_UUID)
        .await
        .unwrap()
        .expect("the visit");
    assert_eq!(
        (
            visit_row.parent_uuid.as_str(),
            visit_row.parent_form_ref.as_str()
        ),
        (SITE_UUID, SITES)
    );
    assert_eq!(visit_row.title, "10/06/2024");
    assert_eq!(visit_row.branch_counts, None);

    // The photo, normalised (docs/protocol.md §5.9), where §6.8 puts it, and counted.
    let stored = db
        .media_dir()
        .join("entries/photo")
        .join(PROJECT_REF)
        .join(PHOTO_NAME);
    let stored = std::fs::read(&stored).expect("stored photo");
    assert_ne!(stored, jpeg, "re-encoded at q70");
    assert_eq!(jpeg_size(&stored), (1024, 768));
    let media = app.store.media_totals(project.id).await.unwrap();
    assert_eq!(
        (media.photo_files, media.photo_bytes),
        (1, stored.len() as i64)
    );

    // The export's stats read the counters.
    let export: Value = reqwest::get(server.url(&format!("/api/export/project/{SLUG}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stats = &export["meta"]["project_stats"];
    assert_eq!(stats["total_entries"], 2);
    assert_eq!(stats["total_files"], 1);
    assert_eq!(stats["total_bytes"], stored.len());
    assert_eq!(
        stats["form_counts"],
        json!({
            SITES: {"count": 1, "first_entry_created": "2024-06-03 09:15:27", "last_entry_created": "2024-06-03 09:15:27"},
            VISITS: {"count": 1, "first_entry_created": "2024-06-10 14:02:11", "last_entry_created": "2024-06-10 14:02:11"}
        })
    );
    assert_eq!(
        stats["branch_counts"],
        json!({TREES: {"count": 1, "first_entry_created": "2024-06-03 09:18:02", "last_entry_created": "2024-06-03 09:18:02"}})
    );
}

async fn worked_example_mistakes_get_the_spec_responses(db: TestDb) {
    let (server, version) = server_with_project(&db).await;
    assert!(
        post_entry(&server, SLUG, &site_entry(&version))
            .await
            .is_uploaded()
    );
    let project = server.app.find_project(SLUG).await.unwrap();
    let before = snapshot(&server.app, &project).await;

    let stale = post_entry(&server, SLUG, &site_entry("2024-06-01 10:20:33")).await;
    assert_eq!(stale.status, 400);
    assert_eq!(
        stale.body,
        r#"{"errors":[{"code":"ec5_201","title":"Project version out of date.","source":"upload-controller"}]}"#
    );

    let mut required = another_site(&version, "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "");
    required["entry"]["title"] = json!("");
    let answer = post_entry(&server, SLUG, &required).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        format!(
            r#"{{"errors":[{{"code":"ec5_21","title":"Required field is missing.","source":"{SITE_NAME}"}}]}}"#
        )
    );

    let duplicate = another_site(
        &version,
        "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        "oak RIDGE",
    );
    let answer = post_entry(&server, SLUG, &duplicate).await;
    assert_eq!(
        answer.body,
        format!(
            r#"{{"errors":[{{"code":"ec5_22","title":"Answer is not unique.","source":"{SITE_NAME}"}}]}}"#
        )
    );

    let mut too_many = another_site(
        &version,
        "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        "Elm Hollow",
    );
    too_many["entry"]["answers"][TREE_COUNT]["answer"] = json!("501");
    let answer = post_entry(&server, SLUG, &too_many).await;
    assert_eq!(
        answer.body,
        format!(
            r#"{{"errors":[{{"code":"ec5_216","title":"Maximum allowed value exceeded.","source":"{TREE_COUNT}"}}]}}"#
        )
    );

    let mut zero_date = another_site(
        &version,
        "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        "Elm Hollow",
    );
    zero_date["entry"]["created_at"] = json!("0000-00-00T00:00:00.000Z");
    let answer = post_entry(&server, SLUG, &zero_date).await;
    assert_eq!(
        answer.body,
        r#"{"errors":[{"code":"ec5_79","title":"Date\/time format incorrect","source":"entry.created_at"}]}"#
    );

    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    let private = post_entry(
        &server,
        SLUG,
        &another_site(
            &version,
            "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
            "Elm Hollow",
        ),
    )
    .await;
    assert_eq!(private.status, 404);
    assert_eq!(
        private.body,
        r#"{"errors":[{"code":"ec5_77","title":"This project is private. Please log in.","source":"middleware"}]}"#
    );

    assert_eq!(
        snapshot(&server.app, &project).await,
        before,
        "refusals changed nothing"
    );
}

async fn json_alias_route_and_plain_json_accept_uploads(db: TestDb) {
    let (server, version) = server_with_project(&db).await;
    let body = serde_json::to_vec(&json!({"data": site_entry(&version)})).unwrap();
    let response = reqwest::Client::new()
        .post(server.url(&format!("/api/json/upload/{}", SLUG.to_uppercase())))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.api+json; charset=utf-8"
    );
    let project = server.app.find_project(SLUG).await.unwrap();
    assert_eq!(
        server.app.store.entry_totals(project.id).await.unwrap(),
        (1, 0)
    );
}

both_engines!(
    worked_example_uploads_store_what_the_spec_shows,
    worked_example_mistakes_get_the_spec_responses,
    json_alias_route_and_plain_json_accept_uploads,
);
