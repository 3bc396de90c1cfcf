//! The bulk import (data-model.md §4.10): rows of a CSV file written against the bulk-upload
//! template turned into the upload payloads the app would send, and JSON lines read as upload
//! bodies. No IO: the caller reads the file, supplies fresh uuids and the clock, and sends the
//! payloads through the upload validation.
//!
//! The template of a form (or of one branch of it) is `ec5_uuid` (`ec5_branch_uuid`) followed
//! by the selected map's `map_to` of every bulk-uploadable input, groups flattened, locations as
//! `lat_X`, `long_X`, `accuracy_X`. A template column missing from a file is an empty answer; a
//! column that is neither in the template nor one the export writes is refused for the whole
//! file, before any row is read.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime, Timelike};
use serde_json::{Map, Value, json};

use crate::codes::Ec5Error;
use crate::definition::{DatetimeFormat, Definition, Input, InputType};
use crate::entry::datetime::parse_wall_time;
use crate::mappings::MappingList;
use crate::php::{array_get, foreach_pairs, strval_precision14, truthy};

/// The platform stored for imported entries.
pub const PLATFORM: &str = "CLI";

/// One bulk-uploadable input of the template.
#[derive(Debug, Clone)]
struct Column {
    input_ref: String,
    kind: InputType,
    map_to: String,
    /// Label (the map's possible-answer `map_to`) → answer ref.
    labels: HashMap<String, String>,
    /// The input's answer refs, also accepted as they are.
    refs: Vec<String>,
    datetime_format: Option<DatetimeFormat>,
}

/// The template of one form or one branch, under one map.
#[derive(Debug, Clone)]
pub struct Template {
    form_ref: String,
    /// The form before `form_ref` when it is a child form.
    parent_form_ref: Option<String>,
    branch_ref: Option<String>,
    columns: Vec<Column>,
    /// The export's column names of the inputs an import cannot fill (media, branch counts):
    /// accepted in a file and ignored, so an export file imports again.
    ignored: Vec<String>,
    /// Every answerable input (all but groups and readme), groups walked in place: the answers
    /// every payload carries.
    answerable: Vec<(String, InputType)>,
}

/// What one header of a file stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Uuid,
    Parent,
    Owner,
    Title,
    /// A column the export writes that an import has no use for (`created_at`, UTM values…).
    Ignored,
    Answer(usize),
    Lat(usize),
    Long(usize),
    Accuracy(usize),
}

/// A file's header row bound to a template.
#[derive(Debug, Clone)]
pub struct Binding {
    fields: Vec<Field>,
}

/// What a row needs besides its fields.
#[derive(Debug, Clone)]
pub struct RowContext<'a> {
    /// The uuid of a row whose uuid column is empty or missing.
    pub new_uuid: &'a str,
    /// `created_at` of the payload (ISO 8601, the app's shape).
    pub created_at: &'a str,
    pub project_version: &'a str,
    /// The parent entry of a child-form row (a row's `ec5_parent_uuid` wins).
    pub parent_uuid: Option<&'a str>,
    /// The owner entry of a branch row (a row's `ec5_branch_owner_uuid` wins).
    pub owner_uuid: Option<&'a str>,
}

