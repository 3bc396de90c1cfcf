//! Stored entries as the export writes them (export-api.md §1.5, §1.6, §2.3, §2.4): one mapped
//! JSON object or one CSV row per entry.
//!
//! [`ExportPlan`] resolves, once per request, everything that does not depend on the row: the
//! selected map (with the fallback to map 0 and the group merge), the inputs in output order
//! with their column names, answer labels and date formats, the JSON key layout and the CSV
//! header. Each row then costs one parse of its `entry_data` and writes into the caller's buffer.

use std::collections::HashMap;

use serde_json::Value;

use super::csv::CsvWriter;
use super::dates::{PhpDate, php_format_of};
use super::jsonw::{key_bytes, push_f64, push_i64, push_str, push_value};
use super::links::{Links, Meta};
use super::params::EntriesQuery;
use super::row::RowAnswers;
use super::utm::to_utm;
use crate::definition::{Definition, Input, InputType};
use crate::json::to_php_json;
use crate::mappings::MappingList;
use crate::php::{
    array_get, empty_str, floatval_str, foreach_pairs, intval_float, intval_str, is_numeric_str,
    push_urlencoded, strval_float_precision14, strval_precision14, truthy,
};
use crate::time::{UnixMillis, iso_zero_millis};

/// What the plan needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions<'a> {
    pub form_ref: &'a str,
    /// `Some` in branch mode: the branch input of `form_ref`.
    pub branch_ref: Option<&'a str>,
    /// An index of the project's mapping list.
    pub map_index: usize,
    /// Private projects add `created_by` and give media as bare file names.
    pub private: bool,
    /// The stored project slug, for media URLs.
    pub slug: &'a str,
    /// `scheme://host[:port]` of the request, for media URLs.
    pub origin: &'a str,
}

/// One stored row, as the store reads it.
#[derive(Debug, Clone, Copy)]
pub struct StoredEntry<'a> {
    pub uuid: &'a str,
    /// Form mode: the parent entry's uuid (`""` for none).
    pub parent_uuid: &'a str,
    /// Branch mode: the owner entry's uuid.
    pub owner_uuid: &'a str,
    /// The `uploaded_at` column.
    pub uploaded_at: UnixMillis,
    pub title: &'a str,
    /// Private projects: the uploader's email; `None` (anonymous upload, user gone or
    /// archived) writes `"n/a"`.
    pub created_by: Option<&'a str>,
    /// The `entry_data` JSON text (data-model.md §3.3).
    pub entry_data: &'a str,
    /// The `branch_counts` JSON text of a hierarchy entry.
    pub branch_counts: Option<&'a str>,
}

/// How one mapped input turns into a value.
#[derive(Debug, Clone)]
enum Kind {
    /// Text, textarea, phone, barcode and anything else: the stored value as is.
    Plain,
    Integer,
    Decimal,
    /// Date and time: the PHP `date()` format, `None` for an unknown `datetime_format`.
    DateTime(Option<&'static str>),
    /// Radio and dropdown: answer ref → label.
    Single(HashMap<String, String>),
    /// Checkbox and the search types: answer refs → labels.
    Multi(HashMap<String, String>),
    Location,
    Media {
        media_type: &'static str,
        format: &'static str,
    },
    /// A branch input in form mode: how many branch entries the entry owns.
    BranchCount,
}

#[derive(Debug, Clone)]
struct Column {
    input_ref: String,
    map_to: String,
    kind: Kind,
    /// Where [`RowAnswers`] puts this input's answer.
    slot: usize,
}

#[derive(Debug, Clone, Copy)]
enum Fixed {
    Uuid,
    ParentUuid,
    OwnerUuid,
    CreatedAt,
    UploadedAt,
    CreatedBy,
    Title,
}

#[derive(Debug, Clone, Copy)]
enum Source {
    Fixed(Fixed),
    Column(usize),
}

/// One key of a JSON entry, encoded once.
#[derive(Debug, Clone)]
struct Slot {
    name: String,
    key: Vec<u8>,
    source: Source,
}

/// Everything about a request's output that does not depend on the row.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    fixed: Vec<(&'static str, Fixed)>,
    columns: Vec<Column>,
    slots: Vec<Slot>,
    header: Vec<String>,
    /// `"entry"` or `"branch_entry"`: where `entry_data` keeps the answers.
    body_key: &'static str,
    /// Input ref → answer slot.
    answer_slots: HashMap<String, usize>,
    private: bool,
    /// `{origin}/api/media/{slug}?`
    media_base: String,
    map_name: String,
    map_index: usize,
}

