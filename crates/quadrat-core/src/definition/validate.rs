//! Whole-definition validation (data-model.md §1.8). Being written; see the issue.

use serde_json::Value;

use crate::codes::Ec5Error;

/// Checks the envelope of a definition file (`{"data":{"id","type":"project","project":{…}}}`) and
/// returns its `data` member.
pub fn validate_envelope(file: &Value) -> Result<&Value, Vec<Ec5Error>> {
    file.get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| vec![Ec5Error::new("ec5_269", "validation")])
}

/// Validates the `data` member of a definition in full; every error with its code and source.
pub fn validate_definition(_data: &Value) -> Result<(), Vec<Ec5Error>> {
    Ok(())
}
