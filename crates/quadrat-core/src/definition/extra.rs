//! project_extra (docs/protocol.md §3.7): the index of a definition that upload validation, the
//! mobile app and the EC5_AUTO mapping read.
//!
//! It follows the walk of the real server's definition validator, which builds extra as it goes:
//! top-level inputs, the children of a top-level branch or group, and the children of a group
//! inside a branch. Nothing deeper is indexed (validation refuses deeper nesting).

use serde_json::{Map, Value, json};

use super::InputType;
use crate::json::{mysql_order, object_or_empty_array};
use crate::php::{self, assoc};
use crate::slug;

/// The project keys copied into `project.details`, missing or null ones as `""`.
const PROJECT_DETAIL_KEYS: [&str; 10] = [
    "ref",
    "name",
    "slug",
    "access",
    "status",
    "logo_url",
    "visibility",
    "small_description",
    "description",
    "category",
];

/// Derives project_extra from the `data` member of a valid definition, in stored (MySQL) key
/// order. Any JSON value is accepted; what does not look like a definition is left out.
pub fn project_extra(data: &Value) -> Value {
    mysql_order(build(data))
}

/// project_extra in the order the real server builds it (forms and inputs in definition order),
/// which the EC5_AUTO walk depends on.
pub(crate) fn build(data: &Value) -> Value {
    let project = data.get("project");
    let mut inputs = Map::new();
    let mut forms = Map::new();
    let mut form_refs = Vec::new();
    for form in php::foreach_values(project.and_then(|p| p.get("forms"))) {
        let Some(form_obj) = form.as_object() else {
            continue;
        };
        let form_ref = php::array_key(form_obj.get("ref"));
        let extra = FormExtra::walk(form_obj, &mut inputs);
        form_refs.push(Value::String(form_ref.clone()));
        forms.insert(form_ref, extra.into_json(form_obj));
    }
    let project_extra = assoc([
        ("forms", Value::Array(form_refs)),
        ("details", project_details(project)),
        // Always empty here: the real limits live in the definition.
        ("entries_limits", json!([])),
    ]);
    assoc([
        ("forms", object_or_empty_array(forms)),
        ("inputs", object_or_empty_array(inputs)),
        ("project", project_extra),
    ])
}

fn project_details(project: Option<&Value>) -> Value {
    let details = PROJECT_DETAIL_KEYS
        .iter()
        .map(|&k| {
            let value = match project.and_then(|p| p.get(k)) {
                None | Some(Value::Null) => Value::String(String::new()),
                Some(v) => v.clone(),
            };
            (k.to_string(), value)
        })
        .collect();
    Value::Object(details)
}

/// What one form contributes, gathered while walking its inputs.
#[derive(Default)]
struct FormExtra {
    top_level: Vec<Value>,
    branches: Map<String, Value>,
    groups: Map<String, Value>,
    locations: Vec<Value>,
    choices_form: Map<String, Value>,
    choices_branch: Map<String, Value>,
    has_location: bool,
}

impl FormExtra {
    fn walk(form: &Map<String, Value>, inputs: &mut Map<String, Value>) -> FormExtra {
        let mut extra = FormExtra::default();
        extra.choices_form.insert("order".into(), json!([]));
        for input in php::foreach_values(form.get("inputs")) {
            let Some(input_ref) = extra.add_input(input, "", inputs) else {
                continue;
            };
            extra.top_level.push(Value::String(input_ref.clone()));
            match type_of(input) {
                "branch" => extra.add_branch(input, &input_ref, inputs),
                "group" => extra.add_group(input, &input_ref, "", inputs),
                _ => {}
            }
        }
        extra
    }

    fn add_branch(&mut self, branch: &Value, branch_ref: &str, inputs: &mut Map<String, Value>) {
        let mut children = Vec::new();
        for child in php::foreach_values(branch.get("branch")) {
            let Some(child_ref) = self.add_input(child, branch_ref, inputs) else {
                continue;
            };
            children.push(Value::String(child_ref.clone()));
            if type_of(child) == "group" {
                self.add_group(child, &child_ref, branch_ref, inputs);
            }
        }
        self.branches
            .insert(branch_ref.to_string(), Value::Array(children));
    }

