//! The CSV writer of the entries export (docs/protocol.md §8.11).
//!
//! The rule, RFC 4180 with the parts of PHP's `fputcsv` that clients saw and that do no harm:
//! fields are separated by `,` and records end with LF (after the last one too); a field is
//! enclosed in `"` when it contains `,` `"` CR or LF, and also (as `fputcsv` does) when it
//! contains a space, a tab or a `\`; inside an enclosed field every `"` is doubled. PHP's
//! `\"` escape (a `"` after a backslash left single) is not reproduced: it breaks RFC 4180
//! readers. Empty fields are written as nothing.

/// A UTF-8 byte order mark, written first with `bom=true` so Excel reads the file as UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes records into a buffer the caller drains and reuses.
#[derive(Debug, Default)]
pub struct CsvWriter {
    buf: Vec<u8>,
    fields_in_record: usize,
    /// Reused to build one cell at a time.
    cell: String,
}

impl CsvWriter {
    pub fn new() -> CsvWriter {
        CsvWriter::default()
    }

    pub fn with_capacity(bytes: usize) -> CsvWriter {
        CsvWriter {
            buf: Vec::with_capacity(bytes),
            fields_in_record: 0,
            cell: String::new(),
        }
    }

    /// Writes the byte order mark (call first).
    pub fn bom(&mut self) {
        self.buf.extend_from_slice(BOM);
    }

    pub fn field(&mut self, value: &str) {
        if self.fields_in_record > 0 {
            self.buf.push(b',');
        }
        self.fields_in_record += 1;
        let enclose = value
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n' | b' ' | b'\t' | b'\\'));
        if !enclose {
            self.buf.extend_from_slice(value.as_bytes());
            return;
        }
        self.buf.push(b'"');
        for part in value.split_inclusive('"') {
            self.buf.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                self.buf.push(b'"');
            }
        }
        self.buf.push(b'"');
    }

    /// Writes a field built by `build` into a reused string.
    pub fn field_with(&mut self, build: impl FnOnce(&mut String)) {
        let mut cell = std::mem::take(&mut self.cell);
        cell.clear();
        build(&mut cell);
        self.field(&cell);
        self.cell = cell;
    }

    pub fn end_record(&mut self) {
        self.buf.push(b'\n');
        self.fields_in_record = 0;
    }

    /// Writes a whole record.
    pub fn record<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) {
        for f in fields {
            self.field(f);
        }
        self.end_record();
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets what was written, keeping the allocation (after the caller copied it out).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Hands the written bytes over.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fields: &[&str]) -> String {
        let mut w = CsvWriter::new();
        w.record(fields.iter().copied());
        String::from_utf8(w.into_bytes()).unwrap()
    }

    #[test]
    fn quoting_corner_cases() {
        assert_eq!(line(&["a", "", "b"]), "a,,b\n");
        assert_eq!(line(&[""]), "\n");
        assert_eq!(line(&["a,b"]), "\"a,b\"\n");
        assert_eq!(line(&["say \"hi\""]), "\"say \"\"hi\"\"\"\n");
        assert_eq!(line(&["\""]), "\"\"\"\"\n");
        assert_eq!(line(&["two words"]), "\"two words\"\n");
        assert_eq!(line(&["tab\there"]), "\"tab\there\"\n");
        assert_eq!(line(&["line\nbreak"]), "\"line\nbreak\"\n");
        assert_eq!(line(&["cr\r"]), "\"cr\r\"\n");
        // Unlike fputcsv, a quote after a backslash is doubled too.
        assert_eq!(line(&["back\\\"slash"]), "\"back\\\"\"slash\"\n");
        assert_eq!(line(&["C:\\dir"]), "\"C:\\dir\"\n");
        assert_eq!(line(&["é,ü"]), "\"é,ü\"\n");
        assert_eq!(
            line(&["\"Steep, slope\", Ash"]),
            "\"\"\"Steep, slope\"\", Ash\"\n"
        );
    }

    #[test]
    fn bom_and_reuse() {
        let mut w = CsvWriter::with_capacity(16);
        w.bom();
        w.record(["x"]);
        assert_eq!(w.as_bytes(), b"\xEF\xBB\xBFx\n");
        w.clear();
        assert!(w.is_empty());
        w.field_with(|s| s.push_str("a b"));
        w.field_with(|s| s.push('c'));
        w.end_record();
        assert_eq!(w.take(), b"\"a b\",c\n");
        assert!(w.is_empty());
    }
}
