//! Whole-definition validation (docs/protocol.md §3.3): the worked example passes, and breaking
//! exactly one thing yields the real server's code and source.

use quadrat_core::definition::validate::{validate_definition, validate_envelope};
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("fixtures/tree-survey-2024.json");
const PROJECT_REF: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50";
const SITES: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4";
const VISITS: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c5d7e3a1";

// Top-level inputs of the Sites form, by position.
const SITE_NAME: usize = 0;
const TREE_COUNT: usize = 1;
const SURVEY_DATE: usize = 2;
const ACCESSIBLE: usize = 3;
const SPECIES: usize = 4;
const LOCATION: usize = 5;
const PHOTO: usize = 6;
const TREES: usize = 7;
const WEATHER: usize = 8;

fn file() -> Value {
    serde_json::from_str(FIXTURE).expect("fixture is JSON")
}

fn data() -> Value {
    file()["data"].take()
}

fn project(d: &mut Value) -> &mut Value {
    &mut d["project"]
}

fn form(d: &mut Value, index: usize) -> &mut Value {
    &mut d["project"]["forms"][index]
}

fn site_input(d: &mut Value, index: usize) -> &mut Value {
    &mut form(d, 0)["inputs"][index]
}

fn tree_child(d: &mut Value, index: usize) -> &mut Value {
    &mut site_input(d, TREES)["branch"][index]
}

fn weather_child(d: &mut Value, index: usize) -> &mut Value {
    &mut site_input(d, WEATHER)["group"][index]
}

fn site_ref(d: &Value, index: usize) -> String {
    d["project"]["forms"][0]["inputs"][index]["ref"]
        .as_str()
        .expect("fixture ref")
        .to_string()
}

fn child_ref(d: &Value, owner: usize, key: &str, index: usize) -> String {
    d["project"]["forms"][0]["inputs"][owner][key][index]["ref"]
        .as_str()
        .expect("fixture ref")
        .to_string()
}

/// A 13-character suffix unique to `n`.
fn uniq(n: usize) -> String {
    format!("{n:013x}")
}

/// An input with every key, of the conventional empty values, under `parent_ref`.
fn new_input(parent_ref: &str, n: usize, kind: &str) -> Value {
    json!({
        "ref": format!("{parent_ref}_{}", uniq(n)),
        "type": kind,
        "question": format!("Question {n}"),
        "is_title": false,
        "is_required": false,
        "uniqueness": "none",
        "regex": null,
        "default": null,
        "verify": false,
        "max": null,
        "min": null,
        "datetime_format": null,
        "set_to_current_datetime": false,
        "possible_answers": [],
        "jumps": [],
        "branch": [],
        "group": []
    })
}

fn answers(count: usize) -> Value {
    (0..count)
        .map(|i| json!({"answer": format!("Answer {i}"), "answer_ref": uniq(i)}))
        .collect()
}

fn search_input(parent_ref: &str, n: usize) -> Value {
    let mut input = new_input(parent_ref, n, "searchsingle");
    input["possible_answers"] = answers(2);
    input["default"] = json!("");
    input
}

fn pairs(errors: &[quadrat_core::Ec5Error]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.code.clone(), e.source.clone()))
        .collect()
}

#[track_caller]
fn assert_errors(d: &Value, expected: &[(&str, &str)]) {
    let errors = validate_definition(d).expect_err("definition should be refused");
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect();
    assert_eq!(pairs(&errors), expected);
}

#[track_caller]
fn assert_valid(d: &Value) {
    if let Err(errors) = validate_definition(d) {
        panic!("definition refused: {errors:?}");
    }
}

#[track_caller]
fn assert_envelope_errors(file: &Value, expected: &[(&str, &str)]) {
    let errors = validate_envelope(file).expect_err("envelope should be refused");
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect();
    assert_eq!(pairs(&errors), expected);
}

// ---------------------------------------------------------------------------------------------
// The worked example

#[test]
fn validate_fixture_definition_passes() {
    assert_valid(&data());
}

#[test]
fn validate_envelope_of_fixture_returns_data() {
    let f = file();
    let d = validate_envelope(&f).expect("envelope is valid");
    assert_eq!(d["id"], PROJECT_REF);
}

// ---------------------------------------------------------------------------------------------
// Envelope (RuleImportJson)

#[test]
fn validate_envelope_scalar_file_returns_ec5_269() {
    assert_envelope_errors(&json!("data"), &[("ec5_269", "validation")]);
}

#[test]
fn validate_envelope_without_data_returns_every_missing_code() {
    assert_envelope_errors(
        &json!({"project": {}}),
        &[
            ("ec5_269", "data"),
            ("ec5_281", "data.type"),
            ("ec5_353", "data.project"),
            ("ec5_289", "data.id"),
        ],
    );
}

#[test]
fn validate_envelope_wrong_type_returns_ec5_29() {
    let mut f = file();
    f["data"]["type"] = json!("projects");
    assert_envelope_errors(&f, &[("ec5_29", "data.type")]);
}

#[test]
fn validate_envelope_project_not_object_returns_ec5_268() {
    let mut f = file();
    f["data"]["project"] = json!("project");
    let errors = validate_envelope(&f).expect_err("refused");
    assert_eq!(pairs(&errors), [("ec5_268".into(), "data.project".into())]);
    assert_eq!(errors[0].title, "'project' value must be array []");
}

#[test]
fn validate_envelope_empty_project_returns_ec5_353() {
    let mut f = file();
    f["data"]["project"] = json!({});
    assert_envelope_errors(&f, &[("ec5_353", "data.project")]);
}

#[test]
fn validate_envelope_short_id_returns_size_message() {
    let mut f = file();
    f["data"]["id"] = json!("abc");
    let errors = validate_envelope(&f).expect_err("refused");
    assert_eq!(errors[0].code, "The data.id must be 32 characters.");
    assert_eq!(errors[0].title, errors[0].code);
    assert_eq!(errors[0].source, "data.id");
}

#[test]
fn validate_envelope_id_not_project_ref_returns_ec5_321() {
    let mut f = file();
    let other = "0123456789abcdef0123456789abcdef";
    f["data"]["id"] = json!(other);
    assert_envelope_errors(&f, &[("ec5_321", other)]);
}

// ---------------------------------------------------------------------------------------------
// Payload scan

#[test]
fn validate_definition_with_angle_bracket_returns_ec5_220() {
    let mut d = data();
    site_input(&mut d, SITE_NAME)["question"] = json!("Site <b>name</b>");
    assert_errors(&d, &[("ec5_220", "validation")]);
}

