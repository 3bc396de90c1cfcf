//! A form's own fields and its jump destinations (`RuleForm`). The real server reports only the
//! first code it finds, under the source `validation`, and stops validating the definition.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::php::laravel;

/// The keys the real validator requires, in its rule order.
const KEYS: [&str; 5] = ["ref", "type", "slug", "inputs", "name"];

const NAME_MAX_CHARS: usize = 50;

/// The first failing rule's code. `name` is the form name already trimmed, as the real server
/// trims it before these checks.
pub fn first_error(
    project_ref: &str,
    form: &Map<String, Value>,
    name: &str,
) -> Option<&'static str> {
    if KEYS.iter().any(|k| !form.contains_key(*k)) {
        return Some("ec5_60");
    }
    field_error(form, name)
        .or_else(|| ref_error(project_ref, &form["ref"]))
        .or_else(|| charset_error(name, &form["slug"]))
        .or_else(|| form["inputs"].as_array().and_then(|i| jump_error(i, false)))
}

fn field_error(form: &Map<String, Value>, name: &str) -> Option<&'static str> {
    let form_ref = &form["ref"];
    if !laravel::required(Some(form_ref)) {
        return Some("ec5_21");
    }
    if !form_ref.is_string() {
        return Some("ec5_243");
    }
    let kind = &form["type"];
    if !laravel::required(Some(kind)) {
        return Some("ec5_21");
    }
    if kind.as_str() != Some("hierarchy") {
        return Some("ec5_29");
    }
    if !laravel::required(Some(&form["slug"])) || name.is_empty() {
        return Some("ec5_21");
    }
    (name.chars().count() > NAME_MAX_CHARS).then_some("ec5_44")
}

fn ref_error(parent_ref: &str, child_ref: &Value) -> Option<&'static str> {
    let valid = child_ref
        .as_str()
        .is_some_and(|r| is_child_ref(parent_ref, r));
    (!valid).then_some("ec5_243")
}

/// `{parent_ref}_{13 alphanumerics}`: the form of every form and input ref.
pub fn is_child_ref(parent_ref: &str, child_ref: &str) -> bool {
    child_ref
        .strip_prefix(parent_ref)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|suffix| {
            suffix.len() == 13 && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

fn charset_error(name: &str, slug: &Value) -> Option<&'static str> {
    let name_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '));
    let slug_ok = slug
        .as_str()
        .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    (!(name_ok && slug_ok)).then_some("ec5_29")
}

/// Jump destinations in one list of inputs (a form's top level or a branch): `END`, or an input
/// of the same list at least two positions later (`ec5_264`); no jumps on group children
/// (`ec5_320`). The first problem found wins. Malformed inputs are left to the input checks.
fn jump_error(inputs: &[Value], in_branch: bool) -> Option<&'static str> {
    let positions: HashMap<&str, usize> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, input)| Some((input.get("ref")?.as_str()?, i)))
        .collect();
    for (position, input) in inputs.iter().enumerate() {
        let nested = match input.get("type").and_then(Value::as_str) {
            // Branches nest one level only; deeper lists are refused by the input checks.
            Some("branch") if !in_branch => {
                children(input, "branch").and_then(|c| jump_error(c, true))
            }
            Some("group") => group_jump_error(input),
            _ => None,
        };
        if nested.is_some() {
            return nested;
        }
        let lands_later =
            |to: &str| to == "END" || positions.get(to).is_some_and(|&p| p >= position + 2);
        let jumps = input
            .get("jumps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for jump in jumps {
            if !jump
                .get("to")
                .and_then(Value::as_str)
                .is_some_and(lands_later)
            {
                return Some("ec5_264");
            }
        }
    }
    None
}

fn children<'a>(input: &'a Value, key: &str) -> Option<&'a [Value]> {
    input.get(key).and_then(Value::as_array).map(Vec::as_slice)
}

fn group_jump_error(group: &Value) -> Option<&'static str> {
    let has_jumps = |child: &Value| {
        child
            .get("jumps")
            .and_then(Value::as_array)
            .is_some_and(|j| !j.is_empty())
    };
    children(group, "group")?
        .iter()
        .any(has_jumps)
        .then_some("ec5_320")
}
