//! `quadrat entries export` driven as a script would drive it, on both engines: a whole form
//! across several keyset chunks as CSV and JSON, branch entries, and clear refusals.

use std::collections::BTreeSet;

use quadrat_app::export::STREAM_CHUNK;
use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::Value;

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db).run(args)
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

    let text = quadrat(&db, &["entries", "export", SLUG, "--format", "csv"]).ok();
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
    quadrat(
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
    )
    .ok();
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
    let v: Value = out.json();
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
        let err = quadrat(&db, &all).failed();
        assert!(err.contains(code), "{err}");
        assert!(!file.exists());
    }
    let err = quadrat(&db, &["entries", "export", "no-such", "--format", "csv"]).failed();
    assert!(err.contains("ec5_11"), "{err}");
    let empty = quadrat(&db, &["entries", "export", SLUG, "--format", "json"]).ok();
    assert_eq!(empty, "[]\n");
}

/// `quadrat … | head`: once the reader has gone, a command stops quietly, as `cat` would; no
/// panic, no "internal error".
async fn a_reader_that_has_gone_ends_a_command_quietly(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    ingest_sites(&app, &project, 3).await;
    let commands: [&[&str]; 5] = [
        &["entries", "export", SLUG, "--format", "csv"],
        &["entries", "export", SLUG, "--format", "json"],
        &["project", "list"],
        &["project", "list", "--json"],
        &["mapping", "list", SLUG],
    ];
    for args in commands {
        let run = Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), &db).run_reader_gone(args);
        assert!(
            run.success(),
            "quadrat {args:?}: {} {}",
            run.status,
            run.stderr
        );
        assert_eq!(run.stderr, "", "quadrat {args:?}");
    }
}

both_engines!(
    export_whole_form_streams_every_entry_once_as_csv_and_json,
    export_refusals_say_why_and_leave_no_file,
    a_reader_that_has_gone_ends_a_command_quietly,
);