#[test]
fn validate_definition_with_emoji_returns_ec5_323() {
    let mut d = data();
    project(&mut d)["description"] = json!("Trees 🌳 everywhere");
    assert_errors(&d, &[("ec5_323", "validation")]);
}

#[test]
fn validate_definition_with_markup_and_emoji_returns_ec5_220_only() {
    let mut d = data();
    project(&mut d)["description"] = json!("Trees ☀");
    site_input(&mut d, SITE_NAME)["question"] = json!("a > b");
    assert_errors(&d, &[("ec5_220", "validation")]);
}

#[test]
fn validate_definition_with_angle_bracket_in_key_returns_ec5_220() {
    let mut d = data();
    project(&mut d)["entries_limits"] = json!({"<x>": 5});
    assert_errors(&d, &[("ec5_220", "validation")]);
}

// ---------------------------------------------------------------------------------------------
// Project

#[test]
fn validate_project_without_forms_returns_ec5_67() {
    let mut d = data();
    project(&mut d)["forms"] = json!([]);
    assert_errors(&d, &[("ec5_67", "validation")]);
}

#[test]
fn validate_project_empty_returns_ec5_67() {
    let mut d = data();
    d["project"] = json!({});
    assert_errors(&d, &[("ec5_67", "validation")]);
}

#[test]
fn validate_project_forms_not_list_returns_ec5_66() {
    let mut d = data();
    project(&mut d)["forms"] = json!("Sites");
    assert_errors(&d, &[("ec5_66", "validation")]);
}

#[test]
fn validate_project_with_six_forms_returns_ec5_263() {
    let mut d = data();
    let forms = project(&mut d)["forms"].as_array_mut().expect("forms");
    let extra = forms[1].clone();
    forms.extend(std::iter::repeat_n(extra, 4));
    assert_errors(&d, &[("ec5_263", "validation")]);
}

#[test]
fn validate_project_missing_key_returns_ec5_63_and_ec5_60() {
    let mut d = data();
    project(&mut d)
        .as_object_mut()
        .expect("project")
        .remove("category");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_60", "missing_keys"),
        ],
    );
}

#[test]
fn validate_project_name_with_invalid_chars_returns_ec5_205() {
    let mut d = data();
    project(&mut d)["name"] = json!("Tree-Survey");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_205", "name"),
        ],
    );
}

#[test]
fn validate_project_name_too_short_returns_ec5_43() {
    let mut d = data();
    project(&mut d)["name"] = json!("TS");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_43", "name"),
        ],
    );
}

#[test]
fn validate_project_name_too_long_returns_ec5_44() {
    let mut d = data();
    project(&mut d)["name"] = json!("T".repeat(101));
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_44", "name"),
        ],
    );
}

#[test]
fn validate_project_empty_name_returns_ec5_21() {
    let mut d = data();
    project(&mut d)["name"] = json!("  ");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_21", "name"),
        ],
    );
}

#[test]
fn validate_project_unknown_access_returns_ec5_29() {
    let mut d = data();
    project(&mut d)["access"] = json!("secret");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_29", "access"),
        ],
    );
}

#[test]
fn validate_project_archived_status_returns_ec5_29() {
    let mut d = data();
    project(&mut d)["status"] = json!("archived");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_29", "status"),
        ],
    );
}

#[test]
fn validate_project_unknown_visibility_returns_ec5_29() {
    let mut d = data();
    project(&mut d)["visibility"] = json!("public");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_29", "visibility"),
        ],
    );
}

#[test]
fn validate_project_short_small_description_returns_ec5_43() {
    let mut d = data();
    project(&mut d)["small_description"] = json!("ab");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_43", "small_description"),
        ],
    );
}

#[test]
fn validate_project_long_small_description_returns_ec5_44() {
    let mut d = data();
    project(&mut d)["small_description"] = json!("a".repeat(101));
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_44", "small_description"),
        ],
    );
}

#[test]
fn validate_project_slug_create_returns_not_in_message() {
    let mut d = data();
    project(&mut d)["slug"] = json!("create");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("The selected slug is invalid.", "slug"),
        ],
    );
}

#[test]
fn validate_project_entries_limits_not_map_returns_ec5_29() {
    let mut d = data();
    project(&mut d)["entries_limits"] = json!("20");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_29", "entries_limits"),
        ],
    );
}

#[test]
fn validate_project_entries_limit_over_max_returns_ec5_28() {
    let mut d = data();
    project(&mut d)["entries_limits"] = json!({ SITES: 50001 });
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_28", "entries_limits"),
        ],
    );
}

#[test]
fn validate_project_entries_limit_not_integer_returns_ec5_27() {
    let mut d = data();
    project(&mut d)["entries_limits"] = json!({ SITES: "lots" });
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_27", "entries_limits"),
        ],
    );
}

#[test]
fn validate_project_entries_limits_as_strings_is_accepted() {
    let mut d = data();
    project(&mut d)["entries_limits"] = json!({ SITES: "20", VISITS: 0 });
    assert_valid(&d);
}

#[test]
fn validate_project_several_bad_fields_returns_each_in_rule_order() {
    let mut d = data();
    project(&mut d)["status"] = json!("gone");
    project(&mut d)["name"] = json!("No!");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_205", "name"),
            ("ec5_29", "status"),
        ],
    );
}

