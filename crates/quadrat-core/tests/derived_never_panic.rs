//! project_extra and the mappings take whatever JSON is stored: arbitrary values and damaged
//! fixtures must give an answer, never a panic.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use quadrat_core::definition::extra::project_extra;
use quadrat_core::definition::mapping::{auto_mapping, map_to, merge_onto_auto, regenerate};
use quadrat_core::json::mysql_order;
use serde_json::{Map, Value, json};

/// Keys and strings that steer arbitrary JSON into the code paths of a definition.
const WORDS: [&str; 24] = [
    "project",
    "forms",
    "inputs",
    "ref",
    "type",
    "question",
    "branch",
    "group",
    "possible_answers",
    "answer",
    "answer_ref",
    "name",
    "readme",
    "location",
    "radio",
    "checkbox",
    "text",
    "0",
    "1",
    "order",
    "is_default",
    "map_to",
    "map_index",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(WORDS.to_vec()).prop_map(String::from),
        "[ a-zA-Z0-9_ñé\t-]{0,8}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn fixture_data() -> &'static [Value] {
    static FIXTURES: OnceLock<Vec<Value>> = OnceLock::new();
    FIXTURES.get_or_init(load_fixtures)
}

fn load_fixtures() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("fixture");
            let file: Value = serde_json::from_str(&text).expect("fixture JSON");
            file["data"].clone()
        })
        .collect()
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Replaces the `target`-th node in pre-order (0 is the root) by `with`, or removes it from its
/// parent when `with` is `None`. Returns whether the node was found.
fn mutate(v: &mut Value, target: &mut usize, with: &Option<Value>) -> bool {
    let children: Vec<&mut Value> = match v {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => Vec::new(),
    };
    let mut remove_at = None;
    for (i, child) in children.into_iter().enumerate() {
        *target -= 1;
        if *target == 0 {
            match with {
                Some(new) => {
                    *child = new.clone();
                    return true;
                }
                None => remove_at = Some(i),
            }
            break;
        }
        if mutate(child, target, with) {
            return true;
        }
    }
    let Some(i) = remove_at else {
        return false;
    };
    match v {
        Value::Array(items) => {
            items.remove(i);
        }
        Value::Object(map) => {
            if let Some(key) = map.keys().nth(i).cloned() {
                map.shift_remove(&key);
            }
        }
        _ => {}
    }
    true
}

fn damaged(data: &Value, edits: &[(usize, Option<Value>)]) -> Value {
    let mut out = data.clone();
    for (pick, with) in edits {
        let nodes = count_nodes(&out);
        if nodes < 2 {
            break;
        }
        let mut target = 1 + pick % (nodes - 1);
        mutate(&mut out, &mut target, with);
    }
    out
}

fn is_stored_order(v: &Value) -> bool {
    serde_json::to_string(v).ok() == serde_json::to_string(&mysql_order(v.clone())).ok()
}

fn exercise(data: &Value, other: &Value) {
    let extra = project_extra(data);
    assert!(is_stored_order(&extra));
    assert!(extra["project"]["forms"].is_array());
    let auto = auto_mapping(data);
    assert!(is_stored_order(&auto));
    assert_eq!(auto["name"], "EC5_AUTO");
    let merged = merge_onto_auto(&auto, other);
    assert!(merged.get("forms").is_some());
    let list = regenerate(data, Some(other));
    assert!(list.is_array() || list.is_object());
    let first = if list.is_array() {
        &list[0]
    } else {
        &list["0"]
    };
    assert_eq!(first["name"], "EC5_AUTO");
}

proptest! {
    // No regression files: this is an integration test, which proptest cannot place them beside.
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_json_never_panics(data in arb_json(), other in arb_json()) {
        exercise(&data, &other);
        exercise(&json!({"project": {"forms": [{"inputs": data.clone()}]}}), &other);
    }

    #[test]
    fn damaged_fixtures_never_panic(
        which in 0usize..16,
        edits in prop::collection::vec((any::<usize>(), prop::option::of(arb_json())), 1..6),
        other in arb_json(),
    ) {
        let fixtures = fixture_data();
        let data = &fixtures[which % fixtures.len()];
        let broken = damaged(data, &edits);
        exercise(&broken, &other);
        let auto = auto_mapping(data);
        let old_custom = damaged(&auto, &edits);
        let list = json!([auto.clone(), old_custom.clone()]);
        prop_assert!(regenerate(&broken, Some(&list)).is_array());
        let sparse = json!({"0": auto, "3": old_custom});
        prop_assert!(regenerate(data, Some(&sparse)).is_object());
    }

    #[test]
    fn map_to_is_a_short_safe_key(n in 0usize..100_000, question in any::<String>()) {
        let key = map_to(n, &question);
        prop_assert!(key.len() <= 20);
        prop_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        let prefix = format!("{n}_");
        prop_assert!(key.starts_with(&prefix[..prefix.len().min(20)]));
    }
}

#[test]
fn fixture_auto_maps_number_every_mapped_input_once() {
    for data in fixture_data() {
        let auto = auto_mapping(data);
        let mut numbers = Vec::new();
        fn collect(map: &Value, out: &mut Vec<u64>) {
            for mapped in map.as_object().into_iter().flat_map(|m| m.values()) {
                let key = mapped["map_to"].as_str().unwrap_or_default();
                let n = key.split('_').next().and_then(|n| n.parse().ok());
                out.push(n.unwrap_or(0));
                collect(&mapped["group"], out);
                collect(&mapped["branch"], out);
            }
        }
        for form in auto["forms"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            collect(form, &mut numbers);
        }
        numbers.sort_unstable();
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert_eq!(numbers, expected);
    }
}
