//! Writing JSON straight into a byte buffer, encoded as [`crate::json::to_php_json`] encodes
//! success bodies: non-ASCII as `\uXXXX`, `/` unescaped, floats in their shortest round-trip
//! form with whole floats keeping `.0`.

use serde_json::{Number, Value};

/// A JSON string with PHP's escaping.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let short: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '\u{08}' => Some(b"\\b"),
            '\u{0C}' => Some(b"\\f"),
            _ => None,
        };
        let plain = short.is_none() && (c == '\u{7f}' || (' '..='\u{7e}').contains(&c));
        if plain {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match short {
            Some(esc) => out.extend_from_slice(esc),
            None => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[usize::from((*unit >> shift) & 15)]);
                    }
                }
            }
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
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
