//! pyepicollect (from PyPI) reads a project's entries and branch entries page by page, following
//! `links.next` until it is null, and gets every entry exactly once.

use quadrat_testkit::python::{run_script, venv_with};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::Value;

const SCRIPT: &str = r#"
import json, sys
from urllib.parse import urlsplit, parse_qsl
from pyepicollect import api, auth
auth.REQ_URL = sys.argv[1] + "/api"
slug, branch = sys.argv[2], sys.argv[3]

def follow(first):
    page, uuids, pages = first, [], 0
    while True:
        pages += 1
        for e in page["data"]["entries"]:
            uuids.append(e.get("ec5_uuid") or e.get("ec5_branch_uuid"))
        nxt = page["links"]["next"]
        if nxt is None:
            return {"uuids": uuids, "pages": pages}
        page = api.get_entries(slug, **dict(parse_qsl(urlsplit(nxt).query, keep_blank_values=True)))

print(json.dumps({
    "entries": follow(api.get_entries(slug, per_page=50)),
    "branch": follow(api.get_branch_entries(slug, branch, per_page=50)),
}))
"#;

async fn pyepicollect_pages_through_entries_and_branch_entries_once_each(db: TestDb) {
    let Some(python) = venv_with(&["pyepicollect==5.1.1"]) else {
        return;
    };
    let server = TestServer::start(&db).await;
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    let mut sites = Vec::new();
    for i in 0..120 {
        let uuid = new_uuid();
        ingest_entry(
            &server.app,
            &project,
            &another_site(&version, &uuid, &format!("Site {i}")),
        )
        .await;
        sites.push(uuid);
    }
    let mut trees = Vec::new();
    for i in 0..60 {
        let uuid = new_uuid();
        let tree = another_tree(&version, &uuid, &sites[i % 7], &format!("T-{i}"));
        ingest_entry(&server.app, &project, &tree).await;
        trees.push(uuid);
    }
    let base = server.base_url.clone();
    let out =
        tokio::task::spawn_blocking(move || run_script(&python, SCRIPT, &[&base, SLUG, TREES]))
            .await
            .unwrap();
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let got = |key: &str| -> Vec<String> {
        let mut u: Vec<String> = v[key]["uuids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        u.sort();
        u
    };
    sites.sort();
    trees.sort();
    assert_eq!(got("entries"), sites);
    assert_eq!(v["entries"]["pages"], 3);
    assert_eq!(got("branch"), trees);
    assert_eq!(v["branch"]["pages"], 2);
}

both_engines!(pyepicollect_pages_through_entries_and_branch_entries_once_each);
