//! The ten `datetime_format` values of date and time inputs (docs/protocol.md §3.2). The
//! definition validator accepts only these; entry titles, the uniqueness keys of answers, the
//! export and the bulk import each show or read dates and times by them.

/// How a date or time input shows its answer, named after the parts it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatetimeFormat {
    /// `dd/MM/YYYY`
    DayMonthYear,
    /// `MM/dd/YYYY`
    MonthDayYear,
    /// `YYYY/MM/dd`
    YearMonthDay,
    /// `MM/YYYY`
    MonthYear,
    /// `dd/MM`
    DayMonth,
    /// `HH:mm:ss`
    HourMinuteSecond24,
    /// `hh:mm:ss`
    HourMinuteSecond12,
    /// `HH:mm`
    HourMinute24,
    /// `hh:mm`
    HourMinute12,
    /// `mm:ss`
    MinuteSecond,
}

impl DatetimeFormat {
    pub const ALL: [DatetimeFormat; 10] = [
        DatetimeFormat::DayMonthYear,
        DatetimeFormat::MonthDayYear,
        DatetimeFormat::YearMonthDay,
        DatetimeFormat::MonthYear,
        DatetimeFormat::DayMonth,
        DatetimeFormat::HourMinuteSecond24,
        DatetimeFormat::HourMinuteSecond12,
        DatetimeFormat::HourMinute24,
        DatetimeFormat::HourMinute12,
        DatetimeFormat::MinuteSecond,
    ];

    /// The format a definition names, exactly (case matters: `HH` and `hh` differ).
    pub fn parse(s: &str) -> Option<DatetimeFormat> {
        DatetimeFormat::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The value as definitions write it.
    pub fn as_str(self) -> &'static str {
        match self {
            DatetimeFormat::DayMonthYear => "dd/MM/YYYY",
            DatetimeFormat::MonthDayYear => "MM/dd/YYYY",
            DatetimeFormat::YearMonthDay => "YYYY/MM/dd",
            DatetimeFormat::MonthYear => "MM/YYYY",
            DatetimeFormat::DayMonth => "dd/MM",
            DatetimeFormat::HourMinuteSecond24 => "HH:mm:ss",
            DatetimeFormat::HourMinuteSecond12 => "hh:mm:ss",
            DatetimeFormat::HourMinute24 => "HH:mm",
            DatetimeFormat::HourMinute12 => "hh:mm",
            DatetimeFormat::MinuteSecond => "mm:ss",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_as_str_round_trip() {
        for f in DatetimeFormat::ALL {
            assert_eq!(DatetimeFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(DatetimeFormat::parse("HH:MM"), None);
        assert_eq!(DatetimeFormat::parse(""), None);
        assert_eq!(DatetimeFormat::parse("YYYY"), None);
    }
}
