//! The time formats of the Epicollect5 wire format (docs/protocol.md §2.3). All UTC.

use chrono::{DateTime, TimeZone, Utc};

/// Milliseconds since the Unix epoch, the unit every stored timestamp uses.
pub type UnixMillis = i64;

fn at(ms: UnixMillis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// `YYYY-MM-DD HH:MM:SS`: project versions, stats dates, project `created_at`.
pub fn sql_datetime(ms: UnixMillis) -> String {
    at(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.000Z`: API timestamps, milliseconds always zero.
pub fn iso_zero_millis(ms: UnixMillis) -> String {
    // Every exported row formats one: years 1970–9999 are written by hand (chrono parses its
    // format string each time); others go through chrono.
    if (0..=LAST_MS_OF_9999).contains(&ms) {
        return iso_fast(ms);
    }
    at(ms).format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

/// [`iso_zero_millis`] written into `out` (the text is ASCII and needs no JSON escape), with no
/// string in between in the common range: the export writes one per row.
pub fn push_iso_zero_millis(out: &mut Vec<u8>, ms: UnixMillis) {
    if (0..=LAST_MS_OF_9999).contains(&ms) {
        out.extend_from_slice(&iso_fast_bytes(ms));
    } else {
        out.extend_from_slice(iso_zero_millis(ms).as_bytes());
    }
}

/// 9999-12-31T23:59:59.999Z.
const LAST_MS_OF_9999: UnixMillis = 253_402_300_799_999;

fn iso_fast(ms: UnixMillis) -> String {
    iso_fast_bytes(ms).iter().map(|&b| char::from(b)).collect()
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` of a time in years 1970–9999.
fn iso_fast_bytes(ms: UnixMillis) -> [u8; 24] {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    let mut out = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut out[0..4], y);
    let rest = [m, d, rem / 3600, rem / 60 % 60, rem % 60];
    for (start, v) in [5, 8, 11, 14, 17].into_iter().zip(rest) {
        put_digits(&mut out[start..start + 2], v);
    }
    out
}

/// `n` (not negative) in `slot.len()` digits, zero-padded.
fn put_digits(slot: &mut [u8], n: i64) {
    let mut v = n;
    for b in slot.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Year, month, day of a day count since 1970-01-01 (not negative): Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The current time, in milliseconds.
pub fn now_millis() -> UnixMillis {
    Utc::now().timestamp_millis()
}

/// Truncates to whole seconds, as the real server writes its timestamp columns.
pub fn whole_seconds(ms: UnixMillis) -> UnixMillis {
    ms.div_euclid(1000) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ms = 1_717_237_233_456;
        assert_eq!(sql_datetime(ms), "2024-06-01 10:20:33");
        assert_eq!(iso_zero_millis(ms), "2024-06-01T10:20:33.000Z");
        assert_eq!(whole_seconds(ms), 1_717_237_233_000);
    }

    #[test]
    fn iso_by_hand_matches_chrono() {
        let chrono = |ms: UnixMillis| at(ms).format("%Y-%m-%dT%H:%M:%S.000Z").to_string();
        // Leap days, century and era boundaries, the ends of the range, and a sweep.
        let mut cases = vec![
            0,
            999,
            86_399_999,
            951_782_400_000,   // 2000-02-29
            4_107_456_000_000, // 2100-02-28
            4_107_542_400_000, // 2100-03-01
            LAST_MS_OF_9999,
        ];
        let mut ms = 0;
        while ms <= LAST_MS_OF_9999 {
            cases.push(ms);
            ms += 7_777_777_777;
        }
        cases.extend([-1, LAST_MS_OF_9999 + 1]);
        for ms in cases {
            assert_eq!(iso_zero_millis(ms), chrono(ms), "{ms}");
            let mut pushed = b"x".to_vec();
            push_iso_zero_millis(&mut pushed, ms);
            assert_eq!(pushed, format!("x{}", chrono(ms)).into_bytes(), "{ms}");
        }
        assert_eq!(iso_zero_millis(-1), "1969-12-31T23:59:59.000Z");
        assert_eq!(
            iso_zero_millis(LAST_MS_OF_9999 + 1),
            chrono(LAST_MS_OF_9999 + 1)
        );
    }
}