#[test]
fn validate_project_ref_not_id_returns_ec5_321() {
    let mut d = data();
    project(&mut d)["ref"] = json!("0123456789abcdef0123456789abcdef");
    assert_errors(
        &d,
        &[
            ("ec5_63", "projectExtraDetailsValidator"),
            ("ec5_321", PROJECT_REF),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Forms

#[test]
fn validate_form_with_empty_name_returns_ec5_246() {
    let mut d = data();
    form(&mut d, 1)["name"] = json!("");
    assert_errors(&d, &[("ec5_246", "validation")]);
}

#[test]
fn validate_form_with_duplicate_name_returns_ec5_245() {
    let mut d = data();
    form(&mut d, 1)["name"] = json!("Sites");
    assert_errors(&d, &[("ec5_245", "validation")]);
}

#[test]
fn validate_form_name_duplicate_after_trimming_earlier_returns_ec5_245() {
    let mut d = data();
    form(&mut d, 0)["name"] = json!("Sites ");
    form(&mut d, 1)["name"] = json!("Sites");
    assert_errors(&d, &[("ec5_245", "validation")]);
}

#[test]
fn validate_form_with_duplicate_ref_returns_ec5_224() {
    let mut d = data();
    form(&mut d, 1)["ref"] = json!(SITES);
    assert_errors(&d, &[("ec5_224", "validation")]);
}

#[test]
fn validate_form_without_inputs_returns_ec5_68() {
    let mut d = data();
    form(&mut d, 1)["inputs"] = json!([]);
    assert_errors(&d, &[("ec5_68", "validation")]);
}

#[test]
fn validate_form_with_301_top_level_inputs_returns_ec5_262() {
    let mut d = data();
    let inputs: Vec<Value> = (0..301).map(|n| new_input(VISITS, n, "text")).collect();
    form(&mut d, 1)["inputs"] = Value::Array(inputs);
    assert_errors(&d, &[("ec5_262", "validation")]);
}

#[test]
fn validate_form_over_300_inputs_counting_children_returns_ec5_262() {
    let mut d = data();
    let mut inputs: Vec<Value> = (0..290).map(|n| new_input(VISITS, n, "text")).collect();
    let mut branch = new_input(VISITS, 999, "branch");
    let branch_ref = branch["ref"].as_str().unwrap_or_default().to_string();
    branch["branch"] = (0..11).map(|n| new_input(&branch_ref, n, "text")).collect();
    inputs.push(branch);
    form(&mut d, 1)["inputs"] = Value::Array(inputs);
    assert_errors(&d, &[("ec5_262", "validation")]);
}

#[test]
fn validate_form_with_300_inputs_counting_children_is_accepted() {
    let mut d = data();
    let mut inputs: Vec<Value> = (0..289).map(|n| new_input(VISITS, n, "text")).collect();
    let mut branch = new_input(VISITS, 999, "branch");
    let branch_ref = branch["ref"].as_str().unwrap_or_default().to_string();
    branch["branch"] = (0..10).map(|n| new_input(&branch_ref, n, "text")).collect();
    inputs.push(branch);
    form(&mut d, 1)["inputs"] = Value::Array(inputs);
    assert_valid(&d);
}

#[test]
fn validate_form_missing_key_returns_ec5_60() {
    let mut d = data();
    form(&mut d, 1)
        .as_object_mut()
        .expect("form")
        .remove("slug");
    assert_errors(&d, &[("ec5_60", "validation")]);
}

#[test]
fn validate_form_ref_without_project_prefix_returns_ec5_243() {
    let mut d = data();
    form(&mut d, 1)["ref"] = json!("0123456789abcdef0123456789abcdef_665b0c5d7e3a1");
    assert_errors(&d, &[("ec5_243", "validation")]);
}

#[test]
fn validate_form_ref_with_short_suffix_returns_ec5_243() {
    let mut d = data();
    form(&mut d, 1)["ref"] = json!(format!("{PROJECT_REF}_665b0c5d"));
    assert_errors(&d, &[("ec5_243", "validation")]);
}

#[test]
fn validate_form_name_too_long_returns_ec5_44() {
    let mut d = data();
    form(&mut d, 1)["name"] = json!("V".repeat(51));
    assert_errors(&d, &[("ec5_44", "validation")]);
}

#[test]
fn validate_form_name_with_invalid_chars_returns_ec5_29() {
    let mut d = data();
    form(&mut d, 1)["name"] = json!("Visits!");
    assert_errors(&d, &[("ec5_29", "validation")]);
}

#[test]
fn validate_form_slug_with_invalid_chars_returns_ec5_29() {
    let mut d = data();
    form(&mut d, 1)["slug"] = json!("visits_2");
    assert_errors(&d, &[("ec5_29", "validation")]);
}

#[test]
fn validate_form_type_not_hierarchy_returns_ec5_29() {
    let mut d = data();
    form(&mut d, 1)["type"] = json!("branch");
    assert_errors(&d, &[("ec5_29", "validation")]);
}

// ---------------------------------------------------------------------------------------------
// Inputs: keys and field rules

#[test]
fn validate_input_missing_key_returns_ec5_65_and_ec5_60() {
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)
        .as_object_mut()
        .expect("input")
        .remove("verify");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_60", "missing_keys")]);
}

#[test]
fn validate_input_without_ref_key_returns_ec5_65_under_rule_input() {
    let mut d = data();
    site_input(&mut d, LOCATION)
        .as_object_mut()
        .expect("input")
        .remove("ref");
    assert_errors(&d, &[("ec5_65", "ruleInput"), ("ec5_60", "missing_keys")]);
}

#[test]
fn validate_input_not_object_returns_ec5_65_and_ec5_29() {
    let mut d = data();
    *site_input(&mut d, LOCATION) = json!("location");
    assert_errors(&d, &[("ec5_65", "ruleInput"), ("ec5_29", "validation")]);
}

#[test]
fn validate_input_blank_ref_returns_ec5_21() {
    let mut d = data();
    site_input(&mut d, LOCATION)["ref"] = json!("");
    assert_errors(&d, &[("ec5_65", "ruleInput"), ("ec5_21", "ref")]);
}

#[test]
fn validate_input_unknown_type_returns_ec5_29() {
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)["type"] = json!("map");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_29", "type")]);
}

#[test]
fn validate_input_without_question_returns_ec5_21() {
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)["question"] = json!(" ");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_21", "question")]);
    let errors = validate_definition(&d).expect_err("refused");
    assert_eq!(errors[1].title, "Required field is missing.");
}

#[test]
fn validate_input_invalid_boolean_flag_returns_ec5_29() {
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)["is_required"] = json!("yes");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_29", "is_required")]);
}

#[test]
fn validate_input_php_boolean_forms_are_accepted() {
    let mut d = data();
    site_input(&mut d, LOCATION)["is_required"] = json!("1");
    site_input(&mut d, LOCATION)["verify"] = json!(0);
    site_input(&mut d, LOCATION)["set_to_current_datetime"] = json!("0");
    site_input(&mut d, PHOTO)["is_title"] = json!(1);
    assert_valid(&d);
}

#[test]
fn validate_input_several_bad_fields_returns_each_in_rule_order() {
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)["uniqueness"] = json!("always");
    site_input(&mut d, LOCATION)["verify"] = json!(null);
    site_input(&mut d, LOCATION)["jumps"] = json!({});
    assert_errors(
        &d,
        &[
            ("ec5_65", &r),
            ("ec5_29", "verify"),
            ("ec5_29", "jumps"),
            ("ec5_29", "uniqueness"),
        ],
    );
}

#[test]
fn validate_input_unknown_uniqueness_returns_ec5_29() {
    let mut d = data();
    let r = site_ref(&d, SITE_NAME);
    site_input(&mut d, SITE_NAME)["uniqueness"] = json!("project");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_29", "uniqueness")]);
}

#[test]
fn validate_branch_child_hierarchy_uniqueness_returns_ec5_29() {
    let mut d = data();
    let r = child_ref(&d, TREES, "branch", 0);
    tree_child(&mut d, 0)["uniqueness"] = json!("hierarchy");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_29", "uniqueness")]);
}

