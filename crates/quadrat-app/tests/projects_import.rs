//! Importing definitions through the use-case, on both engines: what is valid is stored whole,
//! what is not stores nothing.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use quadrat_app::projects::ImportOptions;
use quadrat_app::{App, AppError};
use quadrat_core::definition::{Definition, extra, mapping};
use quadrat_testkit::{TestDb, both_engines, fixture};
use serde_json::{Value, json};

async fn import_ok(app: &App, name: &str) -> String {
    app.import_project(&fixture(name), &ImportOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .slug
}

async fn every_fixture_imports_with_its_extra_and_mapping(db: TestDb) {
    let app = db.app().await;
    for name in [
        "tree-survey-2024.json",
        "all-types.json",
        "five-forms.json",
        "demo.json",
    ] {
        let slug = import_ok(&app, name).await;
        let project = app.find_project(&slug).await.unwrap();
        let stored: Value = serde_json::from_str(&project.structure.project_definition).unwrap();
        let file = fixture(name);
        assert_eq!(
            stored["project"]["forms"], file["data"]["project"]["forms"],
            "{name}"
        );
        let expected_extra = quadrat_core::json::mysql_order(extra::project_extra(&stored));
        assert_eq!(
            serde_json::from_str::<Value>(&project.structure.project_extra).unwrap(),
            expected_extra,
            "{name}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&project.structure.project_mapping).unwrap(),
            mapping::regenerate(&stored, None),
            "{name}"
        );
        let def = Definition::from_data(&stored).unwrap();
        assert_eq!(project.access.as_str(), def.access);
        assert_eq!(project.status.as_str(), def.status);
    }
    let five = app.find_project("River Monitoring Network").await.unwrap();
    assert_eq!(five.definition().unwrap().forms.len(), 5);
    assert_eq!(app.list_projects().await.unwrap().len(), 4);
}

/// One way to spoil a good definition file.
type Breakage = Box<dyn Fn(&mut Value)>;

async fn invalid_definitions_are_refused_and_store_nothing(db: TestDb) {
    let app = db.app().await;
    let good = fixture("tree-survey-2024.json");
    let form0 = "/data/project/forms/0";
    let breakages: Vec<(&str, Breakage)> = vec![
        ("ec5_269", Box::new(|v| *v = json!({"nodata": 1}))),
        (
            "ec5_321",
            Box::new(|v| v["data"]["id"] = json!("0".repeat(32))),
        ),
        (
            "ec5_67",
            Box::new(|v| v["data"]["project"]["forms"] = json!([])),
        ),
        (
            "ec5_68",
            Box::new(move |v| {
                *v.pointer_mut(&format!("{form0}/inputs")).unwrap() = json!([]);
            }),
        ),
        (
            "ec5_220",
            Box::new(|v| v["data"]["project"]["description"] = json!("<script>")),
        ),
        (
            "ec5_323",
            Box::new(|v| {
                v["data"]["project"]["small_description"] = json!("Birds 🐦 of the garden")
            }),
        ),
        (
            "ec5_60",
            Box::new(|v| {
                v["data"]["project"]
                    .as_object_mut()
                    .unwrap()
                    .remove("visibility");
            }),
        ),
        (
            "ec5_29",
            Box::new(|v| v["data"]["project"]["forms"][0]["inputs"][0]["type"] = json!("slider")),
        ),
        (
            "ec5_263",
            Box::new(|v| {
                let form = v["data"]["project"]["forms"][0].clone();
                v["data"]["project"]["forms"] = json!([
                    form.clone(),
                    form.clone(),
                    form.clone(),
                    form.clone(),
                    form.clone(),
                    form
                ]);
            }),
        ),
    ];
    for (code, breakage) in breakages {
        let mut file = good.clone();
        breakage(&mut file);
        match app.import_project(&file, &ImportOptions::default()).await {
            Err(AppError::Client { errors, .. }) => assert!(
                errors.iter().any(|e| e.code == code),
                "expected {code}, got {errors:?}"
            ),
            other => panic!("expected {code}, got {other:?}"),
        }
        assert!(
            app.list_projects().await.unwrap().is_empty(),
            "{code} stored something"
        );
    }
}

async fn mutated_definitions_never_fail_internally(db: TestDb) {
    let app = db.app().await;
    let good = fixture("all-types.json");
    let runner_cases = 48;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: runner_cases,
        ..ProptestConfig::default()
    });
    let strategy = (any::<u64>(), mutation(), any::<u64>(), mutation());
    let files: Vec<Value> = (0..runner_cases)
        .map(|_| {
            let (s1, m1, s2, m2) = strategy.new_tree(&mut runner).unwrap().current();
            mutate(&mutate(&good, s1, &m1), s2, &m2)
        })
        .collect();
    for file in files {
        if let Err(e @ AppError::Internal { .. }) = app
            .import_project(
                &file,
                &ImportOptions {
                    new_ref: true,
                    ..Default::default()
                },
            )
            .await
        {
            panic!("internal error on {file}: {e}");
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Remove,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
    ];
    prop_oneof![leaf.prop_map(Mutation::Replace), Just(Mutation::Remove)]
}

/// Applies `m` to one node of `v` chosen by `seed`.
fn mutate(v: &Value, seed: u64, m: &Mutation) -> Value {
    let mut out = v.clone();
    let mut paths = Vec::new();
    collect_paths(&out, String::new(), &mut paths);
    let path = &paths[(seed as usize) % paths.len()];
    if path.is_empty() {
        return out;
    }
    match m {
        Mutation::Replace(new) => {
            if let Some(node) = out.pointer_mut(path) {
                *node = new.clone();
            }
        }
        Mutation::Remove => {
            let (parent, key) = path.rsplit_once('/').unwrap();
            match out.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(key);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn collect_paths(v: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                collect_paths(
                    child,
                    format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_paths(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

both_engines!(
    every_fixture_imports_with_its_extra_and_mapping,
    invalid_definitions_are_refused_and_store_nothing,
    mutated_definitions_never_fail_internally,
);
