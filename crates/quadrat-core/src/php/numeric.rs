//! Numbers in strings: PHP 8's `is_numeric()`, `filter_var(…, FILTER_VALIDATE_INT)`, and the
//! `floatval()` and `(int)` casts.

use serde_json::Value;

/// `filter_var($s, FILTER_VALIDATE_INT)` on a string: surrounding blanks allowed, an optional
/// sign, no leading zeros, within 64 bits. Laravel's `integer` rule and the paginator's page
/// both use it.
pub fn filter_validate_int_str(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\u{0B}' | '\n'));
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    // Parsing with the sign keeps i64::MIN representable.
    if negative {
        format!("-{digits}").parse().ok()
    } else {
        digits.parse().ok()
    }
}

/// The whitespace PHP 8 allows around a numeric string.
fn is_numeric_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}')
}

/// PHP 8's `is_numeric($s)` on a string, with the value when it is: optional surrounding
/// whitespace, a sign, digits with an optional fraction, an optional exponent. No hex, no `inf`.
pub fn is_numeric_str(s: &str) -> Option<f64> {
    let t = s.trim_matches(is_numeric_ws);
    let (len, _) = numeric_prefix(t);
    if len == 0 || len != t.len() {
        return None;
    }
    t.parse::<f64>().ok()
}

/// The length of the longest numeric prefix of `s` (no leading whitespace) and whether it is a
/// plain integer (no fraction, no exponent).
fn numeric_prefix(s: &str) -> (usize, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    let mut integer = true;
    if i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        frac_digits = j - i - 1;
        if int_digits + frac_digits > 0 {
            i = j;
            integer = false;
        }
    }
    if int_digits + frac_digits == 0 {
        return (0, true);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
            integer = false;
        }
    }
    (i, integer)
}

/// `floatval($s)`: the leading numeric part of the string after leading whitespace, else 0.
pub fn floatval_str(s: &str) -> f64 {
    let t = s.trim_start_matches(is_numeric_ws);
    let (len, _) = numeric_prefix(t);
    t[..len].parse::<f64>().unwrap_or(0.0)
}

/// `(int)$s`: the leading numeric part (an exponent or fraction read as a float and truncated),
/// capped at the 64-bit limits as PHP caps numeric strings.
pub fn intval_str(s: &str) -> i64 {
    let t = s.trim_start_matches(is_numeric_ws);
    let (len, integer) = numeric_prefix(t);
    let prefix = &t[..len];
    if len == 0 {
        return 0;
    }
    if integer {
        return prefix.parse::<i64>().unwrap_or_else(|_| {
            if prefix.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            }
        });
    }
    intval_float(prefix.parse::<f64>().unwrap_or(0.0))
}

/// `(int)$f`, a float cast to int: truncated; NaN and infinities are 0 as in PHP; beyond 64
/// bits capped.
pub fn intval_float(f: f64) -> i64 {
    if f.is_finite() { f as i64 } else { 0 }
}

/// `is_numeric($v)` of a decoded JSON value, with the value when it is: numbers, and strings
/// [`is_numeric_str`] accepts.
pub fn is_numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => is_numeric_str(s),
        _ => None,
    }
}

/// `filter_var($v, FILTER_VALIDATE_INT)` of a decoded JSON value: strings as
/// [`filter_validate_int_str`] reads them; integral floats and `true` convert the way PHP casts
/// them.
pub fn filter_validate_int(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(true) => Some(1),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => filter_validate_int_str(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_int_follows_php() {
        assert_eq!(filter_validate_int_str("12"), Some(12));
        assert_eq!(filter_validate_int_str(" 12\n"), Some(12));
        assert_eq!(filter_validate_int_str("+7"), Some(7));
        assert_eq!(filter_validate_int_str("-0"), Some(0));
        assert_eq!(filter_validate_int_str("0"), Some(0));
        assert_eq!(filter_validate_int_str("007"), None);
        assert_eq!(filter_validate_int_str("1.0"), None);
        assert_eq!(filter_validate_int_str(""), None);
        assert_eq!(filter_validate_int_str("-"), None);
        assert_eq!(filter_validate_int_str("1e3"), None);
        assert_eq!(filter_validate_int_str("99999999999999999999"), None);
        assert_eq!(
            filter_validate_int_str("-9223372036854775808"),
            Some(i64::MIN)
        );
        assert_eq!(filter_validate_int_str("\u{0C}1"), None);
    }

    #[test]
    fn filter_int_of_values_converts_like_php() {
        assert_eq!(filter_validate_int(&json!("42")), Some(42));
        assert_eq!(filter_validate_int(&json!(" -7 ")), Some(-7));
        assert_eq!(filter_validate_int(&json!(5.0)), Some(5));
        assert_eq!(filter_validate_int(&json!(true)), Some(1));
        assert_eq!(filter_validate_int(&json!("05")), None);
        assert_eq!(filter_validate_int(&json!("1.0")), None);
        assert_eq!(filter_validate_int(&json!(null)), None);
        assert_eq!(filter_validate_int(&json!("99999999999999999999")), None);
    }

    #[test]
    fn numeric_strings_follow_php8() {
        assert_eq!(is_numeric_str("1"), Some(1.0));
        assert_eq!(is_numeric_str(" 1.0 "), Some(1.0));
        assert_eq!(is_numeric_str("-.5"), Some(-0.5));
        assert_eq!(is_numeric_str("5."), Some(5.0));
        assert_eq!(is_numeric_str("1e3"), Some(1000.0));
        assert_eq!(is_numeric_str("+2E-2"), Some(0.02));
        for bad in [
            "", " ", ".", "abc", "1a", "0x1A", "inf", "NaN", "1e", "--1", "1abc",
        ] {
            assert_eq!(is_numeric_str(bad), None, "{bad}");
        }
        assert_eq!(is_numeric(&json!(2.5)), Some(2.5));
        assert_eq!(is_numeric(&json!("2")), Some(2.0));
        assert_eq!(is_numeric(&json!(true)), None);
    }

    #[test]
    fn casts_follow_php() {
        assert_eq!(intval_str("37"), 37);
        assert_eq!(intval_str(" 12abc"), 12);
        assert_eq!(intval_str("1e3"), 1000);
        assert_eq!(intval_str("3.9"), 3);
        assert_eq!(intval_str("abc"), 0);
        assert_eq!(intval_str("99999999999999999999"), i64::MAX);
        assert_eq!(intval_str("-99999999999999999999"), i64::MIN);
        assert_eq!(floatval_str("3.5kg"), 3.5);
        assert_eq!(floatval_str(".5"), 0.5);
        assert_eq!(floatval_str("x"), 0.0);
        assert_eq!(intval_float(f64::NAN), 0);
    }
}
