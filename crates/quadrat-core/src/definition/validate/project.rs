//! The project object's own fields (`RuleProjectExtraDetails`): every key present, then each
//! field's rules in the real rule order; on failure `ec5_63` comes first, then the details keyed
//! by field name, and validation stops.

use serde_json::{Map, Value};

use super::envelope::ref_mismatch;
use super::errors::ErrorMap;
use crate::php::{filter_validate_int, laravel};
use crate::project_state::{ProjectAccess, ProjectStatus, ProjectVisibility};

/// The keys the real validator requires, in its rule order.
const KEYS: [&str; 11] = [
    "name",
    "slug",
    "ref",
    "small_description",
    "access",
    "visibility",
    "status",
    "logo_url",
    "description",
    "category",
    "entries_limits",
];

const SOURCE: &str = "projectExtraDetailsValidator";

/// Laravel's `not_in` message; the rule has no ec5 code, so the sentence itself is the code.
const SLUG_RESERVED_MESSAGE: &str = "The selected slug is invalid.";

const ENTRIES_LIMIT_MAX: i64 = 50_000;

/// Checks the project fields and that `project.ref` equals `data.id`.
pub fn check(data: &Value, project: &Map<String, Value>, errors: &mut ErrorMap) -> bool {
    let mut details = ErrorMap::default();
    if KEYS.iter().any(|k| !project.contains_key(*k)) {
        details.set("missing_keys", "ec5_60");
    } else {
        for key in KEYS {
            let codes = field_codes(key, &project[key]);
            if !codes.is_empty() {
                details.set_all(key, &codes);
            }
        }
    }
    if details.is_empty()
        && let Some(source) = ref_mismatch(data)
    {
        details.set(&source, "ec5_321");
    }
    if details.is_empty() {
        return true;
    }
    errors.push(SOURCE, "ec5_63");
    errors.merge(details);
    false
}

fn field_codes(key: &str, value: &Value) -> Vec<&'static str> {
    match key {
        "name" => name_codes(value),
        "slug" if value.as_str() == Some("create") => vec![SLUG_RESERVED_MESSAGE],
        "ref" => required_string(value).into_iter().collect(),
        "small_description" => text_codes(value, 3, 100),
        "access" => enum_codes(value, |s| ProjectAccess::parse(s).is_some()),
        "visibility" => enum_codes(value, |s| ProjectVisibility::parse(s).is_some()),
        "status" => enum_codes(value, |s| {
            ProjectStatus::parse(s).is_some_and(ProjectStatus::is_settable)
        }),
        "entries_limits" => entries_limits_codes(value).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `required`, then (Quadrat) the value must be a string.
fn required_string(value: &Value) -> Option<&'static str> {
    if !laravel::required(Some(value)) {
        Some("ec5_21")
    } else if !value.is_string() {
        Some("ec5_29")
    } else {
        None
    }
}

/// `min`/`max` on a string count characters.
fn length_code(s: &str, min: usize, max: usize) -> Option<&'static str> {
    let len = s.chars().count();
    if len < min {
        Some("ec5_43")
    } else if len > max {
        Some("ec5_44")
    } else {
        None
    }
}

fn text_codes(value: &Value, min: usize, max: usize) -> Vec<&'static str> {
    if let Some(code) = required_string(value) {
        return vec![code];
    }
    value
        .as_str()
        .and_then(|s| length_code(s, min, max))
        .into_iter()
        .collect()
}

/// `required|alpha_num_under_spaces|min:3|max:100`; the charset rule is implicit in Laravel, so
/// its failure stops the attribute's other rules.
fn name_codes(value: &Value) -> Vec<&'static str> {
    if let Some(code) = required_string(value) {
        return vec![code];
    }
    let name = value.as_str().unwrap_or_default();
    // PCRE's `\s` without the `u` flag: ASCII whitespace including vertical tab.
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || c == '_' || c.is_ascii_whitespace() || c == '\x0B';
    if !name.chars().all(allowed) {
        return vec!["ec5_205"];
    }
    length_code(name, 3, 100).into_iter().collect()
}

fn enum_codes(value: &Value, allowed: impl Fn(&str) -> bool) -> Vec<&'static str> {
    if !laravel::required(Some(value)) {
        vec!["ec5_21"]
    } else if value.as_str().is_some_and(allowed) {
        Vec::new()
    } else {
        vec!["ec5_29"]
    }
}

/// `present|array`, and (Quadrat) every limit an integer in 0–50000 keyed by a ref. `[]` is how
/// PHP writes an empty map; any other list is refused.
fn entries_limits_codes(value: &Value) -> Option<&'static str> {
    let limits = match value {
        Value::Array(items) if items.is_empty() => return None,
        Value::Object(limits) => limits,
        _ => return Some("ec5_29"),
    };
    for limit in limits.values() {
        let n = match limit {
            Value::Number(_) | Value::String(_) => filter_validate_int(limit),
            _ => None,
        };
        match n {
            None => return Some("ec5_27"),
            Some(n) if !(0..=ENTRIES_LIMIT_MAX).contains(&n) => return Some("ec5_28"),
            Some(_) => {}
        }
    }
    None
}
