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
    at(ms).format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
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
}
