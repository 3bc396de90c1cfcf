//! `quadrat entries export` driven as a script would drive it, on both engines: a whole form
//! across several keyset chunks as CSV and JSON, branch entries, and clear refusals.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use quadrat_app::export::STREAM_CHUNK;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");

fn quadrat(db: &TestDb, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("QUADRAT_DATA_DIR", db.data_dir())
        .env("QUADRAT_DATABASE_URL", &db.url)
        .output()
        .expect("running quadrat")
}

async fn export_whole_form_streams_every_entry_once_as_csv_and_json(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    let n = STREAM_CHUNK as usize + 5;
    let mut sites = BTreeSet::new();
    for i in 0..n {
        let uuid = new_uuid();
        ingest_entry(
            &app,
            &project,
            &another_site(&version, &uuid, &format!("S{i}")),
        )
        .await;
        sites.insert(uuid);
    }
    let owner = sites.iter().next().unwrap().clone();
    let tree = new_uuid();
    ingest_entry(
        &app,
        &project,
        &another_tree(&version, &tree, &owner, "T-1"),
    )
    .await;

    let out = quadrat(&db, &["entries", "export", SLUG, "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("ec5_uuid,created_at,uploaded_at,title,1_Site_name,")
    );
    let got: Vec<String> = lines.map(|l| l[..36].to_string()).collect();
    assert_eq!(got.len(), n);
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), sites);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sites.json");
    let out = quadrat(
        &db,
        &[
            "entries",
            "export",
            SLUG,
            "--form",
            SITES,
            "--format",
            "json",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let got: BTreeSet<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ec5_uuid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, sites);

    let out = quadrat(
        &db,
        &[
            "entries", "export", SLUG, "--branch", TREES, "--format", "json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["ec5_branch_uuid"], tree.as_str());
    assert_eq!(v[0]["ec5_branch_owner_uuid"], owner.as_str());
    assert_eq!(v.as_array().unwrap().len(), 1);
}

async fn export_refusals_say_why_and_leave_no_file(db: TestDb) {
    let app = db.app().await;
    import_tree_survey(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.csv");
    let path = file.to_str().unwrap();
    for (args, code) in [
        (vec!["--form", "nope"], "ec5_15"),
        (vec!["--branch", "nope"], "ec5_99"),
        (vec!["--map-index", "7"], "ec5_322"),
    ] {
        let mut all = vec!["entries", "export", SLUG, "--format", "csv", "-o", path];
        all.extend(args);
        let out = quadrat(&db, &all);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(code), "{err}");
        assert!(!file.exists());
    }
    let out = quadrat(&db, &["entries", "export", "no-such", "--format", "csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ec5_11"));
    let empty = quadrat(&db, &["entries", "export", SLUG, "--format", "json"]);
    assert!(empty.status.success());
    assert_eq!(String::from_utf8_lossy(&empty.stdout), "[]\n");
}

both_engines!(
    export_whole_form_streams_every_entry_once_as_csv_and_json,
    export_refusals_say_why_and_leave_no_file,
);