#[test]
fn validate_top_level_group_child_hierarchy_uniqueness_is_accepted() {
    let mut d = data();
    weather_child(&mut d, 0)["uniqueness"] = json!("hierarchy");
    assert_valid(&d);
}

#[test]
fn validate_input_unknown_datetime_format_returns_ec5_29() {
    let mut d = data();
    let r = site_ref(&d, SURVEY_DATE);
    site_input(&mut d, SURVEY_DATE)["datetime_format"] = json!("YYYY-MM-dd");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_29", "datetime_format")]);
}

#[test]
fn validate_integer_min_not_numeric_returns_ec5_27() {
    let mut d = data();
    let r = site_ref(&d, TREE_COUNT);
    site_input(&mut d, TREE_COUNT)["min"] = json!("none");
    // `max` is then compared with "none" the PHP way, as strings, and is not greater.
    assert_errors(&d, &[("ec5_65", &r), ("ec5_28", "max"), ("ec5_27", "min")]);
}

#[test]
fn validate_integer_max_not_numeric_returns_ec5_27() {
    let mut d = data();
    let r = site_ref(&d, TREE_COUNT);
    site_input(&mut d, TREE_COUNT)["max"] = json!("lots");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_27", "max")]);
}

#[test]
fn validate_integer_max_not_above_min_returns_ec5_28() {
    let mut d = data();
    let r = site_ref(&d, TREE_COUNT);
    site_input(&mut d, TREE_COUNT)["max"] = json!("0");
    assert_errors(&d, &[("ec5_65", &r), ("ec5_28", "max")]);
}

#[test]
fn validate_decimal_numeric_bounds_as_numbers_are_accepted() {
    let mut d = data();
    tree_child(&mut d, 1)["min"] = json!(0.5);
    tree_child(&mut d, 1)["max"] = json!(2000);
    tree_child(&mut d, 1)["default"] = json!("10.5");
    assert_valid(&d);
}

// ---------------------------------------------------------------------------------------------
// Inputs: additional checks

#[test]
fn validate_input_ref_with_wrong_prefix_returns_ec5_243() {
    let mut d = data();
    let r = format!("{VISITS}_665b0c6e9b446");
    site_input(&mut d, LOCATION)["ref"] = json!(r);
    assert_errors(&d, &[("ec5_243", &r)]);
}

#[test]
fn validate_input_ref_with_short_suffix_returns_ec5_243() {
    let mut d = data();
    let r = format!("{SITES}_665b0c6e9b4");
    site_input(&mut d, LOCATION)["ref"] = json!(r);
    assert_errors(&d, &[("ec5_243", &r)]);
}

#[test]
fn validate_branch_child_ref_with_form_prefix_returns_ec5_243() {
    let mut d = data();
    let r = format!("{SITES}_665b0c8a11a01");
    tree_child(&mut d, 0)["ref"] = json!(r);
    assert_errors(&d, &[("ec5_243", &r)]);
}

#[test]
fn validate_input_duplicate_ref_returns_ec5_224() {
    let mut d = data();
    let r = site_ref(&d, SITE_NAME);
    site_input(&mut d, LOCATION)["ref"] = json!(r);
    assert_errors(&d, &[("ec5_224", &r)]);
}

#[test]
fn validate_input_question_too_long_returns_ec5_244() {
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)["question"] = json!("é".repeat(256));
    assert_errors(&d, &[("ec5_244", &r)]);
}

#[test]
fn validate_input_question_of_255_chars_is_accepted() {
    let mut d = data();
    site_input(&mut d, LOCATION)["question"] = json!("é".repeat(255));
    assert_valid(&d);
}

#[test]
fn validate_readme_question_counts_decoded_text_without_tags() {
    let mut d = data();
    let text = format!("&lt;p&gt;&lt;b&gt;{}&lt;/b&gt;&lt;/p&gt;", "x".repeat(999));
    site_input(&mut d, LOCATION)["type"] = json!("readme");
    site_input(&mut d, LOCATION)["question"] = json!(format!("{text}&amp;"));
    assert_valid(&d);
}

#[test]
fn validate_readme_question_over_1000_chars_returns_ec5_244() {
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)["type"] = json!("readme");
    site_input(&mut d, LOCATION)["question"] =
        json!(format!("&lt;p&gt;{}&lt;/p&gt;", "x".repeat(1001)));
    assert_errors(&d, &[("ec5_244", &r)]);
}

#[test]
fn validate_date_without_datetime_format_returns_ec5_79() {
    let mut d = data();
    let r = site_ref(&d, SURVEY_DATE);
    site_input(&mut d, SURVEY_DATE)["datetime_format"] = json!(null);
    assert_errors(&d, &[("ec5_79", &r), ("question", "question")]);
}

#[test]
fn validate_question_pseudo_error_carries_question_text() {
    let mut d = data();
    site_input(&mut d, SURVEY_DATE)["datetime_format"] = json!("");
    let errors = validate_definition(&d).expect_err("refused");
    assert_eq!(errors[1].code, "question");
    assert_eq!(errors[1].title, "Survey date");
    assert_eq!(errors[0].title, "Date/time format incorrect");
}

#[test]
fn validate_integer_default_decimal_returns_ec5_339() {
    let mut d = data();
    let r = site_ref(&d, TREE_COUNT);
    site_input(&mut d, TREE_COUNT)["default"] = json!("1.5");
    assert_errors(&d, &[("ec5_339", &r)]);
}

#[test]
fn validate_integer_default_with_leading_zero_returns_ec5_339() {
    let mut d = data();
    let r = site_ref(&d, TREE_COUNT);
    site_input(&mut d, TREE_COUNT)["default"] = json!("07");
    assert_errors(&d, &[("ec5_339", &r)]);
}

#[test]
fn validate_integer_default_zero_string_or_number_is_accepted() {
    let mut d = data();
    site_input(&mut d, TREE_COUNT)["default"] = json!("0");
    assert_valid(&d);
    site_input(&mut d, TREE_COUNT)["default"] = json!(12);
    assert_valid(&d);
}

#[test]
fn validate_integer_null_default_is_accepted() {
    let mut d = data();
    site_input(&mut d, TREE_COUNT)["default"] = json!(null);
    assert_valid(&d);
}

#[test]
fn validate_integer_default_outside_range_returns_ec5_28() {
    let mut d = data();
    let r = site_ref(&d, TREE_COUNT);
    site_input(&mut d, TREE_COUNT)["default"] = json!("501");
    assert_errors(&d, &[("ec5_28", &r)]);
}

