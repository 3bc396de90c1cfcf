//! pyepicollect (from PyPI) against a real Quadrat server: project search and project export.

use quadrat_app::projects::ImportOptions;
use quadrat_testkit::python::{run_script, venv_with};
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use serde_json::Value;

const SCRIPT: &str = r#"
import json, sys
from pyepicollect import api, auth
# pyepicollect keeps its base URL in a module constant; point it at the test server.
auth.REQ_URL = sys.argv[1] + "/api"
found = api.search_project("Garden")
project = api.get_project("garden-birds")
print(json.dumps({"found": found, "project": project}))
"#;

async fn pyepicollect_searches_and_reads_a_project(db: TestDb) {
    let Some(python) = venv_with(&["pyepicollect==5.1.1"]) else {
        return;
    };
    let server = TestServer::start(&db).await;
    server
        .app
        .import_project(&fixture("demo.json"), &ImportOptions::default())
        .await
        .unwrap();
    let base = server.base_url.clone();
    let out = tokio::task::spawn_blocking(move || run_script(&python, SCRIPT, &[&base]))
        .await
        .unwrap();
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["found"]["data"][0]["project"]["slug"], "garden-birds");
    assert_eq!(v["project"]["data"]["project"]["name"], "Garden Birds");
    assert!(v["project"]["meta"]["project_mapping"][0]["forms"].is_object());
}

both_engines!(pyepicollect_searches_and_reads_a_project);
