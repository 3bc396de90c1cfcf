//! A row as a CSV record, and the header row.

use super::StoredEntry;
use super::plan::{Column, ExportPlan, Fixed, Kind};
use super::values::{
    Answer, ParsedRow, date_time, decimal, integer, label, location, push_php_string,
    push_php_value,
};
use crate::export::csv::CsvWriter;
use crate::php::strval_float_precision14;
use crate::time::iso_zero_millis;

impl ExportPlan {
    /// Appends the header row to `w`.
    pub fn write_csv_header(&self, w: &mut CsvWriter) {
        w.record(self.header.iter().map(String::as_str));
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
                let mut first = true;
                Answer::for_each_item(answer, |item| {
                    if !first {
                        s.push_str(", ");
                    }
                    first = false;
                    let text = label(labels, Some(item));
                    // Items holding a comma are quoted, so the list can be split again.
                    if text.contains(',') {
                        s.push('"');
                        s.push_str(text);
                        s.push('"');
                    } else {
                        s.push_str(text);
                    }
                });
            }),
            Kind::Location => {
                let loc = location(answer);
                for v in [&loc.latitude, &loc.longitude, &loc.accuracy] {
                    w.field_with(|s| {
                        if loc.valid
                            && let Some(v) = v
                        {
                            push_php_value(s, v);
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
            Kind::Media { url_head } => {
                w.field(self.media(answer, url_head, row.uploaded_at).as_str());
            }
            Kind::BranchCount => w.field_with(|s| match parsed.branch_count(&col.input_ref) {
                Some(v) => push_php_value(s, &v),
                None => s.push('0'),
            }),
        }
    }
}
