//! The PHP value rules an upload is judged by, beside the shared ones of the definition
//! validator: how a scalar becomes a string, and Laravel's notion of a value's size.

use serde_json::Value;

pub use crate::definition::validate::php::{
    is_blank_string, is_empty, is_filled, is_truthy, loose_eq, numeric_str, numeric_value, trim,
};

/// How PHP writes a float as a string (`serialize_precision` -1): shortest round-trip digits,
/// integral values without a fraction, exponents from 1e15 up and below 1e-4.
pub fn float_string(f: f64) -> String {
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

/// A scalar as PHP casts it to a string; `None` for null, lists and objects.
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => float_string(n.as_f64().unwrap_or(0.0)),
        }),
        Value::Bool(true) => Some("1".into()),
        Value::Bool(false) => Some(String::new()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Laravel's size of a value without a numeric rule: items of a container, else the
/// character count of its string form.
pub fn size(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        other => scalar_string(other).map_or(0, |s| s.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_php() {
        assert_eq!(float_string(37.0), "37");
        assert_eq!(float_string(1.5), "1.5");
        assert_eq!(float_string(1e20), "1.0E+20");
        assert_eq!(float_string(1.5e-5), "1.5E-5");
        assert_eq!(scalar_string(&json!(12)), Some("12".into()));
        assert_eq!(scalar_string(&json!(true)), Some("1".into()));
        assert_eq!(size(&json!([1, 2])), 2);
        assert_eq!(size(&json!("héllo")), 5);
    }
}
