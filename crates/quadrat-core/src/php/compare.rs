//! PHP 8 loose comparison (`==`, `<`, `>`) of decoded JSON values.

use std::cmp::Ordering;

use serde_json::Value;

use super::numeric::is_numeric_str;
use super::values::truthy;

/// How PHP 8 writes a number it compares with a non-numeric string.
fn number_string(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", f as i64)
        }
        _ => n.to_string(),
    }
}

fn compare_strings(a: &str, b: &str) -> Ordering {
    match (is_numeric_str(a), is_numeric_str(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.as_bytes().cmp(b.as_bytes()),
    }
}

fn container_len(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

/// PHP 8 loose comparison (`<=>`) of two JSON values.
pub fn loose_compare(a: &Value, b: &Value) -> Ordering {
    use Value::{Bool, Null, Number, String};
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, String(s)) => compare_strings("", s),
        (String(s), Null) => compare_strings(s, ""),
        (Bool(_) | Null, _) | (_, Bool(_) | Null) => truthy(a).cmp(&truthy(b)),
        (Number(x), Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (String(x), String(y)) => compare_strings(x, y),
        (Number(n), String(s)) => match is_numeric_str(s) {
            Some(y) => n
                .as_f64()
                .unwrap_or(0.0)
                .partial_cmp(&y)
                .unwrap_or(Ordering::Equal),
            None => number_string(n).as_bytes().cmp(s.as_bytes()),
        },
        (String(_), Number(_)) => loose_compare(b, a).reverse(),
        _ => match (container_len(a), container_len(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Greater,
            _ => Ordering::Less,
        },
    }
}

/// PHP 8 `==`.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    loose_compare(a, b) == Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loose_comparison_matches_php_8() {
        assert_eq!(loose_compare(&json!("10"), &json!("9")), Ordering::Greater);
        assert_eq!(
            loose_compare(&json!("abc"), &json!("10")),
            Ordering::Greater
        );
        assert_eq!(loose_compare(&json!(0), &json!("abc")), Ordering::Less);
        assert!(loose_eq(&json!(null), &json!("")));
        assert!(loose_eq(&json!("1"), &json!("01")));
        assert!(!loose_eq(&json!(0), &json!("")));
        assert_eq!(loose_compare(&json!("5"), &json!(null)), Ordering::Greater);
    }
}
