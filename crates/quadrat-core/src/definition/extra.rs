//! project_extra (data-model.md §2.1). Being written; see the issue.

use serde_json::{Value, json};

/// Derives project_extra from the `data` member of a valid definition.
pub fn project_extra(_data: &Value) -> Value {
    json!({})
}
