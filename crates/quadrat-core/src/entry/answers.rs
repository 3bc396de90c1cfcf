//! The answers of an entry or branch entry (data-model.md §4.5, §4.6): presence, the answer
//! object, then per answer `required` → uniqueness → the type's rules, first failure wins.
//! Jumped answers skip validation and are stored as `""`. Uniqueness needs the database, so it
//! comes in as the set of input refs whose answer is already taken ([`unique_keys`] says what
//! to look up).

use std::collections::HashSet;

use serde_json::{Map, Number, Value, json};

use super::pcre::{Pattern, PatternCache};
use crate::codes::Ec5Error;
use crate::definition::{DatetimeFormat, Input, InputType};
use crate::php::{self, laravel, strval_scalar_serialize_precision};

/// The inputs an entry must answer, in validation order: every input except groups and readmes,
/// with each group's children (readmes excepted) in its place. A form's branch inputs are
/// included (their answer is a placeholder), never the branch's children.
pub fn answerable_inputs(inputs: &[Input]) -> Vec<&Input> {
    let mut out = Vec::new();
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
/// case-insensitively; dates and times by the parts their format shows (decision 11).
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

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY`, `MM`, `DD` of an answer starting `YYYY-MM-DD`.
fn date_parts(s: &str) -> Option<(&str, &str, &str)> {
    let (y, m, d) = (s.get(0..4)?, s.get(5..7)?, s.get(8..10)?);
    (digits(y) && digits(m) && digits(d) && s.get(4..5)? == "-" && s.get(7..8)? == "-")
        .then_some((y, m, d))
}

/// `HH`, `MM`, `SS` of the time after the `T`.
fn time_parts(s: &str) -> Option<(&str, &str, &str)> {
    let t = s.split_once('T')?.1;
    let (h, m, sec) = (t.get(0..2)?, t.get(3..5)?, t.get(6..8)?);
    (digits(h) && digits(m) && digits(sec) && t.get(2..3)? == ":" && t.get(5..6)? == ":")
        .then_some((h, m, sec))
}

/// A located answer, rounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub input_ref: String,
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy: Value,
}

/// The answers as they are stored, in validation order, and what the geojson needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidatedAnswers {
    /// `(input_ref, {"answer", "was_jumped"})`.
    pub answers: Vec<(String, Value)>,
    pub locations: Vec<Location>,
    /// Every chosen answer ref that exists in its input, first choice first.
    pub possible_answers: Vec<String>,
}

impl ValidatedAnswers {
    pub fn answer(&self, input_ref: &str) -> Option<&Value> {
        self.answers
            .iter()
            .find(|(r, _)| r == input_ref)
            .and_then(|(_, v)| v.get("answer"))
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
    let mut out = ValidatedAnswers::default();
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
        out.answers.push((
            input_ref.to_string(),
            json!({"answer": stored, "was_jumped": was_jumped}),
        ));
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

/// The per-type rules of §4.6; returns the value to store.
fn check_type(
    input: &Input,
    answer: &Value,
    patterns: &mut PatternCache,
    out: &mut ValidatedAnswers,
) -> Result<Value, Ec5Error> {
    let r = input.input_ref.as_str();
    let err = |code: &str| Ec5Error::new(code, r);
    // Laravel skips every rule but the length limits for a blank string.
    let blank = laravel::is_blank_string(answer);
    match input.kind {
        InputType::Text | InputType::Textarea | InputType::Phone => {
            if is_container(answer) {
                return Err(crash());
            }
            let limit = if input.kind == InputType::Textarea {
                1000
            } else {
                255
            };
            if !blank {
                let pattern = input.regex.as_deref().map(|p| patterns.get(r, p).clone());
                // PCRE only sees strings and numbers; a broken pattern fails before anything.
                let text = match answer {
                    Value::String(_) | Value::Number(_) => {
                        strval_scalar_serialize_precision(answer)
                    }
                    _ => None,
                };
                if matches!(pattern, Some(Pattern::Broken)) && text.is_some() {
                    return Err(err("ec5_392"));
                }
                if input.kind == InputType::Text && !answer.is_string() {
                    return Err(err("ec5_29"));
                }
                if let Some(pattern) = pattern {
                    let matched = text.as_deref().map(|t| pattern.is_match(t));
                    if matches!(matched, None | Some(Some(false))) {
                        return Err(err("ec5_29"));
                    }
                }
            }
            if laravel::size(answer) > limit {
                return Err(err("ec5_214"));
            }
            Ok(answer.clone())
        }
        InputType::Integer | InputType::Decimal => {
            if blank {
                return Ok(answer.clone());
            }
            if is_container(answer) {
                return Err(err("ec5_27"));
            }
            let regex = input.regex.as_deref().map(|p| patterns.get(r, p).clone());
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
        InputType::Date | InputType::Time => {
            if is_container(answer) {
                return Err(crash());
            }
            if answer.as_str() == Some("") {
                return Ok(answer.clone());
            }
            let Some(text) = answer.as_str() else {
                return Err(err("ec5_79"));
            };
            let valid = if input.kind == InputType::Date {
                is_iso_answer(text) && date_parts_valid(text)
            } else {
                is_iso_answer(text) && time_part_valid(text)
            };
            if !valid {
                return Err(err("ec5_79"));
            }
            if text.chars().count() > 25 {
                return Err(err("ec5_214"));
            }
            Ok(answer.clone())
        }
        InputType::Radio | InputType::Dropdown => {
            if is_container(answer) {
                return Err(crash());
            }
            match answer {
                Value::String(s) if s.is_empty() => Ok(answer.clone()),
                Value::String(s) => {
                    if input.answer_label(s).is_none() {
                        return Err(err("ec5_29"));
                    }
                    if s.chars().count() > 13 {
                        return Err(err("ec5_214"));
                    }
                    out.add_possible(s);
                    Ok(answer.clone())
                }
                other if php::empty(other) => Err(err("ec5_29")),
                _ => Err(err("ec5_25")),
            }
        }
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => {
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
        InputType::Location => check_location(input, answer, out),
        InputType::Photo | InputType::Audio | InputType::Video => {
            if is_container(answer) {
                return Err(crash());
            }
            if answer.as_str() == Some("") {
                return Ok(answer.clone());
            }
            let (extensions, limit): (&[&str], usize) = match input.kind {
                InputType::Photo => (&["jpg", "jpeg", "png"], 52),
                InputType::Audio => (&["mp4", "wav"], 51),
                _ => (&["mp4"], 51),
            };
            let ok = answer
                .as_str()
                .is_some_and(|s| has_extension(s, extensions));
            if !ok {
                return Err(err("ec5_81"));
            }
            if laravel::size(answer) > limit {
                return Err(err("ec5_214"));
            }
            Ok(answer.clone())
        }
        // Barcodes and branch placeholders are stored as sent.
        InputType::Barcode | InputType::Branch | InputType::Group | InputType::Readme => {
            Ok(answer.clone())
        }
    }
}

/// `^-?[0-9]+$`, with PCRE's `$` (a final newline allowed).
fn is_integer_text(text: &str) -> bool {
    let t = text.strip_suffix('\n').unwrap_or(text);
    let digits = t.strip_prefix('-').unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `^.*\.(ext…)$` case-insensitively: no newline before the extension (PCRE `.`), an optional
/// final newline after it (PCRE `$`).
fn has_extension(name: &str, extensions: &[&str]) -> bool {
    let name = name.strip_suffix('\n').unwrap_or(name);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.contains('\n') && extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
}

/// Contains `YYYY-MM-DDTHH:MM:SS.mmm` and reads as a date as a whole.
fn is_iso_answer(text: &str) -> bool {
    let b = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd.ddd";
    let found = b.windows(shape.len()).any(|w| {
        w.iter().zip(shape.iter()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            b'.' => *c != b'\n',
            other => c == other,
        })
    });
    found && super::datetime::parse_wall_time(text).is_some()
}

/// The part before `T` is exactly a real `Y-m-d` date.
fn date_parts_valid(text: &str) -> bool {
    let day = text.split('T').next().unwrap_or_default();
    day.len() == 10
        && date_parts(day).is_some()
        && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok()
}

/// The part between `T` and `.` is exactly a real `H:i:s` time.
fn time_part_valid(text: &str) -> bool {
    let Some(after) = text.split('T').nth(1) else {
        return false;
    };
    let clock = after.split('.').next().unwrap_or_default();
    clock.len() == 8
        && time_parts(&format!("T{clock}")).is_some()
        && chrono::NaiveTime::parse_from_str(clock, "%H:%M:%S").is_ok()
}

fn check_location(
    input: &Input,
    answer: &Value,
    out: &mut ValidatedAnswers,
) -> Result<Value, Ec5Error> {
    let r = input.input_ref.as_str();
    let invalid = || Ec5Error::new("ec5_30", r);
    let map = match answer {
        Value::Object(map) => map,
        Value::Array(_) => return Err(invalid()),
        _ => return Err(Ec5Error::new("ec5_76", r)),
    };
    let keys = ["latitude", "longitude", "accuracy"];
    if map.len() != 3 || !keys.iter().all(|k| map.contains_key(*k)) {
        return Err(invalid());
    }
    let (lat, long, acc) = (&map["latitude"], &map["longitude"], &map["accuracy"]);
    let blank = |v: &Value| v.as_str() == Some("");
    if blank(lat) && blank(long) && blank(acc) {
        return Ok(answer.clone());
    }
    let number = |v: &Value| match v {
        Value::Null | Value::Bool(_) => None,
        other => php::is_numeric(other),
    };
    let (Some(lat), Some(long), Some(acc)) = (number(lat), number(long), number(acc)) else {
        return Err(invalid());
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&long) || acc < 0.0 {
        return Err(invalid());
    }
    let (latitude, longitude) = (round_half_away(lat, 6), round_half_away(long, 6));
    let accuracy = integral_number(round_half_away(acc, 0));
    out.locations.push(Location {
        input_ref: r.to_string(),
        latitude,
        longitude,
        accuracy: accuracy.clone(),
    });
    Ok(json!({"accuracy": accuracy, "latitude": float(latitude), "longitude": float(longitude)}))
}

/// A finite float as a JSON number.
pub(crate) fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// An integral value as a JSON integer when it fits, as the stored example shows it.
fn integral_number(f: f64) -> Value {
    if f.abs() < 9.0e15 {
        json!(f as i64)
    } else {
        float(f)
    }
}

/// Decimal rounding, half away from zero, of the number as it is written (its shortest
/// representation): `51.4987654321` → `51.498765`, `0.285` → `0.29`, as PHP's `round` does.
pub fn round_half_away(value: f64, places: usize) -> f64 {
    if !value.is_finite() {
        return value;
    }
    let text = format!("{}", value.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    if frac_part.len() <= places {
        return value;
    }
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes().take(places))
        .map(|b| b - b'0')
        .collect();
    if frac_part.as_bytes()[places] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - places;
    let as_text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let rounded = format!("{}.{}", &as_text[..split], &as_text[split..]);
    let magnitude: f64 = rounded.trim_end_matches('.').parse().unwrap_or(value.abs());
    magnitude.copysign(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_php() {
        assert_eq!(round_half_away(51.4987654321, 6), 51.498765);
        assert_eq!(round_half_away(-0.1748765432, 6), -0.174877);
        assert_eq!(round_half_away(6.5, 0), 7.0);
        assert_eq!(round_half_away(-6.5, 0), -7.0);
        assert_eq!(round_half_away(0.285, 2), 0.29);
        assert_eq!(round_half_away(9.9999999, 6), 10.0);
        assert_eq!(round_half_away(3.0, 6), 3.0);
    }

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
