//! The PHP value rules the export reproduces: which strings count as integers or numbers, what is
//! "empty" or "truthy", how a value is cast to int, float or string, and how floats and URLs are
//! written. Each function names the PHP behaviour it follows.

use serde_json::Value;

/// The characters PHP's `trim()` strips by default. Laravel skips every validation rule of a
/// parameter whose value trims to nothing.
const TRIM: [char; 6] = [' ', '\t', '\n', '\r', '\0', '\u{0B}'];

pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(|c| TRIM.contains(&c))
}

/// PHP's `empty()` on a string: `""` and `"0"`.
pub(crate) fn is_empty_str(s: &str) -> bool {
    s.is_empty() || s == "0"
}

/// `filter_var($s, FILTER_VALIDATE_INT)`: surrounding blanks allowed, an optional sign, no
/// leading zeros, within 64 bits. Laravel's `integer` rule and the paginator's page both use it.
pub(crate) fn filter_int(s: &str) -> Option<i64> {
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

/// PHP 8's `is_numeric()` on a string, with the value: optional surrounding whitespace, a sign,
/// digits with an optional fraction, an optional exponent. No hex, no `inf`.
pub(crate) fn numeric_value(s: &str) -> Option<f64> {
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
pub(crate) fn string_to_float(s: &str) -> f64 {
    let t = s.trim_start_matches(is_numeric_ws);
    let (len, _) = numeric_prefix(t);
    t[..len].parse::<f64>().unwrap_or(0.0)
}

/// `(int)$s`: the leading numeric part (an exponent or fraction read as a float and truncated),
/// capped at the 64-bit limits as PHP caps numeric strings.
pub(crate) fn string_to_int(s: &str) -> i64 {
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
    float_to_int(prefix.parse::<f64>().unwrap_or(0.0))
}

/// A float cast to int: truncated; NaN and infinities are 0 as in PHP; beyond 64 bits capped.
pub(crate) fn float_to_int(f: f64) -> i64 {
    if f.is_finite() { f as i64 } else { 0 }
}

/// PHP truthiness of a decoded JSON value (`if ($v)`). An empty object is an empty PHP array.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !is_empty_str(s),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `(string)$v` for a scalar, with floats at PHP's default `precision` (14 significant
/// digits); `None` for arrays and objects.
pub(crate) fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(false) => Some(String::new()),
        Value::Bool(true) => Some("1".into()),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => i.to_string(),
            None => match n.as_u64() {
                Some(u) => u.to_string(),
                None => float_string(n.as_f64().unwrap_or(0.0)),
            },
        }),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A float as PHP writes it with `precision = 14` (`php_gcvt`): at most 14 significant digits,
/// no trailing zeros, exponent form `1.0E+25` when the exponent is below -4 or above 14.
pub(crate) fn float_string(f: f64) -> String {
    if f.is_nan() {
        return "NAN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF".into() } else { "-INF".into() };
    }
    const PRECISION: i32 = 14;
    // `{:.13e}` gives exactly 14 significant digits, correctly rounded.
    let formatted = format!("{:.*e}", (PRECISION - 1) as usize, f.abs());
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut out = String::with_capacity(24);
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        out.push('0');
        return out;
    }
    // The decimal point sits after `decpt` digits.
    let decpt = exponent + 1;
    if !(-3..=PRECISION).contains(&decpt) {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&exponent.abs().to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in decpt..0 {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let decpt = decpt as usize;
        if digits.len() <= decpt {
            out.push_str(&digits);
            for _ in digits.len()..decpt {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..decpt]);
            out.push('.');
            out.push_str(&digits[decpt..]);
        }
    }
    out
}

/// `rawurlencode` (RFC 3986): everything but `A-Z a-z 0-9 - _ . ~` as `%XX`.
pub(crate) fn push_rawurlencoded(out: &mut String, s: &str) {
    push_encoded(out, s, false);
}

/// `urlencode` (form encoding): everything but `A-Z a-z 0-9 - _ .` as `%XX`, space as `+`.
pub(crate) fn push_urlencoded(out: &mut String, s: &str) {
    push_encoded(out, s, true);
}

