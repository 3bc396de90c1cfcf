//! One answer as each input type renders it: PHP's casts of integers and decimals, answer
//! labels, dates through `date()`, locations with their UTM values, media URLs.

use crate::export::keys::KeyMap;

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

use super::StoredEntry;
use super::plan::{Column, ExportPlan};
use crate::export::dates::PhpDate;
use crate::export::jsonw::{push_str, push_value};
use crate::export::row::{Read, RowAnswers, decode_raw, read_value};
use crate::export::scan::{Scan, Scanned, Start};
use crate::export::utm::{Utm, to_utm};
use crate::json::to_php_json;
use crate::php::{
    array_get, empty_str, floatval_str, foreach_values, intval_float, intval_str, is_numeric_str,
    push_urlencoded, strval_precision14, truthy,
};
use crate::time::UnixMillis;

/// The row's `entry_data` and `branch_counts`, read once.
pub(super) struct ParsedRow<'r> {
    read: RowAnswers<'r>,
    /// The row's `branch_counts` text, when the plan shows a count.
    counts: Option<&'r str>,
}

/// One stored answer (or `created_at`): text borrowed from the row, an array or object as its
/// text in the row, or a decoded value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Answer<'r> {
    Text(&'r str),
    Raw(&'r str),
    Value(&'r Value),
}

impl<'r> Answer<'r> {
    fn of(read: &'r Read<'r>) -> Answer<'r> {
        match read {
            Read::Text(s) => Answer::Text(s),
            Read::Raw(text) => Answer::Raw(text),
            Read::Value(v) => Answer::Value(v),
        }
    }

    /// The value when it is not text (text is never a container), decoded if need be.
    pub(super) fn non_text(self) -> Option<Cow<'r, Value>> {
        match self {
            Answer::Text(_) => None,
            Answer::Raw(text) => Some(Cow::Owned(decode_raw(text))),
            Answer::Value(v) => Some(Cow::Borrowed(v)),
        }
    }

    /// `foreach ($answer as $item)`: `each` is called with every item of a list or value of an
    /// object; a list's text is walked where it lies, without decoding it.
    pub(super) fn for_each_item(answer: Option<Answer<'_>>, mut each: impl FnMut(Answer<'_>)) {
        match answer {
            Some(Answer::Raw(text)) if text.starts_with('[') => {
                let mut scan = Scan::new(text);
                // The text was checked when the row was read: this walk cannot fail.
                let _ = scan.array(|scan| {
                    let item = read_value(scan)?;
                    each(Answer::of(&item));
                    Ok(())
                });
            }
            Some(other) => {
                if let Some(v) = other.non_text() {
                    foreach_values(Some(&v)).for_each(|item| each(Answer::Value(item)));
                }
            }
            None => {}
        }
    }
}

