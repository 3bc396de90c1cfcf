//! Creating, updating, deleting and choosing the default among custom maps, with the real
//! server's rules (docs/protocol.md §4.4): `RuleMappingCreate`,
//! `RuleMappingUpdate`, `RuleMappingDelete`, `RuleMappingStructure`, `RuleMappingInput` and
//! `RuleMappingPossibleAnswer`. Every function returns a new list or the errors; the list it is
//! given is never changed.

use serde_json::{Map, Value, json};

use super::MappingList;
use crate::codes::Ec5Error;
use crate::definition::mapping::merge_onto_auto;
use crate::definition::{Definition, Input, InputType};
use crate::php::foreach_pairs;

/// At most four maps: EC5_AUTO and three custom ones (`limits.project_mappings.max_count`).
pub const MAX_MAPS: usize = 4;
/// Longest `map_to` of an input, and of a possible answer.
const MAP_TO_LENGTH: usize = 20;
const ANSWER_MAP_TO_LENGTH: usize = 150;
/// Column names the export writes itself (`map_to_reserved`).
const RESERVED: [&str; 4] = [
    "ec5_uuid",
    "ec5_parent_uuid",
    "ec5_branch_uuid",
    "ec5_branch_owner_uuid",
];

/// Adds a custom map named `name`, a copy of EC5_AUTO, at the index after the last one. Returns
/// the new list and the new index.
pub fn create(
    list: &MappingList,
    name: &str,
    make_default: bool,
) -> Result<(MappingList, usize), Vec<Ec5Error>> {
    let errors = name_errors(&Value::String(name.to_string()), "name");
    if !errors.is_empty() {
        return Err(errors);
    }
    if list.len() >= MAX_MAPS {
        return Err(vec![Ec5Error::new("ec5_229", "mapping")]);
    }
    if name_taken(list, name, None) {
        return Err(vec![Ec5Error::new("ec5_228", "mapping")]);
    }
    let auto = list
        .get(0)
        .ok_or_else(|| vec![Ec5Error::new("ec5_230", "mapping")])?;
    let index = list.last_index().map_or(0, |last| last + 1);
    let mut map = Map::new();
    map.insert("name".into(), json!(name));
    map.insert("is_default".into(), json!(make_default));
    map.insert(
        "forms".into(),
        auto.get("forms").cloned().unwrap_or(json!([])),
    );
    map.insert("map_index".into(), json!(index));
    let mut out = list.clone();
    out.insert(index, map);
    if make_default {
        mark_default(&mut out, index);
    }
    Ok((out, index))
}

/// Makes map `index` the default (EC5_AUTO included).
pub fn set_default(list: &MappingList, index: usize) -> Result<MappingList, Vec<Ec5Error>> {
    if !list.contains(index) {
        return Err(vec![Ec5Error::new("ec5_230", "mapping")]);
    }
    let mut out = list.clone();
    mark_default(&mut out, index);
    Ok(out)
}

/// Deletes custom map `index`. Deleting the default map makes EC5_AUTO the default.
pub fn delete(list: &MappingList, index: usize) -> Result<MappingList, Vec<Ec5Error>> {
    if index == 0 {
        return Err(vec![Ec5Error::new("ec5_238", "map_index")]);
    }
    if !list.contains(index) {
        return Err(vec![Ec5Error::new("ec5_230", "mapping")]);
    }
    let mut out = list.clone();
    let was_default = list.default_index() == index;
    out.remove(index);
    if was_default {
        mark_default(&mut out, 0);
    }
    Ok(out)
}

