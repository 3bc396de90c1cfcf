//! Values written as strings. PHP has two float writers: `(string)$f`, `strval` and `echo` use
//! the `precision` setting (14 significant digits by default), while `serialize_precision = -1`
//! gives the shortest digits that read back as the same float. Which one a call site needs is
//! in the function's name.

use serde_json::{Number, Value};

/// `(string)$v` (`strval($v)`) of a decoded JSON value with floats at `precision = 14`: `null`
/// and `false` are `""`, `true` is `"1"`. `None` for arrays and objects (PHP's `"Array"` or a
/// `TypeError`).
pub fn strval_precision14(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(false) => Some(String::new()),
        Value::Bool(true) => Some("1".into()),
        Value::Number(n) => Some(
            integer_text(n).unwrap_or_else(|| strval_float_precision14(n.as_f64().unwrap_or(0.0))),
        ),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// `is_scalar($v) ? (string)$v : null` with floats at `serialize_precision = -1`
/// ([`strval_float_serialize_precision`]): `None` for `null`, arrays and objects, which PHP's
/// `is_scalar` refuses.
pub fn strval_scalar_serialize_precision(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(
            integer_text(n)
                .unwrap_or_else(|| strval_float_serialize_precision(n.as_f64().unwrap_or(0.0))),
        ),
        Value::Bool(true) => Some("1".into()),
        Value::Bool(false) => Some(String::new()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `(string)$v` of a decoded JSON value with floats in plain decimal: the shortest round-trip
/// digits, never an exponent (`1e20` is `"100000000000000000000"`, where PHP writes
/// `"1.0E+20"`). `null` and `false` are `""`; `None` for arrays and objects. The derived
/// definition metadata (form names, questions, refs as keys) has always used it. Its floats
/// are those of [`strval_float_serialize_precision`] except from 1e15 up and below 1e-4;
/// PHP's own `(string)` would also round them to 14 digits ([`strval_float_precision14`]).
pub fn strval_plain_decimal(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(false) => Some(String::new()),
        Value::Bool(true) => Some("1".into()),
        Value::Number(n) => Some(match (integer_text(n), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) => f.to_string(),
            (None, None) => n.to_string(),
        }),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A JSON integer (signed or unsigned 64-bit) in decimal; `None` for a float.
fn integer_text(n: &Number) -> Option<String> {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => Some(i.to_string()),
        (_, Some(u)) => Some(u.to_string()),
        _ => None,
    }
}

/// `(string)$f` with PHP's default `precision = 14` (`php_gcvt`), as `strval`, `echo` and string
/// interpolation write a float: at most 14 significant digits,
/// no trailing zeros, exponent form `1.0E+25` when the exponent is below -4 or above 14.
pub fn strval_float_precision14(f: f64) -> String {
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

/// A float written with `serialize_precision = -1` (as `var_dump` prints it, and as `(string)`
/// writes it when `precision` is -1): the shortest round-trip digits, integral values without a
/// fraction, exponent form `1.0E+20` from 1e15 up and below 1e-4.
pub fn strval_float_serialize_precision(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NAN".into()
        } else if f > 0.0 {
            "INF".into()
        } else {
            "-INF".into()
        };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e15).contains(&abs) {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        let exp: i32 = exp.parse().unwrap_or(0);
        return format!(
            "{mantissa}E{}{}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    if f.fract() == 0.0 {
        return format!("{}", f as i64);
    }
    f.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_php_precision_14() {
        let s = strval_float_precision14;
        assert_eq!(s(5.0), "5");
        assert_eq!(s(3.5), "3.5");
        assert_eq!(s(0.1), "0.1");
        assert_eq!(s(1.0 / 3.0), "0.33333333333333");
        assert_eq!(s(51.498765), "51.498765");
        assert_eq!(s(-0.174877), "-0.174877");
        assert_eq!(s(0.0001), "0.0001");
        assert_eq!(s(0.00001), "1.0E-5");
        assert_eq!(s(1e14), "1.0E+14");
        assert_eq!(s(99999999999999.0), "99999999999999");
        assert_eq!(s(1.5e25), "1.5E+25");
        assert_eq!(s(123456789012345.0), "1.2345678901234E+14");
        assert_eq!(s(0.0), "0");
        assert_eq!(s(-0.0), "-0");
        assert_eq!(s(-2.5), "-2.5");
        assert_eq!(s(f64::INFINITY), "INF");
    }

    #[test]
    fn floats_print_like_php_serialize_precision() {
        let s = strval_float_serialize_precision;
        assert_eq!(s(37.0), "37");
        assert_eq!(s(1.5), "1.5");
        assert_eq!(s(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(s(1e20), "1.0E+20");
        assert_eq!(s(1.5e-5), "1.5E-5");
    }

    #[test]
    fn the_three_value_writers_differ_where_their_names_say() {
        let third = json!(1.0 / 3.0);
        assert_eq!(strval_precision14(&third).unwrap(), "0.33333333333333");
        assert_eq!(
            strval_scalar_serialize_precision(&third).unwrap(),
            "0.3333333333333333"
        );
        assert_eq!(
            strval_plain_decimal(&json!(1e20)).unwrap(),
            "100000000000000000000"
        );
        assert_eq!(strval_precision14(&json!(null)), Some(String::new()));
        assert_eq!(strval_plain_decimal(&json!(null)), Some(String::new()));
        assert_eq!(strval_scalar_serialize_precision(&json!(null)), None);
        for v in [
            json!(12),
            json!(true),
            json!(false),
            json!("x"),
            json!(u64::MAX),
        ] {
            let expected = strval_precision14(&v);
            assert_eq!(strval_scalar_serialize_precision(&v), expected);
            assert_eq!(strval_plain_decimal(&v), expected);
        }
        assert_eq!(strval_precision14(&json!(true)).unwrap(), "1");
        assert_eq!(strval_precision14(&json!([1])), None);
        assert_eq!(strval_scalar_serialize_precision(&json!({})), None);
        assert_eq!(strval_plain_decimal(&json!([1])), None);
        assert_eq!(strval_plain_decimal(&json!(1.5)).unwrap(), "1.5");
    }
}
