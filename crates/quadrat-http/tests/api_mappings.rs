//! Custom maps made through the mapping use-cases show in the project export, on both engines.

use quadrat_app::projects::ImportOptions;
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use serde_json::{Value, json};

const SLUG: &str = "tree-survey-2024";
const FORM: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4";
const SITE_NAME: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c41b2c01";

async fn project_mapping(server: &TestServer) -> Value {
    let response = reqwest::get(server.url(&format!("/api/export/project/{SLUG}")))
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("JSON");
    body["meta"]["project_mapping"].clone()
}

async fn export_project_shows_custom_maps_after_each_edit(db: TestDb) {
    let server = TestServer::start(&db).await;
    let app = &server.app;
    app.import_project(&fixture("tree-survey-2024.json"), &ImportOptions::default())
        .await
        .expect("import");
    let version = app.find_project(SLUG).await.unwrap().structure.updated_at;

    let index = app
        .create_mapping(SLUG, "Field names", false)
        .await
        .unwrap();
    let mut map = app.show_mapping(SLUG, index).await.unwrap();
    map["forms"][FORM][SITE_NAME]["map_to"] = json!("site");
    app.update_mapping(SLUG, index, &map).await.unwrap();
    app.set_default_mapping(SLUG, index).await.unwrap();

    let list = project_mapping(&server).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[1]["name"], "Field names");
    assert_eq!(list[1]["map_index"], 1);
    assert_eq!(
        (&list[0]["is_default"], &list[1]["is_default"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(list[1]["forms"][FORM][SITE_NAME]["map_to"], "site");
    // Stored in MySQL's key order, like every JSON column of the real server.
    let keys: Vec<&String> = list[1].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "forms", "map_index", "is_default"]);

    app.delete_mapping(SLUG, index).await.unwrap();
    let list = project_mapping(&server).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["is_default"], true);
    // Mapping edits do not make the app download the project again.
    assert_eq!(
        app.find_project(SLUG).await.unwrap().structure.updated_at,
        version
    );
}

both_engines!(export_project_shows_custom_maps_after_each_edit);
