//! Edits on the stored definition JSON (the `data` member), keeping every key the file carried.

use serde_json::{Map, Value};

/// Replaces the project ref wherever it appears, in keys and in string values, as the real
/// server's web import does: every form and input ref is prefixed by it, so all are re-keyed.
pub fn replace_project_ref(data: &Value, old: &str, new: &str) -> Value {
    if old.is_empty() {
        return data.clone();
    }
    match data {
        Value::String(s) => Value::String(s.replace(old, new)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| replace_project_ref(v, old, new))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.replace(old, new), replace_project_ref(v, old, new)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// Sets `project.<key>` (and `id` when the key is `ref`). Does nothing on a malformed value.
pub fn set_project_field(data: &mut Value, key: &str, value: Value) {
    if key == "ref"
        && let Some(obj) = data.as_object_mut()
    {
        obj.insert("id".into(), value.clone());
    }
    if let Some(project) = data.get_mut("project").and_then(Value::as_object_mut) {
        project.insert(key.to_string(), value);
    }
}

/// Reads `project.<key>` as a string.
pub fn project_str<'a>(data: &'a Value, key: &str) -> Option<&'a str> {
    data.get("project")?.get(key)?.as_str()
}

/// Every ref the definition declares: the project ref, form refs and input refs at any depth.
pub fn all_refs(data: &Value) -> Vec<String> {
    fn inputs(list: Option<&Value>, out: &mut Vec<String>) {
        for input in list.and_then(Value::as_array).into_iter().flatten() {
            if let Some(r) = input.get("ref").and_then(Value::as_str) {
                out.push(r.to_string());
            }
            inputs(input.get("branch"), out);
            inputs(input.get("group"), out);
        }
    }
    let mut out = Vec::new();
    if let Some(r) = project_str(data, "ref") {
        out.push(r.to_string());
    }
    let forms = data.get("project").and_then(|p| p.get("forms"));
    for form in forms.and_then(Value::as_array).into_iter().flatten() {
        if let Some(r) = form.get("ref").and_then(Value::as_str) {
            out.push(r.to_string());
        }
        inputs(form.get("inputs"), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replaces_ref_in_keys_and_values() {
        let old = "aaaa";
        let v = json!({"id": "aaaa", "project": {"ref": "aaaa", "forms": [{"ref": "aaaa_1"}],
            "entries_limits": {"aaaa_1": 3}}});
        let out = replace_project_ref(&v, old, "bbbb");
        assert_eq!(out["project"]["forms"][0]["ref"], "bbbb_1");
        assert_eq!(out["project"]["entries_limits"]["bbbb_1"], 3);
        assert_eq!(out["id"], "bbbb");
    }

    #[test]
    fn lists_all_refs() {
        let v = json!({"project": {"ref": "p", "forms": [{"ref": "p_f", "inputs": [
            {"ref": "p_f_a", "branch": [{"ref": "p_f_a_b", "group": [{"ref": "p_f_a_b_c"}]}], "group": []}
        ]}]}});
        assert_eq!(all_refs(&v), ["p", "p_f", "p_f_a", "p_f_a_b", "p_f_a_b_c"]);
    }
}
