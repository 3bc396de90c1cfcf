//! One answer as each input type renders it: PHP's casts of integers and decimals, answer
//! labels, dates through `date()`, locations with their UTM values, media URLs.

use crate::export::keys::KeyMap;

use serde_json::Value;

use super::StoredEntry;
use super::plan::{Column, ExportPlan};
use crate::export::dates::PhpDate;
use crate::export::jsonw::{push_str, push_value};
use crate::export::row::{Read, RowAnswers};
use crate::export::utm::{Utm, to_utm};
use crate::json::to_php_json;
use crate::php::{
    array_get, empty_str, floatval_str, intval_float, intval_str, is_numeric_str, push_urlencoded,
    strval_precision14, truthy,
};
use crate::time::UnixMillis;

/// The row's `entry_data` and `branch_counts`, read once.
pub(super) struct ParsedRow<'r> {
    read: RowAnswers<'r>,
    counts: Value,
}

/// One stored answer (or `created_at`): text borrowed from the row, or a decoded value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Answer<'r> {
    Text(&'r str),
    Value(&'r Value),
}

impl<'r> Answer<'r> {
    fn of(read: &'r Read<'r>) -> Answer<'r> {
        match read {
            Read::Text(s) => Answer::Text(s),
            Read::Value(v) => Answer::Value(v),
        }
    }

    /// The value when it is not text (text is never a container).
    pub(super) fn non_text(self) -> Option<&'r Value> {
        match self {
            Answer::Text(_) => None,
            Answer::Value(v) => Some(v),
        }
    }
}

impl<'r> ParsedRow<'r> {
    pub(super) fn new(row: &StoredEntry<'r>, plan: &ExportPlan) -> ParsedRow<'r> {
        ParsedRow {
            read: RowAnswers::read(
                row.entry_data,
                plan.body_key,
                &plan.answer_slots,
                plan.answer_slots.len(),
            ),
            // Only branch counts are read from it: most plans have none.
            counts: row
                .branch_counts
                .filter(|_| plan.has_branch_counts)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null),
        }
    }

    pub(super) fn created_at(&self) -> Option<Answer<'_>> {
        self.read.created_at.as_ref().map(Answer::of)
    }

    /// `$answers[$ref]['answer'] ?? ''`: `None` stands for the `''`.
    pub(super) fn answer(&self, col: &Column) -> Option<Answer<'_>> {
        self.read
            .answers
            .get(col.slot)
            .and_then(Option::as_ref)
            .map(Answer::of)
    }

    pub(super) fn branch_count(&self, input_ref: &str) -> Option<&Value> {
        array_get(&self.counts, input_ref).filter(|v| !v.is_null())
    }
}

/// Writes an answer as JSON.
pub(super) fn push_answer(out: &mut Vec<u8>, answer: Answer<'_>) {
    match answer {
        Answer::Text(s) => push_str(out, s),
        Answer::Value(v) => push_value(out, v),
    }
}

/// `(string)$v` appended to `s`; arrays and objects (which make PHP fail the whole export) are
/// written as their JSON text.
pub(super) fn push_php_string(s: &mut String, v: Option<Answer<'_>>) {
    match v {
        None => {}
        Some(Answer::Text(text)) => s.push_str(text),
        Some(Answer::Value(v)) => push_php_value(s, v),
    }
}

/// [`push_php_string`] of a decoded value.
pub(super) fn push_php_value(s: &mut String, v: &Value) {
    match strval_precision14(v) {
        Some(text) => s.push_str(&text),
        None => s.push_str(&String::from_utf8_lossy(&to_php_json(v, false))),
    }
}

/// `'' === $answer ? '' : (int)$answer`.
pub(super) fn integer(answer: Option<Answer<'_>>) -> Option<i64> {
    let v = match answer? {
        Answer::Text("") => return None,
        Answer::Text(s) => return Some(intval_str(s)),
        Answer::Value(v) => v,
    };
    Some(match v {
        Value::String(s) if s.is_empty() => return None,
        Value::String(s) => intval_str(s),
        Value::Number(n) => n
            .as_i64()
            .unwrap_or_else(|| intval_float(n.as_f64().unwrap_or(0.0))),
        Value::Bool(b) => i64::from(*b),
        v @ (Value::Array(_) | Value::Object(_)) => i64::from(truthy(v)),
        Value::Null => return None,
    })
}

/// `'' === $answer ? '' : floatval($answer)`; a value beyond the float range is written as
/// `""` (PHP cannot encode it).
pub(super) fn decimal(answer: Option<Answer<'_>>) -> Option<f64> {
    let v = match answer? {
        Answer::Text("") => return None,
        Answer::Text(s) => return Some(floatval_str(s)).filter(|f| f.is_finite()),
        Answer::Value(v) => v,
    };
    let f = match v {
        Value::String(s) if s.is_empty() => return None,
        Value::String(s) => floatval_str(s),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        v @ (Value::Array(_) | Value::Object(_)) => f64::from(u8::from(truthy(v))),
        Value::Null => return None,
    };
    f.is_finite().then_some(f)
}

