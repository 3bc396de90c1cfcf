//! The envelope of a definition file, `{"data":{"id","type":"project","project":{…}}}`, checked
//! as the real import does (`RuleImportJson`): every failing attribute is reported, keyed by its
//! path. Quadrat adds one rule the import leaves out: `data.id` must equal `project.ref`.

use serde_json::Value;

use super::errors::ErrorMap;
use crate::codes::Ec5Error;
use crate::php::laravel;

/// The project ref length (`limits.project.id.size`).
const PROJECT_ID_SIZE: usize = 32;

/// Laravel's `size:32` message; `size` has no ec5 code, so the sentence itself is the code.
const ID_SIZE_MESSAGE: &str = "The data.id must be 32 characters.";

pub fn check(file: &Value) -> Result<&Value, Vec<Ec5Error>> {
    // A file that decodes to a scalar is not an array for PHP: refused before any rule runs.
    if !(file.is_object() || file.is_array()) {
        return Err(vec![Ec5Error::new("ec5_269", "validation")]);
    }
    let data = file.get("data");
    let attribute = |key: &str| data.and_then(|d| d.get(key));
    let mut errors = ErrorMap::default();
    if !laravel::required(data) {
        errors.push("data", "ec5_269");
    }
    match attribute("type") {
        t if !laravel::required(t) => errors.push("data.type", "ec5_281"),
        Some(Value::String(t)) if t == "project" => {}
        _ => errors.push("data.type", "ec5_29"),
    }
    match attribute("project") {
        p if !laravel::required(p) => errors.push("data.project", "ec5_353"),
        Some(Value::Object(_)) => {}
        _ => errors.push("data.project", "ec5_268"),
    }
    match attribute("id") {
        id if !laravel::required(id) => errors.push("data.id", "ec5_289"),
        Some(Value::String(id)) if id.chars().count() == PROJECT_ID_SIZE => {}
        _ => errors.push("data.id", ID_SIZE_MESSAGE),
    }
    match data {
        Some(data) if errors.is_empty() => match ref_mismatch(data) {
            Some(source) => Err(vec![Ec5Error::new("ec5_321", source)]),
            None => Ok(data),
        },
        _ => Err(errors.into_errors()),
    }
}

/// When `project.ref` differs from `data.id`: the source of the `ec5_321` error, which is the
/// ref the project should have (the real server keys the error by the project's own ref).
pub fn ref_mismatch(data: &Value) -> Option<String> {
    let id = data.get("id").and_then(Value::as_str);
    let project_ref = data
        .get("project")
        .and_then(|p| p.get("ref"))
        .and_then(Value::as_str);
    match id {
        Some(id) if Some(id) == project_ref => None,
        Some(id) if !id.is_empty() => Some(id.to_string()),
        _ => Some("data.id".to_string()),
    }
}
