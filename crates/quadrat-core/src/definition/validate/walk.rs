//! The walk over forms and inputs (`RuleProjectDefinition::validate`), with the real server's
//! counters and stopping points: a form error stops everything; an invalid top-level input stops
//! its form (the next form is still checked); an invalid branch or group child stops that branch
//! or group only.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::errors::ErrorMap;
use super::form;
use super::input::{self, Place, Slot};
use crate::definition::model::InputType;
use crate::php::{empty, loose_eq, trim, truthy};

const VALIDATION: &str = "validation";
const INPUTS_MAX: usize = 300;
const TITLES_MAX: usize = 3;
const SEARCH_MAX: usize = 5;

#[derive(Default)]
pub struct Walker {
    pub errors: ErrorMap,
    /// Titles per scope: the form for top-level inputs, the branch for branch children (groups
    /// in it included), the group for children of a top-level group.
    titles: HashMap<String, usize>,
    /// Inputs of the current form at every depth.
    form_inputs: usize,
    /// Search inputs of the project so far.
    searches: usize,
    input_refs: HashSet<String>,
}

impl Walker {
    /// Checks every form in order.
    pub fn forms(&mut self, project_ref: &str, forms: &[Value]) {
        let mut names: Vec<Value> = Vec::new();
        let mut refs: Vec<&Value> = Vec::new();
        for form in forms {
            if let Err(code) = self.form(project_ref, form, &mut names, &mut refs) {
                self.errors.set(VALIDATION, code);
                return;
            }
            if self.searches > SEARCH_MAX {
                self.errors.set(VALIDATION, "ec5_333");
                return;
            }
        }
    }

    fn form<'a>(
        &mut self,
        project_ref: &str,
        form: &'a Value,
        names: &mut Vec<Value>,
        refs: &mut Vec<&'a Value>,
    ) -> Result<(), &'static str> {
        let form = form.as_object().ok_or("ec5_29")?;
        let name = unique_name(form, names)?;
        unique_ref(form, refs)?;
        let inputs = match form.get("inputs") {
            Some(Value::Array(inputs)) if !inputs.is_empty() => inputs,
            _ => return Err("ec5_68"),
        };
        if inputs.len() > INPUTS_MAX {
            return Err("ec5_262");
        }
        if let Some(code) = form::first_error(project_ref, form, &name) {
            return Err(code);
        }
        self.top_level(form["ref"].as_str().unwrap_or_default(), inputs);
        Ok(())
    }

    fn top_level(&mut self, form_ref: &str, inputs: &[Value]) {
        self.form_inputs = inputs.len();
        let place = Place {
            slot: Slot::Top,
            parent_ref: form_ref,
            in_branch: false,
        };
        for input in inputs {
            let Some(kind) = self.input(input, &place, None) else {
                return;
            };
            let input_ref = input["ref"].as_str().unwrap_or_default();
            match kind {
                InputType::Branch => self.branch(input_ref, children(input, "branch")),
                InputType::Group => {
                    self.group(input_ref, children(input, "group"), None);
                }
                _ => {}
            }
        }
    }

    /// Checks one input and counts its title and search use; its type when it is valid.
    fn input(
        &mut self,
        input: &Value,
        place: &Place,
        branch_ref: Option<&str>,
    ) -> Option<InputType> {
        let source = match input.get("ref") {
            Some(Value::String(r)) if !r.is_empty() => r.as_str(),
            _ => "",
        };
        let details = input::check(input, place, &mut self.input_refs);
        if !details.is_empty() {
            self.fail_input(source, "ec5_65", details);
            return None;
        }
        if input.get("is_title").is_some_and(truthy) {
            let scope = branch_ref.unwrap_or(place.parent_ref).to_string();
            let count = self.titles.entry(scope).or_default();
            *count += 1;
            if *count > TITLES_MAX {
                self.fail_input(source, "ec5_211", ErrorMap::default());
                return None;
            }
        }
        let kind = input
            .get("type")
            .and_then(Value::as_str)
            .and_then(InputType::parse)?;
        if kind.is_search() {
            self.searches += 1;
        }
        Some(kind)
    }

    /// The input error: `ec5_65` (or `ec5_211`) keyed by the input ref, then the details merged
    /// over it, so a detail keyed by the same ref replaces it.
    fn fail_input(&mut self, source: &str, code: &str, details: ErrorMap) {
        if source.is_empty() {
            self.errors.push("ruleInput", code);
        } else {
            self.errors.set(source, code);
        }
        self.errors.merge(details);
    }

    fn branch(&mut self, branch_ref: &str, inputs: &[Value]) {
        if !self.count_nested(inputs.len()) {
            return;
        }
        let place = Place {
            slot: Slot::BranchChild,
            parent_ref: branch_ref,
            in_branch: true,
        };
        for input in inputs {
            let Some(kind) = self.input(input, &place, Some(branch_ref)) else {
                return;
            };
            if kind == InputType::Group {
                let group_ref = input["ref"].as_str().unwrap_or_default();
                if !self.group(group_ref, children(input, "group"), Some(branch_ref)) {
                    return;
                }
            }
        }
    }

    fn group(&mut self, group_ref: &str, inputs: &[Value], branch_ref: Option<&str>) -> bool {
        if !self.count_nested(inputs.len()) {
            return false;
        }
        let place = Place {
            slot: Slot::GroupChild,
            parent_ref: group_ref,
            in_branch: branch_ref.is_some(),
        };
        inputs
            .iter()
            .all(|input| self.input(input, &place, branch_ref).is_some())
    }

    /// Adds a branch's or group's children to the form total: none is `ec5_68`, over 300 in
    /// the form is `ec5_262`; both are added to `validation` and the walk goes on.
    fn count_nested(&mut self, count: usize) -> bool {
        self.form_inputs += count;
        let code = if count == 0 {
            "ec5_68"
        } else if self.form_inputs > INPUTS_MAX {
            "ec5_262"
        } else {
            return true;
        };
        self.errors.push(VALIDATION, code);
        false
    }
}

/// The form name, trimmed; `ec5_246` when empty, `ec5_245` when an earlier form has it. The
/// incoming name is compared with the trimmed names seen before, as on the real server.
fn unique_name(form: &Map<String, Value>, names: &mut Vec<Value>) -> Result<String, &'static str> {
    let name = form.get("name").unwrap_or(&Value::Null);
    if empty(name) {
        return Err("ec5_246");
    }
    if names.iter().any(|seen| loose_eq(seen, name)) {
        return Err("ec5_245");
    }
    let trimmed = match name {
        Value::String(s) => trim(s).to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err("ec5_29"),
    };
    names.push(Value::String(trimmed.clone()));
    Ok(trimmed)
}

/// `ec5_224` when an earlier form has this ref.
fn unique_ref<'a>(
    form: &'a Map<String, Value>,
    refs: &mut Vec<&'a Value>,
) -> Result<(), &'static str> {
    if let Some(form_ref) = form.get("ref") {
        if refs.iter().any(|seen| loose_eq(seen, form_ref)) {
            return Err("ec5_224");
        }
        refs.push(form_ref);
    }
    Ok(())
}

fn children<'a>(input: &'a Value, key: &str) -> &'a [Value] {
    input
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}
