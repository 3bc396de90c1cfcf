//! The few PHP value rules the derived metadata depends on: how a value becomes an array key or a
//! string, what `trim` strips, and how `foreach` walks a decoded JSON value.

use serde_json::Value;

/// The characters PHP's `trim` strips by default: space, tab, LF, CR, NUL and vertical tab. Not
/// Unicode whitespace: `str::trim` would also strip form feeds and no-break spaces, and that
/// changes mapped keys.
const TRIMMED: [char; 6] = [' ', '\t', '\n', '\r', '\0', '\u{0B}'];

pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(|c| TRIMMED.contains(&c))
}

/// A scalar as PHP casts it to a string; `None` for arrays and objects (a `TypeError` in PHP).
pub(crate) fn to_string(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(false) => Some(String::new()),
        Value::Bool(true) => Some("1".into()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        }),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A value used as an array key (a ref, an answer ref). Containers cannot be keys in PHP; they
/// only occur in definitions that fail validation and map to the empty key.
pub(crate) fn key(v: Option<&Value>) -> String {
    v.and_then(to_string).unwrap_or_default()
}

/// PHP's `empty()` for a string-ish value: `""` and `"0"` are empty.
pub(crate) fn is_empty_str(s: &str) -> bool {
    s.is_empty() || s == "0"
}

/// The items `foreach` visits: a JSON array's items or a JSON object's values (both are PHP
/// arrays once decoded); nothing for scalars.
pub(crate) fn items(v: Option<&Value>) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Some(Value::Array(list)) => Box::new(list.iter()),
        Some(Value::Object(map)) => Box::new(map.values()),
        _ => Box::new(std::iter::empty()),
    }
}

/// The value stored under a PHP array key, for a JSON object or a JSON list (keyed `0..n`).
pub(crate) fn lookup<'a>(container: &'a Value, key: &str) -> Option<&'a Value> {
    match container {
        Value::Object(map) => map.get(key),
        Value::Array(list) => canonical_index(key).and_then(|i| list.get(i)),
        _ => None,
    }
}

/// A key PHP turns into an integer key: a canonical non-negative decimal (`"0"`, `"12"`, not
/// `"01"` or `"+1"`).
pub(crate) fn canonical_index(key: &str) -> Option<usize> {
    let canonical =
        key == "0" || (!key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit()));
    if canonical && !key.is_empty() {
        key.parse().ok()
    } else {
        None
    }
}

/// A PHP array literal `['key' => value, …]` as a JSON object. Unlike `json!`, which serialises
/// every embedded `Value` again, it moves the values in.
pub(crate) fn assoc<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
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
    fn casts_and_keys() {
        assert_eq!(to_string(&json!(12)), Some("12".into()));
        assert_eq!(to_string(&json!(1.5)), Some("1.5".into()));
        assert_eq!(to_string(&json!(true)), Some("1".into()));
        assert_eq!(to_string(&json!([1])), None);
        assert_eq!(key(None), "");
        assert_eq!(key(Some(&json!({"a": 1}))), "");
    }

    #[test]
    fn integer_keys() {
        assert_eq!(canonical_index("0"), Some(0));
        assert_eq!(canonical_index("12"), Some(12));
        assert_eq!(canonical_index("01"), None);
        assert_eq!(canonical_index("+1"), None);
        assert_eq!(canonical_index(""), None);
        assert_eq!(canonical_index("-1"), None);
        assert_eq!(canonical_index("99999999999999999999999"), None);
        assert_eq!(lookup(&json!(["a", "b"]), "1"), Some(&json!("b")));
        assert_eq!(lookup(&json!({"1": "x"}), "1"), Some(&json!("x")));
        assert_eq!(lookup(&json!("s"), "0"), None);
    }
}