    fn add_group(
        &mut self,
        group: &Value,
        group_ref: &str,
        branch_ref: &str,
        inputs: &mut Map<String, Value>,
    ) {
        let children = php::foreach_values(group.get("group"))
            .filter_map(|child| self.add_input(child, branch_ref, inputs))
            .map(Value::String)
            .collect();
        self.groups
            .insert(group_ref.to_string(), Value::Array(children));
    }

    /// Indexes one input (its own children are added by the caller) and returns its ref.
    /// `branch_ref` is `""` outside branches.
    fn add_input(
        &mut self,
        input: &Value,
        branch_ref: &str,
        inputs: &mut Map<String, Value>,
    ) -> Option<String> {
        let obj = input.as_object()?;
        let input_ref = php::array_key(obj.get("ref"));
        let kind = type_of(input);
        if kind == "location" {
            self.has_location = true;
            self.locations.push(assoc([
                ("question", question_of(obj)),
                ("input_ref", Value::String(input_ref.clone())),
                ("branch_ref", Value::String(branch_ref.to_string())),
            ]));
        }
        if is_multiple_choice(kind) {
            self.add_choice(obj, &input_ref, branch_ref);
        }
        let data = assoc([("data", emptied_children(obj, kind))]);
        inputs.insert(input_ref.clone(), data);
        Some(input_ref)
    }

    fn add_choice(&mut self, input: &Map<String, Value>, input_ref: &str, branch_ref: &str) {
        let list = if php::empty_str(branch_ref) {
            &mut self.choices_form
        } else {
            match self
                .choices_branch
                .entry(branch_ref.to_string())
                .or_insert_with(|| json!({"order": []}))
            {
                Value::Object(map) => map,
                // Only objects are ever inserted above.
                _ => return,
            }
        };
        if let Some(Value::Array(order)) = list.get_mut("order") {
            order.push(Value::String(input_ref.to_string()));
        }
        list.insert(
            input_ref.to_string(),
            assoc([
                ("question", question_of(input)),
                (
                    "possible_answers",
                    answer_labels(input.get("possible_answers")),
                ),
            ]),
        );
    }

    fn into_json(self, form: &Map<String, Value>) -> Value {
        let choices = assoc([
            ("form", Value::Object(self.choices_form)),
            ("branch", object_or_empty_array(self.choices_branch)),
        ]);
        let lists = assoc([
            ("location_inputs", Value::Array(self.locations)),
            ("multiple_choice_inputs", choices),
        ]);
        assoc([
            ("details", form_details(form, self.has_location)),
            ("inputs", Value::Array(self.top_level)),
            ("lists", lists),
            ("branch", object_or_empty_array(self.branches)),
            ("group", object_or_empty_array(self.groups)),
        ])
    }
}

/// The whole form object as submitted, with the name trimmed, the slug rebuilt from the name,
/// and `has_location` added.
fn form_details(form: &Map<String, Value>, has_location: bool) -> Value {
    let mut details = form.clone();
    let name = form
        .get("name")
        .and_then(php::strval_plain_decimal)
        .map(|n| php::trim(&n).to_string());
    if let Some(name) = &name {
        details.insert("name".into(), Value::String(name.clone()));
    }
    let slug = match &name {
        Some(n) if !php::empty_str(n) => slug::normalize(n),
        _ => String::new(),
    };
    details.insert("slug".into(), Value::String(slug));
    details.insert("has_location".into(), Value::Bool(has_location));
    Value::Object(details)
}

