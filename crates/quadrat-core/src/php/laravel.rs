//! The Laravel validation rules the real validators rely on, on PHP values: a blank string
//! skips the non-implicit rules, `required`, `boolean`, and a value's `size`.

use serde_json::Value;

use super::strval::strval_scalar_serialize_precision;
use super::values::trim;

/// A string Laravel treats as "not filled": non-implicit rules are skipped for it.
pub fn is_blank_string(v: &Value) -> bool {
    v.as_str().is_some_and(|s| trim(s).is_empty())
}

/// The `required` rule on a value that may be absent.
pub fn required(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !trim(s).is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// The `boolean` rule: strictly one of `true, false, 0, 1, "0", "1"`. Blank strings pass
/// because Laravel does not run non-implicit rules on them.
pub fn boolean(v: &Value) -> bool {
    match v {
        Value::Bool(_) => true,
        Value::Number(n) => matches!(n.as_i64(), Some(0 | 1)),
        Value::String(s) => s == "0" || s == "1" || trim(s).is_empty(),
        _ => false,
    }
}

/// The size of a value without a numeric rule (`size`, `max`): items of a container, else the
/// character count of its string form.
pub fn size(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        other => strval_scalar_serialize_precision(other).map_or(0, |s| s.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn required_and_boolean_rules() {
        assert!(!required(None));
        assert!(!required(Some(&json!(" "))));
        assert!(required(Some(&json!(0))));
        assert!(boolean(&json!("1")));
        assert!(boolean(&json!("")));
        assert!(!boolean(&json!("true")));
        assert!(!boolean(&json!(1.0)));
        assert!(!boolean(&json!(null)));
    }

    #[test]
    fn sizes() {
        assert_eq!(size(&json!([1, 2])), 2);
        assert_eq!(size(&json!("héllo")), 5);
        assert_eq!(size(&json!(12)), 2);
        assert_eq!(size(&json!(null)), 0);
    }
}
