//! project_extra and the EC5_AUTO mapping of the worked example (docs/protocol.md §16.1–16.2).
//! `tests/expected/` holds the worked example's extra and mapping (docs/protocol.md §16.2)
//! verbatim; their abridged parts are rebuilt here.

use quadrat_core::definition::extra::project_extra;
use quadrat_core::definition::mapping::auto_mapping;
use quadrat_core::json::mysql_order;
use serde_json::{Map, Value, json};

fn load(path: &str) -> Value {
    let full = format!("{}/tests/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn tree_survey() -> Value {
    load("fixtures/tree-survey-2024.json")["data"].clone()
}

/// Compares as text so that key order counts too.
fn assert_same(actual: &Value, expected: &Value) {
    assert_eq!(
        serde_json::to_string_pretty(actual).unwrap(),
        serde_json::to_string_pretty(expected).unwrap()
    );
}

/// Every input at any depth, each with its own branch/group list emptied, keyed by ref.
fn all_inputs_emptied(data: &Value) -> Map<String, Value> {
    fn walk(inputs: &Value, out: &mut Map<String, Value>) {
        for input in inputs.as_array().into_iter().flatten() {
            let mut own = input.clone();
            for list in ["branch", "group"] {
                if input["type"] == list {
                    own[list] = json!([]);
                }
                walk(&input[list], out);
            }
            out.insert(
                input["ref"].as_str().unwrap().to_string(),
                json!({ "data": own }),
            );
        }
    }
    let mut out = Map::new();
    for form in data["project"]["forms"].as_array().unwrap() {
        walk(&form["inputs"], &mut out);
    }
    out
}

#[test]
fn tree_survey_extra_is_section_9_2() {
    let data = tree_survey();
    let mut expected = load("expected/tree-survey-2024.extra.json");
    for (i, form) in data["project"]["forms"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let form_ref = form["ref"].as_str().unwrap();
        assert_eq!(expected["project"]["forms"][i], form_ref);
        expected["forms"][form_ref]["details"]["inputs"] = form["inputs"].clone();
    }
    let inputs = all_inputs_emptied(&data);
    assert_eq!(inputs.len(), 15);
    expected["inputs"] = Value::Object(inputs);
    let expected = mysql_order(expected);

    let actual = project_extra(&data);
    assert_same(&actual, &expected);
}

#[test]
fn tree_survey_extra_keeps_the_branch_out_of_the_data_of_its_input() {
    let extra = project_extra(&tree_survey());
    let branch = &extra["inputs"]["d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7f2a668"];
    assert_eq!(branch["data"]["branch"], json!([]));
    assert_eq!(branch["data"]["question"], "Individual trees");
}

#[test]
fn tree_survey_auto_mapping_is_section_9_3() {
    let mut actual = auto_mapping(&tree_survey());
    let expected = load("expected/tree-survey-2024.mapping.json");
    let sites = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4";
    let visits = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c5d7e3a1";
    let omitted = [
        (sites, "665b0c4a3d902", "2_Number_of_trees_co"),
        (sites, "665b0c52e8a13", "3_Survey_date"),
        (sites, "665b0c63c4d35", "5_Species_observed"),
        (sites, "665b0c6e9b446", "6_Site_location"),
        (sites, "665b0c7750557", "7_Photo_of_the_site"),
        (visits, "665b0cc9d2e02", "15_Notes"),
    ];
    for (form, suffix, map_to) in omitted {
        let input_ref = format!("{form}_{suffix}");
        let forms = actual["forms"].as_object_mut().unwrap();
        let form_map = forms[form].as_object_mut().unwrap();
        let removed = form_map.shift_remove(&input_ref).expect(&input_ref);
        assert_eq!(removed["map_to"], map_to, "{input_ref}");
    }
    let checkbox = format!("{sites}_665b0c63c4d35");
    let species = &auto_mapping(&tree_survey())["forms"][sites][&checkbox]["possible_answers"];
    assert_eq!(
        species,
        &json!({"665b0c66a7e01": {"map_to": "Oak"}, "665b0c66a7e02": {"map_to": "Beech"},
                "665b0c66a7e03": {"map_to": "Birch"}})
    );
    assert_same(&json!([actual]), &expected);
}

#[test]
fn every_map_to_of_section_9_3_is_reproduced() {
    let expected = load("expected/tree-survey-2024.mapping.json");
    let actual = auto_mapping(&tree_survey());
    fn collect(map: &Value, out: &mut Vec<(String, String)>) {
        for (input_ref, mapped) in map.as_object().into_iter().flatten() {
            out.push((
                input_ref.clone(),
                mapped["map_to"].as_str().unwrap_or("").into(),
            ));
            collect(&mapped["group"], out);
            collect(&mapped["branch"], out);
        }
    }
    let mut shown = Vec::new();
    for form in expected[0]["forms"].as_object().unwrap().values() {
        collect(form, &mut shown);
    }
    assert_eq!(shown.len(), 9);
    let mut produced = Vec::new();
    for form in actual["forms"].as_object().unwrap().values() {
        collect(form, &mut produced);
    }
    for (input_ref, map_to) in shown {
        assert!(
            produced.contains(&(input_ref.clone(), map_to.clone())),
            "{input_ref} {map_to}"
        );
    }
}