impl Template {
    /// The template of `form_ref` (or of its branch input `branch_ref`) under map `map_index`
    /// (falling back to map 0 for a form the map does not cover, as the export does).
    pub fn new(
        def: &Definition,
        maps: &MappingList,
        map_index: usize,
        form_ref: &str,
        branch_ref: Option<&str>,
    ) -> Result<Template, String> {
        let index = def
            .form_index(form_ref)
            .ok_or_else(|| format!("the project has no form {form_ref}"))?;
        let form = &def.forms[index];
        let null = Value::Null;
        let form_map = maps
            .form_map(map_index, form_ref)
            .or_else(|| maps.form_map(0, form_ref))
            .unwrap_or(&null);
        let (inputs, selected): (&[Input], &Value) = match branch_ref {
            None => (&form.inputs, form_map),
            Some(branch_ref) => {
                let branch = form
                    .branches()
                    .find(|b| b.input_ref.as_str() == branch_ref)
                    .ok_or_else(|| format!("the form has no branch {branch_ref}"))?;
                let branch_map = array_get(form_map, branch_ref)
                    .and_then(|b| b.get("branch"))
                    .unwrap_or(&null);
                (&branch.branch, branch_map)
            }
        };
        let mut by_ref: HashMap<String, &Value> = HashMap::new();
        for (input_ref, input_map) in foreach_pairs(selected) {
            if let Some(group) = input_map.get("group") {
                for (child_ref, child_map) in foreach_pairs(group) {
                    by_ref.insert(child_ref, child_map);
                }
            }
            by_ref.insert(input_ref, input_map);
        }
        let flattened: Vec<&Input> = inputs
            .iter()
            .flat_map(|i| match i.kind {
                InputType::Group => i.group.iter().collect::<Vec<_>>(),
                _ => vec![i],
            })
            .collect();
        let answerable = flattened
            .iter()
            .filter(|i| !matches!(i.kind, InputType::Readme | InputType::Group))
            .map(|i| (i.input_ref.0.clone(), i.kind))
            .collect();
        let mut columns = Vec::new();
        let mut ignored = Vec::new();
        for input in flattened {
            let input_map = by_ref.get(input.input_ref.as_str()).copied();
            let map_to = input_map
                .and_then(|m| m.get("map_to"))
                .filter(|v| truthy(v))
                .and_then(strval_precision14)
                .unwrap_or_else(|| input.input_ref.0.clone());
            if !uploadable(input.kind) {
                ignored.push(map_to);
                continue;
            }
            let answer_maps = input_map.and_then(|m| m.get("possible_answers"));
            let labels = input
                .possible_answers
                .iter()
                .map(|p| {
                    let label = answer_maps
                        .and_then(|m| array_get(m, &p.answer_ref))
                        .and_then(|m| m.get("map_to"))
                        .and_then(strval_precision14)
                        .unwrap_or_else(|| p.answer.clone());
                    (label, p.answer_ref.clone())
                })
                .collect();
            columns.push(Column {
                input_ref: input.input_ref.0.clone(),
                kind: input.kind,
                map_to,
                labels,
                refs: input
                    .possible_answers
                    .iter()
                    .map(|p| p.answer_ref.clone())
                    .collect(),
                datetime_format: input.datetime_format,
            });
        }
        Ok(Template {
            form_ref: form_ref.to_string(),
            parent_form_ref: index
                .checked_sub(1)
                .map(|i| def.forms[i].form_ref.0.clone()),
            branch_ref: branch_ref.map(str::to_string),
            columns,
            ignored,
            answerable,
        })
    }

    /// The template's header row, as the real server's template download writes it.
    pub fn headers(&self) -> Vec<String> {
        let mut out = vec![self.uuid_header().to_string()];
        for col in &self.columns {
            if col.kind == InputType::Location {
                for prefix in ["lat_", "long_", "accuracy_"] {
                    out.push(format!("{prefix}{}", col.map_to));
                }
            } else {
                out.push(col.map_to.clone());
            }
        }
        out
    }

