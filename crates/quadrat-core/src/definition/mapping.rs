//! The stored mapping list (docs/protocol.md §4): the EC5_AUTO map, custom
//! maps merged onto it after every definition save, and the list as `project_mapping` holds it.

use serde_json::{Map, Value, json};

use super::{InputType, extra};
use crate::json::{mysql_order, object_or_empty_array};
use crate::php::{self, assoc};

pub const AUTO_MAP_NAME: &str = "EC5_AUTO";

/// Longest `map_to` in bytes (`limits.project_mappings.map_key_length`).
const MAP_KEY_LENGTH: usize = 20;

/// The EC5_AUTO map (index 0, default) for the `data` member of a valid definition, in stored key
/// order. Any JSON value is accepted.
pub fn auto_mapping(data: &Value) -> Value {
    mysql_order(build_auto(&extra::build(data)))
}

/// Merges a custom map onto a (fresh) EC5_AUTO map: keys come from the auto map, so inputs that
/// are new get their auto values and removed inputs disappear; a value the custom map holds
/// wins, so its `map_to`, `hide`, answer labels, `name`, `is_default` and `map_index` are kept.
pub fn merge_onto_auto(auto: &Value, custom: &Value) -> Value {
    mysql_order(merge(auto, custom))
}

/// The whole stored mapping list after a definition save: index 0 is a fresh EC5_AUTO map, every
/// other map of `existing` is merged onto it. A JSON array while the indexes are `0..n`, else an
/// object keyed by index. Exactly one map is left default, the one the real server's reader would
/// pick (the single map flagged `true`; among several, the first custom one; else EC5_AUTO).
pub fn regenerate(data: &Value, existing: Option<&Value>) -> Value {
    let auto = build_auto(&extra::build(data));
    let mut maps = vec![(0, auto.clone())];
    for (index, custom) in custom_maps(existing) {
        let mut merged = merge(&auto, custom);
        if let Some(obj) = merged.as_object_mut() {
            // The slot is the map's identity; a stored map_index disagreeing with it is corrupt.
            obj.insert("map_index".into(), json!(index));
        }
        maps.push((index, merged));
    }
    maps.sort_by_key(|(index, _)| *index);
    settle_default(&mut maps);
    mysql_order(into_list(maps))
}

fn build_auto(extra: &Value) -> Value {
    let mut walk = AutoWalk {
        extra,
        counter: 0,
        open: Vec::new(),
    };
    let mut forms = Map::new();
    if let Some(form_extras) = extra.get("forms").and_then(Value::as_object) {
        for (form_ref, form) in form_extras {
            let mapped = walk.map_inputs(form, form.get("inputs"));
            forms.insert(form_ref.clone(), object_or_empty_array(mapped));
        }
    }
    assoc([
        ("forms", object_or_empty_array(forms)),
        ("name", json!(AUTO_MAP_NAME)),
        ("is_default", json!(true)),
        ("map_index", json!(0)),
    ])
}

/// One counter over the whole project, in definition order: an input takes its number before its
/// children do; readme inputs take none.
struct AutoWalk<'a> {
    extra: &'a Value,
    counter: usize,
    /// Refs of the inputs being mapped, outermost first. A definition that reuses a ref can list
    /// a group or branch among its own children; such a child is left out instead of recursing
    /// for ever.
    open: Vec<String>,
}

impl AutoWalk<'_> {
    fn map_inputs(&mut self, form: &Value, refs: Option<&Value>) -> Map<String, Value> {
        let mut mapped = Map::new();
        for input_ref in php::foreach_values(refs) {
            let input_ref = php::array_key(Some(input_ref));
            let Some(input) = self.extra["inputs"].get(&input_ref).map(|i| &i["data"]) else {
                continue;
            };
            if type_of(input) != "readme" && !self.open.contains(&input_ref) {
                self.open.push(input_ref.clone());
                let entry = self.map_input(form, &input_ref, input);
                self.open.pop();
                mapped.insert(input_ref, entry);
            }
        }
        mapped
    }

    fn map_input(&mut self, form: &Value, input_ref: &str, input: &Value) -> Value {
        self.counter += 1;
        let question = input
            .get("question")
            .and_then(php::strval_plain_decimal)
            .unwrap_or_default();
        let map_to = map_to(self.counter, &question);
        let kind = type_of(input);
        let children = |list: &str| form.get(list).and_then(|l| l.get(input_ref));
        let group = match kind {
            "group" => self.map_inputs(form, children("group")),
            _ => Map::new(),
        };
        let branch = match kind {
            "branch" => self.map_inputs(form, children("branch")),
            _ => Map::new(),
        };
        let possible_answers = if is_multiple_choice(kind) {
            answer_maps(input.get("possible_answers"))
        } else {
            Map::new()
        };
        assoc([
            ("map_to", Value::String(map_to)),
            ("hide", json!(false)),
            ("possible_answers", object_or_empty_array(possible_answers)),
            ("group", object_or_empty_array(group)),
            ("branch", object_or_empty_array(branch)),
        ])
    }
}

