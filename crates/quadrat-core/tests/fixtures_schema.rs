//! Every definition fixture validates against the Epicollect5 team's JSON Schema and parses into
//! the typed model. The schema is read from `$QUADRAT_SCHEMA`, else from
//! `<workspace root>/../shared/reference/project.schema.json`.

use std::path::{Path, PathBuf};

use quadrat_core::definition::Definition;
use serde_json::Value;

fn fixtures() -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 4,
        "expected the definition fixtures in {}",
        dir.display()
    );
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, value)
        })
        .collect()
}

fn schema_path() -> Option<PathBuf> {
    let from_env = std::env::var_os("QUADRAT_SCHEMA").map(PathBuf::from);
    let beside_workspace =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/project.schema.json");
    from_env
        .into_iter()
        .chain(std::iter::once(beside_workspace))
        .find(|p| p.is_file())
}

#[test]
fn fixtures_validate_against_the_epicollect5_schema() {
    let Some(path) = schema_path() else {
        eprintln!(
            "SKIPPED: no project.schema.json (set QUADRAT_SCHEMA, or keep shared/ beside the \
             workspace as CI does)"
        );
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let mut failures = Vec::new();
    for (fixture, definition) in fixtures() {
        for error in validator.iter_errors(&definition) {
            failures.push(format!(
                "{}: {} at {}",
                fixture.display(),
                error,
                error.instance_path()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixtures_parse_into_the_model() {
    for (fixture, definition) in fixtures() {
        let data = &definition["data"];
        let parsed =
            Definition::from_data(data).unwrap_or_else(|e| panic!("{}: {e:?}", fixture.display()));
        assert_eq!(
            parsed.project_ref.as_str(),
            data["id"],
            "{}",
            fixture.display()
        );
        assert!(!parsed.forms.is_empty(), "{}", fixture.display());
    }
}

#[test]
fn all_types_uses_every_input_type() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/all-types.json");
    let text = std::fs::read_to_string(&path).expect("all-types.json");
    let file: Value = serde_json::from_str(&text).expect("JSON");
    let parsed = Definition::from_data(&file["data"]).expect("parses");
    let mut seen: Vec<&str> = parsed
        .all_inputs()
        .iter()
        .map(|i| i.kind.as_str())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 20, "{seen:?}");
}
