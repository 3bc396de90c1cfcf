//! Text, textarea and phone answers (strings within a length, matching the input's regex) and
//! integer and decimal answers (numbers within the input's bounds).

use serde_json::Value;

use super::{crash, is_container, refused};
use crate::codes::Ec5Error;
use crate::definition::{Input, InputType};
use crate::entry::pcre::{Pattern, PatternCache};
use crate::php::{self, laravel, strval_scalar_serialize_precision};

pub(super) fn check_text(
    input: &Input,
    answer: &Value,
    patterns: &mut PatternCache,
) -> Result<Value, Ec5Error> {
    if is_container(answer) {
        return Err(crash());
    }
    let limit = if input.kind == InputType::Textarea {
        1000
    } else {
        255
    };
    // Laravel skips every rule but the length limits for a blank string.
    if !laravel::is_blank_string(answer) {
        let r = input.input_ref.as_str();
        // Borrowed: a clone of a compiled regex starts an empty cache, rebuilt at its first match.
        let pattern = input.regex.as_deref().map(|p| patterns.get(r, p));
        // PCRE only sees strings and numbers; a broken pattern fails before anything.
        let text = match answer {
            Value::String(_) | Value::Number(_) => strval_scalar_serialize_precision(answer),
            _ => None,
        };
        if matches!(pattern, Some(Pattern::Broken)) && text.is_some() {
            return Err(refused(input, "ec5_392"));
        }
        if input.kind == InputType::Text && !answer.is_string() {
            return Err(refused(input, "ec5_29"));
        }
        if let Some(pattern) = pattern {
            let matched = text.as_deref().map(|t| pattern.is_match(t));
            if matches!(matched, None | Some(Some(false))) {
                return Err(refused(input, "ec5_29"));
            }
        }
    }
    if laravel::size(answer) > limit {
        return Err(refused(input, "ec5_214"));
    }
    Ok(answer.clone())
}

pub(super) fn check_number(
    input: &Input,
    answer: &Value,
    patterns: &mut PatternCache,
) -> Result<Value, Ec5Error> {
    // Laravel skips every rule for a blank string.
    if laravel::is_blank_string(answer) {
        return Ok(answer.clone());
    }
    let err = |code: &str| refused(input, code);
    if is_container(answer) {
        return Err(err("ec5_27"));
    }
    let r = input.input_ref.as_str();
    let regex = input.regex.as_deref().map(|p| patterns.get(r, p));
    if matches!(regex, Some(Pattern::Broken)) {
        return Err(err("ec5_392"));
    }
    let text = match answer {
        Value::Bool(_) | Value::Null => return Err(err("ec5_27")),
        other => strval_scalar_serialize_precision(other).unwrap_or_default(),
    };
    if input.kind == InputType::Integer && !is_integer_text(&text) {
        return Err(err("ec5_27"));
    }
    let Some(value) = php::is_numeric(answer) else {
        return Err(err("ec5_27"));
    };
    let bound = |b: &Option<String>| b.as_deref().and_then(php::is_numeric_str);
    if bound(&input.min).is_some_and(|min| value < min) {
        return Err(err("ec5_215"));
    }
    if bound(&input.max).is_some_and(|max| value > max) {
        return Err(err("ec5_216"));
    }
    if regex.is_some_and(|p| p.is_match(&text) == Some(false)) {
        return Err(err("ec5_27"));
    }
    Ok(answer.clone())
}

/// `^-?[0-9]+$`, with PCRE's `$` (a final newline allowed).
fn is_integer_text(text: &str) -> bool {
    let t = text.strip_suffix('\n').unwrap_or(text);
    let digits = t.strip_prefix('-').unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
