//! A row as a GeoJSON Feature (RFC 7946; docs/protocol.md §17.12): `properties` are the JSON
//! export's keys, order and values, except that each location answer is flattened into the six
//! CSV keys (GIS formats hold no nested objects), then `ec5_location_question`.

use super::StoredEntry;
use super::plan::{ExportPlan, Kind, Source};
use super::values::{Answer, ParsedRow, as_float, location};
use crate::export::jsonw::{push_i64, push_str, push_value};

/// A location input of the plan: its ref and its column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationInput {
    pub input_ref: String,
    pub map_to: String,
}

/// A point usable as a GeoJSON position: both coordinates numbers, in range.
pub fn point(answer: Option<&serde_json::Value>) -> Option<(f64, f64)> {
    let loc = answer?.as_object()?;
    let number = |k: &str| match loc.get(k) {
        Some(v @ serde_json::Value::Number(_)) => as_float(v),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
            as_float(&serde_json::Value::String(s.clone()))
        }
        _ => None,
    };
    let (lat, lon) = (number("latitude")?, number("longitude")?);
    let ok = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
    ok.then_some((lon, lat))
}

impl ExportPlan {
    /// The location inputs this plan shows, in output order.
    pub fn location_inputs(&self) -> Vec<LocationInput> {
        self.columns
            .iter()
            .filter(|c| matches!(c.kind, Kind::Location))
            .map(|c| LocationInput {
                input_ref: c.input_ref.clone(),
                map_to: c.map_to.clone(),
            })
            .collect()
    }

    /// Whether `row` has a usable point for `input_ref`.
    pub fn has_point(&self, row: &StoredEntry<'_>, input_ref: &str) -> bool {
        let parsed = ParsedRow::new(row, self);
        self.columns
            .iter()
            .find(|c| c.input_ref == input_ref)
            .and_then(|c| point(parsed.answer(c).and_then(Answer::non_text).as_deref()))
            .is_some()
    }

    /// Appends a map marker of `row` for the location input `input_ref`, when the row has a
    /// usable point there: a Feature with the entry's uuid as its id, the point, and only
    /// `title` in its properties (what a map's popup shows; a fraction of the whole Feature's
    /// size). Returns whether it wrote one.
    pub fn write_marker(&self, row: &StoredEntry<'_>, input_ref: &str, out: &mut Vec<u8>) -> bool {
        let parsed = ParsedRow::new(row, self);
        let Some((lon, lat)) = self
            .columns
            .iter()
            .find(|c| c.input_ref == input_ref)
            .and_then(|c| point(parsed.answer(c).and_then(Answer::non_text).as_deref()))
        else {
            return false;
        };
        out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
        push_str(out, row.uuid);
        out.extend_from_slice(b",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
        out.extend_from_slice(coordinate(lon).as_bytes());
        out.push(b',');
        out.extend_from_slice(coordinate(lat).as_bytes());
        out.extend_from_slice(b"]},\"properties\":{\"title\":");
        push_str(out, row.title);
        out.extend_from_slice(b"}}");
        true
    }

    /// Appends the Feature of `row` for the location input `input_ref` (`id_suffix`: the id is
    /// `<uuid>:<input_ref>`, for one Feature per location). Without a usable point the geometry
    /// is `null`.
    pub fn write_feature(
        &self,
        row: &StoredEntry<'_>,
        input_ref: &str,
        id_suffix: bool,
        out: &mut Vec<u8>,
    ) {
        let parsed = ParsedRow::new(row, self);
        let chosen = self.columns.iter().find(|c| c.input_ref == input_ref);
        out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
        if id_suffix {
            push_str(out, &format!("{}:{input_ref}", row.uuid));
        } else {
            push_str(out, row.uuid);
        }
        out.extend_from_slice(b",\"geometry\":");
        match chosen.and_then(|c| point(parsed.answer(c).and_then(Answer::non_text).as_deref())) {
            Some((lon, lat)) => {
                out.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":[");
                out.extend_from_slice(coordinate(lon).as_bytes());
                out.push(b',');
                out.extend_from_slice(coordinate(lat).as_bytes());
                out.extend_from_slice(b"]}");
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"properties\":{");
        for (i, slot) in self.slots.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match slot.source {
                Source::Fixed(f) => {
                    out.extend_from_slice(&slot.key);
                    self.json_fixed(f, row, &parsed, out);
                }
                Source::Column(c) => {
                    let col = &self.columns[c];
                    if matches!(col.kind, Kind::Location) {
                        let loc = location(parsed.answer(col));
                        let key = |prefix: &str, out: &mut Vec<u8>| {
                            push_str(out, &format!("{prefix}{}", col.map_to));
                            out.push(b':');
                        };
                        key("lat_", out);
                        loc.json_value(&loc.latitude, out);
                        out.push(b',');
                        key("long_", out);
                        loc.json_value(&loc.longitude, out);
                        out.push(b',');
                        key("accuracy_", out);
                        loc.json_value(&loc.accuracy, out);
                        for (prefix, value) in [
                            ("UTM_Northing_", loc.utm.as_ref().map(|u| u.northing)),
                            ("UTM_Easting_", loc.utm.as_ref().map(|u| u.easting)),
                        ] {
                            out.push(b',');
                            key(prefix, out);
                            match value {
                                Some(n) => push_i64(out, n),
                                None => push_str(out, ""),
                            }
                        }
                        out.push(b',');
                        key("UTM_Zone_", out);
                        push_str(out, loc.utm.as_ref().map_or("", |u| u.zone.as_str()));
                    } else {
                        out.extend_from_slice(&slot.key);
                        self.json_column(col, row, &parsed, out);
                    }
                }
            }
        }
        if self.slots.is_empty() {
            out.extend_from_slice(b"\"ec5_location_question\":");
        } else {
            out.extend_from_slice(b",\"ec5_location_question\":");
        }
        match chosen {
            Some(c) => push_str(out, &c.map_to),
            None => push_value(out, &serde_json::Value::String(String::new())),
        }
        out.extend_from_slice(b"}}");
    }
}

/// A coordinate with at most 6 decimals (about 0.1 m), shortest form.
fn coordinate(v: f64) -> String {
    let rounded = (v * 1e6).round() / 1e6;
    let mut s = format!("{rounded}");
    if !s.contains('.') && !s.contains('e') {
        s.push_str(".0");
    }
    s
}