#[test]
fn validate_decimal_default_not_numeric_returns_ec5_339() {
    let mut d = data();
    let r = child_ref(&d, TREES, "branch", 1);
    tree_child(&mut d, 1)["default"] = json!("thick");
    tree_child(&mut d, 1)["min"] = json!("");
    assert_errors(&d, &[("ec5_339", &r)]);
}

#[test]
fn validate_decimal_default_not_numeric_with_range_returns_ec5_28() {
    // The range check runs after the default check and compares the PHP way ("thick" > "2000"
    // as strings), so its code replaces ec5_339, as on the real server.
    let mut d = data();
    let r = child_ref(&d, TREES, "branch", 1);
    tree_child(&mut d, 1)["default"] = json!("thick");
    assert_errors(&d, &[("ec5_28", &r)]);
}

#[test]
fn validate_checkbox_without_answers_returns_ec5_336() {
    let mut d = data();
    let r = site_ref(&d, SPECIES);
    site_input(&mut d, SPECIES)["possible_answers"] = json!([]);
    assert_errors(&d, &[("ec5_336", &r), ("question", "question")]);
}

#[test]
fn validate_radio_without_answers_returns_ec5_337() {
    let mut d = data();
    let r = child_ref(&d, WEATHER, "group", 1);
    weather_child(&mut d, 1)["possible_answers"] = json!([]);
    assert_errors(&d, &[("ec5_337", &r), ("question", "question")]);
}

#[test]
fn validate_dropdown_without_answers_returns_ec5_338() {
    let mut d = data();
    let r = site_ref(&d, SPECIES);
    site_input(&mut d, SPECIES)["type"] = json!("dropdown");
    site_input(&mut d, SPECIES)["possible_answers"] = json!([]);
    assert_errors(&d, &[("ec5_338", &r), ("question", "question")]);
}

#[test]
fn validate_search_without_answers_returns_ec5_342() {
    let mut d = data();
    let r = site_ref(&d, SPECIES);
    site_input(&mut d, SPECIES)["type"] = json!("searchmultiple");
    site_input(&mut d, SPECIES)["possible_answers"] = json!([]);
    assert_errors(&d, &[("ec5_342", &r), ("question", "question")]);
}

#[test]
fn validate_checkbox_with_301_answers_returns_ec5_340() {
    let mut d = data();
    let r = site_ref(&d, SPECIES);
    site_input(&mut d, SPECIES)["possible_answers"] = answers(301);
    assert_errors(&d, &[("ec5_340", &r), ("question", "question")]);
}

#[test]
fn validate_search_with_1000_answers_is_accepted() {
    let mut d = data();
    site_input(&mut d, SPECIES)["type"] = json!("searchsingle");
    site_input(&mut d, SPECIES)["possible_answers"] = answers(1000);
    assert_valid(&d);
}

#[test]
fn validate_search_with_1001_answers_returns_ec5_340() {
    let mut d = data();
    let r = site_ref(&d, SPECIES);
    site_input(&mut d, SPECIES)["type"] = json!("searchsingle");
    site_input(&mut d, SPECIES)["possible_answers"] = answers(1001);
    assert_errors(&d, &[("ec5_340", &r), ("question", "question")]);
}

#[test]
fn validate_answer_label_too_long_returns_ec5_341() {
    let mut d = data();
    let r = site_ref(&d, SPECIES);
    site_input(&mut d, SPECIES)["possible_answers"][1]["answer"] = json!("a".repeat(251));
    assert_errors(&d, &[("ec5_341", &r), ("question", "question")]);
}

#[test]
fn validate_answer_ref_wrong_length_returns_ec5_355() {
    let mut d = data();
    let r = site_ref(&d, SPECIES);
    site_input(&mut d, SPECIES)["possible_answers"][1]["answer_ref"] = json!("665b0c66a7e0");
    assert_errors(&d, &[("ec5_355", &r), ("question", "question")]);
}

#[test]
fn validate_radio_default_not_an_answer_returns_ec5_339() {
    let mut d = data();
    let r = child_ref(&d, WEATHER, "group", 1);
    weather_child(&mut d, 1)["default"] = json!("665b0cab10a19");
    assert_errors(&d, &[("ec5_339", &r), ("question", "question")]);
}

#[test]
fn validate_radio_default_answer_ref_is_accepted() {
    let mut d = data();
    weather_child(&mut d, 1)["default"] = json!("665b0cab10a12");
    assert_valid(&d);
}

#[test]
fn validate_radio_null_default_is_accepted() {
    let mut d = data();
    weather_child(&mut d, 1)["default"] = json!(null);
    site_input(&mut d, SPECIES)["default"] = json!(null);
    assert_valid(&d);
}

#[test]
fn validate_photo_with_answers_returns_ec5_398() {
    let mut d = data();
    let r = site_ref(&d, PHOTO);
    site_input(&mut d, PHOTO)["possible_answers"] = answers(1);
    let errors = validate_definition(&d).expect_err("refused");
    assert_eq!(
        pairs(&errors),
        [
            ("ec5_398".to_string(), r),
            ("question".to_string(), "question".to_string())
        ]
    );
    assert_eq!(errors[0].title, "Token revoked");
}

#[test]
fn validate_location_with_answers_returns_ec5_398() {
    // Quadrat extends the real server's media-only rule to every non-choice type.
    let mut d = data();
    let r = site_ref(&d, LOCATION);
    site_input(&mut d, LOCATION)["possible_answers"] = answers(1);
    assert_errors(&d, &[("ec5_398", &r), ("question", "question")]);
}

#[test]
fn validate_text_with_branch_children_returns_ec5_29() {
    let mut d = data();
    let r = site_ref(&d, SITE_NAME);
    site_input(&mut d, SITE_NAME)["branch"] = json!([new_input(&r, 1, "text")]);
    assert_errors(&d, &[("ec5_65", &r), ("ec5_29", "branch")]);
}

#[test]
fn validate_branch_with_group_children_returns_ec5_29() {
    let mut d = data();
    let r = site_ref(&d, TREES);
    site_input(&mut d, TREES)["group"] = json!([new_input(&r, 1, "text")]);
    assert_errors(&d, &[("ec5_65", &r), ("ec5_29", "group")]);
}

#[test]
fn validate_invalid_regex_returns_ec5_392() {
    let mut d = data();
    let r = site_ref(&d, SITE_NAME);
    site_input(&mut d, SITE_NAME)["regex"] = json!("^[A-Z");
    assert_errors(&d, &[("ec5_392", &r)]);
}

