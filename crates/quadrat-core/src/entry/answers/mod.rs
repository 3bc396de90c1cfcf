//! The answers of an entry or branch entry (docs/protocol.md §5.6): presence, the answer
//! object, then per answer `required` → uniqueness → the type's rules, first failure wins.
//! Jumped answers skip validation and are stored as `""`. Uniqueness needs the database, so it
//! comes in as the set of input refs whose answer is already taken ([`unique_keys`] says what
//! to look up).
//!
//! The rules of each input type live with their family: `text` (text, textarea, phone,
//! integer, decimal), `dates` (date, time), `choices` (radio, dropdown, checkbox, the search
//! types), `location`, `media` (photo, audio, video); `unique` builds the uniqueness keys.

mod choices;
mod dates;
mod location;
mod media;
mod text;
mod unique;

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::pcre::PatternCache;
use crate::codes::Ec5Error;
use crate::definition::{Input, InputType};
use crate::json::object;
use crate::php::{self, laravel};

pub(crate) use location::float;
pub use location::{Location, round_half_away};
pub use unique::{Scopes, UniqueKey, unique_keys};

/// The inputs an entry must answer, in validation order: every input except groups and readmes,
/// with each group's children (readmes excepted) in its place. A form's branch inputs are
/// included (their answer is a placeholder), never the branch's children.
pub fn answerable_inputs(inputs: &[Input]) -> Vec<&Input> {
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        match input.kind {
            InputType::Readme => {}
            InputType::Group => out.extend(
                input
                    .group
                    .iter()
                    .filter(|c| !matches!(c.kind, InputType::Readme | InputType::Group)),
            ),
            _ => out.push(input),
        }
    }
    out
}

/// One answer as it is stored: the member `input_ref: {"answer", "was_jumped"}` of the record's
/// answers (kept apart, and written as that object, rather than built into one per answer).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    pub input_ref: String,
    pub answer: Value,
    pub was_jumped: Value,
}

impl StoredAnswer {
    /// `{"answer", "was_jumped"}`.
    pub fn to_value(&self) -> Value {
        object([
            ("answer", self.answer.clone()),
            ("was_jumped", self.was_jumped.clone()),
        ])
    }
}

/// The answers as they are stored, in validation order, and what the geojson needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidatedAnswers {
    pub answers: Vec<StoredAnswer>,
    pub locations: Vec<Location>,
    /// Every chosen answer ref that exists in its input, first choice first.
    pub possible_answers: Vec<String>,
}

impl ValidatedAnswers {
    pub fn answer(&self, input_ref: &str) -> Option<&Value> {
        self.answers
            .iter()
            .find(|a| a.input_ref == input_ref)
            .map(|a| &a.answer)
    }

    fn add_possible(&mut self, answer_ref: &str) {
        if !self.possible_answers.iter().any(|p| p == answer_ref) {
            self.possible_answers.push(answer_ref.to_string());
        }
    }
}

/// Validates `answers` against `inputs` (from [`answerable_inputs`]). `taken` holds the input
/// refs whose answer another record already has in its uniqueness scope.
pub fn validate_answers(
    inputs: &[&Input],
    answers: &Value,
    taken: &HashSet<String>,
    patterns: &mut PatternCache,
) -> Result<ValidatedAnswers, Ec5Error> {
    let mut out = ValidatedAnswers {
        answers: Vec::with_capacity(inputs.len()),
        ..ValidatedAnswers::default()
    };
    let empty = Map::new();
    for input in inputs {
        let input_ref = input.input_ref.as_str();
        let data = match answers.get(input_ref) {
            None | Some(Value::Null) => return Err(Ec5Error::new("ec5_80", input_ref)),
            Some(Value::Object(map)) => map,
            Some(Value::Array(_)) => &empty,
            Some(_) => return Err(Ec5Error::new("ec5_76", input_ref)),
        };
        let was_jumped = data.get("was_jumped");
        if !laravel::required(was_jumped) {
            return Err(Ec5Error::new("ec5_21", "was_jumped"));
        }
        let was_jumped = was_jumped.cloned().unwrap_or(Value::Null);
        if !laravel::boolean(&was_jumped) {
            return Err(Ec5Error::new("ec5_29", "was_jumped"));
        }
        let Some(answer) = data.get("answer") else {
            return Err(Ec5Error::new("ec5_21", "answer"));
        };
        let stored = if php::truthy(&was_jumped) {
            json!("")
        } else {
            if input.is_required && is_required_empty(answer) {
                return Err(Ec5Error::new("ec5_21", input_ref));
            }
            if input.uniqueness != "none"
                && !php::loose_eq(answer, &json!(""))
                && taken.contains(input_ref)
            {
                return Err(Ec5Error::new("ec5_22", input_ref));
            }
            check_type(input, answer, patterns, &mut out)?
        };
        out.answers.push(StoredAnswer {
            input_ref: input_ref.to_string(),
            answer: stored,
            was_jumped,
        });
    }
    Ok(out)
}

/// `null`, `""` and an empty list or object fail `required`; an all-blank location does not.
fn is_required_empty(answer: &Value) -> bool {
    match answer {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A crash of the real server's length rule on a list or object answer.
fn crash() -> Ec5Error {
    Ec5Error::new("ec5_116", "validation")
}

fn is_container(v: &Value) -> bool {
    v.is_array() || v.is_object()
}

/// The refusal `code` for this input's answer.
fn refused(input: &Input, code: &str) -> Ec5Error {
    Ec5Error::new(code, input.input_ref.as_str())
}

/// The per-type rules of docs/protocol.md §5.6, by input family; returns the value to store.
fn check_type(
    input: &Input,
    answer: &Value,
    patterns: &mut PatternCache,
    out: &mut ValidatedAnswers,
) -> Result<Value, Ec5Error> {
    match input.kind {
        InputType::Text | InputType::Textarea | InputType::Phone => {
            text::check_text(input, answer, patterns)
        }
        InputType::Integer | InputType::Decimal => text::check_number(input, answer, patterns),
        InputType::Date | InputType::Time => dates::check_date_time(input, answer),
        InputType::Radio | InputType::Dropdown => choices::check_single(input, answer, out),
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => {
            choices::check_multiple(input, answer, out)
        }
        InputType::Location => location::check_location(input, answer, out),
        InputType::Photo | InputType::Audio | InputType::Video => media::check_media(input, answer),
        // Barcodes and branch placeholders are stored as sent.
        InputType::Barcode | InputType::Branch | InputType::Group | InputType::Readme => {
            Ok(answer.clone())
        }
    }
}
