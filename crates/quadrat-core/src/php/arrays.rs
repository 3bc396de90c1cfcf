//! Decoded JSON as PHP arrays: how a value becomes an array key, how `foreach` walks a value,
//! how a key indexes a list, and array literals.

use serde_json::Value;

use super::strval::strval_plain_decimal;

/// A value used as an array key (a ref, an answer ref), written as
/// [`strval_plain_decimal`]. Containers cannot be keys in PHP; they only occur in definitions
/// that fail validation and map to the empty key.
pub fn array_key(v: Option<&Value>) -> String {
    v.and_then(strval_plain_decimal).unwrap_or_default()
}

/// The items `foreach` visits: a JSON array's items or a JSON object's values (both are PHP
/// arrays once decoded); nothing for scalars.
pub fn foreach_values(v: Option<&Value>) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Some(Value::Array(list)) => Box::new(list.iter()),
        Some(Value::Object(map)) => Box::new(map.values()),
        _ => Box::new(std::iter::empty()),
    }
}

/// The `(key, value)` pairs `foreach ($v as $key => $value)` visits: a JSON object's entries, a
/// JSON list's items keyed `"0".."n"`, nothing for scalars.
pub fn foreach_pairs(container: &Value) -> Vec<(String, &Value)> {
    match container {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    }
}

/// `$container[$key]`, for a JSON object or a JSON list (keyed `0..n`).
pub fn array_get<'a>(container: &'a Value, key: &str) -> Option<&'a Value> {
    match container {
        Value::Object(map) => map.get(key),
        Value::Array(list) => integer_key(key).and_then(|i| list.get(i)),
        _ => None,
    }
}

/// A key PHP turns into an integer key: a canonical non-negative decimal (`"0"`, `"12"`, not
/// `"01"` or `"+1"`).
pub fn integer_key(key: &str) -> Option<usize> {
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
pub fn assoc<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys() {
        assert_eq!(array_key(Some(&json!(12))), "12");
        assert_eq!(array_key(Some(&json!(1.5))), "1.5");
        assert_eq!(array_key(Some(&json!(true))), "1");
        assert_eq!(array_key(None), "");
        assert_eq!(array_key(Some(&json!({"a": 1}))), "");
    }

    #[test]
    fn integer_keys() {
        assert_eq!(integer_key("0"), Some(0));
        assert_eq!(integer_key("12"), Some(12));
        assert_eq!(integer_key("01"), None);
        assert_eq!(integer_key("+1"), None);
        assert_eq!(integer_key(""), None);
        assert_eq!(integer_key("-1"), None);
        assert_eq!(integer_key("99999999999999999999999"), None);
        assert_eq!(array_get(&json!(["a", "b"]), "1"), Some(&json!("b")));
        assert_eq!(array_get(&json!({"1": "x"}), "1"), Some(&json!("x")));
        assert_eq!(array_get(&json!("s"), "0"), None);
    }
}
