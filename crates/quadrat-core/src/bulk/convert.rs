//! One row of a bulk-upload file as the upload payload the app would send: answers converted
//! from their exported text (labels to answer refs, dates and times in the input's format),
//! every answerable input present.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use serde_json::{Map, Value, json};

use super::PLATFORM;
use super::template::{Binding, Column, Field, Template};
use crate::codes::Ec5Error;
use crate::definition::{DatetimeFormat, InputType};
use crate::entry::datetime::parse_wall_time;
use crate::json::object;

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

/// A row's fields by what they stand for: its ids and title, and each column's text.
struct RowFields<'r> {
    uuid: String,
    parent: String,
    owner: String,
    title: String,
    /// Each column's answer text (`None`: no field of the row gives it).
    texts: Vec<Option<&'r str>>,
    /// Each location column's latitude, longitude and accuracy texts.
    locs: Vec<[&'r str; 3]>,
}

/// Column `i`'s answer: a location from its three fields, any other input from its text.
fn column_answer(
    col: &Column,
    texts: &[Option<&str>],
    locs: &[[&str; 3]],
    i: usize,
) -> Result<Value, Ec5Error> {
    if col.kind == InputType::Location {
        Ok(location(locs[i]))
    } else {
        convert(col, texts[i].unwrap_or_default())
    }
}

impl Template {
    /// The fields of `row` as `binding` places them, or the error of a row whose field count is
    /// not the header's.
    fn read_row<'r, S: AsRef<str>>(
        &self,
        binding: &Binding,
        row: &'r [S],
        ctx: &RowContext<'_>,
    ) -> Result<RowFields<'r>, Vec<Ec5Error>> {
        if row.len() != binding.fields.len() {
            return Err(vec![Ec5Error::new(
                &format!(
                    "The row has {} fields; the header has {}.",
                    row.len(),
                    binding.fields.len()
                ),
                "csv",
            )]);
        }
        let mut f = RowFields {
            uuid: ctx.new_uuid.to_string(),
            parent: ctx.parent_uuid.unwrap_or_default().to_string(),
            owner: ctx.owner_uuid.unwrap_or_default().to_string(),
            title: String::new(),
            texts: vec![None; self.columns.len()],
            locs: vec![["", "", ""]; self.columns.len()],
        };
        for (field, value) in binding.fields.iter().zip(row) {
            let value = value.as_ref();
            match *field {
                Field::Uuid if !value.trim().is_empty() => f.uuid = value.trim().to_string(),
                Field::Parent if !value.trim().is_empty() => f.parent = value.trim().to_string(),
                Field::Owner if !value.trim().is_empty() => f.owner = value.trim().to_string(),
                Field::Title => f.title = value.to_string(),
                Field::Answer(i) => f.texts[i] = Some(value),
                Field::Lat(i) => f.locs[i][0] = value,
                Field::Long(i) => f.locs[i][1] = value,
                Field::Accuracy(i) => f.locs[i][2] = value,
                _ => {}
            }
        }
        Ok(f)
    }

    /// The upload payload (the `data` member) of one row, or every problem of its fields.
    pub fn payload<S: AsRef<str>>(
        &self,
        binding: &Binding,
        row: &[S],
        ctx: &RowContext<'_>,
    ) -> Result<Value, Vec<Ec5Error>> {
        let RowFields {
            uuid,
            parent,
            owner,
            title,
            texts,
            locs,
        } = self.read_row(binding, row, ctx)?;
        let mut errors = Vec::new();
        // Each column's answer, moved into the payload below (nothing is copied through
        // `json!`, which serialises every interpolated value again).
        let mut converted: Vec<Option<Value>> = Vec::with_capacity(self.columns.len());
        for (i, col) in self.columns.iter().enumerate() {
            match column_answer(col, &texts, &locs, i) {
                Ok(v) => converted.push(Some(v)),
                Err(e) => {
                    errors.push(e);
                    converted.push(None);
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut answers = Map::with_capacity(self.answerable.len());
        for ((input_ref, kind), column) in self.answerable.iter().zip(&self.answer_columns) {
            let answer = column
                .and_then(|c| converted[c].take())
                .unwrap_or_else(|| empty_answer(*kind));
            answers.insert(
                input_ref.clone(),
                object([("answer", answer), ("was_jumped", Value::Bool(false))]),
            );
        }
        let text = |s: &str| Value::String(s.to_string());
        let empty = || Value::Object(Map::new());
        let (kind, relationships) = match &self.branch_ref {
            Some(branch_ref) => {
                let mut data = Map::new();
                data.insert("owner_input_ref".into(), text(branch_ref));
                if !owner.is_empty() {
                    data.insert("owner_entry_uuid".into(), Value::String(owner));
                }
                (
                    "branch_entry",
                    object([
                        ("parent", empty()),
                        ("branch", object([("data", Value::Object(data))])),
                    ]),
                )
            }
            None => match &self.parent_form_ref {
                Some(parent_form_ref) if !parent.is_empty() => (
                    "entry",
                    object([
                        (
                            "parent",
                            object([(
                                "data",
                                object([
                                    ("parent_form_ref", text(parent_form_ref)),
                                    ("parent_entry_uuid", Value::String(parent)),
                                ]),
                            )]),
                        ),
                        ("branch", empty()),
                    ]),
                ),
                _ => ("entry", object([("parent", empty()), ("branch", empty())])),
            },
        };
        let body = object([
            ("entry_uuid", text(&uuid)),
            ("created_at", text(ctx.created_at)),
            ("device_id", text("")),
            ("platform", text(PLATFORM)),
            ("title", Value::String(title)),
            ("answers", Value::Object(answers)),
            ("project_version", text(ctx.project_version)),
        ]);
        Ok(object([
            ("type", text(kind)),
            ("id", Value::String(uuid)),
            (
                "attributes",
                object([(
                    "form",
                    object([("ref", text(&self.form_ref)), ("type", text("hierarchy"))]),
                )]),
            ),
            ("relationships", relationships),
            (kind, body),
        ]))
    }
}

pub(super) fn empty_answer(kind: InputType) -> Value {
    match kind {
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => json!([]),
        InputType::Location => json!({"latitude": "", "longitude": "", "accuracy": ""}),
        _ => json!(""),
    }
}

/// One field as the answer the app would send.
pub(super) fn convert(col: &Column, text: &str) -> Result<Value, Ec5Error> {
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
        InputType::Date if !text.trim().is_empty() => {
            let date = parse_date(text.trim(), col.datetime_format).ok_or_else(|| bad("ec5_79"))?;
            Value::String(format!("{}T00:00:00.000", iso_day(date)))
        }
        InputType::Time if !text.trim().is_empty() => {
            let (date, time) =
                parse_time(text.trim(), col.datetime_format).ok_or_else(|| bad("ec5_79"))?;
            json!(format!(
                "{}T{:02}:{:02}:{:02}.000",
                iso_day(date),
                time.hour(),
                time.minute(),
                time.second()
            ))
        }
        _ => json!(text),
    })
}

