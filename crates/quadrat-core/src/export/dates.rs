//! The date strings the export reads: `filter_from`/`filter_to` (Laravel's `date` rule, i.e.
//! `strtotime` must succeed and the calendar date must exist) and stored date and time answers
//! (reformatted with PHP's `date()` after `strtotime`).
//!
//! PHP's `strtotime` understands far more than anyone sends to an export API. Quadrat reads the
//! absolute forms: ISO 8601 and SQL dates (`2024-01-31`, `2024/01/31`, `20240131`), US
//! `01/31/2024`, European `31-01-2024` and `31.01.2024`, English month names (`31 Jan 2024`,
//! `Jan 31, 2024`), each with an optional time (`T` or blanks, `HH:MM[:SS[.fraction]]`) and an
//! optional zone (`Z`, `UTC`, `GMT`, `±HH`, `±HHMM`, `±HH:MM`). A bare time (`13:05:09`) is read
//! for answers. Relative words (`yesterday`, `+1 day`) are not dates here, as in Laravel's rule.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::definition::DatetimeFormat;
use crate::time::UnixMillis;

/// A parsed date string, before calendar checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhpDate {
    /// `None` for a bare time.
    date: Option<(i32, u32, u32)>,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
    /// Seconds east of UTC, when the string names a zone.
    offset: Option<i32>,
}

impl PhpDate {
    /// Parses one of the absolute forms listed in the module documentation.
    pub fn parse(s: &str) -> Option<PhpDate> {
        let mut c = Cursor::new(s.trim_matches(is_blank));
        let date = c.date();
        if date.is_some() && !c.at_end() {
            // Between a date and its time: `T` or blanks.
            if !(c.eat_char(|ch| ch == 'T' || ch == 't') || c.blanks() > 0) {
                return None;
            }
        }
        let mut parsed = PhpDate {
            date,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
            offset: None,
        };
        if !c.at_end() {
            let (hour, minute, second, millis) = c.time()?;
            parsed.hour = hour;
            parsed.minute = minute;
            parsed.second = second;
            parsed.millis = millis;
            c.blanks();
            if !c.at_end() {
                parsed.offset = Some(c.zone()?);
                c.blanks();
            }
        } else if date.is_none() {
            return None;
        }
        c.at_end().then_some(parsed)
    }

    /// Laravel's `date` rule: a date part whose day exists in its month (`checkdate`).
    pub fn is_valid_date(&self) -> bool {
        self.date.is_some_and(|(y, m, d)| {
            (1..=32767).contains(&y) && NaiveDate::from_ymd_opt(y, m, d).is_some()
        })
    }

    /// The date and time as written, with PHP's overflow rules (`2024-02-30` is 1 March,
    /// `24:00` is the next midnight). A bare time is on 1970-01-01.
    fn local(&self) -> Option<NaiveDateTime> {
        let (y, m, d) = self.date.unwrap_or((1970, 1, 1));
        let first = NaiveDate::from_ymd_opt(y, m, 1)?;
        let day = first.checked_add_signed(Duration::days(i64::from(d) - 1))?;
        let seconds =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        day.and_time(NaiveTime::MIN).checked_add_signed(
            Duration::seconds(seconds) + Duration::milliseconds(i64::from(self.millis)),
        )
    }

    /// The instant, in Unix milliseconds: UTC when the string names no zone.
    pub fn instant_millis(&self) -> Option<UnixMillis> {
        let local = self.local()?;
        let utc =
            local.checked_sub_signed(Duration::seconds(i64::from(self.offset.unwrap_or(0))))?;
        Some(utc.and_utc().timestamp_millis())
    }

    /// The calendar day as written (in the string's own zone), as the UTC milliseconds of its
    /// first and last millisecond: the real server drops the zone when it binds the day bounds.
    pub fn day_bounds_millis(&self) -> Option<(UnixMillis, UnixMillis)> {
        let day = self.local()?.date();
        let start = day.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
        Some((start, start + 86_400_000 - 1))
    }

