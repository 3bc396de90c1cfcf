//! The `quadrat` binary driven as a script would drive it, on both engines.

use std::path::Path;

use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir, project_schema};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");

/// Runs `quadrat ARGS` against the test database (and a data directory of its own).
fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(BIN, db).run(args)
}

fn fixture_path(name: &str) -> String {
    fixtures_dir().join(name).display().to_string()
}

fn write_json(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.display().to_string()
}

fn project_list(db: &TestDb) -> Vec<Value> {
    let out = quadrat(db, &["project", "list", "--json"]);
    assert!(out.status.success(), "{}", out.stderr);
    serde_json::from_str::<Vec<Value>>(&out.stdout).expect("list --json")
}

async fn import_keeps_file_refs_and_prints_json(db: TestDb) {
    let out = quadrat(
        &db,
        &[
            "project",
            "import",
            &fixture_path("tree-survey-2024.json"),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", out.stderr);
    let printed: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        printed,
        json!({"slug": "tree-survey-2024", "ref": "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50"})
    );
    let list = project_list(&db);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["access"], "public");

    // The same refs again are refused, and nothing more is stored.
    let again = quadrat(
        &db,
        &[
            "project",
            "import",
            &fixture_path("tree-survey-2024.json"),
            "--name",
            "Another Name",
        ],
    );
    assert!(!again.status.success());
    assert!(again.stderr.contains("ec5_224"), "{}", again.stderr);
    assert!(again.stderr.contains("--new-ref"), "{}", again.stderr);
    assert_eq!(project_list(&db).len(), 1);
}