#[test]
fn validate_regex_with_unescaped_slash_returns_ec5_392() {
    let mut d = data();
    let r = site_ref(&d, SITE_NAME);
    site_input(&mut d, SITE_NAME)["regex"] = json!("^\\d+/\\d+$");
    assert_errors(&d, &[("ec5_392", &r)]);
}

#[test]
fn validate_regex_with_pcre_lookahead_is_accepted() {
    let mut d = data();
    site_input(&mut d, SITE_NAME)["regex"] = json!("^(?=.*\\d)[A-Za-z0-9 ]+$");
    assert_valid(&d);
}

// ---------------------------------------------------------------------------------------------
// Branches, groups and nesting

#[test]
fn validate_branch_without_children_returns_ec5_68() {
    let mut d = data();
    site_input(&mut d, TREES)["branch"] = json!([]);
    assert_errors(&d, &[("ec5_68", "validation")]);
}

#[test]
fn validate_group_without_children_returns_ec5_68() {
    let mut d = data();
    site_input(&mut d, WEATHER)["group"] = json!([]);
    assert_errors(&d, &[("ec5_68", "validation")]);
}

#[test]
fn validate_branch_inside_branch_returns_ec5_29() {
    let mut d = data();
    let branch_ref = site_ref(&d, TREES);
    let mut inner = new_input(&branch_ref, 1, "branch");
    let inner_ref = inner["ref"].as_str().unwrap_or_default().to_string();
    inner["branch"] = json!([new_input(&inner_ref, 2, "text")]);
    *tree_child(&mut d, 1) = inner;
    assert_errors(&d, &[("ec5_65", &inner_ref), ("ec5_29", "type")]);
}

#[test]
fn validate_group_inside_group_returns_ec5_29() {
    let mut d = data();
    let group_ref = site_ref(&d, WEATHER);
    let mut inner = new_input(&group_ref, 1, "group");
    let inner_ref = inner["ref"].as_str().unwrap_or_default().to_string();
    inner["group"] = json!([new_input(&inner_ref, 2, "text")]);
    *weather_child(&mut d, 0) = inner;
    assert_errors(&d, &[("ec5_65", &inner_ref), ("ec5_29", "type")]);
}

#[test]
fn validate_branch_inside_group_returns_ec5_29() {
    let mut d = data();
    let group_ref = site_ref(&d, WEATHER);
    let mut inner = new_input(&group_ref, 1, "branch");
    let inner_ref = inner["ref"].as_str().unwrap_or_default().to_string();
    inner["branch"] = json!([new_input(&inner_ref, 2, "text")]);
    *weather_child(&mut d, 0) = inner;
    assert_errors(&d, &[("ec5_65", &inner_ref), ("ec5_29", "type")]);
}

#[test]
fn validate_group_inside_branch_is_accepted() {
    let mut d = data();
    let branch_ref = site_ref(&d, TREES);
    let mut group = new_input(&branch_ref, 1, "group");
    let group_ref = group["ref"].as_str().unwrap_or_default().to_string();
    group["group"] = json!([
        new_input(&group_ref, 2, "text"),
        new_input(&group_ref, 3, "integer")
    ]);
    site_input(&mut d, TREES)["branch"]
        .as_array_mut()
        .expect("branch")
        .push(group);
    assert_valid(&d);
}

#[test]
fn validate_group_inside_branch_child_hierarchy_uniqueness_returns_ec5_29() {
    let mut d = data();
    let branch_ref = site_ref(&d, TREES);
    let mut group = new_input(&branch_ref, 1, "group");
    let group_ref = group["ref"].as_str().unwrap_or_default().to_string();
    let mut child = new_input(&group_ref, 2, "text");
    child["uniqueness"] = json!("hierarchy");
    let child_ref = child["ref"].as_str().unwrap_or_default().to_string();
    group["group"] = json!([child]);
    site_input(&mut d, TREES)["branch"]
        .as_array_mut()
        .expect("branch")
        .push(group);
    assert_errors(&d, &[("ec5_65", &child_ref), ("ec5_29", "uniqueness")]);
}

// ---------------------------------------------------------------------------------------------
// Jumps

fn jump(to: &str, when: &str, answer_ref: Value) -> Value {
    json!({"to": to, "when": when, "answer_ref": answer_ref})
}

#[test]
fn validate_jump_with_extra_key_returns_ec5_207() {
    let mut d = data();
    let r = site_ref(&d, ACCESSIBLE);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["note"] = json!("skip");
    assert_errors(&d, &[("ec5_207", &r)]);
}

#[test]
fn validate_jump_with_empty_when_returns_ec5_207() {
    let mut d = data();
    let r = site_ref(&d, ACCESSIBLE);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["when"] = json!("");
    assert_errors(&d, &[("ec5_207", &r)]);
}

#[test]
fn validate_jump_with_unknown_condition_returns_ec5_207() {
    let mut d = data();
    let r = site_ref(&d, ACCESSIBLE);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["when"] = json!("MAYBE");
    assert_errors(&d, &[("ec5_207", &r)]);
}

#[test]
fn validate_choice_jump_to_unknown_answer_returns_ec5_265() {
    let mut d = data();
    let r = site_ref(&d, ACCESSIBLE);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["answer_ref"] = json!("665b0c5f0a1b9");
    assert_errors(&d, &[("ec5_265", &r)]);
}

#[test]
fn validate_choice_jump_without_answer_ref_returns_ec5_207() {
    let mut d = data();
    let r = site_ref(&d, ACCESSIBLE);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["answer_ref"] = json!(null);
    assert_errors(&d, &[("ec5_207", &r)]);
}

#[test]
fn validate_choice_jump_no_answer_given_without_answer_ref_is_accepted() {
    let mut d = data();
    let to = site_ref(&d, PHOTO);
    site_input(&mut d, ACCESSIBLE)["jumps"] = json!([jump(&to, "NO_ANSWER_GIVEN", json!(null))]);
    assert_valid(&d);
}

#[test]
fn validate_text_jump_no_answer_given_returns_ec5_207() {
    let mut d = data();
    let r = site_ref(&d, SITE_NAME);
    let to = site_ref(&d, SURVEY_DATE);
    site_input(&mut d, SITE_NAME)["jumps"] = json!([jump(&to, "NO_ANSWER_GIVEN", json!(null))]);
    assert_errors(&d, &[("ec5_207", &r)]);
}

#[test]
fn validate_text_jump_all_is_accepted() {
    let mut d = data();
    let to = site_ref(&d, SURVEY_DATE);
    site_input(&mut d, SITE_NAME)["jumps"] = json!([jump(&to, "ALL", json!(null))]);
    assert_valid(&d);
}

