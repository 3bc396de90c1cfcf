//! A row as a JSON entry object, and the JSON page that holds them.

use super::StoredEntry;
use super::plan::{Column, ExportPlan, Fixed, Kind, Source};
use super::values::{
    Answer, Media, ParsedRow, date_time, decimal, integer, label, location, push_answer,
};
use crate::export::jsonw::{push_f64, push_i64, push_str, push_value};
use crate::export::links::{Links, Meta};
use crate::time::push_iso_zero_millis;

impl ExportPlan {
    /// Appends the rows' JSON entry objects to `out`, comma-separated: a part of a page's
    /// entries ([`JsonPage::push_rendered`]).
    pub fn write_json_rows<'r>(
        &self,
        rows: impl IntoIterator<Item = StoredEntry<'r>>,
        out: &mut Vec<u8>,
    ) {
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.write_json(&row, out);
        }
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

    pub(super) fn json_fixed(
        &self,
        f: Fixed,
        row: &StoredEntry<'_>,
        parsed: &ParsedRow,
        out: &mut Vec<u8>,
    ) {
        match f {
            Fixed::Uuid => push_str(out, row.uuid),
            Fixed::ParentUuid => push_str(out, row.parent_uuid),
            Fixed::OwnerUuid => push_str(out, row.owner_uuid),
            Fixed::CreatedAt => match parsed.created_at() {
                Some(v) => push_answer(out, v),
                None => push_str(out, ""),
            },
            Fixed::UploadedAt => {
                // ASCII with nothing to escape.
                out.push(b'"');
                push_iso_zero_millis(out, row.uploaded_at);
                out.push(b'"');
            }
            Fixed::CreatedBy => push_str(out, row.created_by.unwrap_or("n/a")),
            Fixed::Title => push_str(out, row.title),
        }
    }

    pub(super) fn json_column(
        &self,
        col: &Column,
        row: &StoredEntry<'_>,
        parsed: &ParsedRow,
        out: &mut Vec<u8>,
    ) {
        let answer = parsed.answer(col);
        match &col.kind {
            Kind::Plain => match answer {
                Some(v) => push_answer(out, v),
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
                let mut first = true;
                Answer::for_each_item(answer, |item| {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    push_str(out, label(labels, Some(item)));
                });
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
            Kind::Media { url_head } => match self.media(answer, url_head, row.uploaded_at) {
                // Its parts need no JSON escape: URL-encoded, after a checked base.
                Media::Url(url) if self.media_base_is_plain => {
                    out.push(b'"');
                    out.extend_from_slice(url.as_bytes());
                    out.push(b'"');
                }
                media => push_str(out, media.as_str()),
            },
            Kind::BranchCount => match parsed.branch_count(&col.input_ref) {
                Some(v) => push_value(out, &v),
                None => push_i64(out, 0),
            },
        }
    }
}

/// A JSON entries page (docs/protocol.md §8.6): `meta`, then `data` with the entries, then `links`.
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

    /// Makes room for `bytes` more, so a page is not copied over and over as it grows.
    pub fn reserve_bytes(&mut self, bytes: usize) {
        self.out.reserve(bytes);
    }

    pub fn push(&mut self, plan: &ExportPlan, row: &StoredEntry<'_>) {
        if self.entries > 0 {
            self.out.push(b',');
        }
        plan.write_json(row, &mut self.out);
        self.entries += 1;
    }

    /// Appends `entries` entries written by [`ExportPlan::write_json_rows`].
    pub fn push_rendered(&mut self, rendered: &[u8], entries: usize) {
        if entries == 0 {
            return;
        }
        if self.entries > 0 {
            self.out.push(b',');
        }
        self.out.extend_from_slice(rendered);
        self.entries += entries;
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