fn push_encoded(out: &mut String, s: &str, form: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        let keep =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') || (!form && b == b'~');
        if keep {
            out.push(char::from(b));
        } else if form && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_int_follows_php() {
        assert_eq!(filter_int("12"), Some(12));
        assert_eq!(filter_int(" 12\n"), Some(12));
        assert_eq!(filter_int("+7"), Some(7));
        assert_eq!(filter_int("-0"), Some(0));
        assert_eq!(filter_int("0"), Some(0));
        assert_eq!(filter_int("007"), None);
        assert_eq!(filter_int("1.0"), None);
        assert_eq!(filter_int(""), None);
        assert_eq!(filter_int("-"), None);
        assert_eq!(filter_int("1e3"), None);
        assert_eq!(filter_int("99999999999999999999"), None);
        assert_eq!(filter_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(filter_int("\u{0C}1"), None);
    }

    #[test]
    fn numeric_strings_follow_php8() {
        assert_eq!(numeric_value("1"), Some(1.0));
        assert_eq!(numeric_value(" 1.0 "), Some(1.0));
        assert_eq!(numeric_value("-.5"), Some(-0.5));
        assert_eq!(numeric_value("5."), Some(5.0));
        assert_eq!(numeric_value("1e3"), Some(1000.0));
        assert_eq!(numeric_value("1e"), None);
        assert_eq!(numeric_value("."), None);
        assert_eq!(numeric_value("0x1A"), None);
        assert_eq!(numeric_value("1abc"), None);
        assert_eq!(numeric_value("inf"), None);
        assert_eq!(numeric_value(""), None);
    }

    #[test]
    fn casts_follow_php() {
        assert_eq!(string_to_int("37"), 37);
        assert_eq!(string_to_int(" 12abc"), 12);
        assert_eq!(string_to_int("1e3"), 1000);
        assert_eq!(string_to_int("3.9"), 3);
        assert_eq!(string_to_int("abc"), 0);
        assert_eq!(string_to_int("99999999999999999999"), i64::MAX);
        assert_eq!(string_to_int("-99999999999999999999"), i64::MIN);
        assert_eq!(string_to_float("3.5kg"), 3.5);
        assert_eq!(string_to_float(".5"), 0.5);
        assert_eq!(string_to_float("x"), 0.0);
        assert_eq!(float_to_int(f64::NAN), 0);
        assert!(truthy(&json!("0.0")));
        assert!(!truthy(&json!("0")));
        assert!(!truthy(&json!({})));
        assert!(!truthy(&json!(0.0)));
    }

    #[test]
    fn floats_print_like_php_precision_14() {
        assert_eq!(float_string(5.0), "5");
        assert_eq!(float_string(3.5), "3.5");
        assert_eq!(float_string(0.1), "0.1");
        assert_eq!(float_string(1.0 / 3.0), "0.33333333333333");
        assert_eq!(float_string(51.498765), "51.498765");
        assert_eq!(float_string(-0.174877), "-0.174877");
        assert_eq!(float_string(0.0001), "0.0001");
        assert_eq!(float_string(0.00001), "1.0E-5");
        assert_eq!(float_string(1e14), "1.0E+14");
        assert_eq!(float_string(99999999999999.0), "99999999999999");
        assert_eq!(float_string(1.5e25), "1.5E+25");
        assert_eq!(float_string(123456789012345.0), "1.2345678901234E+14");
        assert_eq!(float_string(0.0), "0");
        assert_eq!(float_string(-0.0), "-0");
        assert_eq!(float_string(-2.5), "-2.5");
        assert_eq!(float_string(f64::INFINITY), "INF");
    }

    #[test]
    fn url_encodings() {
        let mut raw = String::new();
        push_rawurlencoded(&mut raw, "a b:~/é");
        assert_eq!(raw, "a%20b%3A~%2F%C3%A9");
        let mut form = String::new();
        push_urlencoded(&mut form, "a b:~_.-");
        assert_eq!(form, "a+b%3A%7E_.-");
    }
}