impl ExportPlan {
    pub fn new(def: &Definition, maps: &MappingList, opts: &PlanOptions<'_>) -> ExportPlan {
        let first_form = def
            .forms
            .first()
            .is_some_and(|f| f.form_ref.as_str() == opts.form_ref);
        let mut fixed: Vec<(&'static str, Fixed)> = match opts.branch_ref {
            Some(_) => vec![
                ("ec5_branch_owner_uuid", Fixed::OwnerUuid),
                ("ec5_branch_uuid", Fixed::Uuid),
            ],
            None if first_form => vec![("ec5_uuid", Fixed::Uuid)],
            None => vec![
                ("ec5_uuid", Fixed::Uuid),
                ("ec5_parent_uuid", Fixed::ParentUuid),
            ],
        };
        fixed.push(("created_at", Fixed::CreatedAt));
        fixed.push(("uploaded_at", Fixed::UploadedAt));
        if opts.private {
            fixed.push(("created_by", Fixed::CreatedBy));
        }
        fixed.push(("title", Fixed::Title));

        let mut columns = plan_columns(def, maps, opts);
        let mut answer_slots: HashMap<String, usize> = HashMap::new();
        for col in &mut columns {
            let next = answer_slots.len();
            col.slot = *answer_slots.entry(col.input_ref.clone()).or_insert(next);
        }

        // PHP builds the entry as an array: a key written twice keeps its first position and
        // its last value, so an input mapped to `title` overwrites the title in place.
        let mut slots: Vec<Slot> = fixed
            .iter()
            .map(|(name, f)| Slot {
                name: name.to_string(),
                key: key_bytes(name),
                source: Source::Fixed(*f),
            })
            .collect();
        for (i, col) in columns.iter().enumerate() {
            match slots.iter_mut().find(|s| s.name == col.map_to) {
                Some(slot) => slot.source = Source::Column(i),
                None => slots.push(Slot {
                    name: col.map_to.clone(),
                    key: key_bytes(&col.map_to),
                    source: Source::Column(i),
                }),
            }
        }

        let mut header: Vec<String> = fixed.iter().map(|(n, _)| n.to_string()).collect();
        for col in &columns {
            match col.kind {
                Kind::Location => {
                    for prefix in [
                        "lat_",
                        "long_",
                        "accuracy_",
                        "UTM_Northing_",
                        "UTM_Easting_",
                        "UTM_Zone_",
                    ] {
                        header.push(format!("{prefix}{}", col.map_to));
                    }
                }
                _ => header.push(col.map_to.clone()),
            }
        }

        ExportPlan {
            fixed,
            columns,
            slots,
            header,
            body_key: if opts.branch_ref.is_some() {
                "branch_entry"
            } else {
                "entry"
            },
            answer_slots,
            private: opts.private,
            media_base: format!("{}/api/media/{}?", opts.origin, opts.slug),
            map_name: maps.name(opts.map_index).unwrap_or_default().to_string(),
            map_index: opts.map_index,
        }
    }

    /// The plan of a parsed request.
    pub fn for_query(
        def: &Definition,
        maps: &MappingList,
        query: &EntriesQuery,
        private: bool,
        slug: &str,
        origin: &str,
    ) -> ExportPlan {
        ExportPlan::new(
            def,
            maps,
            &PlanOptions {
                form_ref: &query.form_ref,
                branch_ref: query.branch_ref.as_deref(),
                map_index: query.map_index,
                private,
                slug,
                origin,
            },
        )
    }

    /// The CSV header row.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// `data.mapping.map_name`: the requested map's name, even when the form fell back to map 0.
    pub fn map_name(&self) -> &str {
        &self.map_name
    }

