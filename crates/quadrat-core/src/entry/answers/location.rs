//! Location answers: latitude, longitude and accuracy read as numbers, in range, rounded as
//! PHP's `round` rounds them.

use serde_json::{Number, Value, json};

use super::ValidatedAnswers;
use crate::codes::Ec5Error;
use crate::definition::Input;
use crate::json::object;
use crate::php;

/// A located answer, rounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub input_ref: String,
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy: Value,
}

/// An all-blank location is stored as sent; otherwise the three values must be numbers in
/// range, stored rounded.
pub(super) fn check_location(
    input: &Input,
    answer: &Value,
    out: &mut ValidatedAnswers,
) -> Result<Value, Ec5Error> {
    let r = input.input_ref.as_str();
    let invalid = || Ec5Error::new("ec5_30", r);
    let map = match answer {
        Value::Object(map) => map,
        Value::Array(_) => return Err(invalid()),
        _ => return Err(Ec5Error::new("ec5_76", r)),
    };
    let keys = ["latitude", "longitude", "accuracy"];
    if map.len() != 3 || !keys.iter().all(|k| map.contains_key(*k)) {
        return Err(invalid());
    }
    let (lat, long, acc) = (&map["latitude"], &map["longitude"], &map["accuracy"]);
    let blank = |v: &Value| v.as_str() == Some("");
    if blank(lat) && blank(long) && blank(acc) {
        return Ok(answer.clone());
    }
    let number = |v: &Value| match v {
        Value::Null | Value::Bool(_) => None,
        other => php::is_numeric(other),
    };
    let (Some(lat), Some(long), Some(acc)) = (number(lat), number(long), number(acc)) else {
        return Err(invalid());
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&long) || acc < 0.0 {
        return Err(invalid());
    }
    let (latitude, longitude) = (round_half_away(lat, 6), round_half_away(long, 6));
    let accuracy = integral_number(round_half_away(acc, 0));
    out.locations.push(Location {
        input_ref: r.to_string(),
        latitude,
        longitude,
        accuracy: accuracy.clone(),
    });
    Ok(object([
        ("accuracy", accuracy),
        ("latitude", float(latitude)),
        ("longitude", float(longitude)),
    ]))
}

/// A finite float as a JSON number.
pub(crate) fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// An integral value as a JSON integer when it fits, as the stored example shows it.
fn integral_number(f: f64) -> Value {
    if f.abs() < 9.0e15 {
        json!(f as i64)
    } else {
        float(f)
    }
}

/// Decimal rounding, half away from zero, of the number as it is written (its shortest
/// representation): `51.4987654321` → `51.498765`, `0.285` → `0.29`, as PHP's `round` does.
pub fn round_half_away(value: f64, places: usize) -> f64 {
    if !value.is_finite() {
        return value;
    }
    let text = format!("{}", value.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    if frac_part.len() <= places {
        return value;
    }
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes().take(places))
        .map(|b| b - b'0')
        .collect();
    if frac_part.as_bytes()[places] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - places;
    let as_text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let rounded = format!("{}.{}", &as_text[..split], &as_text[split..]);
    let magnitude: f64 = rounded.trim_end_matches('.').parse().unwrap_or(value.abs());
    magnitude.copysign(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_php() {
        assert_eq!(round_half_away(51.4987654321, 6), 51.498765);
        assert_eq!(round_half_away(-0.1748765432, 6), -0.174877);
        assert_eq!(round_half_away(6.5, 0), 7.0);
        assert_eq!(round_half_away(-6.5, 0), -7.0);
        assert_eq!(round_half_away(0.285, 2), 0.29);
        assert_eq!(round_half_away(9.9999999, 6), 10.0);
        assert_eq!(round_half_away(3.0, 6), 3.0);
    }
}
