//! `trim()`, `empty()` and truthiness.

use serde_json::Value;

/// The characters PHP's `trim()` strips by default: space, tab, LF, CR, NUL and vertical tab.
/// Not Unicode whitespace: `str::trim` would also strip form feeds and no-break spaces, and that
/// changes mapped keys and which values Laravel skips.
const TRIMMED: [char; 6] = [' ', '\t', '\n', '\r', '\0', '\u{0B}'];

/// `trim($s)` with the default character list.
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c| TRIMMED.contains(&c))
}

/// `empty($s)` for a string: `""` and `"0"`.
pub fn empty_str(s: &str) -> bool {
    s.is_empty() || s == "0"
}

/// `empty($v)` of a decoded JSON value. An empty object is an empty PHP array.
pub fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => empty_str(s),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// PHP truthiness, `(bool)$v` or `if ($v)`: the opposite of [`empty`].
pub fn truthy(v: &Value) -> bool {
    !empty(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trims_only_php_whitespace() {
        assert_eq!(trim(" \t\n\r\0\u{0B}a b\n"), "a b");
        assert_eq!(trim("\u{0C}a\u{A0}"), "\u{0C}a\u{A0}");
    }

    #[test]
    fn empty_and_truthy_follow_php() {
        assert!(empty(&json!("0")));
        assert!(!empty(&json!(" ")));
        assert!(empty_str(""));
        assert!(!empty_str("0.0"));
        assert!(truthy(&json!("0.0")));
        assert!(!truthy(&json!("0")));
        assert!(!truthy(&json!({})));
        assert!(!truthy(&json!(0.0)));
        assert!(!truthy(&json!(null)));
        assert!(truthy(&json!([0])));
    }
}
