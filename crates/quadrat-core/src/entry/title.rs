//! Entry titles built the way the mobile app builds them (docs/protocol.md §7), for
//! uploads that arrive without one.

use serde_json::Value;

use super::answers::ValidatedAnswers;
use crate::definition::{DatetimeFormat, Input, InputType};
use crate::php::strval_scalar_serialize_precision;

/// The title pieces of the `is_title` answers, in definition order (groups walked in place),
/// joined by a space; `None` when there is nothing to build from.
pub fn build_title(inputs: &[Input], answers: &ValidatedAnswers) -> Option<String> {
    let mut pieces = Vec::new();
    collect(inputs, answers, &mut pieces);
    (!pieces.is_empty()).then(|| pieces.join(" "))
}

fn collect(inputs: &[Input], answers: &ValidatedAnswers, pieces: &mut Vec<String>) {
    for input in inputs {
        if input.kind == InputType::Group {
            collect(&input.group, answers, pieces);
            continue;
        }
        if !input.is_title {
            continue;
        }
        let Some(answer) = answers.answer(input.input_ref.as_str()) else {
            continue;
        };
        if let Some(piece) = display(input, answer) {
            pieces.push(piece);
        }
    }
}

/// An answer as the app shows it; `None` when the app would not use it.
fn display(input: &Input, answer: &Value) -> Option<String> {
    match input.kind {
        InputType::Readme | InputType::Group | InputType::Branch => None,
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => {
            let chosen = answer.as_array().filter(|a| !a.is_empty())?;
            let labels: Vec<&str> = input
                .possible_answers
                .iter()
                .filter(|p| chosen.iter().any(|c| c.as_str() == Some(&p.answer_ref)))
                .map(|p| p.answer.as_str())
                .collect();
            Some(labels.join(", "))
        }
        // The formbuilder never makes these titles; their answers are not text.
        InputType::Location | InputType::Photo | InputType::Audio | InputType::Video => None,
        _ => {
            let text = match answer {
                Value::String(s) if s.is_empty() => return None,
                Value::String(_) | Value::Number(_) => strval_scalar_serialize_precision(answer)?,
                _ => return None,
            };
            let format = input.datetime_format;
            Some(match input.kind {
                InputType::Radio | InputType::Dropdown => {
                    input.answer_label(&text).unwrap_or(&text).to_string()
                }
                InputType::Date => format_date(&text, format),
                InputType::Time => format_time(&text, format),
                _ => text,
            })
        }
    }
}

fn slice(s: &str, from: usize, to: usize) -> &str {
    let start = s.char_indices().nth(from).map_or(s.len(), |(i, _)| i);
    let end = s.char_indices().nth(to).map_or(s.len(), |(i, _)| i);
    &s[start..end.max(start)]
}

/// `YYYY-MM-DD…` per the input's date format, as the app's `getUserFormattedDate`.
pub fn format_date(iso: &str, format: Option<DatetimeFormat>) -> String {
    let (y, m, d) = (slice(iso, 0, 4), slice(iso, 5, 7), slice(iso, 8, 10));
    match format {
        Some(DatetimeFormat::DayMonthYear) => format!("{d}/{m}/{y}"),
        Some(DatetimeFormat::MonthDayYear) => format!("{m}/{d}/{y}"),
        Some(DatetimeFormat::YearMonthDay) => format!("{y}/{m}/{d}"),
        Some(DatetimeFormat::MonthYear) => format!("{m}/{y}"),
        Some(DatetimeFormat::DayMonth) => format!("{d}/{m}"),
        _ => String::new(),
    }
}

/// `…THH:MM:SS…` per the input's time format, as the app's `getUserFormattedTime`: 12-hour
/// formats convert hours above 12 and append ` AM`/` PM`.
pub fn format_time(iso: &str, format: Option<DatetimeFormat>) -> String {
    let part = iso.split('T').nth(1).unwrap_or_default();
    let (h24, m, s) = (slice(part, 0, 2), slice(part, 3, 5), slice(part, 6, 8));
    let hours: u32 = h24.parse().unwrap_or(0);
    let ampm = if hours >= 12 { "PM" } else { "AM" };
    let h12 = if hours > 12 {
        format!("{:02}", (hours + 11) % 12 + 1)
    } else {
        h24.to_string()
    };
    match format {
        Some(DatetimeFormat::HourMinuteSecond24) => format!("{h24}:{m}:{s}"),
        Some(DatetimeFormat::HourMinuteSecond12) => format!("{h12}:{m}:{s} {ampm}"),
        Some(DatetimeFormat::HourMinute24) => format!("{h24}:{m}"),
        Some(DatetimeFormat::HourMinute12) => format!("{h12}:{m} {ampm}"),
        Some(DatetimeFormat::MinuteSecond) => format!("{m}:{s}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_as_the_app_shows_them() {
        let f = DatetimeFormat::parse;
        assert_eq!(
            format_date("2024-06-03T00:00:00.000", f("dd/MM/YYYY")),
            "03/06/2024"
        );
        assert_eq!(
            format_date("2024-06-03T00:00:00.000", f("MM/YYYY")),
            "06/2024"
        );
        assert_eq!(
            format_time("2024-06-03T14:48:05.000", f("hh:mm:ss")),
            "02:48:05 PM"
        );
        assert_eq!(
            format_time("2024-06-03T09:05:00.000", f("hh:mm")),
            "09:05 AM"
        );
        assert_eq!(
            format_time("2024-06-03T12:30:00.000", f("hh:mm")),
            "12:30 PM"
        );
        assert_eq!(format_time("2024-06-03T14:48:05.000", f("mm:ss")), "48:05");
    }
}
