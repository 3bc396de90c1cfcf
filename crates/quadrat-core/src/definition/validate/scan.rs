//! The whole-payload scan that runs before any structural check: no `<`/`>` (`ec5_220`) and no
//! emoji (`ec5_323`) anywhere. The real server scans only values (formbuilder path only);
//! Quadrat scans object keys too and applies the scan to imports as well.

use serde_json::Value;

/// Code points the real server's `Strings::containsEmoji` refuses (the database is 3-byte UTF-8).
const EMOJI_RANGES: &[(u32, u32)] = &[
    (0x1F600, 0x1F64F),
    (0x1F300, 0x1F5FF),
    (0x1F680, 0x1F6FF),
    (0x2600, 0x26FF),
    (0x2700, 0x27BF),
    (0x1F1E6, 0x1F1FF),
    (0x1F910, 0x1F95E),
    (0x1F980, 0x1F991),
    (0x1F9C0, 0x1F9C0),
    (0x1F9F9, 0x1F9F9),
];

pub fn is_emoji(c: char) -> bool {
    let cp = c as u32;
    EMOJI_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp))
}

/// The code of the first scan failure: markup wins over emoji, as on the real server.
pub fn payload_error(data: &Value) -> Option<&'static str> {
    scan_strings(data).code()
}

/// What the strings of a payload (object keys included) hold.
#[derive(Debug, Default, Clone, Copy)]
pub struct Found {
    pub markup: bool,
    pub emoji: bool,
    /// A NUL character.
    pub nul: bool,
}

impl Found {
    /// [`payload_error`]'s code for what was found.
    pub fn code(self) -> Option<&'static str> {
        if self.markup {
            Some("ec5_220")
        } else if self.emoji {
            Some("ec5_323")
        } else {
            None
        }
    }
}

/// Strings up to this long (keys, most answers) are read in one pass over their bytes, which
/// costs less than three searches through them.
const SHORT: usize = 32;

fn note_short(s: &str, found: &mut Found) {
    let mut ascii = true;
    for &b in s.as_bytes() {
        match b {
            b'<' | b'>' => found.markup = true,
            0 => found.nul = true,
            0x80.. => ascii = false,
            _ => {}
        }
    }
    // Every emoji range lies beyond ASCII.
    found.emoji |= !ascii && s.chars().any(is_emoji);
}

fn note_long(s: &str, found: &mut Found) {
    let bytes = s.as_bytes();
    found.markup |= memchr::memchr2(b'<', b'>', bytes).is_some();
    found.nul |= memchr::memchr(0, bytes).is_some();
    found.emoji |= !s.is_ascii() && s.chars().any(is_emoji);
}

/// Every string of `data` (object keys included) looked at once.
pub fn scan_strings(data: &Value) -> Found {
    let mut found = Found::default();
    let mut note = |s: &str| {
        if s.len() <= SHORT {
            note_short(s, &mut found);
        } else {
            note_long(s, &mut found);
        }
    };
    // Iterative on purpose: a definition can be nested deeper than the stack allows.
    let mut stack = vec![data];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => note(s),
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(map) => {
                for (k, item) in map {
                    note(k);
                    stack.push(item);
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The one-pass read of a short string finds what the searches find.
        #[test]
        fn short_and_long_reads_agree(s in "[a-z<>\\x00\u{e9}\u{1F600}\u{2600}]{0,40}") {
            let (mut short, mut long) = (Found::default(), Found::default());
            note_short(&s, &mut short);
            note_long(&s, &mut long);
            prop_assert_eq!(
                (short.markup, short.emoji, short.nul),
                (long.markup, long.emoji, long.nul)
            );
        }
    }
}