/// The input as stored under `inputs`: the child list named after its own type (`branch` of a
/// branch, `group` of a group) is emptied, whatever else it holds is kept.
fn emptied_children(input: &Map<String, Value>, kind: &str) -> Value {
    let data = input
        .iter()
        .map(|(key, value)| {
            let value = if key == kind && !value.is_null() {
                json!([])
            } else {
                value.clone()
            };
            (key.clone(), value)
        })
        .collect();
    Value::Object(data)
}

fn answer_labels(answers: Option<&Value>) -> Value {
    let labels = php::foreach_values(answers)
        .filter(|a| a.is_object())
        .map(|a| {
            let label = a.get("answer").cloned().unwrap_or(Value::Null);
            (php::array_key(a.get("answer_ref")), label)
        })
        .collect();
    object_or_empty_array(labels)
}

fn is_multiple_choice(kind: &str) -> bool {
    InputType::parse(kind).is_some_and(InputType::is_multiple_choice)
}

fn type_of(input: &Value) -> &str {
    input.get("type").and_then(Value::as_str).unwrap_or("")
}

fn question_of(input: &Map<String, Value>) -> Value {
    input.get("question").cloned().unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(r: &str, kind: &str, extra: Value) -> Value {
        let mut v = json!({"ref": r, "type": kind, "question": format!("Q {r}"),
            "branch": [], "group": [], "possible_answers": []});
        if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
            obj.extend(more);
        }
        v
    }

    fn def(inputs: Value) -> Value {
        json!({"project": {"ref": "p", "name": "P", "forms": [
            {"ref": "f", "name": "  Form One ", "slug": "x", "type": "hierarchy", "inputs": inputs}
        ]}})
    }

    #[test]
    fn group_inside_branch_goes_to_the_branch_lists() {
        let loc = input("g1", "location", json!({}));
        let pick = input(
            "g2",
            "radio",
            json!({"possible_answers": [{"answer": "A", "answer_ref": "a1"}]}),
        );
        let group = input("g", "group", json!({"group": [loc, pick]}));
        let branch = input("b", "branch", json!({"branch": [group]}));
        let extra = project_extra(&def(json!([branch])));
        let form = &extra["forms"]["f"];
        assert_eq!(form["branch"], json!({"b": ["g"]}));
        assert_eq!(form["group"], json!({"g": ["g1", "g2"]}));
        assert_eq!(
            form["lists"]["location_inputs"],
            json!([{"question": "Q g1", "input_ref": "g1", "branch_ref": "b"}])
        );
        assert_eq!(
            form["lists"]["multiple_choice_inputs"]["form"],
            json!({"order": []})
        );
        assert_eq!(
            form["lists"]["multiple_choice_inputs"]["branch"],
            json!({"b": {"g2": {"question": "Q g2", "possible_answers": {"a1": "A"}}, "order": ["g2"]}})
        );
        assert_eq!(form["inputs"], json!(["b"]));
        assert_eq!(form["details"]["has_location"], json!(true));
        assert_eq!(form["details"]["name"], json!("Form One"));
        assert_eq!(form["details"]["slug"], json!("form-one"));
        assert_eq!(extra["inputs"]["b"]["data"]["branch"], json!([]));
        assert_eq!(extra["inputs"]["g"]["data"]["group"], json!([]));
        assert_eq!(extra["inputs"].as_object().map(Map::len), Some(4));
    }

    #[test]
    fn a_choice_without_answers_has_an_empty_array() {
        let extra = project_extra(&def(json!([input("r", "dropdown", json!({}))])));
        assert_eq!(
            extra["forms"]["f"]["lists"]["multiple_choice_inputs"]["form"]["r"]["possible_answers"],
            json!([])
        );
    }

    #[test]
    fn not_a_definition_gives_the_empty_skeleton() {
        let extra = project_extra(&json!(42));
        assert_eq!(extra["forms"], json!([]));
        assert_eq!(extra["inputs"], json!([]));
        assert_eq!(extra["project"]["forms"], json!([]));
        assert_eq!(extra["project"]["details"]["category"], json!(""));
        assert_eq!(extra["project"]["entries_limits"], json!([]));
    }
}