/// `date` as chrono's `%Y-%m-%d` writes it, without parsing that format for every cell.
fn iso_day(date: NaiveDate) -> String {
    let year = date.year();
    if (0..=9999).contains(&year) {
        format!("{year:04}-{:02}-{:02}", date.month(), date.day())
    } else {
        // A sign and more digits: chrono's own rules.
        date.format("%Y-%m-%d").to_string()
    }
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
pub(super) fn location(cells: [&str; 3]) -> Value {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::definition::Definition;
    use crate::definition::mapping::regenerate;
    use crate::mappings::MappingList;

    /// [`Template::payload`] as it was written with `json!` and a map of converted answers:
    /// the reference the payload built by moving its parts must equal, member order included.
    fn payload_via_json(
        t: &Template,
        binding: &Binding,
        row: &[String],
        ctx: &RowContext<'_>,
    ) -> Result<Value, Vec<Ec5Error>> {
        let RowFields {
            uuid,
            parent,
            owner,
            title,
            texts,
            locs,
        } = t.read_row(binding, row, ctx)?;
        let mut errors = Vec::new();
        let mut converted: HashMap<&str, Value> = HashMap::new();
        for (i, col) in t.columns.iter().enumerate() {
            match column_answer(col, &texts, &locs, i) {
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
        for (input_ref, kind) in &t.answerable {
            let answer = converted
                .remove(input_ref.as_str())
                .unwrap_or_else(|| empty_answer(*kind));
            answers.insert(
                input_ref.clone(),
                json!({"answer": answer, "was_jumped": false}),
            );
        }
        let (kind, relationships) = match &t.branch_ref {
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
            None => match &t.parent_form_ref {
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
            json!({"form": {"ref": t.form_ref, "type": "hierarchy"}}),
        );
        data.insert("relationships".into(), relationships);
        data.insert(kind.into(), body);
        Ok(Value::Object(data))
    }

    /// The templates of the fixture: every form, and every branch of each.
    fn templates() -> Vec<Template> {
        let file: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/tree-survey-2024.json"))
                .unwrap();
        let data = file.get("data").unwrap_or(&file);
        let def = Definition::from_data(data).unwrap();
        let maps = MappingList::from_stored(&regenerate(data, None));
        let mut out = Vec::new();
        for form in &def.forms {
            let form_ref = form.form_ref.as_str();
            out.push(Template::new(&def, &maps, 0, form_ref, None).unwrap());
            for branch in form.branches() {
                let branch_ref = Some(branch.input_ref.as_str());
                out.push(Template::new(&def, &maps, 0, form_ref, branch_ref).unwrap());
            }
        }
        out
    }

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,12}",
            Just(String::new()),
            Just("Oak, Birch".to_string()),
            Just("Yes".to_string()),
            Just("03/06/2024".to_string()),
            Just("51.498765".to_string()),
            Just("5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90".to_string()),
        ]
    }

    proptest! {
        #[test]
        fn days_are_written_as_chrono_writes_them(days in -1_000_000i32..4_000_000) {
            let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            prop_assert_eq!(iso_day(date), date.format("%Y-%m-%d").to_string());
        }

        #[test]
        fn payloads_are_the_json_they_were(
            which in 0usize..8,
            cells in prop::collection::vec(cell(), 40),
            parent in prop::option::of("[a-f0-9-]{0,36}"),
        ) {
            let all = templates();
            let t = &all[which % all.len()];
            let header = t.headers();
            let binding = t.bind(&header).unwrap();
            let row = &cells[..header.len().min(cells.len())];
            let ctx = RowContext {
                new_uuid: "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                created_at: "2024-06-03T09:15:27.000Z",
                project_version: "2024-06-01 10:20:33",
                parent_uuid: parent.as_deref(),
                owner_uuid: parent.as_deref(),
            };
            let new = t.payload(&binding, row, &ctx).map(|v| v.to_string());
            let old = payload_via_json(t, &binding, row, &ctx).map(|v| v.to_string());
            prop_assert_eq!(new, old);
        }
    }

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
}