/// Replaces custom map `index` with `map` (the JSON of docs/protocol.md §4.1) after validating it
/// against the definition. The result is merged onto EC5_AUTO, so the stored map has every
/// input of the definition: inputs the file leaves out keep their EC5_AUTO values. The map
/// keeps its index and its default flag; `name` comes from the file.
pub fn update(
    list: &MappingList,
    def: &Definition,
    index: usize,
    map: &Value,
) -> Result<MappingList, Vec<Ec5Error>> {
    if index == 0 {
        return Err(vec![Ec5Error::new("ec5_91", "mapping")]);
    }
    let Some(current) = list.get(index) else {
        return Err(vec![Ec5Error::new("ec5_230", "mapping")]);
    };
    let Some(fields) = map.as_object() else {
        return Err(vec![Ec5Error::new("ec5_62", "mapping")]);
    };
    let structure = structure_errors(fields);
    if !structure.is_empty() {
        return Err(structure);
    }
    let name = fields.get("name").and_then(Value::as_str).unwrap_or("");
    if name_taken(list, name, Some(index)) {
        return Err(vec![Ec5Error::new("ec5_228", "name")]);
    }
    let forms = fields.get("forms").unwrap_or(&Value::Null);
    check_forms(def, forms).map_err(|e| vec![e])?;

    let auto = list
        .get(0)
        .map(|m| Value::Object(m.clone()))
        .ok_or_else(|| vec![Ec5Error::new("ec5_230", "mapping")])?;
    let mut merged = match merge_onto_auto(&auto, map) {
        Value::Object(m) => m,
        _ => return Err(vec![Ec5Error::new("ec5_62", "mapping")]),
    };
    // Inputs the file left out came back with their EC5_AUTO names, which may collide with a
    // name the file gave another input.
    check_unique_names(def, merged.get("forms").unwrap_or(&Value::Null)).map_err(|e| vec![e])?;
    merged.insert("name".into(), json!(name));
    merged.insert(
        "is_default".into(),
        current.get("is_default").cloned().unwrap_or(json!(false)),
    );
    merged.insert("map_index".into(), json!(index));
    let mut out = list.clone();
    out.insert(index, merged);
    Ok(out)
}

fn mark_default(list: &mut MappingList, index: usize) {
    let indexes: Vec<usize> = list.indexes().collect();
    for i in indexes {
        if let Some(map) = list.get_mut(i) {
            map.insert("is_default".into(), Value::Bool(i == index));
        }
    }
}

/// Case-insensitive, as `strcasecmp`; `except` is the map being renamed.
fn name_taken(list: &MappingList, name: &str, except: Option<usize>) -> bool {
    list.indexes()
        .filter(|i| Some(*i) != except)
        .filter_map(|i| list.name(i))
        .any(|other| other.eq_ignore_ascii_case(name))
}

/// `required|string|min:3|max:20|regex:/^[A-Za-z0-9 \-\_]+$/`, every failing rule reported.
fn name_errors(name: &Value, source: &str) -> Vec<Ec5Error> {
    let Some(name) = name.as_str() else {
        return vec![Ec5Error::new(
            if name.is_null() { "ec5_21" } else { "ec5_87" },
            source,
        )];
    };
    if name.is_empty() {
        return vec![Ec5Error::new("ec5_21", source)];
    }
    let mut errors = Vec::new();
    let chars = name.chars().count();
    if chars < 3 {
        errors.push(Ec5Error::new("ec5_43", source));
    }
    if chars > 20 {
        errors.push(Ec5Error::new("ec5_44", source));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'-' | b'_'))
    {
        errors.push(Ec5Error::new("ec5_87", source));
    }
    errors
}

/// `RuleMappingStructure`'s own rules: name, forms, is_default, map_index. The last two may be
/// left out of a file (the stored values are kept), but when present must be a boolean and an
/// integer.
fn structure_errors(fields: &Map<String, Value>) -> Vec<Ec5Error> {
    let mut errors = name_errors(fields.get("name").unwrap_or(&Value::Null), "name");
    match fields.get("forms") {
        None | Some(Value::Null) => errors.push(Ec5Error::new("ec5_21", "forms")),
        Some(Value::Object(_) | Value::Array(_)) => {}
        Some(_) => errors.push(Ec5Error::new("ec5_29", "forms")),
    }
    if let Some(flag) = fields.get("is_default")
        && !is_laravel_boolean(flag)
    {
        errors.push(Ec5Error::new("ec5_29", "is_default"));
    }
    if let Some(index) = fields.get("map_index")
        && !(index.is_i64() || index.is_u64())
    {
        errors.push(Ec5Error::new("ec5_27", "map_index"));
    }
    errors
}

/// Laravel's `boolean` rule: true, false, 0, 1, "0", "1".
fn is_laravel_boolean(v: &Value) -> bool {
    match v {
        Value::Bool(_) => true,
        Value::Number(n) => n.as_i64().is_some_and(|i| i == 0 || i == 1),
        Value::String(s) => s == "0" || s == "1",
        _ => false,
    }
}