fn answer_maps(answers: Option<&Value>) -> Map<String, Value> {
    php::foreach_values(answers)
        .filter(|a| a.is_object())
        .map(|a| {
            let label = a.get("answer").cloned().unwrap_or(Value::Null);
            (
                php::array_key(a.get("answer_ref")),
                assoc([("map_to", label)]),
            )
        })
        .collect()
}

/// The EC5_AUTO key of the `n`-th mapped input (docs/protocol.md §4.2). The real server works on
/// bytes, so a multi-byte character vanishes whole; only ASCII spaces become `_` (a tab inside
/// the question is dropped like any other character).
pub fn map_to(n: usize, question: &str) -> String {
    let prefixed = format!("{n}_{}", php::trim(question));
    let mut key = String::with_capacity(prefixed.len());
    let mut after_space = false;
    for byte in prefixed.bytes() {
        if byte == b' ' {
            if !after_space {
                key.push('_');
            }
            after_space = true;
            continue;
        }
        after_space = false;
        if byte.is_ascii_alphanumeric() || byte == b'_' {
            key.push(char::from(byte));
        }
    }
    // Only ASCII was kept, so any byte length is a char boundary.
    key.truncate(MAP_KEY_LENGTH);
    key
}

/// The merge the real server runs (`Arrays::merge`): keys from `auto`, values from `custom` where
/// it has a non-null one. Where both are arrays the merge goes on inside them. Unlike the real
/// server an empty auto array stays empty (it copies the custom value whole there, keeping answers
/// and children of inputs that no longer have any).
fn merge(auto: &Value, custom: &Value) -> Value {
    match auto {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), merge_value(value, php::array_get(custom, key))))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, value)| merge_value(value, php::array_get(custom, &i.to_string())))
                .collect(),
        ),
        scalar => scalar.clone(),
    }
}

fn merge_value(auto: &Value, custom: Option<&Value>) -> Value {
    match custom {
        None | Some(Value::Null) => auto.clone(),
        Some(custom) if auto.is_object() || auto.is_array() => merge(auto, custom),
        Some(custom) => custom.clone(),
    }
}

/// The custom maps of a stored list, by index. Index 0 (the old auto map) is replaced, and
/// entries that are not maps or not under an integer key are dropped.
fn custom_maps(existing: Option<&Value>) -> Vec<(usize, &Value)> {
    let indexed: Vec<(usize, &Value)> = match existing {
        Some(Value::Array(list)) => list.iter().enumerate().collect(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| php::integer_key(k).map(|i| (i, v)))
            .collect(),
        _ => Vec::new(),
    };
    indexed
        .into_iter()
        .filter(|(index, map)| *index != 0 && map.is_object())
        .collect()
}

/// Leaves exactly one map flagged default, the one the real server's reader settles on.
fn settle_default(maps: &mut [(usize, Value)]) {
    let flagged: Vec<usize> = maps
        .iter()
        .filter(|(_, map)| map.get("is_default") == Some(&Value::Bool(true)))
        .map(|(index, _)| *index)
        .collect();
    let chosen = match flagged.as_slice() {
        [one] => *one,
        several => several.iter().copied().find(|&i| i != 0).unwrap_or(0),
    };
    for (index, map) in maps.iter_mut() {
        if let Some(obj) = map.as_object_mut() {
            obj.insert("is_default".into(), Value::Bool(*index == chosen));
        }
    }
}

fn into_list(maps: Vec<(usize, Value)>) -> Value {
    let contiguous = maps
        .iter()
        .enumerate()
        .all(|(pos, (index, _))| pos == *index);
    if contiguous {
        Value::Array(maps.into_iter().map(|(_, map)| map).collect())
    } else {
        Value::Object(
            maps.into_iter()
                .map(|(index, map)| (index.to_string(), map))
                .collect(),
        )
    }
}

