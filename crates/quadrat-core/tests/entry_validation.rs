//! The entry domain without a database: definition regexes (PCRE, `ec5_392`), titles built
//! as the app builds them, stored records, and payloads of any shape that never panic.

use std::collections::HashSet;
use std::path::Path;

use proptest::prelude::*;
use quadrat_core::Ec5Error;
use quadrat_core::definition::{Definition, Input, InputType};
use quadrat_core::entry::{self, PatternCache, Upload};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn tree_survey() -> Definition {
    Definition::from_data(&fixture("tree-survey-2024.json")["data"]).unwrap()
}

fn text_input(regex: Option<&str>, kind: InputType) -> Input {
    Input {
        input_ref: "p_f_i".into(),
        kind,
        question: "Q".into(),
        is_title: false,
        is_required: false,
        uniqueness: "none".into(),
        regex: regex.map(String::from),
        default: Value::Null,
        verify: false,
        min: None,
        max: None,
        datetime_format: None,
        set_to_current_datetime: false,
        possible_answers: vec![],
        jumps: vec![],
        branch: vec![],
        group: vec![],
    }
}

fn check(input: &Input, answer: Value) -> Result<Value, Ec5Error> {
    let answers = json!({ input.input_ref.as_str(): {"answer": answer, "was_jumped": false} });
    entry::validate_answers(
        &[input],
        &answers,
        &HashSet::new(),
        &mut PatternCache::default(),
    )
    .map(|v| v.answers[0].answer.clone())
}

#[test]
fn broken_definition_regex_gets_ec5_392_keyed_by_input() {
    for kind in [
        InputType::Text,
        InputType::Textarea,
        InputType::Phone,
        InputType::Integer,
        InputType::Decimal,
    ] {
        let input = text_input(Some("([0-9]+"), kind);
        let e = check(&input, json!("12")).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.source.as_str()),
            ("ec5_392", "p_f_i"),
            "{kind:?}"
        );
        // A blank answer never reaches the pattern.
        assert!(check(&input, json!("")).is_ok());
    }
}

#[test]
fn pcre_only_regex_accepts_answers_it_cannot_check() {
    let input = text_input(Some(r"^(?=[A-Z])[A-Z]{2}-\d{3}$"), InputType::Text);
    assert!(check(&input, json!("anything")).is_ok());
}

#[test]
fn regex_mismatch_codes_follow_the_type() {
    let text = text_input(Some(r"^[A-Z]{2}$"), InputType::Text);
    assert_eq!(check(&text, json!("abc")).unwrap_err().code, "ec5_29");
    assert!(
        check(&text, json!("AB\n")).is_ok(),
        "PCRE's $ allows a final newline"
    );
    let integer = text_input(Some(r"^[0-9]{2}$"), InputType::Integer);
    assert_eq!(check(&integer, json!("123")).unwrap_err().code, "ec5_27");
    assert_eq!(check(&integer, json!(12)).unwrap(), json!(12));
}

#[test]
fn jumped_answers_skip_every_rule_and_are_stored_empty() {
    let mut input = text_input(Some("("), InputType::Integer);
    input.is_required = true;
    let answers = json!({"p_f_i": {"answer": ["anything", {"at": "all"}], "was_jumped": true}});
    let v = entry::validate_answers(
        &[&input],
        &answers,
        &HashSet::from(["p_f_i".to_string()]),
        &mut PatternCache::default(),
    )
    .unwrap();
    assert_eq!(
        v.answers[0].to_value(),
        json!({"answer": "", "was_jumped": true})
    );
}

/// The Sites entry's payload (docs/protocol.md §16.3) with `title` replaced.
fn site_upload(title: Value) -> entry::DataUpload {
    let mut data = fixture_site();
    data["entry"]["title"] = title;
    match entry::parse_upload(&data).unwrap() {
        Upload::Data(d) => d,
        Upload::File(_) => unreachable!(),
    }
}

fn fixture_site() -> Value {
    let answers = json!({
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c41b2c01": {"answer": "Oak Ridge", "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c4a3d902": {"answer": "37", "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c52e8a13": {"answer": "2024-06-03T00:00:00.000", "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c5b1f224": {"answer": "665b0c5f0a1b5", "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c63c4d35": {"answer": ["665b0c66a7e03", "665b0c66a7e01"], "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c6e9b446": {"answer": {"latitude": 51.4987654321, "longitude": -0.1748765432, "accuracy": 6.5}, "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7750557": {"answer": "", "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7f2a668": {"answer": "", "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c96d7e79_665b0ca0c3d01": {"answer": "14.5", "was_jumped": false},
        "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c96d7e79_665b0ca6e4f02": {"answer": "665b0cab10a12", "was_jumped": false}
    });
    json!({
        "type": "entry",
        "id": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
        "attributes": {"form": {"ref": "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4", "type": "hierarchy"}},
        "relationships": {"parent": {}, "branch": {}},
        "entry": {
            "entry_uuid": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
            "created_at": "2024-06-03T09:15:27.412Z",
            "title": "",
            "answers": answers,
            "project_version": "2024-06-01 10:20:33"
        }
    })
}