/// Every form ref must be a form; every input map must name an input of its form (top level),
/// group or branch, not a readme, with valid fields, a unique and unreserved `map_to` per form,
/// and possible-answer maps for answers the input has. Stops at the first failure.
fn check_forms(def: &Definition, forms: &Value) -> Result<(), Ec5Error> {
    for (form_ref, inputs) in foreach_pairs(forms) {
        let form = def
            .form(&form_ref)
            .ok_or_else(|| Ec5Error::new("ec5_15", form_ref.clone()))?;
        if !(inputs.is_object() || inputs.is_array()) {
            return Err(Ec5Error::new("ec5_29", form_ref));
        }
        let mut names = Vec::new();
        check_inputs(&form.inputs, inputs, &mut names)?;
    }
    Ok(())
}

fn check_inputs<'a>(
    container: &[Input],
    mapped: &'a Value,
    names: &mut Vec<&'a str>,
) -> Result<(), Ec5Error> {
    for (input_ref, input_map) in foreach_pairs(mapped) {
        let input = container
            .iter()
            .find(|i| i.input_ref.as_str() == input_ref)
            .ok_or_else(|| Ec5Error::new("ec5_84", input_ref.clone()))?;
        if input.kind == InputType::Readme {
            return Err(Ec5Error::new("ec5_29", input_ref));
        }
        check_input(input, input_map, names)?;
    }
    Ok(())
}

fn check_input<'a>(
    input: &Input,
    map: &'a Value,
    names: &mut Vec<&'a str>,
) -> Result<(), Ec5Error> {
    let input_ref = input.input_ref.as_str();
    let at = |field: &str| format!("{input_ref}.{field}");
    let Some(fields) = map.as_object() else {
        return Err(Ec5Error::new("ec5_29", input_ref));
    };
    match fields.get("hide") {
        None | Some(Value::Null) => return Err(Ec5Error::new("ec5_21", at("hide"))),
        Some(flag) if !is_laravel_boolean(flag) => return Err(Ec5Error::new("ec5_29", at("hide"))),
        _ => {}
    }
    for list in ["group", "branch", "possible_answers"] {
        match fields.get(list) {
            None => return Err(Ec5Error::new("ec5_21", at(list))),
            Some(Value::Object(_) | Value::Array(_)) => {}
            Some(_) => return Err(Ec5Error::new("ec5_29", at(list))),
        }
    }
    let map_to = match fields.get("map_to") {
        None | Some(Value::Null) => return Err(Ec5Error::new("ec5_21", at("map_to"))),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(Ec5Error::new("ec5_21", at("map_to")));
        }
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Ec5Error::new("ec5_87", at("map_to"))),
    };
    if map_to.chars().count() > MAP_TO_LENGTH {
        return Err(Ec5Error::new("ec5_44", at("map_to")));
    }
    if !map_to
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Ec5Error::new("ec5_87", at("map_to")));
    }
    if names.contains(&map_to) {
        return Err(Ec5Error::new("ec5_234", input_ref));
    }
    if RESERVED.contains(&map_to) {
        return Err(Ec5Error::new("ec5_227", input_ref));
    }
    names.push(map_to);
    // Only a group has group children and only a branch branch children, so a non-empty list
    // on any other input names inputs that are not there.
    let field = |name: &str| fields.get(name).unwrap_or(&Value::Null);
    let groups: &[Input] = if input.kind == InputType::Group {
        &input.group
    } else {
        &[]
    };
    check_inputs(groups, field("group"), names)?;
    let branches: &[Input] = if input.kind == InputType::Branch {
        &input.branch
    } else {
        &[]
    };
    check_inputs(branches, field("branch"), names)?;
    for (answer_ref, answer_map) in foreach_pairs(field("possible_answers")) {
        if input.answer_label(&answer_ref).is_none() || !input.kind.is_multiple_choice() {
            return Err(Ec5Error::new("ec5_25", answer_ref));
        }
        let ok = answer_map
            .get("map_to")
            .and_then(Value::as_str)
            .is_some_and(|m| {
                !m.is_empty()
                    && m.chars().count() <= ANSWER_MAP_TO_LENGTH
                    && !m.contains(['<', '>'])
            });
        if !ok {
            return Err(Ec5Error::new("ec5_233", answer_ref));
        }
    }
    Ok(())
}