fn is_multiple_choice(kind: &str) -> bool {
    InputType::parse(kind).is_some_and(InputType::is_multiple_choice)
}

fn type_of(input: &Value) -> &str {
    input.get("type").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(r: &str, kind: &str, question: &str, more: Value) -> Value {
        let mut v = json!({"ref": r, "type": kind, "question": question,
            "branch": [], "group": [], "possible_answers": []});
        if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), more) {
            obj.extend(more);
        }
        v
    }

    fn form(r: &str, inputs: Value) -> Value {
        json!({"ref": r, "name": r, "slug": r, "type": "hierarchy", "inputs": inputs})
    }

    fn def(forms: Value) -> Value {
        json!({"id": "p", "type": "project", "project": {"ref": "p", "forms": forms}})
    }

    /// The example of docs/protocol.md §4.2.
    fn example() -> Value {
        let address = input(
            "f1_addr",
            "group",
            "Address",
            json!({"group": [input("f1_addr_st", "text", "Street", json!({})),
                             input("f1_addr_city", "text", "City", json!({}))]}),
        );
        let family = input(
            "f1_fam",
            "branch",
            "Family Members",
            json!({"branch": [input("f1_fam_name", "text", "Name", json!({})),
                              input("f1_fam_age", "integer", "Age", json!({}))]}),
        );
        def(json!([
            form(
                "f1",
                json!([
                    input("f1_name", "text", "Name", json!({})),
                    address,
                    input("f1_readme", "readme", "Read me", json!({})),
                    input("f1_where", "location", "Where", json!({})),
                    family,
                ])
            ),
            form(
                "f2",
                json!([
                    input("f2_first", "text", "Anything else?", json!({})),
                    input(
                        "f2_pick",
                        "radio",
                        "Pick one",
                        json!({"possible_answers": [
                    {"answer": "Left", "answer_ref": "aaaaaaaaaaaa1"},
                    {"answer": "Right", "answer_ref": "aaaaaaaaaaaa2"}]})
                    ),
                ])
            ),
        ]))
    }

    #[test]
    fn numbers_run_over_the_whole_project() {
        let auto = auto_mapping(&example());
        let f1 = &auto["forms"]["f1"];
        assert_eq!(f1["f1_name"]["map_to"], "1_Name");
        assert_eq!(f1["f1_addr"]["map_to"], "2_Address");
        assert_eq!(f1["f1_addr"]["group"]["f1_addr_st"]["map_to"], "3_Street");
        assert_eq!(f1["f1_addr"]["group"]["f1_addr_city"]["map_to"], "4_City");
        assert!(f1.get("f1_readme").is_none());
        assert_eq!(f1["f1_where"]["map_to"], "5_Where");
        assert_eq!(f1["f1_fam"]["map_to"], "6_Family_Members");
        assert_eq!(f1["f1_fam"]["branch"]["f1_fam_name"]["map_to"], "7_Name");
        assert_eq!(f1["f1_fam"]["branch"]["f1_fam_age"]["map_to"], "8_Age");
        assert_eq!(auto["forms"]["f2"]["f2_first"]["map_to"], "9_Anything_else");
        assert_eq!(
            auto["forms"]["f2"]["f2_pick"]["possible_answers"],
            json!({"aaaaaaaaaaaa1": {"map_to": "Left"}, "aaaaaaaaaaaa2": {"map_to": "Right"}})
        );
        assert_eq!(auto["name"], "EC5_AUTO");
        assert_eq!(auto["is_default"], true);
        assert_eq!(auto["map_index"], 0);
        let keys: Vec<&String> = auto.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "forms", "map_index", "is_default"]);
    }

    #[test]
    fn group_inside_a_branch_is_nested_under_the_branch() {
        let group = input(
            "b_g",
            "group",
            "Inner",
            json!({"group": [input("b_g_x", "text", "X", json!({}))]}),
        );
        let branch = input("b", "branch", "Outer", json!({"branch": [group]}));
        let auto = auto_mapping(&def(json!([form("f", json!([branch]))])));
        let inner = &auto["forms"]["f"]["b"]["branch"]["b_g"];
        assert_eq!(inner["map_to"], "2_Inner");
        assert_eq!(inner["group"]["b_g_x"]["map_to"], "3_X");
    }

    #[test]
    fn a_form_of_readmes_maps_to_an_empty_array() {
        let auto = auto_mapping(&def(json!([form(
            "f",
            json!([input("r", "readme", "Hi", json!({}))])
        )])));
        assert_eq!(auto["forms"]["f"], json!([]));
        assert_eq!(auto_mapping(&json!(null))["forms"], json!([]));
    }

    #[test]
    fn a_group_listing_itself_does_not_recurse() {
        let inner = input(
            "g",
            "group",
            "Inner",
            json!({"group": [input("x", "text", "X", json!({}))]}),
        );
        let outer = input("g", "group", "Outer", json!({"group": [inner]}));
        let auto = auto_mapping(&def(json!([form("f", json!([outer]))])));
        assert_eq!(auto["forms"]["f"]["g"]["map_to"], "1_Inner");
        assert_eq!(auto["forms"]["f"]["g"]["group"], json!([]));

        let child = input(
            "b",
            "branch",
            "Child",
            json!({"branch": [input("y", "text", "Y", json!({}))]}),
        );
        let branch = input("b", "branch", "Parent", json!({"branch": [child]}));
        let auto = auto_mapping(&def(json!([form("f", json!([branch]))])));
        assert_eq!(auto["forms"]["f"]["b"]["branch"], json!([]));
    }

    #[test]
    fn key_rule() {
        assert_eq!(map_to(1, "What is your name?"), "1_What_is_your_name");
        assert_eq!(map_to(3, "Date of birth"), "3_Date_of_birth");
        assert_eq!(map_to(1, "Año"), "1_Ao");
        assert_eq!(map_to(1, "a - b"), "1_a__b");
        assert_eq!(map_to(1, "  spaced   out  "), "1_spaced_out");
        assert_eq!(map_to(1, "\t\n x \r"), "1_x");
        // Only spaces become `_`: a tab inside is dropped, a form feed is not trimmed.
        assert_eq!(map_to(1, "a\tb"), "1_ab");
        assert_eq!(map_to(1, "\u{0C} a"), "1__a");
        assert_eq!(map_to(1, "It's a \u{1F333}!"), "1_Its_a_");
        assert_eq!(map_to(2, "Number of trees counted"), "2_Number_of_trees_co");
        assert_eq!(
            map_to(123, "abcdefghijklmnopqrstuvwxyz"),
            "123_abcdefghijklmnop"
        );
        assert_eq!(map_to(1, "ééééééééééééééééééééX"), "1_X");
        assert_eq!(map_to(7, ""), "7_");
    }

    fn custom(auto: &Value) -> Value {
        let mut map = auto.clone();
        map["name"] = json!("my map");
        map["is_default"] = json!(false);
        map["map_index"] = json!(1);
        map["forms"]["f1"]["f1_name"]["map_to"] = json!("who");
        map["forms"]["f1"]["f1_name"]["hide"] = json!(true);
        map["forms"]["f1"]["f1_fam"]["branch"]["f1_fam_age"]["map_to"] = json!("age");
        map["forms"]["f2"]["f2_pick"]["possible_answers"]["aaaaaaaaaaaa1"]["map_to"] = json!("L");
        map
    }

    /// The example with "Where" removed and a new question at the top of form 2.
    fn edited() -> Value {
        let mut data = example();
        let f1 = data["project"]["forms"][0]["inputs"]
            .as_array_mut()
            .unwrap();
        f1.retain(|i| i["ref"] != "f1_where");
        let f2 = data["project"]["forms"][1]["inputs"]
            .as_array_mut()
            .unwrap();
        f2.insert(0, input("f2_new", "text", "New one", json!({})));
        data
    }

    #[test]
    fn merge_keeps_custom_values_and_follows_the_new_structure() {
        let old_custom = custom(&auto_mapping(&example()));
        let new_auto = auto_mapping(&edited());
        let merged = merge_onto_auto(&new_auto, &old_custom);
        assert_eq!(merged["name"], "my map");
        assert_eq!(merged["is_default"], false);
        assert_eq!(merged["map_index"], 1);
        let f1 = &merged["forms"]["f1"];
        assert_eq!(f1["f1_name"]["map_to"], "who");
        assert_eq!(f1["f1_name"]["hide"], true);
        assert!(f1.get("f1_where").is_none());
        assert_eq!(f1["f1_fam"]["branch"]["f1_fam_age"]["map_to"], "age");
        // Unchanged custom values are the old auto keys, numbered before the edit.
        assert_eq!(f1["f1_fam"]["map_to"], "6_Family_Members");
        let f2 = &merged["forms"]["f2"];
        assert_eq!(f2["f2_new"]["map_to"], "8_New_one");
        assert_eq!(
            f2["f2_pick"]["possible_answers"]["aaaaaaaaaaaa1"]["map_to"],
            "L"
        );
        assert_eq!(
            f2["f2_pick"]["possible_answers"]["aaaaaaaaaaaa2"]["map_to"],
            "Right"
        );
        assert_eq!(merged, mysql_order(merged.clone()));
    }

    #[test]
    fn merge_ignores_nulls_and_malformed_custom_parts() {
        let auto = auto_mapping(&example());
        let mut broken = custom(&auto);
        broken["forms"]["f1"]["f1_name"]["map_to"] = Value::Null;
        broken["forms"]["f1"]["f1_fam"]["branch"] = json!("oops");
        broken["forms"]["f2"] = json!(7);
        broken["forms"]["f1"]["f1_addr"]["possible_answers"] = json!({"zzz": {"map_to": "stale"}});
        let merged = merge_onto_auto(&auto, &broken);
        assert_eq!(merged["forms"]["f1"]["f1_name"]["map_to"], "1_Name");
        assert_eq!(
            merged["forms"]["f1"]["f1_fam"]["branch"],
            auto["forms"]["f1"]["f1_fam"]["branch"]
        );
        assert_eq!(merged["forms"]["f2"], auto["forms"]["f2"]);
        assert_eq!(
            merged["forms"]["f1"]["f1_addr"]["possible_answers"],
            json!([])
        );
        assert_eq!(merge_onto_auto(&auto, &json!("x")), auto);
    }

    #[test]
    fn regenerate_without_custom_maps_is_the_auto_map_alone() {
        let list = regenerate(&example(), None);
        assert_eq!(list, json!([auto_mapping(&example())]));
        assert_eq!(regenerate(&example(), Some(&json!("junk"))), list);
    }

    #[test]
    fn regenerate_merges_each_custom_map() {
        let old = json!([auto_mapping(&example()), custom(&auto_mapping(&example()))]);
        let list = regenerate(&edited(), Some(&old));
        assert_eq!(list[0], auto_mapping(&edited()));
        assert_eq!(list[1], merge_onto_auto(&auto_mapping(&edited()), &old[1]));
        assert_eq!(list.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn sparse_indexes_make_an_object() {
        let mut second = custom(&auto_mapping(&example()));
        second["map_index"] = json!(2);
        let old = json!({"0": auto_mapping(&example()), "2": second, "x": {}, "01": {}, "3": 4});
        let list = regenerate(&example(), Some(&old));
        let keys: Vec<&String> = list.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["0", "2"]);
        assert_eq!(list["2"]["map_index"], 2);
        assert_eq!(list["2"]["forms"]["f1"]["f1_name"]["map_to"], "who");

        let contiguous =
            json!({"0": auto_mapping(&example()), "1": custom(&auto_mapping(&example()))});
        assert!(regenerate(&example(), Some(&contiguous)).is_array());
    }

    #[test]
    fn exactly_one_default_survives() {
        let auto = auto_mapping(&example());
        let mut mine = custom(&auto);
        mine["is_default"] = json!(true);
        let list = regenerate(&example(), Some(&json!([auto.clone(), mine.clone()])));
        assert_eq!(list[0]["is_default"], false);
        assert_eq!(list[1]["is_default"], true);

        let mut other = custom(&auto);
        other["name"] = json!("other");
        other["is_default"] = json!(true);
        let list = regenerate(
            &example(),
            Some(&json!([auto.clone(), mine.clone(), other])),
        );
        let flags: Vec<&Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["is_default"])
            .collect();
        assert_eq!(flags, [&json!(false), &json!(true), &json!(false)]);

        mine["is_default"] = json!(false);
        let list = regenerate(&example(), Some(&json!([auto, mine])));
        assert_eq!(list[0]["is_default"], true);
        assert_eq!(list[1]["is_default"], false);
    }
}