impl<'r> ParsedRow<'r> {
    pub(super) fn new(row: &StoredEntry<'r>, plan: &ExportPlan) -> ParsedRow<'r> {
        ParsedRow {
            read: RowAnswers::read(row.entry_data, plan.body_key, &plan.answer_slots),
            // Only branch counts are read from it: most plans have none.
            counts: row.branch_counts.filter(|_| plan.has_branch_counts),
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

    /// `branch_counts[$input_ref]`, `None` when absent, `null` or unreadable. An object (as
    /// every writer stores it) is walked in its text for that member; anything else is decoded.
    pub(super) fn branch_count(&self, input_ref: &str) -> Option<Value> {
        let text = self.counts?;
        let mut scan = Scan::new(text);
        let count = if scan.start().ok()? == Start::Object {
            let mut found = None;
            // A member written twice keeps its last value, as decoding does.
            let walked: Scanned<()> = scan.object(|scan, key| {
                if key == input_ref {
                    found = Some(read_value(scan)?.into_value());
                    Ok(())
                } else {
                    scan.skip()
                }
            });
            walked.and_then(|()| scan.end()).ok()?;
            found
        } else {
            let counts: Value = serde_json::from_str(text).ok()?;
            array_get(&counts, input_ref).cloned()
        };
        count.filter(|v| !v.is_null())
    }
}

/// Writes an answer as JSON.
pub(super) fn push_answer(out: &mut Vec<u8>, answer: Answer<'_>) {
    match answer {
        Answer::Text(s) => push_str(out, s),
        Answer::Raw(text) => push_value(out, &decode_raw(text)),
        Answer::Value(v) => push_value(out, v),
    }
}

/// `(string)$v` appended to `s`; arrays and objects (which make PHP fail the whole export) are
/// written as their JSON text.
pub(super) fn push_php_string(s: &mut String, v: Option<Answer<'_>>) {
    match v {
        None => {}
        Some(Answer::Text(text)) => s.push_str(text),
        Some(Answer::Raw(text)) => push_php_value(s, &decode_raw(text)),
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
        Answer::Raw(text) => return integer(Some(Answer::Value(&decode_raw(text)))),
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
        Answer::Raw(text) => return decimal(Some(Answer::Value(&decode_raw(text)))),
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
        // An array or object is no answer ref.
        Some(Answer::Raw(_)) => return "",
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
    let Some(loc) = location_members(answer) else {
        return empty;
    };
    let (Some(lat), Some(long)) = (loc.latitude, loc.longitude) else {
        return empty;
    };
    if truthy(&lat) && truthy(&long) {
        let (Some(lat_f), Some(long_f), Some(accuracy)) =
            (as_float(&lat), as_float(&long), loc.accuracy)
        else {
            return empty;
        };
        return Location {
            valid: true,
            latitude: Some(lat),
            longitude: Some(long),
            accuracy: Some(accuracy),
            utm: Some(to_utm(lat_f, long_f)),
        };
    }
    Location {
        valid: true,
        latitude: Some(lat),
        longitude: Some(long),
        accuracy: Some(loc.accuracy.unwrap_or(Value::String(String::new()))),
        utm: None,
    }
}

/// The three members of a location object that the export reads.
#[derive(Default)]
struct LocationMembers {
    latitude: Option<Value>,
    longitude: Option<Value>,
    accuracy: Option<Value>,
}

/// The members of a location answer that is an object (`None` otherwise). An object still in
/// its text is walked for the three members only (a member written twice keeps its last
/// value, as decoding does).
fn location_members(answer: Option<Answer<'_>>) -> Option<LocationMembers> {
    match answer? {
        Answer::Raw(text) => {
            let mut scan = Scan::new(text);
            if scan.start().ok()? != Start::Object {
                return None;
            }
            let mut members = LocationMembers::default();
            let walked: Scanned<()> = scan.object(|scan, key| {
                let place = match key.as_ref() {
                    "latitude" => &mut members.latitude,
                    "longitude" => &mut members.longitude,
                    "accuracy" => &mut members.accuracy,
                    _ => return scan.skip(),
                };
                *place = Some(read_value(scan)?.into_value());
                Ok(())
            });
            walked.ok().map(|()| members)
        }
        Answer::Value(Value::Object(loc)) => Some(LocationMembers {
            latitude: loc.get("latitude").cloned(),
            longitude: loc.get("longitude").cloned(),
            accuracy: loc.get("accuracy").cloned(),
        }),
        _ => None,
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
    /// `v` = the Unix time of `uploaded_at`), the bare file name on private ones. `url_head`
    /// is the column's URL up to the name ([`Kind::Media`](super::plan::Kind)).
    pub(super) fn media<'a>(
        &self,
        answer: Option<Answer<'a>>,
        url_head: &str,
        uploaded_at: UnixMillis,
    ) -> Media<'a> {
        let name = media_name(answer);
        if self.private || empty_str(&name) {
            return Media::Name(name);
        }
        let mut url = String::with_capacity(url_head.len() + name.len() + 16);
        url.push_str(url_head);
        push_urlencoded(&mut url, &name);
        url.push_str("&v=");
        let _ = write!(url, "{}", uploaded_at.div_euclid(1000));
        Media::Url(url)
    }
}

/// A media answer's file name as PHP reads it into a string (`""` for anything else).
fn media_name(answer: Option<Answer<'_>>) -> Cow<'_, str> {
    match answer {
        Some(Answer::Text(s)) => Cow::Borrowed(s),
        Some(Answer::Value(Value::String(s))) => Cow::Owned(s.clone()),
        Some(Answer::Value(v @ (Value::Number(_) | Value::Bool(_)))) => {
            Cow::Owned(strval_precision14(v).unwrap_or_default())
        }
        _ => Cow::Borrowed(""),
    }
}

/// What a media answer shows.
pub(super) enum Media<'a> {
    /// The file name as stored (private projects, and empty answers).
    Name(Cow<'a, str>),
    /// The URL of a public project's file: the media base, then only URL-encoded parts.
    Url(String),
}

impl Media<'_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Media::Name(name) => name,
            Media::Url(url) => url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(
        loc: Location,
    ) -> (
        bool,
        Option<Value>,
        Option<Value>,
        Option<Value>,
        Option<Utm>,
    ) {
        (
            loc.valid,
            loc.latitude,
            loc.longitude,
            loc.accuracy,
            loc.utm,
        )
    }

    fn items(answer: Answer<'_>, labels: &KeyMap<String>) -> Vec<String> {
        let mut out = Vec::new();
        Answer::for_each_item(Some(answer), |item| {
            out.push(label(labels, Some(item)).into())
        });
        out
    }

    #[test]
    fn branch_counts_read_as_the_decoded_object_gives_them() {
        for text in [
            r#"{"a": 3, "b": null}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"b": {"x": 1}, "a": "4"}"#,
            "[5, 6]",
            "[]",
            r#"{"a": 1} junk"#,
            r#"{"a": 1"#,
            "not json",
        ] {
            let row = ParsedRow {
                read: RowAnswers::default(),
                counts: Some(text),
            };
            for key in ["a", "b", "0", "1", "c"] {
                let decoded: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                let expected = array_get(&decoded, key).filter(|v| !v.is_null()).cloned();
                assert_eq!(row.branch_count(key), expected, "{text} {key}");
            }
        }
    }

    /// Lists and locations read from their text give what their decoded values give.
    #[test]
    fn raw_answers_read_as_their_decoded_values() {
        for text in [
            r#"{"accuracy": 7, "latitude": 51.498765, "longitude": -0.174877}"#,
            r#"{"latitude": 1, "latitude": 51.5, "longitude": "-0.1", "accuracy": 3}"#,
            r#"{"latitude": 0, "longitude": 0}"#,
            r#"{"latitude": "x", "longitude": 2, "accuracy": 1}"#,
            r#"{"longitude": 2}"#,
            r#"{"latitude": {"a": 1}, "longitude": [1], "accuracy": null}"#,
            "[51.5, -0.1]",
            "{}",
        ] {
            let decoded: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                seen(location(Some(Answer::Raw(text)))),
                seen(location(Some(Answer::Value(&decoded)))),
                "{text}"
            );
        }
        let labels: KeyMap<String> = [("a", "A"), ("bA", "BA"), ("3", "Three"), ("b", "B")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for text in [
            r#"["a", "b\u0041", 3, ["a"], {"k": "a"}, "zz", null]"#,
            r#"{"k": "a", "k": "b", "j": "3"}"#,
            "[]",
        ] {
            let decoded: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                items(Answer::Raw(text), &labels),
                items(Answer::Value(&decoded), &labels),
                "{text}"
            );
        }
    }
}