    /// `date($format, strtotime($answer))` for the PHP formats the ten `datetime_format`s map to,
    /// in UTC.
    pub fn format(&self, php_format: &str) -> Option<String> {
        let utc = self
            .local()?
            .checked_sub_signed(Duration::seconds(i64::from(self.offset.unwrap_or(0))))?;
        let mut out = String::with_capacity(10);
        for ch in php_format.chars() {
            match ch {
                'd' => push2(&mut out, utc.day()),
                'm' => push2(&mut out, utc.month()),
                'Y' => {
                    let y = utc.year();
                    if y < 0 {
                        out.push('-');
                    }
                    push_padded(&mut out, y.unsigned_abs(), 4);
                }
                'H' => push2(&mut out, utc.hour()),
                'i' => push2(&mut out, utc.minute()),
                's' => push2(&mut out, utc.second()),
                other => out.push(other),
            }
        }
        Some(out)
    }
}

fn push2(out: &mut String, n: u32) {
    push_padded(out, n, 2);
}

/// `n` in decimal, zero-padded to `width` digits (`printf("%0{width}u")`), without the
/// formatting machinery: every date answer of an export goes through here.
fn push_padded(out: &mut String, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = at.min(digits.len().saturating_sub(width));
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// The PHP `date()` format of each of the ten `datetime_format`s
/// (`config/epicollect/mappings.php`). `hh` renders 24-hour, as on the real server.
pub fn php_format_of(datetime_format: DatetimeFormat) -> &'static str {
    match datetime_format {
        DatetimeFormat::DayMonthYear => "d/m/Y",
        DatetimeFormat::MonthDayYear => "m/d/Y",
        DatetimeFormat::YearMonthDay => "Y/m/d",
        DatetimeFormat::MonthYear => "m/Y",
        DatetimeFormat::DayMonth => "d/m",
        DatetimeFormat::HourMinuteSecond24 | DatetimeFormat::HourMinuteSecond12 => "H:i:s",
        DatetimeFormat::HourMinute24 | DatetimeFormat::HourMinute12 => "H:i",
        DatetimeFormat::MinuteSecond => "i:s",
    }
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}')
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Year, month, day as written.
type Ymd = (i32, u32, u32);

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat_char(&mut self, f: impl Fn(char) -> bool) -> bool {
        match self.peek() {
            Some(c) if f(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn blanks(&mut self) -> usize {
        let mut n = 0;
        while self.eat_char(is_blank) {
            n += 1;
        }
        n
    }

    /// Between `min` and `max` ASCII digits, as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let run = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        if run < min || run > max {
            return None;
        }
        let n = self.rest()[..run].parse().ok()?;
        self.pos += run;
        Some(n)
    }

    /// Exactly `n` ASCII digits, whatever follows.
    fn fixed(&mut self, n: usize) -> Option<u32> {
        let text = self.rest().get(..n)?;
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.pos += n;
        text.parse().ok()
    }

    /// Runs `f` and rewinds when it fails.
    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.pos;
        let out = f(self);
        if out.is_none() {
            self.pos = start;
        }
        out
    }

    fn month_name(&mut self) -> Option<u32> {
        let word: String = self
            .rest()
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_ascii_lowercase();
        let month = MONTHS.iter().position(|m| {
            *m == word
                || (word.len() == 3 && m.starts_with(&word))
                || (word == "sept" && *m == "september")
        })?;
        self.pos += word.len();
        Some(month as u32 + 1)
    }

    fn date(&mut self) -> Option<(i32, u32, u32)> {
        let parsers: [fn(&mut Self) -> Option<Ymd>; 6] = [
            Self::year_first,
            Self::compact,
            Self::us_slashes,
            Self::day_first,
            Self::day_month_name,
            Self::month_name_day,
        ];
        parsers.into_iter().find_map(|p| self.attempt(p))
    }

    fn check(y: u32, m: u32, d: u32) -> Option<(i32, u32, u32)> {
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y as i32, m, d))
    }

    /// `2024-01-31`, `2024/1/31`.
    fn year_first(&mut self) -> Option<(i32, u32, u32)> {
        let y = self.digits(4, 4)?;
        let sep = self.peek().filter(|c| *c == '-' || *c == '/')?;
        self.pos += 1;
        let m = self.digits(1, 2)?;
        self.eat_char(|c| c == sep).then_some(())?;
        let d = self.digits(1, 2)?;
        Self::check(y, m, d)
    }

    /// `20240131`, when nothing but a time separator follows.
    fn compact(&mut self) -> Option<(i32, u32, u32)> {
        let run = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        if run != 8 {
            return None;
        }
        let y = self.fixed(4)?;
        let m = self.fixed(2)?;
        let d = self.fixed(2)?;
        Self::check(y, m, d)
    }

    /// `01/31/2024`.
    fn us_slashes(&mut self) -> Option<(i32, u32, u32)> {
        let m = self.digits(1, 2)?;
        self.eat_char(|c| c == '/').then_some(())?;
        let d = self.digits(1, 2)?;
        self.eat_char(|c| c == '/').then_some(())?;
        let y = self.digits(4, 4)?;
        Self::check(y, m, d)
    }

    /// `31-01-2024`, `31.01.2024`.
    fn day_first(&mut self) -> Option<(i32, u32, u32)> {
        let d = self.digits(1, 2)?;
        let sep = self.peek().filter(|c| *c == '-' || *c == '.')?;
        self.pos += 1;
        let m = self.digits(1, 2)?;
        self.eat_char(|c| c == sep).then_some(())?;
        let y = self.digits(4, 4)?;
        Self::check(y, m, d)
    }

    /// `31 Jan 2024`, `31-Jan-2024`.
    fn day_month_name(&mut self) -> Option<(i32, u32, u32)> {
        let d = self.digits(1, 2)?;
        let dash = self.eat_char(|c| c == '-');
        if !dash && self.blanks() == 0 {
            return None;
        }
        let m = self.month_name()?;
        let sep = if dash {
            self.eat_char(|c| c == '-')
        } else {
            self.blanks() > 0
        };
        sep.then_some(())?;
        let y = self.digits(4, 4)?;
        Self::check(y, m, d)
    }

    /// `Jan 31 2024`, `January 31, 2024`.
    fn month_name_day(&mut self) -> Option<(i32, u32, u32)> {
        let m = self.month_name()?;
        (self.blanks() > 0).then_some(())?;
        let d = self.digits(1, 2)?;
        self.eat_char(|c| c == ',');
        (self.blanks() > 0).then_some(())?;
        let y = self.digits(4, 4)?;
        Self::check(y, m, d)
    }

    /// `HH:MM[:SS[.fraction]]`, hour up to 24 and second up to 60 as PHP allows.
    fn time(&mut self) -> Option<(u32, u32, u32, u32)> {
        let h = self.digits(1, 2)?;
        self.eat_char(|c| c == ':').then_some(())?;
        let mi = self.digits(2, 2)?;
        let mut s = 0;
        let mut millis = 0;
        if self.eat_char(|c| c == ':') {
            s = self.digits(2, 2)?;
            if self.eat_char(|c| c == '.' || c == ',') {
                let run = self.rest().bytes().take_while(u8::is_ascii_digit).count();
                if run == 0 || run > 9 {
                    return None;
                }
                // The first three digits, padded with zeros on the right (`.5` is 500 ms).
                millis = self
                    .rest()
                    .bytes()
                    .chain(std::iter::repeat(b'0'))
                    .take(3)
                    .fold(0, |ms, d| {
                        let digit = if d.is_ascii_digit() { d - b'0' } else { 0 };
                        ms * 10 + u32::from(digit)
                    });
                self.pos += run;
            }
        }
        (h <= 24 && mi <= 59 && s <= 60).then_some((h, mi, s, millis))
    }

    /// `Z`, `UTC`, `GMT`, `±HH`, `±HHMM`, `±HH:MM`, as seconds east of UTC.
    fn zone(&mut self) -> Option<i32> {
        let rest = self.rest();
        for name in ["UTC", "GMT", "Z"] {
            if rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name) {
                self.pos += name.len();
                return Some(0);
            }
        }
        let sign = match self.peek()? {
            '+' => 1,
            '-' => -1,
            _ => return None,
        };
        self.pos += 1;
        let h = self.fixed(2)?;
        let m = if self.eat_char(|c| c == ':') {
            self.fixed(2)?
        } else {
            self.fixed(2).unwrap_or(0)
        };
        (h <= 14 && m <= 59).then_some(sign * (h as i32 * 3600 + m as i32 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(s: &str) -> bool {
        PhpDate::parse(s).is_some_and(|d| d.is_valid_date())
    }

    #[test]
    fn laravel_date_rule() {
        for ok in [
            "2024-01-31",
            "2024-1-5",
            "2024/01/31",
            "20240131",
            "01/31/2024",
            "31-01-2024",
            "31.01.2024",
            "31 Jan 2024",
            "31-jan-2024",
            "January 31, 2024",
            "Sept 3 2024",
            "2024-01-31T10:00:00.000Z",
            "2024-01-31 10:00",
            "2024-01-31T10:00:00+02:00",
            "2024-01-31T10:00:00 +0530",
            "2024-01-31 10:00:00 UTC",
            " 2024-01-31 ",
            "2024-02-29",
        ] {
            assert!(valid(ok), "{ok} should be a date");
        }
        for bad in [
            "",
            "yesterday",
            "+1 day",
            "now",
            "2024-02-30",
            "2023-02-29",
            "31/01/2024",
            "2024-13-01",
            "2024-00-10",
            "10:00",
            "2024-01-31T25:00",
            "2024-01-31X",
            "2024-01-31T10:00:00Zjunk",
            "0",
            "2024-01",
            "2024-01-31T10",
            "Foo 31 2024",
        ] {
            assert!(!valid(bad), "{bad} should not be a date");
        }
    }

    #[test]
    fn instants_and_days() {
        let utc = PhpDate::parse("2026-03-15T00:00:00.000Z").unwrap();
        assert_eq!(utc.instant_millis(), Some(1_773_532_800_000));
        let bare = PhpDate::parse("2026-03-15").unwrap();
        assert_eq!(bare.instant_millis(), Some(1_773_532_800_000));
        let offset = PhpDate::parse("2026-03-15T01:30:00+02:00").unwrap();
        assert_eq!(offset.instant_millis(), Some(1_773_532_800_000 - 1_800_000));
        // The day is the one written, whatever the offset.
        assert_eq!(
            offset.day_bounds_millis(),
            Some((1_773_532_800_000, 1_773_532_800_000 + 86_399_999))
        );
        let late = PhpDate::parse("2026-03-15T23:30:00-05:00").unwrap();
        assert_eq!(late.day_bounds_millis().unwrap().0, 1_773_532_800_000);
        let millis = PhpDate::parse("2026-03-15T00:00:00.5Z").unwrap();
        assert_eq!(millis.instant_millis(), Some(1_773_532_800_500));
    }

    #[test]
    fn answers_reformat() {
        let d = PhpDate::parse("1986-05-16T00:00:00.000Z").unwrap();
        assert_eq!(d.format("d/m/Y").unwrap(), "16/05/1986");
        assert_eq!(d.format("m/d/Y").unwrap(), "05/16/1986");
        assert_eq!(d.format("Y/m/d").unwrap(), "1986/05/16");
        assert_eq!(d.format("m/Y").unwrap(), "05/1986");
        assert_eq!(d.format("d/m").unwrap(), "16/05");
        let t = PhpDate::parse("2024-06-03T13:05:09.000").unwrap();
        assert_eq!(t.format("H:i:s").unwrap(), "13:05:09");
        assert_eq!(t.format("H:i").unwrap(), "13:05");
        assert_eq!(t.format("i:s").unwrap(), "05:09");
        let bare_time = PhpDate::parse("13:05:09").unwrap();
        assert_eq!(bare_time.format("H:i").unwrap(), "13:05");
        // Converted to UTC like strtotime, and PHP's overflow rules.
        let shifted = PhpDate::parse("2024-06-03T00:30:00+02:00").unwrap();
        assert_eq!(shifted.format("d/m/Y").unwrap(), "02/06/2024");
        let overflow = PhpDate::parse("2024-02-30").unwrap();
        assert_eq!(overflow.format("d/m/Y").unwrap(), "01/03/2024");
        assert_eq!(php_format_of(DatetimeFormat::HourMinute12), "H:i");
        assert_eq!(php_format_of(DatetimeFormat::MinuteSecond), "i:s");
    }

    #[test]
    fn pads_as_printf_does() {
        for (n, width) in [
            (0, 2),
            (7, 2),
            (59, 2),
            (5, 4),
            (999, 4),
            (2024, 4),
            (12345, 4),
        ] {
            let mut out = String::new();
            push_padded(&mut out, n, width);
            assert_eq!(out, format!("{n:0width$}"));
        }
        let early = PhpDate::parse("0099-01-02").unwrap();
        assert_eq!(early.format("Y/m/d").unwrap(), "0099/01/02");
    }

    #[test]
    fn fractions_read_their_first_three_digits() {
        for (text, millis) in [
            ("12:00:00.5", 500),
            ("12:00:00.05", 50),
            ("12:00:00.123", 123),
            ("12:00:00.123456789", 123),
            ("12:00:00,7Z", 700),
        ] {
            assert_eq!(
                PhpDate::parse(text).map(|d| d.millis),
                Some(millis),
                "{text}"
            );
        }
    }
}
