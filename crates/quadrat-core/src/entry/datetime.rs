//! The date strings of an upload: what Laravel's `date` rule accepts (a real calendar date that
//! `strtotime` can read), and the sanitising of `created_at` (docs/protocol.md §6.3).

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};

use crate::time::UnixMillis;

/// Reads an explicit date, optionally with a time and a zone: `2024-06-03`,
/// `2024-06-03T09:15:27.412Z`, `2024-06-01 10:20:33`, `2024/06/03 09:15+02:00`. The wall time is
/// returned as written; a zone is accepted and dropped, as the real server keeps the string's
/// own clock. Relative words (`now`, `tomorrow`) are refused, as Laravel's `date` rule refuses
/// them (they carry no calendar date).
pub fn parse_wall_time(raw: &str) -> Option<NaiveDateTime> {
    let s = raw.trim_matches([' ', '\t', '\n', '\r']);
    let mut p = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let year = p.digits(4, 4)?;
    let sep = p.one_of(b"-/")?;
    let month = p.digits(1, 2)?;
    p.expect(sep)?;
    let day = p.digits(1, 2)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day).filter(|d| d.year() >= 1)?;
    let mut time = NaiveTime::MIN;
    if p.at_end() {
        return Some(date.and_time(time));
    }
    let before_time = p.i;
    if p.one_of(b"Tt ").is_some() && p.peek().is_some_and(|b| b.is_ascii_digit()) {
        let hour = p.digits(1, 2)?;
        p.expect(b':')?;
        let minute = p.digits(2, 2)?;
        let mut second = 0;
        if p.peek() == Some(b':') {
            p.i += 1;
            second = p.digits(2, 2)?;
            if p.peek() == Some(b'.') {
                p.i += 1;
                p.digits(1, 9)?;
            }
        }
        time = NaiveTime::from_hms_opt(hour, minute, second)?;
    } else {
        // No time: what follows may still be a zone ("2024-06-03Z").
        p.i = before_time;
    }
    while p.peek() == Some(b' ') {
        p.i += 1;
    }
    if !p.at_end() && !p.zone() {
        return None;
    }
    p.at_end().then(|| date.and_time(time))
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.i += 1)
    }

    fn one_of(&mut self, set: &[u8]) -> Option<u8> {
        let b = self.peek().filter(|b| set.contains(b))?;
        self.i += 1;
        Some(b)
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let n = self.i - start;
        if n < min {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// `Z`, `UTC`, `GMT` or `±HH[[:]MM]`, up to the end.
    fn zone(&mut self) -> bool {
        let rest = &self.s[self.i..];
        if matches!(rest, b"Z" | b"z" | b"UTC" | b"GMT" | b"utc" | b"gmt") {
            self.i = self.s.len();
            return true;
        }
        if self.one_of(b"+-").is_none() {
            return false;
        }
        let Some(hours) = self.digits(2, 2) else {
            return false;
        };
        if self.peek() == Some(b':') {
            self.i += 1;
        }
        let minutes = if self.at_end() {
            0
        } else {
            match self.digits(2, 2) {
                Some(m) => m,
                None => return false,
            }
        };
        hours <= 14 && minutes <= 59 && self.at_end()
    }
}

/// The `created_at` that is stored: the uploaded wall time to the second, with `.000Z`
/// appended, or "now minus one minute" when the value is unreadable or not after 1970 (devices
/// without a clock send epoch dates). Returns the string for `entry_data` and the column value.
pub fn sanitise_created_at(raw: &str, now: UnixMillis) -> (String, UnixMillis) {
    let fallback = || {
        chrono::DateTime::from_timestamp_millis(now - 60_000)
            .unwrap_or_default()
            .naive_utc()
    };
    let wall = parse_wall_time(raw)
        .filter(|t| t.year() > 1970)
        .unwrap_or_else(fallback);
    let iso = wall.format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
    (iso, wall.and_utc().timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shapes_clients_send() {
        for ok in [
            "2024-06-03T09:15:27.412Z",
            "2024-06-03T09:15:27Z",
            "2024-06-03T09:15:27.000+02:00",
            "2024-06-03T09:15:27+0200",
            "2024-06-01 10:20:33",
            "2024-06-03",
            "2024/06/03 09:15",
            "2024-6-3",
            "2024-06-03T00:00:00.000",
            " 2024-06-03 ",
            "2024-02-29",
        ] {
            assert!(parse_wall_time(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "now",
            "0000-00-00T00:00:00.000Z",
            "2024-13-01",
            "2023-02-29",
            "2024-06-03T25:00:00",
            "2024-06-03T09:15:27.412Zjunk",
            "20240603",
            "2024-06-03T9",
            "2024-06-03 x",
            "2024-06/03",
        ] {
            assert!(parse_wall_time(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn created_at_keeps_the_wall_time_and_zeroes_milliseconds() {
        let now = 1_717_406_127_000;
        assert_eq!(
            sanitise_created_at("2024-06-03T09:15:27.412Z", now),
            ("2024-06-03T09:15:27.000Z".to_string(), 1_717_406_127_000)
        );
        assert_eq!(
            sanitise_created_at("2024-06-03T11:15:27.412+02:00", now).0,
            "2024-06-03T11:15:27.000Z"
        );
    }

    #[test]
    fn created_at_before_1971_becomes_a_minute_ago() {
        let now = 1_717_406_127_000;
        let (iso, ms) = sanitise_created_at("1970-01-01T00:00:00.000Z", now);
        assert_eq!(ms, now - 60_000);
        assert_eq!(iso, "2024-06-03T09:14:27.000Z");
        assert_eq!(sanitise_created_at("garbage", now).1, now - 60_000);
    }
}