    fn uuid_header(&self) -> &'static str {
        if self.branch_ref.is_some() {
            "ec5_branch_uuid"
        } else {
            "ec5_uuid"
        }
    }

    /// Binds a file's header row; every unknown or repeated column is named in the error.
    pub fn bind<S: AsRef<str>>(&self, header: &[S]) -> Result<Binding, String> {
        let mut fields = Vec::with_capacity(header.len());
        let mut unknown = Vec::new();
        let mut repeated = Vec::new();
        for name in header {
            let name = name.as_ref();
            // A BOM before the first header, as spreadsheet programs write it.
            let name = name.strip_prefix('\u{feff}').unwrap_or(name).trim();
            let field = self.field(name);
            match field {
                None => unknown.push(name.to_string()),
                Some(Field::Ignored) => fields.push(Field::Ignored),
                Some(f) if fields.contains(&f) => repeated.push(name.to_string()),
                Some(f) => fields.push(f),
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "unknown column{} {}; the template's columns are: {}",
                if unknown.len() == 1 { "" } else { "s" },
                quoted(&unknown),
                self.headers().join(", ")
            ));
        }
        if !repeated.is_empty() {
            return Err(format!("repeated column(s) {}", quoted(&repeated)));
        }
        Ok(Binding { fields })
    }

    fn field(&self, name: &str) -> Option<Field> {
        for (i, col) in self.columns.iter().enumerate() {
            if col.kind == InputType::Location {
                let suffix = |p: &str| name.strip_prefix(p) == Some(col.map_to.as_str());
                if suffix("lat_") {
                    return Some(Field::Lat(i));
                }
                if suffix("long_") {
                    return Some(Field::Long(i));
                }
                if suffix("accuracy_") {
                    return Some(Field::Accuracy(i));
                }
                if ["UTM_Northing_", "UTM_Easting_", "UTM_Zone_"]
                    .iter()
                    .any(|p| suffix(p))
                {
                    return Some(Field::Ignored);
                }
            } else if col.map_to == name {
                return Some(Field::Answer(i));
            }
        }
        if self.ignored.iter().any(|n| n == name) {
            return Some(Field::Ignored);
        }
        let branch = self.branch_ref.is_some();
        Some(match name {
            "ec5_uuid" | "ec5_branch_uuid" => Field::Uuid,
            "ec5_parent_uuid" if !branch && self.parent_form_ref.is_some() => Field::Parent,
            "ec5_branch_owner_uuid" if branch => Field::Owner,
            "title" => Field::Title,
            "created_at" | "uploaded_at" | "created_by" => Field::Ignored,
            _ => return None,
        })
    }

    /// The upload payload (the `data` member) of one row, or every problem of its fields.
    pub fn payload<S: AsRef<str>>(
        &self,
        binding: &Binding,
        row: &[S],
        ctx: &RowContext<'_>,
    ) -> Result<Value, Vec<Ec5Error>> {
        let mut uuid = ctx.new_uuid.to_string();
        let mut parent = ctx.parent_uuid.unwrap_or_default().to_string();
        let mut owner = ctx.owner_uuid.unwrap_or_default().to_string();
        let mut title = String::new();
        let mut texts: Vec<Option<&str>> = vec![None; self.columns.len()];
        let mut locs: Vec<[&str; 3]> = vec![["", "", ""]; self.columns.len()];
        let mut errors = Vec::new();
        if row.len() != binding.fields.len() {
            errors.push(Ec5Error::new(
                &format!(
                    "The row has {} fields; the header has {}.",
                    row.len(),
                    binding.fields.len()
                ),
                "csv",
            ));
            return Err(errors);
        }
        for (field, value) in binding.fields.iter().zip(row) {
            let value = value.as_ref();
            match *field {
                Field::Uuid if !value.trim().is_empty() => uuid = value.trim().to_string(),
                Field::Parent if !value.trim().is_empty() => parent = value.trim().to_string(),
                Field::Owner if !value.trim().is_empty() => owner = value.trim().to_string(),
                Field::Title => title = value.to_string(),
                Field::Answer(i) => texts[i] = Some(value),
                Field::Lat(i) => locs[i][0] = value,
                Field::Long(i) => locs[i][1] = value,
                Field::Accuracy(i) => locs[i][2] = value,
                _ => {}
            }
        }
        let mut converted: HashMap<&str, Value> = HashMap::new();
        for (i, col) in self.columns.iter().enumerate() {
            let value = if col.kind == InputType::Location {
                Ok(location(locs[i]))
            } else {
                convert(col, texts[i].unwrap_or_default())
            };
            match value {
                Ok(v) => {
                    converted.insert(col.input_ref.as_str(), v);
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut answers = Map::new();
        for (input_ref, kind) in &self.answerable {
            let answer = converted
                .remove(input_ref.as_str())
                .unwrap_or_else(|| empty_answer(*kind));
            answers.insert(
                input_ref.clone(),
                json!({"answer": answer, "was_jumped": false}),
            );
        }
        let (kind, relationships) = match &self.branch_ref {
            Some(branch_ref) => {
                let mut data = Map::new();
                data.insert("owner_input_ref".into(), json!(branch_ref));
                if !owner.is_empty() {
                    data.insert("owner_entry_uuid".into(), json!(owner));
                }
                (
                    "branch_entry",
                    json!({"parent": {}, "branch": {"data": data}}),
                )
            }
            None => match &self.parent_form_ref {
                Some(parent_form_ref) if !parent.is_empty() => (
                    "entry",
                    json!({"parent": {"data": {"parent_form_ref": parent_form_ref, "parent_entry_uuid": parent}}, "branch": {}}),
                ),
                _ => ("entry", json!({"parent": {}, "branch": {}})),
            },
        };
        let body = json!({
            "entry_uuid": uuid,
            "created_at": ctx.created_at,
            "device_id": "",
            "platform": PLATFORM,
            "title": title,
            "answers": answers,
            "project_version": ctx.project_version,
        });
        let mut data = Map::new();
        data.insert("type".into(), json!(kind));
        data.insert("id".into(), json!(uuid));
        data.insert(
            "attributes".into(),
            json!({"form": {"ref": self.form_ref, "type": "hierarchy"}}),
        );
        data.insert("relationships".into(), relationships);
        data.insert(kind.into(), body);
        Ok(Value::Object(data))
    }
}

/// The types the bulk-upload template has a column for.
fn uploadable(kind: InputType) -> bool {
    use InputType::*;
    matches!(
        kind,
        Text | Phone
            | Textarea
            | Integer
            | Decimal
            | Date
            | Time
            | Radio
            | Checkbox
            | Dropdown
            | Barcode
            | Location
            | SearchSingle
            | SearchMultiple
    )
}

fn empty_answer(kind: InputType) -> Value {
    match kind {
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => json!([]),
        InputType::Location => json!({"latitude": "", "longitude": "", "accuracy": ""}),
        _ => json!(""),
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One field as the answer the app would send.
fn convert(col: &Column, text: &str) -> Result<Value, Ec5Error> {
    let bad = |code: &str| Ec5Error::new(code, col.map_to.clone());
    Ok(match col.kind {
        InputType::Radio | InputType::Dropdown => {
            if text.is_empty() {
                json!("")
            } else {
                json!(answer_ref(col, text).ok_or_else(|| unmatched(col, text))?)
            }
        }
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => {
            let mut refs = Vec::new();
            for item in split_multi(text) {
                refs.push(json!(
                    answer_ref(col, &item).ok_or_else(|| unmatched(col, &item))?
                ));
            }
            Value::Array(refs)
        }
        InputType::Date if !text.trim().is_empty() => json!(
            parse_date(text.trim(), col.datetime_format)
                .ok_or_else(|| bad("ec5_79"))?
                .format("%Y-%m-%dT00:00:00.000")
                .to_string()
        ),
        InputType::Time if !text.trim().is_empty() => {
            let (date, time) =
                parse_time(text.trim(), col.datetime_format).ok_or_else(|| bad("ec5_79"))?;
            json!(format!(
                "{}T{:02}:{:02}:{:02}.000",
                date.format("%Y-%m-%d"),
                time.hour(),
                time.minute(),
                time.second()
            ))
        }
        _ => json!(text),
    })
}

fn answer_ref<'c>(col: &'c Column, text: &str) -> Option<&'c str> {
    col.labels
        .get(text)
        .map(String::as_str)
        .or_else(|| col.refs.iter().find(|r| *r == text).map(String::as_str))
}

fn unmatched(col: &Column, label: &str) -> Ec5Error {
    let mut e = Ec5Error::new("ec5_25", col.map_to.clone());
    e.title = format!("{} (\"{label}\")", e.title);
    e
}

/// A checkbox or search cell as the export writes it: labels joined by `", "`, a label holding
/// a comma in double quotes.
pub fn split_multi(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            // The closing quote is one followed by the separator or the end.
            let end = quoted
                .match_indices('"')
                .map(|(i, _)| i)
                .find(|&i| quoted[i + 1..].is_empty() || quoted[i + 1..].starts_with(", "));
            if let Some(end) = end {
                items.push(quoted[..end].to_string());
                rest = quoted[end + 1..].strip_prefix(", ").unwrap_or("");
                continue;
            }
        }
        match rest.find(", ") {
            Some(i) => {
                items.push(rest[..i].to_string());
                rest = &rest[i + 2..];
            }
            None => {
                items.push(rest.to_string());
                rest = "";
            }
        }
    }
    items
}

