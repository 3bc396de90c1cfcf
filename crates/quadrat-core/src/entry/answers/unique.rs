//! The uniqueness keys of answers (docs/protocol.md §5.11): what the uniqueness index holds for an
//! answer whose input must be unique.

use serde_json::{Value, json};

use super::dates::{date_parts, time_parts};
use crate::definition::{DatetimeFormat, Input, InputType};
use crate::php::{self, strval_scalar_serialize_precision};

/// Where an answer must be unique: `form` scope and `hierarchy` scope (the parent entry's uuid
/// for hierarchy entries; for branch entries both are the owner entry's uuid).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    pub form: String,
    pub hierarchy: String,
}

/// One answer as the uniqueness index holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UniqueKey {
    pub input_ref: String,
    pub scope: String,
    pub key: String,
}

/// The comparison keys of the answers that reach the uniqueness check: inputs whose
/// uniqueness is not `none`, answers not jumped and not empty. Text is compared
/// case-insensitively; dates and times by the parts their format shows (docs/protocol.md §5.7).
pub fn unique_keys(inputs: &[&Input], answers: &Value, scopes: &Scopes) -> Vec<UniqueKey> {
    let mut out = Vec::new();
    for input in inputs {
        let scope = match input.uniqueness.as_str() {
            "form" => &scopes.form,
            "hierarchy" => &scopes.hierarchy,
            _ => continue,
        };
        let Some(Value::Object(data)) = answers.get(input.input_ref.as_str()) else {
            continue;
        };
        if data.get("was_jumped").is_some_and(php::truthy) {
            continue;
        }
        let Some(answer) = data.get("answer") else {
            continue;
        };
        if php::loose_eq(answer, &json!("")) {
            continue;
        }
        if let Some(key) = comparison_key(input, answer) {
            out.push(UniqueKey {
                input_ref: input.input_ref.0.clone(),
                scope: scope.clone(),
                key: bounded(key),
            });
        }
    }
    out
}

/// Long keys are stored as their digest, so every key fits a database index entry.
fn bounded(key: String) -> String {
    use sha2::{Digest, Sha256};
    if key.len() <= 200 {
        return key;
    }
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn comparison_key(input: &Input, answer: &Value) -> Option<String> {
    let text = match answer {
        Value::String(_) | Value::Number(_) => strval_scalar_serialize_precision(answer)?,
        _ => return None,
    };
    let format = input.datetime_format;
    let shown = match input.kind {
        InputType::Date => date_parts(&text).map(|(y, m, d)| match format {
            Some(DatetimeFormat::MonthYear) => format!("{y}-{m}"),
            Some(DatetimeFormat::DayMonth) => format!("{m}-{d}"),
            _ => format!("{y}-{m}-{d}"),
        }),
        InputType::Time => time_parts(&text).map(|(h, m, s)| match format {
            Some(DatetimeFormat::HourMinute24 | DatetimeFormat::HourMinute12) => {
                format!("{h}:{m}")
            }
            Some(DatetimeFormat::MinuteSecond) => format!("{m}:{s}"),
            _ => format!("{h}:{m}:{s}"),
        }),
        _ => None,
    };
    Some(shown.unwrap_or_else(|| text.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_time_keys_use_the_shown_parts() {
        let mut input = crate::definition::Input {
            input_ref: "r".into(),
            kind: InputType::Date,
            question: String::new(),
            is_title: false,
            is_required: false,
            uniqueness: "form".into(),
            regex: None,
            default: Value::Null,
            verify: false,
            min: None,
            max: None,
            datetime_format: DatetimeFormat::parse("MM/YYYY"),
            set_to_current_datetime: false,
            possible_answers: vec![],
            jumps: vec![],
            branch: vec![],
            group: vec![],
        };
        let key = |i: &Input, s: &str| comparison_key(i, &json!(s)).unwrap();
        assert_eq!(key(&input, "2024-06-03T00:00:00.000"), "2024-06");
        input.datetime_format = DatetimeFormat::parse("dd/MM");
        assert_eq!(key(&input, "2024-06-03T00:00:00.000"), "06-03");
        input.kind = InputType::Time;
        input.datetime_format = DatetimeFormat::parse("mm:ss");
        assert_eq!(key(&input, "2024-06-03T14:48:05.000"), "48:05");
        input.datetime_format = DatetimeFormat::parse("hh:mm");
        assert_eq!(key(&input, "2024-06-03T14:48:05.000"), "14:48");
        input.kind = InputType::Text;
        assert_eq!(key(&input, "Oak RIDGE"), "oak ridge");
        assert_eq!(comparison_key(&input, &json!(37)).unwrap(), "37");
    }
}