async fn import_with_new_ref_rekeys_every_ref(db: TestDb) {
    quadrat(
        &db,
        &["project", "import", &fixture_path("tree-survey-2024.json")],
    );
    let out = quadrat(
        &db,
        &[
            "project",
            "import",
            &fixture_path("tree-survey-2024.json"),
            "--new-ref",
            "--name",
            "Tree Survey Copy",
            "--access",
            "private",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", out.stderr);
    let printed: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(printed["slug"], "tree-survey-copy");
    let new_ref = printed["ref"].as_str().unwrap().to_string();
    assert_ne!(new_ref, "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50");
    let exported = quadrat(&db, &["project", "export", "tree-survey-copy"]);
    let file: Value = serde_json::from_str(&exported.stdout).unwrap();
    let text = serde_json::to_string(&file).unwrap();
    assert!(
        !text.contains("d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50"),
        "old ref left over"
    );
    assert_eq!(file["data"]["id"], new_ref);
    assert_eq!(file["data"]["project"]["access"], "private");
    assert_eq!(file["data"]["project"]["name"], "Tree Survey Copy");
    for form in file["data"]["project"]["forms"].as_array().unwrap() {
        assert!(form["ref"].as_str().unwrap().starts_with(&new_ref));
    }
}

async fn export_writes_a_reimportable_file_that_matches_the_schema(db: TestDb) {
    quadrat(
        &db,
        &["project", "import", &fixture_path("tree-survey-2024.json")],
    );
    let path = db.data_dir().join("exported.json");
    let out = quadrat(
        &db,
        &[
            "project",
            "export",
            "Tree Survey 2024",
            "-o",
            &path.display().to_string(),
        ],
    );
    assert!(out.status.success(), "{}", out.stderr);
    let exported: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let original = quadrat_testkit::fixture("tree-survey-2024.json");
    assert_eq!(
        exported, original,
        "exported definition equals the imported file"
    );
    if let Some(schema) = project_schema() {
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&exported)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // The check can fail: a definition without its project is not valid.
        assert!(!validator.is_valid(&json!({"data": {"id": new_id(), "type": "project"}})));
    }
    // Delete and import the exported file: it comes back the same.
    assert!(
        quadrat(&db, &["project", "delete", "tree-survey-2024"])
            .status
            .success()
    );
    let out = quadrat(&db, &["project", "import", &path.display().to_string()]);
    assert!(out.status.success(), "{}", out.stderr);
}

async fn refused_definition_exits_nonzero_lists_codes_and_stores_nothing(db: TestDb) {
    let mut bad = quadrat_testkit::fixture("tree-survey-2024.json");
    bad["data"]["project"]["forms"][0]["inputs"] = json!([]);
    let path = write_json(db.data_dir(), "bad.json", &bad);
    let out = quadrat(&db, &["project", "import", &path]);
    assert!(!out.status.success());
    let err = out.stderr;
    assert!(err.contains("ec5_68"), "{err}");
    assert!(err.contains("nothing was stored"), "{err}");
    let out = quadrat(&db, &["project", "import", &path, "--json"]);
    assert!(!out.status.success());
    let envelope: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert!(
        envelope["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "ec5_68" && e["title"] == "No questions in this form."),
        "{envelope}"
    );
    // Not JSON at all, and a missing file.
    std::fs::write(db.data_dir().join("junk.json"), "{not json").unwrap();
    let junk = db.data_dir().join("junk.json").display().to_string();
    let out = quadrat(&db, &["project", "import", &junk, "--json"]);
    assert!(!out.status.success());
    let envelope: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(envelope["errors"][0]["code"], "ec5_62");
    let out = quadrat(&db, &["project", "import", "/no/such/file.json"]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
    assert!(project_list(&db).is_empty());
}

async fn set_changes_attributes_and_rejects_bad_values(db: TestDb) {
    quadrat(
        &db,
        &["project", "import", &fixture_path("tree-survey-2024.json")],
    );
    for (field, value) in [
        ("access", "private"),
        ("visibility", "listed"),
        ("status", "locked"),
    ] {
        let out = quadrat(&db, &["project", "set", "tree-survey-2024", field, value]);
        assert!(out.status.success(), "{}", out.stderr);
    }
    let list = project_list(&db);
    assert_eq!(
        (
            &list[0]["access"],
            &list[0]["visibility"],
            &list[0]["status"]
        ),
        (&json!("private"), &json!("listed"), &json!("locked"))
    );
    let file: Value =
        serde_json::from_str(&quadrat(&db, &["project", "export", "tree-survey-2024"]).stdout)
            .unwrap();
    assert_eq!(file["data"]["project"]["access"], "private");
    assert_eq!(file["data"]["project"]["status"], "locked");

    let out = quadrat(
        &db,
        &["project", "set", "tree-survey-2024", "status", "archived"],
    );
    assert!(!out.status.success());
    assert!(out.stderr.contains("not one of"), "{}", out.stderr);
    let out = quadrat(
        &db,
        &["project", "set", "no-such-project", "access", "public"],
    );
    assert!(!out.status.success());
    assert!(out.stderr.contains("ec5_11"), "{}", out.stderr);
    assert_eq!(project_list(&db)[0]["status"], "locked");
}

async fn delete_removes_the_project(db: TestDb) {
    quadrat(
        &db,
        &["project", "import", &fixture_path("tree-survey-2024.json")],
    );
    let out = quadrat(&db, &["project", "delete", "TREE-SURVEY-2024"]);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(project_list(&db).is_empty());
    let out = quadrat(&db, &["project", "delete", "tree-survey-2024"]);
    assert!(!out.status.success());
}

fn new_id() -> String {
    "0".repeat(32)
}

both_engines!(
    import_keeps_file_refs_and_prints_json,
    import_with_new_ref_rekeys_every_ref,
    export_writes_a_reimportable_file_that_matches_the_schema,
    refused_definition_exits_nonzero_lists_codes_and_stores_nothing,
    set_changes_attributes_and_rejects_bad_values,
    delete_removes_the_project,
);

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["project", "--help"],
        vec!["project", "import", "--help"],
        vec!["project", "list", "--help"],
        vec!["project", "export", "--help"],
        vec!["project", "set", "--help"],
        vec!["project", "delete", "--help"],
    ] {
        let out = Quadrat::new(BIN).ok(&args);
        assert!(out.contains("Usage"), "{args:?}");
    }
}

#[test]
fn data_dir_flag_creates_database_and_media_folder_and_reads_toml() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    Quadrat::new(BIN).ok(&["migrate", "--data-dir", &data.display().to_string()]);
    assert!(data.join("quadrat.sqlite").exists());
    assert!(data.join("media").is_dir());

    // quadrat.toml in the data directory chooses another database; the environment wins over it.
    let other = dir.path().join("other.sqlite");
    std::fs::write(
        data.join("quadrat.toml"),
        format!("database_url = \"sqlite://{}\"\n", other.display()),
    )
    .unwrap();
    let in_data = Quadrat::new(BIN).data_dir(&data);
    in_data.ok(&["project", "list"]);
    assert!(other.exists(), "quadrat.toml was not read");
    let third = dir.path().join("third.sqlite");
    in_data
        .clone()
        .database_url(&format!("sqlite://{}", third.display()))
        .ok(&["project", "list"]);
    assert!(
        third.exists(),
        "QUADRAT_DATABASE_URL did not win over quadrat.toml"
    );

    let err = in_data.fails(&["project", "list", "--database-url", "mysql://nope"]);
    assert!(err.contains("unsupported database URL"), "{err}");
}