fn record_for(title: Value, is_title: &[&str]) -> entry::EntryRecord {
    let mut def = tree_survey();
    fn mark(inputs: &mut [Input], refs: &[&str]) {
        for i in inputs {
            i.is_title = refs.iter().any(|r| i.input_ref.as_str().ends_with(r));
            mark(&mut i.group, refs);
        }
    }
    mark(&mut def.forms[0].inputs, is_title);
    let upload = site_upload(title);
    let inputs = entry::answerable_inputs(&def.forms[0].inputs);
    let validated = entry::validate_answers(
        &inputs,
        &upload.answers,
        &HashSet::new(),
        &mut PatternCache::default(),
    )
    .unwrap();
    entry::build_record(
        &upload,
        Default::default(),
        &def.forms[0].inputs,
        &validated,
        1_717_406_127_000,
    )
}

#[test]
fn title_is_built_like_the_app_when_none_is_sent() {
    assert_eq!(record_for(json!(""), &["665b0c41b2c01"]).title, "Oak Ridge");
    assert_eq!(
        record_for(
            json!(""),
            &["665b0c52e8a13", "665b0c63c4d35", "665b0ca6e4f02"]
        )
        .title,
        "03/06/2024 Oak, Birch Overcast",
        "date formatted, checkbox labels in definition order, group radio label"
    );
    assert_eq!(
        record_for(json!("0"), &["665b0c4a3d902"]).title,
        "37",
        "PHP-empty titles are rebuilt"
    );
    assert_eq!(record_for(json!("Kept"), &["665b0c41b2c01"]).title, "Kept");
    assert_eq!(
        record_for(json!(""), &[]).title,
        "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
        "nothing to build from: the uuid"
    );
}

#[test]
fn record_title_reaches_entry_data_and_geojson() {
    let record = record_for(json!(""), &["665b0c41b2c01"]);
    let data: Value = serde_json::from_str(&record.entry_data).unwrap();
    assert_eq!(data["entry"]["title"], "Oak Ridge");
    let geo: Value = serde_json::from_str(record.geo_json_data.as_deref().unwrap()).unwrap();
    let feature = &geo["d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c6e9b446"];
    assert_eq!(feature["properties"]["title"], "Oak Ridge");
    assert_eq!(
        feature["geometry"]["coordinates"],
        json!([-0.174877, 51.498765])
    );
    assert_eq!(record.created_at, 1_717_406_127_000);
}

fn any_json() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec![
        "type",
        "entry",
        "branch_entry",
        "file_entry",
        "id",
        "answers",
        "answer",
        "was_jumped",
        "latitude",
        "longitude",
        "accuracy",
        "attributes",
        "form",
        "ref",
        "relationships",
        "parent",
        "branch",
        "data",
        "2024-06-03T00:00:00.000",
        "-",
        "",
        "0",
        "1",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        words.clone().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((words.clone(), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_payload_parses_or_gets_errors(data in any_json()) {
        if let Err(errors) = entry::parse_upload(&data) {
            prop_assert!(!errors.is_empty());
        }
        let _ = entry::scan_payload(&data);
    }

    #[test]
    fn any_answers_validate_or_get_one_error(answers in any_json(), pick in any::<usize>()) {
        let def = fixture("all-types.json");
        let def = Definition::from_data(&def["data"]).unwrap();
        let inputs = entry::answerable_inputs(&def.forms[0].inputs);
        // The generated value as the answer of one input, every other input jumped.
        let target = inputs[pick % inputs.len()].input_ref.0.clone();
        let mut placed = serde_json::Map::new();
        for input in &inputs {
            placed.insert(input.input_ref.0.clone(), json!({"answer": "", "was_jumped": true}));
        }
        placed.insert(target, json!({"answer": answers.clone(), "was_jumped": false}));
        let placed = Value::Object(placed);
        for candidate in [answers, placed] {
            let keys = entry::unique_keys(&inputs, &candidate, &Default::default());
            prop_assert!(keys.iter().all(|k| k.key.len() <= 200));
            let _ = entry::validate_answers(&inputs, &candidate, &HashSet::new(), &mut PatternCache::default());
        }
    }
}
