//! `quadrat entries export --since CURSOR` on both engines (docs/protocol.md §17.11): the changes
//! feed's pages as the route renders them, walked to the end, resumable with the printed cursor;
//! and `--format geojson`, one FeatureCollection streamed in chunks (§17.12).

use std::collections::BTreeSet;

use quadrat_app::entries::Deletion;
use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::Value;

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db).run(args)
}

/// The pages printed (one JSON document a line) and the cursor printed on standard error.
fn pages(run: Run) -> (Vec<Value>, String) {
    assert!(run.success(), "{}", run.stderr);
    let pages: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cursor = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("next cursor: "))
        .unwrap()
        .to_string();
    (pages, cursor)
}

async fn since_walks_every_page_and_resumes(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    let mut uuids = BTreeSet::new();
    for i in 0..1003 {
        let uuid = new_uuid();
        ingest_entry(
            &app,
            &project,
            &another_site(&version, &uuid, &format!("S{i}")),
        )
        .await;
        uuids.insert(uuid);
    }
    let (first, cursor) = pages(quadrat(
        &db,
        &[
            "entries", "export", SLUG, "--format", "json", "--since", "start",
        ],
    ));
    assert_eq!(first.len(), 2, "1000 items a page");
    assert_eq!(first[0]["meta"]["has_more"], true);
    assert_eq!(first[1]["meta"]["has_more"], false);
    assert_eq!(first[1]["meta"]["next_cursor"], cursor.as_str());
    let got: BTreeSet<String> = first
        .iter()
        .flat_map(|p| p["data"]["changes"].as_array().unwrap().clone())
        .map(|c| c["uuid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, uuids);

    let gone = uuids.iter().next().unwrap().clone();
    app.delete_entries(SLUG, &Deletion::Uuid(gone.clone()))
        .await
        .unwrap();
    let (next, _) = pages(quadrat(
        &db,
        &[
            "entries", "export", SLUG, "--format", "json", "--since", &cursor,
        ],
    ));
    assert_eq!(next.len(), 1);
    let changes = next[0]["data"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["op"], "delete");
    assert_eq!(changes[0]["uuid"], gone.as_str());

    // CSV: one header, then the rows; refusals are the route's.
    let csv = quadrat(
        &db,
        &[
            "entries", "export", SLUG, "--format", "csv", "--form", SITES, "--since", "start",
        ],
    )
    .ok();
    assert_eq!(
        csv.lines()
            .filter(|l| l.starts_with("ec5_seq,ec5_op,"))
            .count(),
        1
    );
    assert_eq!(csv.lines().count(), 1 + 1002);
    let bad = quadrat(
        &db,
        &[
            "entries", "export", SLUG, "--format", "json", "--since", "nonsense",
        ],
    );
    assert!(!bad.success());
    assert!(bad.stderr.contains("qd_cursor_invalid"), "{}", bad.stderr);
}

async fn geojson_streams_one_feature_collection(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    ingest_entry(&app, &project, &site_entry(&version)).await;
    let mut blank = another_site(&version, &new_uuid(), "Nowhere");
    blank["entry"]["answers"][LOCATION]["answer"] =
        serde_json::json!({"latitude": "", "longitude": "", "accuracy": ""});
    ingest_entry(&app, &project, &blank).await;
    ingest_sites(&app, &project, 1001).await;
    let text = quadrat(&db, &["entries", "export", SLUG, "--format", "geojson"]).ok();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().unwrap();
    assert_eq!(
        features.len(),
        1002,
        "every located site, across chunks; not the blank one"
    );
    let site = features.iter().find(|f| f["id"] == SITE_UUID).unwrap();
    assert_eq!(
        site["geometry"],
        serde_json::json!({"type": "Point", "coordinates": [-0.174877, 51.498765]})
    );
    assert_eq!(
        site["properties"]["ec5_location_question"],
        "6_Site_location"
    );
}

/// `quadrat changes reset`: cursors handed out before answer 410 (the CLI says so), a fresh
/// walk works; an unknown project is named and nothing is reset.
async fn changes_reset_expires_earlier_cursors(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    ingest_entry(&app, &project, &site_entry(&version_of(&project))).await;
    let since = |cursor: &str| {
        quadrat(
            &db,
            &[
                "entries", "export", SLUG, "--format", "json", "--since", cursor,
            ],
        )
    };
    let (_, cursor) = pages(since("start"));
    assert!(since(&cursor).success());

    let unknown = quadrat(&db, &["changes", "reset", "--project", "no-such-project"]);
    assert!(!unknown.success());
    assert!(unknown.stderr.contains("ec5_11"), "{}", unknown.stderr);
    assert!(since(&cursor).success(), "nothing was reset");

    let out = quadrat(&db, &["changes", "reset", "--project", SLUG]).ok();
    assert!(out.contains("reset for 1 project:"), "{out}");
    let expired = since(&cursor);
    assert!(!expired.success());
    assert!(
        expired.stderr.contains("qd_cursor_expired"),
        "{}",
        expired.stderr
    );
    let (again, _) = pages(since("start"));
    assert_eq!(again[0]["data"]["changes"].as_array().unwrap().len(), 1);

    let out = quadrat(&db, &["changes", "reset"]).ok();
    assert!(out.contains("reset for 1 project:"), "{out}");
}

both_engines!(
    since_walks_every_page_and_resumes,
    geojson_streams_one_feature_collection,
    changes_reset_expires_earlier_cursors
);