/// A date or time answer through `date($format, strtotime($answer))`; `""` when the answer is
/// empty, unreadable, or the input's `datetime_format` is not one of the ten.
pub(super) fn date_time(answer: Option<Answer<'_>>, format: Option<&str>) -> String {
    let text = match answer {
        Some(Answer::Text(s)) => s,
        Some(Answer::Value(Value::String(s))) => s.as_str(),
        _ => return String::new(),
    };
    match format {
        Some(format) if !empty_str(text) => PhpDate::parse(text)
            .and_then(|d| d.format(format))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The label of a chosen answer ref, `""` when the map has none for it.
pub(super) fn label<'m>(labels: &'m KeyMap<String>, answer: Option<Answer<'_>>) -> &'m str {
    let answer = match answer {
        Some(Answer::Text(s)) => return labels.get(s).map_or("", String::as_str),
        Some(Answer::Value(v)) => Some(v),
        None => None,
    };
    let key = match answer {
        Some(Value::String(s)) => labels.get(s.as_str()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => {
            let key = match v {
                Value::Bool(b) => i64::from(*b).to_string(),
                Value::Number(n) => n
                    .as_i64()
                    .unwrap_or_else(|| intval_float(n.as_f64().unwrap_or(0.0)))
                    .to_string(),
                _ => String::new(),
            };
            labels.get(&key)
        }
        _ => None,
    };
    key.map_or("", String::as_str)
}

/// A location answer with its UTM values, as both formats write it.
pub(super) struct Location {
    /// False when the answer is missing or malformed: every value is `""`.
    pub(super) valid: bool,
    pub(super) latitude: Option<Value>,
    pub(super) longitude: Option<Value>,
    pub(super) accuracy: Option<Value>,
    pub(super) utm: Option<Utm>,
}

impl Location {
    pub(super) fn json_value(&self, v: &Option<Value>, out: &mut Vec<u8>) {
        match v {
            Some(v) if self.valid => push_value(out, v),
            _ => push_str(out, ""),
        }
    }
}

/// UTM is computed when latitude and longitude are both truthy; then both must read as
/// numbers and accuracy must be present, or the whole location is `""` (where the real server
/// throws and catches). Otherwise the three stored values are echoed with empty UTM values.
pub(super) fn location(answer: Option<Answer<'_>>) -> Location {
    let empty = Location {
        valid: false,
        latitude: None,
        longitude: None,
        accuracy: None,
        utm: None,
    };
    let Some(Value::Object(loc)) = answer.and_then(Answer::non_text) else {
        return empty;
    };
    let (Some(lat), Some(long)) = (loc.get("latitude"), loc.get("longitude")) else {
        return empty;
    };
    if truthy(lat) && truthy(long) {
        let (Some(lat_f), Some(long_f), Some(accuracy)) =
            (as_float(lat), as_float(long), loc.get("accuracy"))
        else {
            return empty;
        };
        return Location {
            valid: true,
            latitude: Some(lat.clone()),
            longitude: Some(long.clone()),
            accuracy: Some(accuracy.clone()),
            utm: Some(to_utm(lat_f, long_f)),
        };
    }
    Location {
        valid: true,
        latitude: Some(lat.clone()),
        longitude: Some(long.clone()),
        accuracy: Some(
            loc.get("accuracy")
                .cloned()
                .unwrap_or(Value::String(String::new())),
        ),
        utm: None,
    }
}

/// A value passed to a PHP `float` parameter: numbers, numeric strings, booleans.
pub(super) fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => is_numeric_str(s),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

impl ExportPlan {
    /// A media answer: a URL of the old `/api/media` route on public projects (form encoded,
    /// `v` = the Unix time of `uploaded_at`), the bare file name on private ones.
    pub(super) fn media(
        &self,
        answer: Option<Answer<'_>>,
        media_type: &str,
        format: &str,
        uploaded_at: UnixMillis,
    ) -> String {
        let name = match answer {
            Some(Answer::Text(s)) => s.to_owned(),
            Some(Answer::Value(Value::String(s))) => s.clone(),
            Some(Answer::Value(v @ (Value::Number(_) | Value::Bool(_)))) => {
                strval_precision14(v).unwrap_or_default()
            }
            _ => String::new(),
        };
        if self.private || empty_str(&name) {
            return name;
        }
        let mut url = String::with_capacity(self.media_base.len() + name.len() + 64);
        url.push_str(&self.media_base);
        url.push_str("type=");
        push_urlencoded(&mut url, media_type);
        url.push_str("&format=");
        push_urlencoded(&mut url, format);
        url.push_str("&name=");
        push_urlencoded(&mut url, &name);
        url.push_str("&v=");
        url.push_str(&uploaded_at.div_euclid(1000).to_string());
        url
    }
}