#[test]
fn validate_jump_to_end_is_accepted() {
    let mut d = data();
    site_input(&mut d, PHOTO)["jumps"] = json!([jump("END", "ALL", json!(null))]);
    assert_valid(&d);
}

#[test]
fn validate_jump_with_empty_to_returns_ec5_264() {
    // Destinations are checked with the form, before the input's own jump rules.
    let mut d = data();
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["to"] = json!("");
    assert_errors(&d, &[("ec5_264", "validation")]);
}

#[test]
fn validate_jump_to_next_input_returns_ec5_264() {
    let mut d = data();
    let to = site_ref(&d, SPECIES);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["to"] = json!(to);
    assert_errors(&d, &[("ec5_264", "validation")]);
}

#[test]
fn validate_jump_backwards_returns_ec5_264() {
    let mut d = data();
    let to = site_ref(&d, SITE_NAME);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["to"] = json!(to);
    assert_errors(&d, &[("ec5_264", "validation")]);
}

#[test]
fn validate_jump_to_unknown_ref_returns_ec5_264() {
    let mut d = data();
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["to"] = json!(format!("{SITES}_665b0c0000000"));
    assert_errors(&d, &[("ec5_264", "validation")]);
}

#[test]
fn validate_jump_into_branch_returns_ec5_264() {
    let mut d = data();
    let to = child_ref(&d, TREES, "branch", 1);
    site_input(&mut d, ACCESSIBLE)["jumps"][0]["to"] = json!(to);
    assert_errors(&d, &[("ec5_264", "validation")]);
}

#[test]
fn validate_jump_to_next_input_inside_branch_returns_ec5_264() {
    let mut d = data();
    let to = child_ref(&d, TREES, "branch", 1);
    tree_child(&mut d, 0)["jumps"] = json!([jump(&to, "ALL", json!(null))]);
    assert_errors(&d, &[("ec5_264", "validation")]);
}

#[test]
fn validate_jump_in_group_returns_ec5_320() {
    let mut d = data();
    weather_child(&mut d, 0)["jumps"] = json!([jump("END", "ALL", json!(null))]);
    assert_errors(&d, &[("ec5_320", "validation")]);
}

#[test]
fn validate_jump_in_group_inside_branch_returns_ec5_320() {
    let mut d = data();
    let branch_ref = site_ref(&d, TREES);
    let mut group = new_input(&branch_ref, 1, "group");
    let group_ref = group["ref"].as_str().unwrap_or_default().to_string();
    let mut child = new_input(&group_ref, 2, "text");
    child["jumps"] = json!([jump("END", "ALL", json!(null))]);
    group["group"] = json!([child]);
    site_input(&mut d, TREES)["branch"]
        .as_array_mut()
        .expect("branch")
        .push(group);
    assert_errors(&d, &[("ec5_320", "validation")]);
}

// ---------------------------------------------------------------------------------------------
// Titles and search inputs

#[test]
fn validate_fourth_title_in_form_returns_ec5_211() {
    let mut d = data();
    let r = site_ref(&d, ACCESSIBLE);
    for i in [TREE_COUNT, SURVEY_DATE, ACCESSIBLE] {
        site_input(&mut d, i)["is_title"] = json!(true);
    }
    assert_errors(&d, &[("ec5_211", &r)]);
}

#[test]
fn validate_titles_in_top_level_group_count_per_group_is_accepted() {
    let mut d = data();
    for i in [TREE_COUNT, SURVEY_DATE] {
        site_input(&mut d, i)["is_title"] = json!(true);
    }
    weather_child(&mut d, 0)["is_title"] = json!(true);
    weather_child(&mut d, 1)["is_title"] = json!("1");
    assert_valid(&d);
}

#[test]
fn validate_fourth_title_in_branch_counting_group_children_returns_ec5_211() {
    let mut d = data();
    let branch_ref = site_ref(&d, TREES);
    tree_child(&mut d, 1)["is_title"] = json!(true);
    let mut group = new_input(&branch_ref, 1, "group");
    let group_ref = group["ref"].as_str().unwrap_or_default().to_string();
    let titled = |n| {
        let mut child = new_input(&group_ref, n, "text");
        child["is_title"] = json!(true);
        child
    };
    let fourth_ref = format!("{group_ref}_{}", uniq(3));
    group["group"] = json!([titled(2), titled(3)]);
    site_input(&mut d, TREES)["branch"]
        .as_array_mut()
        .expect("branch")
        .push(group);
    assert_errors(&d, &[("ec5_211", &fourth_ref)]);
}

#[test]
fn validate_sixth_search_input_returns_ec5_333() {
    let mut d = data();
    let inputs = form(&mut d, 1)["inputs"].as_array_mut().expect("inputs");
    inputs.extend((0..6).map(|n| search_input(VISITS, 100 + n)));
    assert_errors(&d, &[("ec5_333", "validation")]);
}

#[test]
fn validate_search_inputs_across_forms_and_groups_count_per_project() {
    let mut d = data();
    let group_ref = site_ref(&d, WEATHER);
    site_input(&mut d, WEATHER)["group"]
        .as_array_mut()
        .expect("group")
        .push(search_input(&group_ref, 1));
    let inputs = form(&mut d, 1)["inputs"].as_array_mut().expect("inputs");
    inputs.extend((0..4).map(|n| search_input(VISITS, 100 + n)));
    assert_valid(&d);
    let inputs = form(&mut d, 1)["inputs"].as_array_mut().expect("inputs");
    inputs.push(search_input(VISITS, 200));
    assert_errors(&d, &[("ec5_333", "validation")]);
}

// ---------------------------------------------------------------------------------------------
// Where the walk goes on and where it stops

