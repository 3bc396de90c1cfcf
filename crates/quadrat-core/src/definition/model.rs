//! The typed view of a definition. The stored JSON (with any extra keys the file carried) stays
//! the source of truth; this view is parsed from it after validation.

use std::collections::BTreeMap;

use serde_json::Value;

use super::DatetimeFormat;
use crate::codes::Ec5Error;
use crate::ids::{FormRef, InputRef, ProjectRef};

/// The 20 input types (docs/protocol.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputType {
    Text,
    Textarea,
    Integer,
    Decimal,
    Phone,
    Date,
    Time,
    Radio,
    Checkbox,
    Dropdown,
    SearchSingle,
    SearchMultiple,
    Location,
    Photo,
    Audio,
    Video,
    Barcode,
    Branch,
    Group,
    Readme,
}

impl InputType {
    pub const ALL: [InputType; 20] = [
        InputType::Text,
        InputType::Textarea,
        InputType::Integer,
        InputType::Decimal,
        InputType::Phone,
        InputType::Date,
        InputType::Time,
        InputType::Radio,
        InputType::Checkbox,
        InputType::Dropdown,
        InputType::SearchSingle,
        InputType::SearchMultiple,
        InputType::Location,
        InputType::Photo,
        InputType::Audio,
        InputType::Video,
        InputType::Barcode,
        InputType::Branch,
        InputType::Group,
        InputType::Readme,
    ];

    pub fn parse(s: &str) -> Option<InputType> {
        InputType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InputType::Text => "text",
            InputType::Textarea => "textarea",
            InputType::Integer => "integer",
            InputType::Decimal => "decimal",
            InputType::Phone => "phone",
            InputType::Date => "date",
            InputType::Time => "time",
            InputType::Radio => "radio",
            InputType::Checkbox => "checkbox",
            InputType::Dropdown => "dropdown",
            InputType::SearchSingle => "searchsingle",
            InputType::SearchMultiple => "searchmultiple",
            InputType::Location => "location",
            InputType::Photo => "photo",
            InputType::Audio => "audio",
            InputType::Video => "video",
            InputType::Barcode => "barcode",
            InputType::Branch => "branch",
            InputType::Group => "group",
            InputType::Readme => "readme",
        }
    }

    /// Radio, checkbox, dropdown and the two search types: answers are answer refs.
    pub fn is_multiple_choice(self) -> bool {
        matches!(
            self,
            InputType::Radio
                | InputType::Checkbox
                | InputType::Dropdown
                | InputType::SearchSingle
                | InputType::SearchMultiple
        )
    }

    pub fn is_search(self) -> bool {
        matches!(self, InputType::SearchSingle | InputType::SearchMultiple)
    }

    pub fn is_media(self) -> bool {
        matches!(self, InputType::Photo | InputType::Audio | InputType::Video)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PossibleAnswer {
    pub answer: String,
    pub answer_ref: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Jump {
    pub to: String,
    pub when: String,
    pub answer_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub input_ref: InputRef,
    pub kind: InputType,
    pub question: String,
    pub is_title: bool,
    pub is_required: bool,
    pub uniqueness: String,
    pub regex: Option<String>,
    pub default: Value,
    pub verify: bool,
    pub min: Option<String>,
    pub max: Option<String>,
    /// `None` when the input has none (or one the validator refuses).
    pub datetime_format: Option<DatetimeFormat>,
    pub set_to_current_datetime: bool,
    pub possible_answers: Vec<PossibleAnswer>,
    pub jumps: Vec<Jump>,
    pub branch: Vec<Input>,
    pub group: Vec<Input>,
}

impl Input {
    /// The children of a branch or group, in order (empty for every other type).
    pub fn children(&self) -> &[Input] {
        match self.kind {
            InputType::Branch => &self.branch,
            InputType::Group => &self.group,
            _ => &[],
        }
    }

    pub fn answer_label(&self, answer_ref: &str) -> Option<&str> {
        self.possible_answers
            .iter()
            .find(|a| a.answer_ref == answer_ref)
            .map(|a| a.answer.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub form_ref: FormRef,
    pub name: String,
    pub slug: String,
    pub inputs: Vec<Input>,
}

impl Form {
    /// The branch inputs of this form, in order.
    pub fn branches(&self) -> impl Iterator<Item = &Input> {
        self.inputs.iter().filter(|i| i.kind == InputType::Branch)
    }
}

/// A parsed project definition (the `data` member of a definition file).
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub project_ref: ProjectRef,
    pub name: String,
    pub slug: String,
    pub access: String,
    pub status: String,
    pub visibility: String,
    pub category: String,
    pub small_description: String,
    pub description: String,
    pub entries_limits: BTreeMap<String, i64>,
    pub forms: Vec<Form>,
}

impl Definition {
    /// Parses the `data` member of a definition that has passed validation. It is lenient about
    /// types (booleans as `"1"`, numbers as strings) the way the validator is.
    pub fn from_data(data: &Value) -> Result<Definition, Ec5Error> {
        let project = data
            .get("project")
            .filter(|p| p.is_object())
            .ok_or_else(|| Ec5Error::new("ec5_268", "data.project"))?;
        let forms = project
            .get("forms")
            .and_then(Value::as_array)
            .ok_or_else(|| Ec5Error::new("ec5_67", "project"))?
            .iter()
            .map(parse_form)
            .collect::<Result<Vec<_>, _>>()?;
        let mut entries_limits = BTreeMap::new();
        if let Some(limits) = project.get("entries_limits").and_then(Value::as_object) {
            for (k, v) in limits {
                if let Some(n) = as_int(v) {
                    entries_limits.insert(k.clone(), n);
                }
            }
        }
        Ok(Definition {
            project_ref: ProjectRef(str_of(project, "ref")),
            name: str_of(project, "name"),
            slug: str_of(project, "slug"),
            access: str_of(project, "access"),
            status: str_of(project, "status"),
            visibility: str_of(project, "visibility"),
            category: str_of(project, "category"),
            small_description: str_of(project, "small_description"),
            description: str_of(project, "description"),
            entries_limits,
            forms,
        })
    }

    pub fn form(&self, form_ref: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.form_ref.as_str() == form_ref)
    }

    pub fn form_index(&self, form_ref: &str) -> Option<usize> {
        self.forms
            .iter()
            .position(|f| f.form_ref.as_str() == form_ref)
    }

    /// Every input at any depth, depth-first in definition order.
    pub fn all_inputs(&self) -> Vec<&Input> {
        fn walk<'a>(inputs: &'a [Input], out: &mut Vec<&'a Input>) {
            for input in inputs {
                out.push(input);
                walk(input.children(), out);
            }
        }
        let mut out = Vec::new();
        for form in &self.forms {
            walk(&form.inputs, &mut out);
        }
        out
    }

    /// Finds an input at any depth.
    pub fn input(&self, input_ref: &str) -> Option<&Input> {
        self.all_inputs()
            .into_iter()
            .find(|i| i.input_ref.as_str() == input_ref)
    }
}

/// A JSON value read the lenient PHP way as a boolean.
pub fn as_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !(s.is_empty() || s == "0" || s == "false"),
        _ => false,
    }
}

