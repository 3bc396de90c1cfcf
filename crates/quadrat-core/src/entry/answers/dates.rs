//! Date and time answers: the app's ISO 8601 shape (`YYYY-MM-DDTHH:MM:SS.mmm`), with a real
//! date (date inputs) or a real time (time inputs).

use serde_json::Value;

use super::{crash, is_container, refused};
use crate::codes::Ec5Error;
use crate::definition::{Input, InputType};

pub(super) fn check_date_time(input: &Input, answer: &Value) -> Result<Value, Ec5Error> {
    if is_container(answer) {
        return Err(crash());
    }
    if answer.as_str() == Some("") {
        return Ok(answer.clone());
    }
    let Some(text) = answer.as_str() else {
        return Err(refused(input, "ec5_79"));
    };
    let valid = if input.kind == InputType::Date {
        is_iso_answer(text) && date_parts_valid(text)
    } else {
        is_iso_answer(text) && time_part_valid(text)
    };
    if !valid {
        return Err(refused(input, "ec5_79"));
    }
    if text.chars().count() > 25 {
        return Err(refused(input, "ec5_214"));
    }
    Ok(answer.clone())
}

/// Contains `YYYY-MM-DDTHH:MM:SS.mmm` and reads as a date as a whole.
fn is_iso_answer(text: &str) -> bool {
    let b = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd.ddd";
    let found = b.windows(shape.len()).any(|w| {
        w.iter().zip(shape.iter()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            b'.' => *c != b'\n',
            other => c == other,
        })
    });
    found && crate::entry::datetime::parse_wall_time(text).is_some()
}

/// The part before `T` is exactly a real `Y-m-d` date.
fn date_parts_valid(text: &str) -> bool {
    let day = text.split('T').next().unwrap_or_default();
    day.len() == 10
        && date_parts(day).is_some()
        && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok()
}

/// The part between `T` and `.` is exactly a real `H:i:s` time.
fn time_part_valid(text: &str) -> bool {
    let Some(after) = text.split('T').nth(1) else {
        return false;
    };
    let clock = after.split('.').next().unwrap_or_default();
    clock.len() == 8
        && time_parts(&format!("T{clock}")).is_some()
        && chrono::NaiveTime::parse_from_str(clock, "%H:%M:%S").is_ok()
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY`, `MM`, `DD` of an answer starting `YYYY-MM-DD`.
pub(super) fn date_parts(s: &str) -> Option<(&str, &str, &str)> {
    let (y, m, d) = (s.get(0..4)?, s.get(5..7)?, s.get(8..10)?);
    (digits(y) && digits(m) && digits(d) && s.get(4..5)? == "-" && s.get(7..8)? == "-")
        .then_some((y, m, d))
}

/// `HH`, `MM`, `SS` of the time after the `T`.
pub(super) fn time_parts(s: &str) -> Option<(&str, &str, &str)> {
    let t = s.split_once('T')?.1;
    let (h, m, sec) = (t.get(0..2)?, t.get(3..5)?, t.get(6..8)?);
    (digits(h) && digits(m) && digits(sec) && t.get(2..3)? == ":" && t.get(5..6)? == ":")
        .then_some((h, m, sec))
}
