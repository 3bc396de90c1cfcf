//! Choice answers: radio and dropdown (one answer ref of the input), checkbox and the search
//! types (a list of distinct answer refs).

use std::collections::HashSet;

use serde_json::{Value, json};

use super::{ValidatedAnswers, crash, is_container, refused};
use crate::codes::Ec5Error;
use crate::definition::{Input, InputType};
use crate::php::{self, strval_scalar_serialize_precision};

/// Radio and dropdown.
pub(super) fn check_single(
    input: &Input,
    answer: &Value,
    out: &mut ValidatedAnswers,
) -> Result<Value, Ec5Error> {
    if is_container(answer) {
        return Err(crash());
    }
    match answer {
        Value::String(s) if s.is_empty() => Ok(answer.clone()),
        Value::String(s) => {
            if input.answer_label(s).is_none() {
                return Err(refused(input, "ec5_29"));
            }
            if s.chars().count() > 13 {
                return Err(refused(input, "ec5_214"));
            }
            out.add_possible(s);
            Ok(answer.clone())
        }
        other if php::empty(other) => Err(refused(input, "ec5_29")),
        _ => Err(refused(input, "ec5_25")),
    }
}

/// Checkbox, searchsingle and searchmultiple.
pub(super) fn check_multiple(
    input: &Input,
    answer: &Value,
    out: &mut ValidatedAnswers,
) -> Result<Value, Ec5Error> {
    let err = |code: &str| refused(input, code);
    let items = match answer {
        Value::Array(items) => items,
        Value::String(s) if s.is_empty() => return Ok(json!([])),
        _ => return Err(err("ec5_25")),
    };
    if items.iter().any(is_container) {
        return Err(err("ec5_76"));
    }
    let texts: Vec<Option<String>> = items
        .iter()
        .map(strval_scalar_serialize_precision)
        .collect();
    if texts.iter().flatten().any(|t| t.contains('-')) {
        return Err(err("ec5_29"));
    }
    if input.kind == InputType::SearchSingle && items.len() > 1 {
        return Err(err("ec5_397"));
    }
    let unique: HashSet<String> = texts
        .iter()
        .map(|t| t.clone().unwrap_or_default())
        .collect();
    if input.kind != InputType::SearchSingle && unique.len() < items.len() {
        return Err(err("ec5_25"));
    }
    if items.iter().any(Value::is_null) {
        return Err(err("ec5_25"));
    }
    for text in texts.iter().flatten() {
        if input.answer_label(text).is_some() {
            out.add_possible(text);
        }
    }
    Ok(answer.clone())
}