/// A JSON value read as an integer: a number or a numeric string.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

fn str_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn opt_str(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_form(v: &Value) -> Result<Form, Ec5Error> {
    let form_ref = str_of(v, "ref");
    let inputs = parse_inputs(v.get("inputs"), &form_ref)?;
    Ok(Form {
        form_ref: FormRef(form_ref),
        name: str_of(v, "name"),
        slug: str_of(v, "slug"),
        inputs,
    })
}

fn parse_inputs(v: Option<&Value>, owner: &str) -> Result<Vec<Input>, Ec5Error> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(parse_input).collect(),
        Some(_) => Err(Ec5Error::new("ec5_29", owner)),
    }
}

fn parse_input(v: &Value) -> Result<Input, Ec5Error> {
    let input_ref = str_of(v, "ref");
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .and_then(InputType::parse)
        .ok_or_else(|| Ec5Error::new("ec5_29", input_ref.clone()))?;
    let possible_answers = v
        .get("possible_answers")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|a| PossibleAnswer {
                    answer: str_of(a, "answer"),
                    answer_ref: str_of(a, "answer_ref"),
                })
                .collect()
        })
        .unwrap_or_default();
    let jumps = v
        .get("jumps")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|j| Jump {
                    to: str_of(j, "to"),
                    when: str_of(j, "when"),
                    answer_ref: opt_str(j, "answer_ref"),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Input {
        kind,
        question: str_of(v, "question"),
        is_title: v.get("is_title").is_some_and(as_bool),
        is_required: v.get("is_required").is_some_and(as_bool),
        uniqueness: opt_str(v, "uniqueness").unwrap_or_else(|| "none".into()),
        regex: opt_str(v, "regex"),
        default: v.get("default").cloned().unwrap_or(Value::Null),
        verify: v.get("verify").is_some_and(as_bool),
        min: opt_str(v, "min"),
        max: opt_str(v, "max"),
        datetime_format: opt_str(v, "datetime_format")
            .as_deref()
            .and_then(DatetimeFormat::parse),
        set_to_current_datetime: v.get("set_to_current_datetime").is_some_and(as_bool),
        possible_answers,
        jumps,
        branch: parse_inputs(v.get("branch"), &input_ref)?,
        group: parse_inputs(v.get("group"), &input_ref)?,
        input_ref: InputRef(input_ref),
    })
}
