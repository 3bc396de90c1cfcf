//! Writing JSON straight into a byte buffer, encoded as [`crate::json::to_php_json`] encodes
//! success bodies: non-ASCII as `\uXXXX`, `/` unescaped, floats in their shortest round-trip
//! form with whole floats keeping `.0`.

use serde_json::{Number, Value};

/// A JSON string with PHP's escaping.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        // Most text is plain ASCII: skip it a word at a time.
        while let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if !plain_word(word) {
                break;
            }
            i += 8;
        }
        let Some(&b) = bytes.get(i) else { break };
        if is_plain(b) {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if b.is_ascii() {
            push_ascii_escape(out, b);
            i += 1;
        } else {
            let c = s[i..].chars().next().expect("a char starts here");
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                push_u_escape(out, *unit);
            }
            i += c.len_utf8();
        }
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A byte written as it is: printable ASCII (and DEL) but for `"` and `\`.
fn is_plain(b: u8) -> bool {
    (0x20..0x80).contains(&b) && b != b'"' && b != b'\\'
}

/// [`is_plain`] of eight bytes at once.
fn plain_word(w: u64) -> bool {
    (w & HIGHS) | special_bytes(w) == 0
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is `"`, `\` or a control character (below 0x20),
/// by the classic "has a zero byte / a byte less than" tricks. Exact for the lowest such byte:
/// the bytes above it may be marked too (a borrow), so only "any" and "lowest" are meaningful.
/// JSON strings end or need a look only at these bytes, in writing as in reading (`scan.rs`).
#[inline(always)]
pub(crate) fn special_bytes(word: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGHS
}

fn push_ascii_escape(out: &mut Vec<u8>, b: u8) {
    let short: &[u8] = match b {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0x08 => b"\\b",
        0x0c => b"\\f",
        _ => return push_u_escape(out, u16::from(b)),
    };
    out.extend_from_slice(short);
}

fn push_u_escape(out: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((unit >> shift) & 15)]);
    }
}

/// Whether `s` is written in JSON as it is, between its quotes (nothing in it to escape).
pub(crate) fn is_plain_json(s: &str) -> bool {
    let mut quoted = Vec::with_capacity(s.len() + 2);
    push_str(&mut quoted, s);
    quoted.get(1..quoted.len() - 1) == Some(s.as_bytes())
}

/// An `"key":` prefix, once per key per request.
pub(crate) fn key_bytes(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 3);
    push_str(&mut out, key);
    out.push(b':');
    out
}

pub(crate) fn push_i64(out: &mut Vec<u8>, n: i64) {
    // serde_json's writer formats into the buffer, with no string in between; writing into a
    // `Vec` cannot fail.
    let _ = serde_json::to_writer(out, &n);
}

/// A finite float as serde_json writes it (`5.0`, `0.1`, `1e25`). Callers keep non-finite
/// values out.
pub(crate) fn push_f64(out: &mut Vec<u8>, f: f64) {
    match Number::from_f64(f) {
        Some(n) => push_number(out, &n),
        None => out.extend_from_slice(b"0"),
    }
}

pub(crate) fn push_number(out: &mut Vec<u8>, n: &Number) {
    // As `to_string` writes it (both format floats with ryu), straight into the buffer.
    let _ = serde_json::to_writer(out, n);
}

/// Any JSON value, objects keeping their order.
pub(crate) fn push_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => push_number(out, n),
        Value::String(s) => push_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_str(out, k);
                out.push(b':');
                push_value(out, item);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::to_php_json;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn matches_the_php_encoder() {
        let v = json!({"a/b": "x/y é \u{1F333} \"q\" \\ \n\t\u{1} \u{7f}", "n": [1, -2, 2.5, 12.0, 1e25, null, true]});
        let mut out = Vec::new();
        push_value(&mut out, &v);
        assert_eq!(out, to_php_json(&v, false));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_string_encodes_like_to_php_json(s in any::<String>()) {
            let mut out = Vec::new();
            push_str(&mut out, &s);
            prop_assert_eq!(out, to_php_json(&s, false));
        }

        #[test]
        fn mostly_ascii_strings_encode_like_to_php_json(s in "[ -~\"\\\\\\x00-\\x1f\\x7fé\u{1F333}]{0,40}") {
            // Escapes at every offset of the eight-byte words.
            let mut out = Vec::new();
            push_str(&mut out, &s);
            prop_assert_eq!(out, to_php_json(&s, false));
        }

        #[test]
        fn any_integer_encodes_like_to_string(n in any::<i64>(), u in any::<u64>()) {
            let mut out = Vec::new();
            push_i64(&mut out, n);
            prop_assert_eq!(out, n.to_string().into_bytes());
            let mut out = Vec::new();
            push_number(&mut out, &Number::from(u));
            prop_assert_eq!(out, u.to_string().into_bytes());
        }

        #[test]
        fn any_float_number_encodes_like_to_string(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let n = Number::from_f64(f).expect("finite");
            let mut out = Vec::new();
            push_number(&mut out, &n);
            prop_assert_eq!(out, n.to_string().into_bytes());
        }

        #[test]
        fn any_float_encodes_like_serde(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let mut out = Vec::new();
            push_f64(&mut out, f);
            prop_assert_eq!(out, to_php_json(&f, false));
        }
    }
}