#[test]
fn validate_invalid_top_level_input_stops_its_form_but_not_the_next() {
    let mut d = data();
    let first = site_ref(&d, TREE_COUNT);
    let visit_notes = d["project"]["forms"][1]["inputs"][1]["ref"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    site_input(&mut d, TREE_COUNT)["question"] = json!("n".repeat(300));
    site_input(&mut d, SURVEY_DATE)["datetime_format"] = json!(null);
    form(&mut d, 1)["inputs"][1]["question"] = json!("n".repeat(300));
    assert_errors(&d, &[("ec5_244", &first), ("ec5_244", &visit_notes)]);
}

#[test]
fn validate_invalid_branch_child_does_not_stop_top_level_inputs() {
    let mut d = data();
    let tree = child_ref(&d, TREES, "branch", 0);
    let cloud = child_ref(&d, WEATHER, "group", 1);
    tree_child(&mut d, 0)["question"] = json!("q".repeat(256));
    weather_child(&mut d, 1)["possible_answers"] = json!([]);
    assert_errors(
        &d,
        &[
            ("ec5_244", &tree),
            ("ec5_337", &cloud),
            ("question", "question"),
        ],
    );
}

#[test]
fn validate_form_error_after_input_errors_keeps_both() {
    let mut d = data();
    let first = site_ref(&d, TREE_COUNT);
    site_input(&mut d, TREE_COUNT)["question"] = json!("n".repeat(300));
    form(&mut d, 1)["name"] = json!("");
    assert_errors(&d, &[("ec5_244", &first), ("ec5_246", "validation")]);
}

// ---------------------------------------------------------------------------------------------
// Robustness: no JSON value whatsoever makes the validator panic

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "data",
        "id",
        "type",
        "project",
        "forms",
        "inputs",
        "ref",
        "name",
        "slug",
        "access",
        "status",
        "visibility",
        "small_description",
        "entries_limits",
        "question",
        "is_title",
        "is_required",
        "uniqueness",
        "regex",
        "default",
        "verify",
        "max",
        "min",
        "datetime_format",
        "set_to_current_datetime",
        "possible_answers",
        "jumps",
        "branch",
        "group",
        "answer",
        "answer_ref",
        "to",
        "when",
    ];

    const WORDS: &[&str] = &[
        "",
        " ",
        "0",
        "1",
        "-1",
        "1e3",
        "END",
        "ALL",
        "IS",
        "IS_NOT",
        "NO_ANSWER_GIVEN",
        "project",
        "hierarchy",
        "branch",
        "group",
        "radio",
        "checkbox",
        "searchsingle",
        "integer",
        "decimal",
        "date",
        "readme",
        "photo",
        "none",
        "form",
        "dd/MM/YYYY",
        "public",
        "active",
        "hidden",
        "create",
        PROJECT_REF,
        SITES,
        VISITS,
        "665b0c5f0a1b5",
        "<",
        "😀",
        "(",
        "a/b",
        "&lt;p&gt;",
        "(?=x)",
        "\\",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(WORDS).prop_map(str::to_string),
            "\\PC{0,12}",
            (prop::sample::select(&[SITES, VISITS][..]), "[0-9a-z]{13}")
                .prop_map(|(parent, tail)| format!("{parent}_{tail}")),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(KEYS).prop_map(str::to_string),
            1 => "\\PC{0,8}",
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 96, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..8)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    fn escape(token: &str) -> String {
        token.replace('~', "~0").replace('/', "~1")
    }

    /// JSON pointers to every node.
    fn pointers(root: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(String::new(), root)];
        while let Some((pointer, v)) = stack.pop() {
            match v {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        stack.push((format!("{pointer}/{i}"), item));
                    }
                }
                Value::Object(map) => {
                    for (k, item) in map {
                        stack.push((format!("{pointer}/{}", escape(k)), item));
                    }
                }
                _ => {}
            }
            out.push(pointer);
        }
        out
    }

    fn split(pointer: &str) -> Option<(&str, String)> {
        let (parent, last) = pointer.rsplit_once('/')?;
        Some((parent, last.replace("~1", "/").replace("~0", "~")))
    }

    /// Replaces, removes or duplicates one node.
    fn mutate(root: &mut Value, selector: usize, op: u8, replacement: Value) {
        let all = pointers(root);
        let pointer = &all[selector % all.len()];
        match (op % 3, split(pointer)) {
            (0, _) | (_, None) => {
                if let Some(node) = root.pointer_mut(pointer) {
                    *node = replacement;
                }
            }
            (1, Some((parent, last))) => match root.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            },
            (_, Some((parent, last))) => {
                if let Some(Value::Array(items)) = root.pointer_mut(parent)
                    && let Ok(i) = last.parse::<usize>()
                    && let Some(copy) = items.get(i).cloned()
                {
                    items.insert(i, copy);
                }
            }
        }
    }

    fn exercise(file: &Value) {
        let _ = validate_envelope(file);
        let _ = validate_definition(file);
        if let Some(data) = file.get("data") {
            let _ = validate_definition(data);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn validate_arbitrary_json_never_panics(v in json_value()) {
            exercise(&v);
            exercise(&json!({"data": v.clone()}));
            exercise(&json!({"data": {"id": PROJECT_REF, "type": "project", "project": v}}));
        }

        #[test]
        fn validate_mutated_fixture_never_panics(
            mutations in prop::collection::vec((any::<usize>(), any::<u8>(), json_value()), 1..6)
        ) {
            let mut f = file();
            for (selector, op, replacement) in mutations {
                mutate(&mut f, selector, op, replacement);
            }
            exercise(&f);
        }
    }

    /// Takes a value apart without recursion (dropping a deep `Value` recurses).
    fn dismantle(v: Value) {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }

    fn deep(depth: usize) -> Value {
        let mut v = json!("leaf");
        for i in 0..depth {
            // Built by hand: `json!` would serialise `v` recursively.
            v = if i % 2 == 0 {
                Value::Array(vec![v])
            } else {
                Value::Object(std::iter::once(("group".to_string(), v)).collect())
            };
        }
        v
    }

    #[test]
    fn validate_deeply_nested_values_never_panics() {
        let places = [
            "/data/project/description",
            "/data/project/forms",
            "/data/project/forms/0/inputs",
            "/data/project/forms/0/inputs/8/group",
            "/data/project/forms/0/inputs/7/branch/0",
            "/data/project/forms/0/inputs/1/default",
            "/data/project/forms/0/inputs/3/jumps/0/to",
            "/data/project",
            "/data",
        ];
        for place in places {
            let mut f = file();
            if let Some(node) = f.pointer_mut(place) {
                *node = deep(50_000);
            }
            exercise(&f);
            dismantle(f);
        }
    }

    #[test]
    fn validate_huge_strings_never_panics() {
        let huge = "é<".repeat(1 << 18);
        let mut d = data();
        site_input(&mut d, SITE_NAME)["question"] = json!(huge.replace('<', "x"));
        site_input(&mut d, SITE_NAME)["regex"] = json!(format!("{}(", "a".repeat(1 << 18)));
        site_input(&mut d, LOCATION)["type"] = json!("readme");
        site_input(&mut d, LOCATION)["question"] = json!("&lt;b&gt;".repeat(1 << 18));
        assert!(validate_definition(&d).is_err());
        let mut d = data();
        site_input(&mut d, SITE_NAME)["regex"] = json!("(".repeat(1 << 16));
        assert!(validate_definition(&d).is_err());
        project(&mut d)["name"] = json!(huge);
        assert!(validate_definition(&d).is_err());
    }
}