/// `map_to` values unique per form across its groups and branches, none reserved.
fn check_unique_names(def: &Definition, forms: &Value) -> Result<(), Ec5Error> {
    fn walk<'a>(mapped: &'a Value, names: &mut Vec<&'a str>) -> Result<(), Ec5Error> {
        for (input_ref, input_map) in foreach_pairs(mapped) {
            if let Some(map_to) = input_map.get("map_to").and_then(Value::as_str) {
                if names.contains(&map_to) {
                    return Err(Ec5Error::new("ec5_234", input_ref));
                }
                if RESERVED.contains(&map_to) {
                    return Err(Ec5Error::new("ec5_227", input_ref));
                }
                names.push(map_to);
            }
            for list in ["group", "branch"] {
                if let Some(children) = input_map.get(list) {
                    walk(children, names)?;
                }
            }
        }
        Ok(())
    }
    for (form_ref, inputs) in foreach_pairs(forms) {
        if def.form(&form_ref).is_some() {
            walk(inputs, &mut Vec::new())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::mapping::regenerate;
    use crate::project_state::ProjectAccess;

    fn data() -> Value {
        json!({"id": "p", "type": "project", "project": {"ref": "p", "name": "P", "slug": "p",
        "access": ProjectAccess::Public.as_str(), "status": "active", "visibility": "listed", "category": "general",
        "small_description": "", "description": "", "entries_limits": [],
        "forms": [{"ref": "p_f", "name": "F", "slug": "f", "type": "hierarchy", "inputs": [
            {"ref": "p_f_a", "type": "text", "question": "Name", "branch": [], "group": [], "possible_answers": [], "jumps": []},
            {"ref": "p_f_r", "type": "radio", "question": "Pick", "branch": [], "group": [], "jumps": [],
             "possible_answers": [{"answer": "Yes", "answer_ref": "aaaaaaaaaaaa1"}]},
            {"ref": "p_f_g", "type": "group", "question": "G", "branch": [], "possible_answers": [], "jumps": [],
             "group": [{"ref": "p_f_g_x", "type": "text", "question": "X", "branch": [], "group": [], "possible_answers": [], "jumps": []}]},
            {"ref": "p_f_m", "type": "readme", "question": "Hi", "branch": [], "group": [], "possible_answers": [], "jumps": []}
        ]}]}})
    }

    fn setup() -> (Definition, MappingList) {
        let data = data();
        let def = Definition::from_data(&data).unwrap();
        (def, MappingList::from_stored(&regenerate(&data, None)))
    }

    #[test]
    fn create_copies_auto_and_respects_limits() {
        let (_, list) = setup();
        let (list, index) = create(&list, "My map", false).unwrap();
        assert_eq!(index, 1);
        assert_eq!(list.get(1).unwrap()["forms"], list.get(0).unwrap()["forms"]);
        assert_eq!(list.default_index(), 0);
        let (list, index) = create(&list, "Second", true).unwrap();
        assert_eq!((index, list.default_index()), (2, 2));
        assert_eq!(
            create(&list, "my MAP", false).unwrap_err(),
            [Ec5Error::new("ec5_228", "mapping")]
        );
        assert_eq!(
            create(&list, "ec5_auto", false).unwrap_err()[0].code,
            "ec5_228"
        );
        let (list, _) = create(&list, "Third", false).unwrap();
        assert_eq!(
            create(&list, "Fourth", false).unwrap_err(),
            [Ec5Error::new("ec5_229", "mapping")]
        );
        let codes = |name: &str| -> Vec<String> {
            create(&MappingList::default(), name, false)
                .unwrap_err()
                .into_iter()
                .map(|e| e.code)
                .collect()
        };
        assert_eq!(codes(""), ["ec5_21"]);
        assert_eq!(codes("a!"), ["ec5_43", "ec5_87"]);
        assert_eq!(codes("abcdefghijklmnopqrstu"), ["ec5_44"]);
        assert_eq!(codes("naïve"), ["ec5_87"]);
    }

    #[test]
    fn delete_and_default() {
        let (_, list) = setup();
        let (list, _) = create(&list, "One", false).unwrap();
        let (list, _) = create(&list, "Two", true).unwrap();
        assert_eq!(
            delete(&list, 0).unwrap_err(),
            [Ec5Error::new("ec5_238", "map_index")]
        );
        assert_eq!(
            delete(&list, 7).unwrap_err(),
            [Ec5Error::new("ec5_230", "mapping")]
        );
        let after = delete(&list, 2).unwrap();
        assert_eq!(after.default_index(), 0);
        let after = delete(&after, 1).unwrap();
        assert_eq!(after.len(), 1);
        let sparse = delete(&list, 1).unwrap();
        assert_eq!(sparse.indexes().collect::<Vec<_>>(), [0, 2]);
        assert!(sparse.to_stored().is_object());
        // The next map goes after the last index, not into the hole.
        assert_eq!(create(&sparse, "Three", false).unwrap().1, 3);
        assert_eq!(set_default(&list, 9).unwrap_err()[0].code, "ec5_230");
        assert_eq!(set_default(&list, 0).unwrap().default_index(), 0);
    }

    fn custom(list: &MappingList) -> Value {
        Value::Object(list.get(1).unwrap().clone())
    }

    #[test]
    fn update_validates_then_merges_onto_auto() {
        let (def, list) = setup();
        let (list, _) = create(&list, "One", true).unwrap();
        let mut map = custom(&list);
        map["forms"]["p_f"]["p_f_a"]["map_to"] = json!("who");
        map["forms"]["p_f"]["p_f_a"]["hide"] = json!(true);
        map["forms"]["p_f"]["p_f_r"]["possible_answers"]["aaaaaaaaaaaa1"]["map_to"] = json!("Oui");
        map["forms"]["p_f"]["p_f_g"]["group"]["p_f_g_x"]["map_to"] = json!("ex");
        map["name"] = json!("Renamed");
        map["is_default"] = json!(false);
        map["map_index"] = json!(9);
        let updated = update(&list, &def, 1, &map).unwrap();
        let stored = updated.get(1).unwrap();
        assert_eq!(stored["name"], "Renamed");
        assert_eq!(stored["is_default"], true, "the default flag is kept");
        assert_eq!(stored["map_index"], 1);
        assert_eq!(stored["forms"]["p_f"]["p_f_a"]["map_to"], "who");
        assert_eq!(
            stored["forms"]["p_f"]["p_f_g"]["group"]["p_f_g_x"]["map_to"],
            "ex"
        );

        // A partial file: the missing input keeps its EC5_AUTO value.
        let partial = json!({"name": "Partial", "forms": {"p_f": {"p_f_a": {"map_to": "who", "hide": false, "group": [], "branch": [], "possible_answers": []}}}});
        let updated = update(&list, &def, 1, &partial).unwrap();
        assert_eq!(
            updated.get(1).unwrap()["forms"]["p_f"]["p_f_r"]["map_to"],
            "2_Pick"
        );
    }

    #[test]
    fn update_refusals() {
        let (def, list) = setup();
        let (list, _) = create(&list, "One", false).unwrap();
        let base = custom(&list);
        let refuse = |edit: &dyn Fn(&mut Value), index: usize| -> Vec<Ec5Error> {
            let mut map = base.clone();
            edit(&mut map);
            update(&list, &def, index, &map).unwrap_err()
        };
        let one = |code: &str, source: &str| vec![Ec5Error::new(code, source)];
        assert_eq!(refuse(&|_| {}, 0), one("ec5_91", "mapping"));
        assert_eq!(refuse(&|_| {}, 3), one("ec5_230", "mapping"));
        assert_eq!(refuse(&|m| *m = json!([1]), 1), one("ec5_62", "mapping"));
        assert_eq!(
            refuse(&|m| m["name"] = json!("EC5_AUTO"), 1),
            one("ec5_228", "name")
        );
        assert_eq!(
            refuse(
                &|m| {
                    m["name"] = json!("x");
                    m["forms"] = json!(3);
                    m["is_default"] = json!("yes");
                    m["map_index"] = json!("1")
                },
                1
            ),
            vec![
                Ec5Error::new("ec5_43", "name"),
                Ec5Error::new("ec5_29", "forms"),
                Ec5Error::new("ec5_29", "is_default"),
                Ec5Error::new("ec5_27", "map_index")
            ]
        );
        assert_eq!(
            refuse(&|m| m["forms"]["p_nope"] = json!({}), 1),
            one("ec5_15", "p_nope")
        );
        assert_eq!(
            refuse(&|m| m["forms"]["p_f"] = json!(5), 1),
            one("ec5_29", "p_f")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_zz"] = m["forms"]["p_f"]["p_f_a"].clone(),
                1
            ),
            one("ec5_84", "p_f_zz")
        );
        // A group child listed at the top level is not where it belongs.
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_g_x"] = m["forms"]["p_f"]["p_f_a"].clone(),
                1
            ),
            one("ec5_84", "p_f_g_x")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_m"] = m["forms"]["p_f"]["p_f_a"].clone(),
                1
            ),
            one("ec5_29", "p_f_m")
        );
        assert_eq!(
            refuse(&|m| m["forms"]["p_f"]["p_f_a"]["hide"] = json!("yes"), 1),
            one("ec5_29", "p_f_a.hide")
        );
        assert_eq!(
            refuse(
                &|m| {
                    m["forms"]["p_f"]["p_f_a"]
                        .as_object_mut()
                        .unwrap()
                        .remove("hide");
                },
                1
            ),
            one("ec5_21", "p_f_a.hide")
        );
        assert_eq!(
            refuse(
                &|m| {
                    m["forms"]["p_f"]["p_f_a"]
                        .as_object_mut()
                        .unwrap()
                        .remove("group");
                },
                1
            ),
            one("ec5_21", "p_f_a.group")
        );
        assert_eq!(
            refuse(&|m| m["forms"]["p_f"]["p_f_a"]["branch"] = json!("x"), 1),
            one("ec5_29", "p_f_a.branch")
        );
        assert_eq!(
            refuse(&|m| m["forms"]["p_f"]["p_f_a"]["map_to"] = json!(""), 1),
            one("ec5_21", "p_f_a.map_to")
        );
        assert_eq!(
            refuse(&|m| m["forms"]["p_f"]["p_f_a"]["map_to"] = json!(5), 1),
            one("ec5_87", "p_f_a.map_to")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_a"]["map_to"] = json!("a".repeat(21)),
                1
            ),
            one("ec5_44", "p_f_a.map_to")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_a"]["map_to"] = json!("has space"),
                1
            ),
            one("ec5_87", "p_f_a.map_to")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_r"]["map_to"] = json!("1_Name"),
                1
            ),
            one("ec5_234", "p_f_r")
        );
        // Unique across a group's children too.
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_g"]["group"]["p_f_g_x"]["map_to"] = json!("1_Name"),
                1
            ),
            one("ec5_234", "p_f_g_x")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_a"]["map_to"] = json!("ec5_uuid"),
                1
            ),
            one("ec5_227", "p_f_a")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_a"]["group"] = json!({"p_f_g_x": {}}),
                1
            ),
            one("ec5_84", "p_f_g_x")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_r"]["possible_answers"]["zzzzzzzzzzzz9"] =
                    json!({"map_to": "Z"}),
                1
            ),
            one("ec5_25", "zzzzzzzzzzzz9")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_r"]["possible_answers"]["aaaaaaaaaaaa1"]["map_to"] =
                    json!("<b>"),
                1
            ),
            one("ec5_233", "aaaaaaaaaaaa1")
        );
        assert_eq!(
            refuse(
                &|m| m["forms"]["p_f"]["p_f_r"]["possible_answers"]["aaaaaaaaaaaa1"]["map_to"] =
                    json!("x".repeat(151)),
                1
            ),
            one("ec5_233", "aaaaaaaaaaaa1")
        );
        // A file leaving out an input whose EC5_AUTO name it gave to another one.
        let partial = json!({"name": "Partial", "forms": {"p_f": {"p_f_a": {"map_to": "2_Pick", "hide": false, "group": [], "branch": [], "possible_answers": []}}}});
        assert_eq!(
            update(&list, &def, 1, &partial).unwrap_err(),
            one("ec5_234", "p_f_r")
        );
    }
}