/// A location's three cells: numbers where they read as numbers (what the app sends), the text
/// otherwise, for the upload validation to refuse; all empty is the blank location.
fn location(cells: [&str; 3]) -> Value {
    let cell = |s: &str| -> Value {
        let s = s.trim();
        if let Ok(n) = s.parse::<i64>() {
            return json!(n);
        }
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() => json!(f),
            _ => json!(s),
        }
    };
    json!({
        "latitude": cell(cells[0]),
        "longitude": cell(cells[1]),
        "accuracy": cell(cells[2]),
    })
}

/// A date as the export writes it for `format`, or ISO 8601. Formats without a year take
/// 1970, without a day the 1st.
fn parse_date(text: &str, format: Option<DatetimeFormat>) -> Option<NaiveDate> {
    if let Some(dt) = parse_wall_time(text) {
        return Some(dt.date());
    }
    let parts: Vec<u32> = text
        .split('/')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    let (y, m, d) = match (format, parts.as_slice()) {
        (Some(DatetimeFormat::DayMonthYear), [d, m, y]) => (*y, *m, *d),
        (Some(DatetimeFormat::MonthDayYear), [m, d, y]) => (*y, *m, *d),
        (Some(DatetimeFormat::YearMonthDay), [y, m, d]) => (*y, *m, *d),
        (Some(DatetimeFormat::MonthYear), [m, y]) => (*y, *m, 1),
        (Some(DatetimeFormat::DayMonth), [d, m]) => (1970, *m, *d),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// A time as the export writes it for `format` (24-hour; `AM`/`PM` also read), or an ISO 8601
/// date-time (whose date is kept). A bare time takes the date 1970-01-01.
fn parse_time(text: &str, format: Option<DatetimeFormat>) -> Option<(NaiveDate, NaiveTime)> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    if text.contains('-') {
        let dt = parse_wall_time(text)?;
        return Some((dt.date(), dt.time()));
    }
    let upper = text.to_ascii_uppercase();
    let (clock, pm) = match (upper.strip_suffix("PM"), upper.strip_suffix("AM")) {
        (Some(c), _) => (c.trim().to_string(), Some(true)),
        (_, Some(c)) => (c.trim().to_string(), Some(false)),
        _ => (upper.clone(), None),
    };
    let parts: Vec<u32> = clock
        .split(':')
        .map(|p| {
            (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let (mut h, m, s) = match (format, parts.as_slice()) {
        (Some(DatetimeFormat::MinuteSecond), [m, s]) => (0, *m, *s),
        (_, [h, m]) => (*h, *m, 0),
        (_, [h, m, s]) => (*h, *m, *s),
        _ => return None,
    };
    match pm {
        Some(true) if (1..12).contains(&h) => h += 12,
        Some(false) if h == 12 => h = 0,
        Some(_) if h == 0 || h > 12 => return None,
        _ => {}
    }
    Some((epoch, NaiveTime::from_hms_opt(h, m, s)?))
}

/// One line of a JSON lines file: an upload body (`{"data": …}`) or its bare `data` member.
/// `None` for a blank line.
pub fn json_line(line: &str) -> Option<Result<Value, Vec<Ec5Error>>> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    Some(match serde_json::from_str::<Value>(line) {
        Err(e) => Err(vec![Ec5Error::new(
            &format!("The line is not JSON: {e}."),
            "json",
        )]),
        Ok(Value::Object(mut body)) => match body.remove("data") {
            Some(data) => Ok(data),
            None if body.contains_key("type") => Ok(Value::Object(body)),
            None => Err(vec![Ec5Error::new("ec5_269", "validation")]),
        },
        Ok(_) => Err(vec![Ec5Error::new("ec5_269", "validation")]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_values_split_as_the_export_joins_them() {
        assert_eq!(split_multi("Oak, Ash"), ["Oak", "Ash"]);
        assert_eq!(
            split_multi("\"Oak, red\", Ash, \"x\""),
            ["Oak, red", "Ash", "x"]
        );
        assert!(split_multi("").is_empty());
        assert_eq!(split_multi("\"open"), ["\"open"]);
    }

    #[test]
    fn dates_and_times_read_in_export_and_iso_shapes() {
        let d = |t: &str, f: &str| parse_date(t, DatetimeFormat::parse(f)).map(|d| d.to_string());
        assert_eq!(d("03/06/2024", "dd/MM/YYYY").unwrap(), "2024-06-03");
        assert_eq!(d("06/03/2024", "MM/dd/YYYY").unwrap(), "2024-06-03");
        assert_eq!(d("2024-06-03", "dd/MM/YYYY").unwrap(), "2024-06-03");
        assert_eq!(d("06/2024", "MM/YYYY").unwrap(), "2024-06-01");
        assert!(d("31/02/2024", "dd/MM/YYYY").is_none());
        let t = |t: &str, f: &str| {
            parse_time(t, DatetimeFormat::parse(f)).map(|(d, t)| format!("{d}T{t}"))
        };
        assert_eq!(t("14:48:05", "HH:mm:ss").unwrap(), "1970-01-01T14:48:05");
        assert_eq!(t("02:48 PM", "hh:mm").unwrap(), "1970-01-01T14:48:00");
        assert_eq!(t("48:05", "mm:ss").unwrap(), "1970-01-01T00:48:05");
        assert_eq!(
            t("2024-06-03T09:15:00.000", "HH:mm").unwrap(),
            "2024-06-03T09:15:00"
        );
        assert!(t("25:00", "HH:mm").is_none());
    }

    #[test]
    fn json_lines_take_bodies_and_bare_data() {
        assert_eq!(
            json_line(r#"{"data":{"type":"entry"}}"#).unwrap().unwrap(),
            json!({"type":"entry"})
        );
        assert_eq!(
            json_line(r#"{"type":"entry"}"#).unwrap().unwrap(),
            json!({"type":"entry"})
        );
        assert!(json_line("  ").is_none());
        assert!(json_line("[1]").unwrap().is_err());
        assert!(json_line("{").unwrap().is_err());
    }
}
