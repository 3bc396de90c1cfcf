//! A strict JSON cursor over stored text, for the export's one pass over `entry_data`: it walks
//! objects key by key, borrows strings without escapes, and skips what it does not need while
//! still checking it, so it accepts exactly the text `serde_json` accepts. Values the export
//! keeps whole (numbers, locations, lists) are handed to `serde_json` by their extent.

use std::borrow::Cow;

use super::jsonw::special_bytes;

/// serde_json's nesting limit: deeper text is refused by both.
const MAX_DEPTH: usize = 128;

/// Why a scan stopped: the text is not JSON (the caller reads the row as having no answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotJson;

pub(crate) type Scanned<T> = Result<T, NotJson>;

/// What a value starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    Object,
    Array,
    String,
    Other,
}

pub(crate) struct Scan<'a> {
    text: &'a str,
    at: usize,
    /// Containers open around `at`: serde_json refuses the 128th.
    depth: usize,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(text: &'a str) -> Scan<'a> {
        Scan {
            text,
            at: 0,
            depth: 0,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    fn enter(&mut self) -> Scanned<()> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            Err(NotJson)
        } else {
            Ok(())
        }
    }

    fn expect(&mut self, b: u8) -> Scanned<()> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(NotJson)
        }
    }

    /// What the next value is, after any whitespace.
    pub(crate) fn start(&mut self) -> Scanned<Start> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => Ok(Start::Object),
            Some(b'[') => Ok(Start::Array),
            Some(b'"') => Ok(Start::String),
            Some(_) => Ok(Start::Other),
            None => Err(NotJson),
        }
    }

    /// Only whitespace is left.
    pub(crate) fn end(&mut self) -> Scanned<()> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(NotJson),
        }
    }

    /// Calls `member(scan, key)` for each member of the object that starts here; `member`
    /// must consume the member's value.
    pub(crate) fn object(
        &mut self,
        mut member: impl FnMut(&mut Scan<'a>, Cow<'a, str>) -> Scanned<()>,
    ) -> Scanned<()> {
        self.members(|scan| {
            let key = scan.key()?;
            member(scan, key)
        })
    }

    /// Calls `member(scan)` at each member of the object that starts here; `member` must
    /// consume the member, key ([`Scan::key_is`], [`Scan::key`]) and value.
    pub(crate) fn members(
        &mut self,
        member: impl FnMut(&mut Scan<'a>) -> Scanned<()>,
    ) -> Scanned<()> {
        self.container(b'{', b'}', member)
    }

    /// A member's key and its `:`.
    pub(crate) fn key(&mut self) -> Scanned<Cow<'a, str>> {
        let key = self.string()?;
        self.expect(b':')?;
        Ok(key)
    }

    /// Whether the member's key is `key`, compared as bytes (`key` must be written plain in
    /// JSON: no `"`, `\` or control character); if so the key and its `:` are consumed, else
    /// nothing is. Much cheaper than [`Scan::key`] when the caller can guess the key.
    #[inline]
    pub(crate) fn key_is(&mut self, key: &str) -> Scanned<bool> {
        let end = self.at + key.len() + 1;
        let bytes = self.bytes();
        let quoted = bytes.get(self.at) == Some(&b'"')
            && bytes.get(self.at + 1..end) == Some(key.as_bytes())
            && bytes.get(end) == Some(&b'"');
        if !quoted {
            return Ok(false);
        }
        self.at = end + 1;
        self.expect(b':')?;
        Ok(true)
    }

    /// Calls `item(scan)` for each item of the array that starts here; `item` must consume
    /// the item.
    pub(crate) fn array(
        &mut self,
        mut item: impl FnMut(&mut Scan<'a>) -> Scanned<()>,
    ) -> Scanned<()> {
        self.container(b'[', b']', |scan| item(scan))
    }

    /// An object or array from `open` to `close`, `part` called at each member or item (after
    /// its leading whitespace).
    fn container(
        &mut self,
        open: u8,
        close: u8,
        mut part: impl FnMut(&mut Scan<'a>) -> Scanned<()>,
    ) -> Scanned<()> {
        self.expect(open)?;
        self.enter()?;
        self.skip_ws();
        if self.peek() == Some(close) {
            self.at += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            part(self)?;
            if self.close(close)? {
                self.depth -= 1;
                return Ok(());
            }
        }
    }

    /// The string that starts here, borrowed when it has no escapes.
    pub(crate) fn string(&mut self) -> Scanned<Cow<'a, str>> {
        let start = self.at;
        let escaped = self.skip_string()?;
        let quoted = &self.text[start..self.at];
        if !escaped {
            return Ok(Cow::Borrowed(&quoted[1..quoted.len() - 1]));
        }
        // Rare: serde_json decodes the escapes (and refuses lone surrogates as it does).
        serde_json::from_str::<String>(quoted)
            .map(Cow::Owned)
            .map_err(|_| NotJson)
    }

    /// Skips the value that starts here, checking it; returns its text.
    pub(crate) fn value_text(&mut self) -> Scanned<&'a str> {
        self.skip_ws();
        let start = self.at;
        self.skip_value()?;
        Ok(&self.text[start..self.at])
    }

    /// Skips the value that starts here, checking it.
    pub(crate) fn skip(&mut self) -> Scanned<()> {
        self.skip_ws();
        self.skip_value()
    }

    fn skip_value(&mut self) -> Scanned<()> {
        match self.peek().ok_or(NotJson)? {
            b'"' => self.skip_string().map(drop),
            // Keys are skipped as strings are, not decoded (as serde_json ignores them).
            b'{' => self.container(b'{', b'}', |scan| {
                scan.skip_string()?;
                scan.expect(b':')?;
                scan.skip()
            }),
            b'[' => self.container(b'[', b']', Scan::skip_value),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(NotJson),
        }
    }

    /// After a member or item: `,` (more follow) or `close` (done).
    fn close(&mut self, close: u8) -> Scanned<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                Ok(false)
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(NotJson),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Scanned<()> {
        if self.bytes()[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(NotJson)
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Scanned<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(NotJson),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Scanned<()> {
        let start = self.at;
        self.digits();
        if self.at == start {
            Err(NotJson)
        } else {
            Ok(())
        }
    }

    /// Skips the string that starts here; says whether it holds escapes. Control characters
    /// are refused and escapes checked, as serde_json does when it skips a string.
    #[inline(always)]
    fn skip_string(&mut self) -> Scanned<bool> {
        if self.peek() != Some(b'"') {
            return Err(NotJson);
        }
        let bytes = self.bytes();
        let mut at = self.at + 1;
        let mut escaped = false;
        loop {
            at = next_stop(bytes, at).ok_or(NotJson)?;
            match bytes[at] {
                b'"' => {
                    self.at = at + 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match bytes.get(at + 1).ok_or(NotJson)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at += 2,
                        b'u' => {
                            let hex = bytes.get(at + 2..at + 6).ok_or(NotJson)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(NotJson);
                            }
                            at += 6;
                        }
                        _ => return Err(NotJson),
                    }
                }
                // A control character.
                _ => return Err(NotJson),
            }
        }
    }
}

