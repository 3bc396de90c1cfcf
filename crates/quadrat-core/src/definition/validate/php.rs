//! The PHP and Laravel value semantics the real validators rely on: `empty()`, `trim()`,
//! `is_numeric()`, loose comparison, `FILTER_VALIDATE_INT`, and Laravel's `required` and
//! `boolean` rules. Reproducing them keeps Quadrat accepting and refusing the same values.

use std::cmp::Ordering;

use serde_json::Value;

/// PHP `trim()` with its default character list.
pub fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0B'])
}

/// PHP `empty()`.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty() || s == "0",
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// PHP truthiness (`if ($value)`).
pub fn is_truthy(v: &Value) -> bool {
    !is_empty(v)
}

/// A string Laravel treats as "not filled": non-implicit rules are skipped for it.
pub fn is_blank_string(v: &Value) -> bool {
    v.as_str().is_some_and(|s| trim(s).is_empty())
}

/// Laravel's `required` rule on a value that may be absent.
pub fn is_filled(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !trim(s).is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// Laravel's `boolean` rule: strictly one of `true, false, 0, 1, "0", "1"`. Blank strings pass
/// because Laravel does not run non-implicit rules on them.
pub fn passes_boolean_rule(v: &Value) -> bool {
    match v {
        Value::Bool(_) => true,
        Value::Number(n) => matches!(n.as_i64(), Some(0 | 1)),
        Value::String(s) => s == "0" || s == "1" || trim(s).is_empty(),
        _ => false,
    }
}

/// PHP 8 `is_numeric()` on a string, with its value.
pub fn numeric_str(s: &str) -> Option<f64> {
    let ws = [' ', '\t', '\n', '\r', '\x0B', '\x0C'];
    let t = s.trim_matches(ws);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) || int_part.len() + frac_part.len() == 0 {
        return None;
    }
    if let Some(exp) = exponent {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if digits.is_empty() || !all_digits(digits) {
            return None;
        }
    }
    t.parse::<f64>().ok()
}

/// PHP `is_numeric()` on any JSON value, with its value.
pub fn numeric_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => numeric_str(s),
        _ => None,
    }
}

/// `filter_var($v, FILTER_VALIDATE_INT)`: an integer without leading zeros, optionally signed
/// and surrounded by whitespace; integral floats and `true` convert the way PHP casts them.
pub fn filter_int(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(true) => Some(1),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => filter_int_str(s),
        _ => None,
    }
}

fn filter_int_str(s: &str) -> Option<i64> {
    let t = s.trim_matches([' ', '\t', '\n', '\r', '\x0B']);
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let well_formed = digits == "0"
        || (digits.starts_with(|c: char| ('1'..='9').contains(&c))
            && digits.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return None;
    }
    t.strip_prefix('+').unwrap_or(t).parse::<i64>().ok()
}

/// How PHP writes a number when it needs it as a string.
fn number_string(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", f as i64)
        }
        _ => n.to_string(),
    }
}

fn compare_strings(a: &str, b: &str) -> Ordering {
    match (numeric_str(a), numeric_str(b)) {
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

/// PHP 8 loose comparison (`<`, `>`, `==`) of two JSON values.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    use Value::{Bool, Null, Number, String};
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, String(s)) => compare_strings("", s),
        (String(s), Null) => compare_strings(s, ""),
        (Bool(_) | Null, _) | (_, Bool(_) | Null) => is_truthy(a).cmp(&is_truthy(b)),
        (Number(x), Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (String(x), String(y)) => compare_strings(x, y),
        (Number(n), String(s)) => match numeric_str(s) {
            Some(y) => n
                .as_f64()
                .unwrap_or(0.0)
                .partial_cmp(&y)
                .unwrap_or(Ordering::Equal),
            None => number_string(n).as_bytes().cmp(s.as_bytes()),
        },
        (String(_), Number(_)) => compare(b, a).reverse(),
        _ => match (container_len(a), container_len(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Greater,
            _ => Ordering::Less,
        },
    }
}

/// PHP 8 `==`.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    compare(a, b) == Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_strings_follow_php_8() {
        for ok in ["1", " 1", "1 ", "-1.5", ".5", "5.", "1e3", "+2E-2"] {
            assert!(numeric_str(ok).is_some(), "{ok}");
        }
        for bad in ["", " ", ".", "abc", "1a", "0x1A", "inf", "NaN", "1e", "--1"] {
            assert!(numeric_str(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn filter_int_refuses_leading_zeros_and_fractions() {
        assert_eq!(filter_int(&json!("42")), Some(42));
        assert_eq!(filter_int(&json!(" -7 ")), Some(-7));
        assert_eq!(filter_int(&json!(5.0)), Some(5));
        assert_eq!(filter_int(&json!("05")), None);
        assert_eq!(filter_int(&json!("1.0")), None);
        assert_eq!(filter_int(&json!(null)), None);
        assert_eq!(filter_int(&json!("99999999999999999999")), None);
    }

    #[test]
    fn loose_comparison_matches_php_8() {
        assert_eq!(compare(&json!("10"), &json!("9")), Ordering::Greater);
        assert_eq!(compare(&json!("abc"), &json!("10")), Ordering::Greater);
        assert_eq!(compare(&json!(0), &json!("abc")), Ordering::Less);
        assert!(loose_eq(&json!(null), &json!("")));
        assert!(loose_eq(&json!("1"), &json!("01")));
        assert!(!loose_eq(&json!(0), &json!("")));
        assert_eq!(compare(&json!("5"), &json!(null)), Ordering::Greater);
    }

    #[test]
    fn empty_and_boolean_rule() {
        assert!(is_empty(&json!("0")));
        assert!(!is_empty(&json!(" ")));
        assert!(passes_boolean_rule(&json!("1")));
        assert!(passes_boolean_rule(&json!("")));
        assert!(!passes_boolean_rule(&json!("true")));
        assert!(!passes_boolean_rule(&json!(1.0)));
        assert!(!passes_boolean_rule(&json!(null)));
    }
}
