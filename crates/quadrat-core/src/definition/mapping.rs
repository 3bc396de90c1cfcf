//! The EC5_AUTO mapping (export-api.md §2.2). Being written; see the issue.

use serde_json::{Value, json};

/// The EC5_AUTO map (index 0, default) for the `data` member of a valid definition.
pub fn auto_mapping(_data: &Value) -> Value {
    json!({"forms": {}, "name": "EC5_AUTO", "is_default": true, "map_index": 0})
}

/// The stored mapping list: a fresh EC5_AUTO at index 0 with any custom maps merged onto it.
pub fn regenerate(data: &Value, _existing: Option<&Value>) -> Value {
    Value::Array(vec![auto_mapping(data)])
}
