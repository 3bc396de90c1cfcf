//! `quadrat mapping …` driven as a script would drive it, on both engines.

use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const SLUG: &str = "all-input-types";
const FORM1: &str = "79c8c2926b9445b5a49882321e35049e_665b2a36eb7a7";
const SAMPLE: &str = "79c8c2926b9445b5a49882321e35049e_665b2a36eb7a7_665b2a5b33be4";
const WEATHER: &str = "79c8c2926b9445b5a49882321e35049e_665b2a36eb7a7_665b2b36e683a";

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(BIN, db).run(args)
}

fn quadrat_with_stdin(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Run {
    Quadrat::on(BIN, db).run_with_stdin(args, stdin.unwrap_or(""))
}

fn import(db: &TestDb) {
    let path = fixtures_dir().join("all-types.json").display().to_string();
    quadrat(db, &["project", "import", &path]).ok();
}

/// The stored `project_mapping` text, to prove a refusal changed nothing.
async fn stored_mapping(db: &TestDb) -> String {
    let store = db.store().await;
    let row = store.project_by_slug(SLUG).await.unwrap().expect("project");
    let text = store.structure(row.id).await.unwrap().project_mapping;
    store.close().await;
    text
}

fn list(db: &TestDb) -> Vec<(u64, String, bool)> {
    let v: Value =
        serde_json::from_str(&quadrat(db, &["mapping", "list", SLUG, "--json"]).ok()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["index"].as_u64().unwrap(),
                m["name"].as_str().unwrap().to_string(),
                m["is_default"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn show(db: &TestDb, index: &str) -> Value {
    serde_json::from_str(&quadrat(db, &["mapping", "show", SLUG, "--index", index]).ok()).unwrap()
}

fn write(db: &TestDb, name: &str, v: &Value) -> String {
    let path = db.data_dir().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    path.display().to_string()
}

async fn mapping_create_update_default_delete_round_trip(db: TestDb) {
    import(&db);
    assert_eq!(list(&db), [(0, "EC5_AUTO".to_string(), true)]);
    let printed: Value = serde_json::from_str(
        &quadrat(
            &db,
            &["mapping", "create", SLUG, "--name", "Field names", "--json"],
        )
        .ok(),
    )
    .unwrap();
    assert_eq!(printed, json!({"map_index": 1}));
    quadrat(
        &db,
        &["mapping", "create", SLUG, "--name", "Second", "--default"],
    )
    .ok();
    assert_eq!(
        list(&db),
        [
            (0, "EC5_AUTO".into(), false),
            (1, "Field names".into(), false),
            (2, "Second".into(), true)
        ]
    );

    // show → edit → update from a file.
    let mut map = show(&db, "1");
    assert_eq!(map["forms"], show(&db, "0")["forms"]);
    map["forms"][FORM1][SAMPLE]["map_to"] = json!("sample");
    map["forms"][FORM1][WEATHER]["possible_answers"]["665b2b6b9646a"]["map_to"] = json!("Overcast");
    map["name"] = json!("Renamed");
    let path = write(&db, "map.json", &map);
    quadrat(
        &db,
        &["mapping", "update", SLUG, "--index", "1", "--file", &path],
    )
    .ok();
    let stored = show(&db, "1");
    assert_eq!(stored["forms"][FORM1][SAMPLE]["map_to"], "sample");
    assert_eq!(
        stored["forms"][FORM1][WEATHER]["possible_answers"]["665b2b6b9646a"]["map_to"],
        "Overcast"
    );
    assert_eq!(
        (&stored["name"], &stored["is_default"], &stored["map_index"]),
        (&json!("Renamed"), &json!(false), &json!(1))
    );

    // From standard input too.
    map["forms"][FORM1][SAMPLE]["hide"] = json!(true);
    let out = quadrat_with_stdin(
        &db,
        &["mapping", "update", SLUG, "--index", "1"],
        Some(&map.to_string()),
    );
    out.ok();
    assert_eq!(show(&db, "1")["forms"][FORM1][SAMPLE]["hide"], true);

    quadrat(&db, &["mapping", "set-default", SLUG, "--index", "1"]).ok();
    assert_eq!(
        list(&db)
            .iter()
            .filter(|m| m.2)
            .map(|m| m.0)
            .collect::<Vec<_>>(),
        [1]
    );

    // Deleting the default map leaves EC5_AUTO the default, and the list sparse.
    quadrat(&db, &["mapping", "delete", SLUG, "--index", "1"]).ok();
    assert_eq!(
        list(&db),
        [(0, "EC5_AUTO".into(), true), (2, "Second".into(), false)]
    );
    let stored: Value = serde_json::from_str(&stored_mapping(&db).await).unwrap();
    assert_eq!(
        stored.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["0", "2"]
    );
    // The next map goes after the last index.
    let printed: Value = serde_json::from_str(
        &quadrat(
            &db,
            &["mapping", "create", SLUG, "--name", "Third", "--json"],
        )
        .ok(),
    )
    .unwrap();
    assert_eq!(printed["map_index"], 3);
    // The table lists them too.
    let table = quadrat(&db, &["mapping", "list", SLUG]).ok();
    assert!(
        table.starts_with("INDEX  DEFAULT  NAME\n0      *        EC5_AUTO\n"),
        "{table}"
    );
}

/// Runs a command that must be refused with `code`, and checks nothing changed.
async fn refused(db: &TestDb, args: &[&str], stdin: Option<&str>, code: &str) {
    let before = stored_mapping(db).await;
    let err = quadrat_with_stdin(db, args, stdin).failed();
    assert!(err.contains(code), "{args:?}: {err}");
    assert!(err.contains("nothing was changed"), "{args:?}: {err}");
    assert_eq!(
        stored_mapping(db).await,
        before,
        "{args:?} changed the mapping"
    );
}

async fn mapping_refusals_change_nothing(db: TestDb) {
    import(&db);
    quadrat(&db, &["mapping", "create", SLUG, "--name", "Field names"]).ok();
    let base = show(&db, "1");
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut map = base.clone();
        edit(&mut map);
        map.to_string()
    };
    let update = ["mapping", "update", SLUG, "--index", "1"];

    refused(
        &db,
        &["mapping", "create", SLUG, "--name", "x"],
        None,
        "ec5_43",
    )
    .await;
    refused(
        &db,
        &["mapping", "create", SLUG, "--name", "bad/name"],
        None,
        "ec5_87",
    )
    .await;
    refused(
        &db,
        &["mapping", "create", SLUG, "--name", "ec5_auto"],
        None,
        "ec5_228",
    )
    .await;
    refused(
        &db,
        &["mapping", "create", SLUG, "--name", "FIELD NAMES"],
        None,
        "ec5_228",
    )
    .await;
    refused(
        &db,
        &["mapping", "create", "no-such-project", "--name", "Fine"],
        None,
        "ec5_11",
    )
    .await;
    refused(
        &db,
        &["mapping", "update", SLUG, "--index", "0"],
        Some(&base.to_string()),
        "ec5_91",
    )
    .await;
    refused(
        &db,
        &["mapping", "update", SLUG, "--index", "9"],
        Some(&base.to_string()),
        "ec5_230",
    )
    .await;
    refused(&db, &update, Some("{not json"), "ec5_62").await;
    refused(
        &db,
        &[
            "mapping",
            "update",
            SLUG,
            "--index",
            "1",
            "--file",
            "/no/such/map.json",
        ],
        None,
        "ec5_62",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| {
            m["forms"][FORM1][SAMPLE]["map_to"] = json!("has space")
        })),
        "ec5_87",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| {
            m["forms"][FORM1][SAMPLE]["map_to"] = json!("9_Weather")
        })),
        "ec5_234",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| {
            m["forms"][FORM1][SAMPLE]["map_to"] = json!("ec5_branch_uuid")
        })),
        "ec5_227",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| m["forms"]["no_such_form"] = json!({}))),
        "ec5_15",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| m["forms"][FORM1]["no_such_input"] = json!({}))),
        "ec5_84",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| {
            m["forms"][FORM1][WEATHER]["possible_answers"]["zzzzzzzzzzzz1"] = json!({"map_to": "Z"})
        })),
        "ec5_25",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| {
            m["forms"][FORM1][WEATHER]["possible_answers"]["665b2b6b9646a"]["map_to"] = json!("<i>")
        })),
        "ec5_233",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| {
            m["forms"][FORM1][SAMPLE]["hide"] = json!("maybe")
        })),
        "ec5_29",
    )
    .await;
    refused(
        &db,
        &update,
        Some(&edited(&|m| m["name"] = json!("EC5_AUTO"))),
        "ec5_228",
    )
    .await;
    refused(
        &db,
        &["mapping", "delete", SLUG, "--index", "0"],
        None,
        "ec5_238",
    )
    .await;
    refused(
        &db,
        &["mapping", "delete", SLUG, "--index", "9"],
        None,
        "ec5_230",
    )
    .await;
    refused(
        &db,
        &["mapping", "set-default", SLUG, "--index", "9"],
        None,
        "ec5_230",
    )
    .await;
    refused(
        &db,
        &["mapping", "show", SLUG, "--index", "9"],
        None,
        "ec5_230",
    )
    .await;

    quadrat(&db, &["mapping", "create", SLUG, "--name", "Two"]).ok();
    quadrat(&db, &["mapping", "create", SLUG, "--name", "Three"]).ok();
    refused(
        &db,
        &["mapping", "create", SLUG, "--name", "Four"],
        None,
        "ec5_229",
    )
    .await;
}

both_engines!(
    mapping_create_update_default_delete_round_trip,
    mapping_refusals_change_nothing
);

#[test]
fn every_mapping_command_has_help() {
    for sub in ["list", "show", "create", "update", "delete", "set-default"] {
        let out = Quadrat::new(BIN).ok(&["mapping", sub, "--help"]);
        assert!(out.contains("Usage"), "{sub}");
    }
}