/// Where the first `"`, `\` or control character at or after `at` is: sixteen bytes (two
/// words) per step, one branch per step, since a string ends (or needs a look) only at one of
/// these. This is the export's hottest loop: `entry_data` is mostly strings.
#[inline(always)]
fn next_stop(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = bytes.get(at..)?;
    let mut pairs = rest.chunks_exact(16);
    let mut base = at;
    for pair in &mut pairs {
        let (low, high) = pair.split_at(8);
        let low = special_bytes(u64::from_le_bytes(low.try_into().ok()?));
        let high = special_bytes(u64::from_le_bytes(high.try_into().ok()?));
        if low | high != 0 {
            let within = if low != 0 {
                low.trailing_zeros() / 8
            } else {
                8 + high.trailing_zeros() / 8
            };
            return Some(base + within as usize);
        }
        base += 16;
    }
    pairs
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| base + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn skips(text: &str) -> bool {
        let mut scan = Scan::new(text);
        scan.skip().is_ok() && scan.end().is_ok()
    }

    #[test]
    fn accepts_what_serde_accepts() {
        for text in [
            r#"{"a": [1, -2.5e+3, 0, true, false, null, "x\"\u00e9\n"], "b": {}}"#,
            "[]",
            " \"s\" ",
            "-0.0",
            "1E5",
        ] {
            assert!(skips(text), "{text}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_ok());
        }
        for text in [
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "\"\u{1}\"",
            "\"\\x\"",
            "\"\\u12g4\"",
            "tru",
            "nul",
            "[",
            "{\"a\"}",
            "1 2",
            "",
        ] {
            assert!(!skips(text), "{text:?}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
        }
    }

    #[test]
    fn nesting_stops_where_serde_stops() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for n in [127, 128, 129] {
            assert_eq!(
                skips(&deep(n)),
                serde_json::from_str::<serde_json::Value>(&deep(n)).is_ok(),
                "{n}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn agrees_with_serde_on_json_like_text(text in r#"[\[\]{}",:0-9.eE+\-tfrunlsa\\ \x01é]{0,24}"#) {
            prop_assert_eq!(skips(&text), serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok(), "{:?}", text);
        }

        #[test]
        fn finds_the_first_stop_as_a_byte_loop_does(
            bytes in proptest::collection::vec(prop_oneof![60 => 0x20u8..=0xff, 1 => 0u8..0x20, 1 => Just(b'"'), 1 => Just(b'\\')], 0..80),
            at in 0usize..80,
        ) {
            let at = at.min(bytes.len());
            let slow = bytes[at..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).map(|i| at + i);
            prop_assert_eq!(next_stop(&bytes, at), slow);
        }

        #[test]
        fn strings_borrow_or_decode_as_serde_does(s in any::<String>()) {
            let text = serde_json::to_string(&s).expect("a string");
            let mut scan = Scan::new(&text);
            prop_assert_eq!(scan.string().map(Cow::into_owned), Ok(s));
        }
    }
}