    pub fn map_index(&self) -> usize {
        self.map_index
    }

    pub fn write_csv_header(&self, w: &mut CsvWriter) {
        w.record(self.header.iter().map(String::as_str));
    }

    /// Appends the row's JSON entry object to `out`.
    pub fn write_json(&self, row: &StoredEntry<'_>, out: &mut Vec<u8>) {
        let parsed = ParsedRow::new(row, self);
        out.push(b'{');
        for (i, slot) in self.slots.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&slot.key);
            match slot.source {
                Source::Fixed(f) => self.json_fixed(f, row, &parsed, out),
                Source::Column(c) => self.json_column(&self.columns[c], row, &parsed, out),
            }
        }
        out.push(b'}');
    }

    /// Appends the row's CSV record to `w`.
    pub fn write_csv(&self, row: &StoredEntry<'_>, w: &mut CsvWriter) {
        let parsed = ParsedRow::new(row, self);
        for (_, f) in &self.fixed {
            match f {
                Fixed::Uuid => w.field(row.uuid),
                Fixed::ParentUuid => w.field(row.parent_uuid),
                Fixed::OwnerUuid => w.field(row.owner_uuid),
                Fixed::CreatedAt => w.field_with(|s| push_php_string(s, parsed.created_at())),
                Fixed::UploadedAt => w.field(&iso_zero_millis(row.uploaded_at)),
                Fixed::CreatedBy => w.field(row.created_by.unwrap_or("n/a")),
                Fixed::Title => w.field(row.title),
            }
        }
        for col in &self.columns {
            self.csv_column(col, row, &parsed, w);
        }
        w.end_record();
    }

    fn json_fixed(&self, f: Fixed, row: &StoredEntry<'_>, parsed: &ParsedRow, out: &mut Vec<u8>) {
        match f {
            Fixed::Uuid => push_str(out, row.uuid),
            Fixed::ParentUuid => push_str(out, row.parent_uuid),
            Fixed::OwnerUuid => push_str(out, row.owner_uuid),
            Fixed::CreatedAt => match parsed.created_at() {
                Some(v) => push_value(out, v),
                None => push_str(out, ""),
            },
            Fixed::UploadedAt => push_str(out, &iso_zero_millis(row.uploaded_at)),
            Fixed::CreatedBy => push_str(out, row.created_by.unwrap_or("n/a")),
            Fixed::Title => push_str(out, row.title),
        }
    }

    fn json_column(
        &self,
        col: &Column,
        row: &StoredEntry<'_>,
        parsed: &ParsedRow,
        out: &mut Vec<u8>,
    ) {
        let answer = parsed.answer(col);
        match &col.kind {
            Kind::Plain => match answer {
                Some(v) => push_value(out, v),
                None => push_str(out, ""),
            },
            Kind::Integer => match integer(answer) {
                Some(n) => push_i64(out, n),
                None => push_str(out, ""),
            },
            Kind::Decimal => match decimal(answer) {
                Some(f) => push_f64(out, f),
                None => push_str(out, ""),
            },
            Kind::DateTime(format) => push_str(out, &date_time(answer, *format)),
            Kind::Single(labels) => push_str(out, label(labels, answer)),
            Kind::Multi(labels) => {
                out.push(b'[');
                for (i, item) in choices(answer).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_str(out, label(labels, Some(item)));
                }
                out.push(b']');
            }
            Kind::Location => {
                let loc = location(answer);
                out.extend_from_slice(b"{\"latitude\":");
                loc.json_value(&loc.latitude, out);
                out.extend_from_slice(b",\"longitude\":");
                loc.json_value(&loc.longitude, out);
                out.extend_from_slice(b",\"accuracy\":");
                loc.json_value(&loc.accuracy, out);
                match &loc.utm {
                    Some(utm) => {
                        out.extend_from_slice(b",\"UTM_Northing\":");
                        push_i64(out, utm.northing);
                        out.extend_from_slice(b",\"UTM_Easting\":");
                        push_i64(out, utm.easting);
                        out.extend_from_slice(b",\"UTM_Zone\":");
                        push_str(out, &utm.zone);
                    }
                    None => out.extend_from_slice(
                        b",\"UTM_Northing\":\"\",\"UTM_Easting\":\"\",\"UTM_Zone\":\"\"",
                    ),
                }
                out.push(b'}');
            }
            Kind::Media { media_type, format } => {
                push_str(
                    out,
                    &self.media(answer, media_type, format, row.uploaded_at),
                );
            }
            Kind::BranchCount => match parsed.branch_count(&col.input_ref) {
                Some(v) => push_value(out, v),
                None => push_i64(out, 0),
            },
        }
    }

    fn csv_column(
        &self,
        col: &Column,
        row: &StoredEntry<'_>,
        parsed: &ParsedRow,
        w: &mut CsvWriter,
    ) {
        let answer = parsed.answer(col);
        match &col.kind {
            Kind::Plain => w.field_with(|s| push_php_string(s, answer)),
            Kind::Integer => w.field_with(|s| {
                if let Some(n) = integer(answer) {
                    s.push_str(&n.to_string());
                }
            }),
            Kind::Decimal => w.field_with(|s| {
                if let Some(f) = decimal(answer) {
                    s.push_str(&strval_float_precision14(f));
                }
            }),
            Kind::DateTime(format) => w.field(&date_time(answer, *format)),
            Kind::Single(labels) => w.field(label(labels, answer)),
            Kind::Multi(labels) => w.field_with(|s| {
                for (i, item) in choices(answer).enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    let text = label(labels, Some(item));
                    // Items holding a comma are quoted, so the list can be split again.
                    if text.contains(',') {
                        s.push('"');
                        s.push_str(text);
                        s.push('"');
                    } else {
                        s.push_str(text);
                    }
                }
            }),
            Kind::Location => {
                let loc = location(answer);
                for v in [&loc.latitude, &loc.longitude, &loc.accuracy] {
                    w.field_with(|s| {
                        if loc.valid {
                            push_php_string(s, v.as_ref());
                        }
                    });
                }
                match &loc.utm {
                    Some(utm) => {
                        w.field(&utm.northing.to_string());
                        w.field(&utm.easting.to_string());
                        w.field(&utm.zone);
                    }
                    None => {
                        for _ in 0..3 {
                            w.field("");
                        }
                    }
                }
            }
            Kind::Media { media_type, format } => {
                w.field(&self.media(answer, media_type, format, row.uploaded_at));
            }
            Kind::BranchCount => w.field_with(|s| match parsed.branch_count(&col.input_ref) {
                Some(v) => push_php_string(s, Some(v)),
                None => s.push('0'),
            }),
        }
    }

    /// A media answer: a URL of the old `/api/media` route on public projects (form encoded,
    /// `v` = the Unix time of `uploaded_at`), the bare file name on private ones.
    fn media(
        &self,
        answer: Option<&Value>,
        media_type: &str,
        format: &str,
        uploaded_at: UnixMillis,
    ) -> String {
        let name = match answer {
            Some(Value::String(s)) => s.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => {
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

/// A JSON entries page (export-api.md §1.4): `meta`, then `data` with the entries, then `links`.
/// Entries can be taken out as they are written ([`JsonPage::take`]) to stream a page.
#[derive(Debug)]
pub struct JsonPage {
    out: Vec<u8>,
    entries: usize,
}

impl JsonPage {
    /// `project_slug` is the stored slug (`data.id`).
    pub fn begin(meta: &Meta, project_slug: &str) -> JsonPage {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"{\"meta\":");
        meta.write_json(&mut out);
        out.extend_from_slice(b",\"data\":{\"id\":");
        push_str(&mut out, project_slug);
        out.extend_from_slice(b",\"type\":\"entries\",\"entries\":[");
        JsonPage { out, entries: 0 }
    }

    pub fn push(&mut self, plan: &ExportPlan, row: &StoredEntry<'_>) {
        if self.entries > 0 {
            self.out.push(b',');
        }
        plan.write_json(row, &mut self.out);
        self.entries += 1;
    }

    /// The bytes written so far, leaving the page open.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Closes the page. `data.mapping` is only there when the page has entries, as on the real
    /// server.
    pub fn finish(mut self, plan: &ExportPlan, links: &Links) -> Vec<u8> {
        self.out.push(b']');
        if self.entries > 0 {
            self.out.extend_from_slice(b",\"mapping\":{\"map_name\":");
            push_str(&mut self.out, plan.map_name());
            self.out.extend_from_slice(b",\"map_index\":");
            push_i64(&mut self.out, plan.map_index() as i64);
            self.out.push(b'}');
        }
        self.out.extend_from_slice(b"},\"links\":");
        links.write_json(&mut self.out);
        self.out.push(b'}');
        self.out
    }
}

/// The row's `entry_data` and `branch_counts`, read once.
struct ParsedRow {
    read: RowAnswers,
    counts: Value,
}

impl ParsedRow {
    fn new(row: &StoredEntry<'_>, plan: &ExportPlan) -> ParsedRow {
        ParsedRow {
            read: RowAnswers::read(
                row.entry_data,
                plan.body_key,
                &plan.answer_slots,
                plan.answer_slots.len(),
            ),
            counts: row
                .branch_counts
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null),
        }
    }

    fn created_at(&self) -> Option<&Value> {
        self.read.created_at.as_ref()
    }

    /// `$answers[$ref]['answer'] ?? ''`: `None` stands for the `''`.
    fn answer(&self, col: &Column) -> Option<&Value> {
        self.read.answers.get(col.slot).and_then(Option::as_ref)
    }

    fn branch_count(&self, input_ref: &str) -> Option<&Value> {
        array_get(&self.counts, input_ref).filter(|v| !v.is_null())
    }
}

/// `(string)$v` appended to `s`; arrays and objects (which make PHP fail the whole export) are
/// written as their JSON text.
fn push_php_string(s: &mut String, v: Option<&Value>) {
    match v {
        None => {}
        Some(v) => match strval_precision14(v) {
            Some(text) => s.push_str(&text),
            None => s.push_str(&String::from_utf8_lossy(&to_php_json(v, false))),
        },
    }
}

/// `'' === $answer ? '' : (int)$answer`.
fn integer(answer: Option<&Value>) -> Option<i64> {
    Some(match answer? {
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
fn decimal(answer: Option<&Value>) -> Option<f64> {
    let f = match answer? {
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
fn date_time(answer: Option<&Value>, format: Option<&str>) -> String {
    match (answer, format) {
        (Some(Value::String(s)), Some(format)) if !empty_str(s) => PhpDate::parse(s)
            .and_then(|d| d.format(format))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The label of a chosen answer ref, `""` when the map has none for it.
fn label<'m>(labels: &'m HashMap<String, String>, answer: Option<&Value>) -> &'m str {
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

/// The chosen refs of a checkbox or search answer: the items of an array (or an object's
/// values, both PHP arrays), nothing otherwise.
fn choices(answer: Option<&Value>) -> Box<dyn Iterator<Item = &Value> + '_> {
    match answer {
        Some(Value::Array(items)) => Box::new(items.iter()),
        Some(Value::Object(map)) => Box::new(map.values()),
        _ => Box::new(std::iter::empty()),
    }
}

/// A location answer with its UTM values, as both formats write it.
struct Location {
    /// False when the answer is missing or malformed: every value is `""`.
    valid: bool,
    latitude: Option<Value>,
    longitude: Option<Value>,
    accuracy: Option<Value>,
    utm: Option<super::utm::Utm>,
}

impl Location {
    fn json_value(&self, v: &Option<Value>, out: &mut Vec<u8>) {
        match v {
            Some(v) if self.valid => push_value(out, v),
            _ => push_str(out, ""),
        }
    }
}

/// UTM is computed when latitude and longitude are both truthy; then both must read as
/// numbers and accuracy must be present, or the whole location is `""` (where the real server
/// throws and catches). Otherwise the three stored values are echoed with empty UTM values.
fn location(answer: Option<&Value>) -> Location {
    let empty = Location {
        valid: false,
        latitude: None,
        longitude: None,
        accuracy: None,
        utm: None,
    };
    let Some(Value::Object(loc)) = answer else {
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
fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => is_numeric_str(s),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// The inputs of the form (form mode) or of the branch (branch mode) in output order, groups
/// replaced by their children, with what the selected map says about each.
fn plan_columns(def: &Definition, maps: &MappingList, opts: &PlanOptions<'_>) -> Vec<Column> {
    let Some(form) = def.form(opts.form_ref) else {
        return Vec::new();
    };
    let null = Value::Null;
    let form_map = maps
        .form_map(opts.map_index, opts.form_ref)
        .or_else(|| maps.form_map(0, opts.form_ref))
        .unwrap_or(&null);
    let (inputs, selected): (&[Input], &Value) = match opts.branch_ref {
        None => (&form.inputs, form_map),
        Some(branch_ref) => {
            let branch = form
                .inputs
                .iter()
                .find(|i| i.kind == InputType::Branch && i.input_ref.as_str() == branch_ref);
            let branch_map = array_get(form_map, branch_ref)
                .and_then(|b| b.get("branch"))
                .unwrap_or(&null);
            (branch.map_or(&[][..], |b| &b.branch), branch_map)
        }
    };

    // The selected level with each group's child maps merged in (`array_merge`).
    let mut by_ref: HashMap<String, &Value> = HashMap::new();
    for (input_ref, input_map) in foreach_pairs(selected) {
        by_ref.insert(input_ref, input_map);
    }
    for (_, input_map) in foreach_pairs(selected) {
        if let Some(group) = input_map.get("group") {
            for (child_ref, child_map) in foreach_pairs(group) {
                by_ref.insert(child_ref, child_map);
            }
        }
    }

    let flattened = inputs.iter().flat_map(|input| match input.kind {
        InputType::Group => input.group.iter().collect::<Vec<_>>(),
        _ => vec![input],
    });
    let mut columns = Vec::new();
    for input in flattened {
        if input.kind == InputType::Readme {
            continue;
        }
        let Some(input_map) = by_ref.get(input.input_ref.as_str()) else {
            continue;
        };
        if input_map.get("hide").is_some_and(truthy) {
            continue;
        }
        let Some(map_to) = input_map.get("map_to").and_then(map_to_name) else {
            continue;
        };
        columns.push(Column {
            input_ref: input.input_ref.0.clone(),
            map_to,
            kind: kind_of(input, input_map),
            slot: 0,
        });
    }
    columns
}

/// A `map_to` the export uses: PHP's `empty()` drops `""`, `"0"`, `0`, `false` and `null`.
fn map_to_name(v: &Value) -> Option<String> {
    truthy(v).then(|| strval_precision14(v)).flatten()
}

fn kind_of(input: &Input, input_map: &Value) -> Kind {
    let labels = || -> HashMap<String, String> {
        input_map
            .get("possible_answers")
            .map(foreach_pairs)
            .unwrap_or_default()
            .into_iter()
            .map(|(answer_ref, m)| {
                let label = m
                    .get("map_to")
                    .and_then(strval_precision14)
                    .unwrap_or_default();
                (answer_ref, label)
            })
            .collect()
    };
    match input.kind {
        InputType::Integer => Kind::Integer,
        InputType::Decimal => Kind::Decimal,
        InputType::Date | InputType::Time => {
            Kind::DateTime(input.datetime_format.map(php_format_of))
        }
        InputType::Radio | InputType::Dropdown => Kind::Single(labels()),
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => {
            Kind::Multi(labels())
        }
        InputType::Location => Kind::Location,
        InputType::Photo => Kind::Media {
            media_type: "photo",
            format: "entry_original",
        },
        InputType::Audio => Kind::Media {
            media_type: "audio",
            format: "audio",
        },
        InputType::Video => Kind::Media {
            media_type: "video",
            format: "video",
        },
        InputType::Branch => Kind::BranchCount,
        _ => Kind::Plain,
    }
}
