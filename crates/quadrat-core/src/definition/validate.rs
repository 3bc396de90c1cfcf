//! Whole-definition validation (docs/protocol.md §3.3), following the real server's
//! `RuleProjectDefinition`, `RuleProjectExtraDetails`, `RuleForm`, `RuleInput` and
//! `RuleImportJson`: same checks, same order, same codes and sources, same stopping points.
//! Where Quadrat is stricter or departs on purpose, the module doing it says so.

mod envelope;
mod errors;
mod form;
mod html;
mod input;
pub(crate) mod pattern;
mod project;
pub(crate) mod scan;
mod walk;

use serde_json::Value;

use crate::codes::Ec5Error;
use crate::php;

const MAX_FORMS: usize = 5;

/// Checks the envelope of a definition file (`{"data":{"id","type":"project","project":{…}}}`) and
/// returns its `data` member.
pub fn validate_envelope(file: &Value) -> Result<&Value, Vec<Ec5Error>> {
    envelope::check(file)
}

/// Validates the `data` member of a definition in full; every error with its code and source.
/// `project.ref` must equal `data.id`; that both equal the stored project's ref is the caller's
/// concern.
pub fn validate_definition(data: &Value) -> Result<(), Vec<Ec5Error>> {
    if let Some(code) = scan::payload_error(data) {
        return Err(vec![Ec5Error::new(code, "validation")]);
    }
    let project = data.get("project").unwrap_or(&Value::Null);
    let forms = project.get("forms").unwrap_or(&Value::Null);
    let Some(project_fields) = project.as_object().filter(|_| !php::empty(forms)) else {
        return Err(vec![Ec5Error::new("ec5_67", "validation")]);
    };
    let forms = forms.as_array().map(Vec::as_slice).unwrap_or_default();
    if forms.is_empty() {
        return Err(vec![Ec5Error::new("ec5_66", "validation")]);
    }
    if forms.len() > MAX_FORMS {
        return Err(vec![Ec5Error::new("ec5_263", "validation")]);
    }
    let mut walker = walk::Walker::default();
    if project::check(data, project_fields, &mut walker.errors) {
        let project_ref = project_fields["ref"].as_str().unwrap_or_default();
        walker.forms(project_ref, forms);
    }
    if walker.errors.is_empty() {
        Ok(())
    } else {
        Err(walker.errors.into_errors())
    }
}
