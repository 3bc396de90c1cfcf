//! The server's metrics, kept per server (no global recorder: tests run many servers in one
//! process) and written in the Prometheus text format by `GET /metrics`. Request counts and
//! latencies are recorded by `request_log.rs`; the handlers that store, issue or refuse bump
//! their counters through the methods below.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use quadrat_app::App;
use quadrat_core::ratelimit::Budget;

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// One route's latencies.
#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Counts per bucket (not cumulative; summed when written).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = LATENCY_BUCKETS.iter().position(|&le| seconds <= le) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Debug, Default)]
struct Requests {
    /// (route pattern, method, status) → answered.
    counts: BTreeMap<(String, &'static str, u16), u64>,
    /// route pattern → latencies.
    latency: BTreeMap<String, Histogram>,
}

/// Which kind of token was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A client app's access token (`POST /api/oauth/token`).
    Client,
    /// A user's token from a login (`POST /api/login/local`).
    User,
}

/// Counters and histograms of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<Requests>,
    in_flight: AtomicI64,
    entries_stored: AtomicU64,
    media_files_stored: AtomicU64,
    client_tokens: AtomicU64,
    user_tokens: AtomicU64,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
    media_bytes_served: AtomicU64,
    response_bytes: AtomicU64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// One request answered on `route` (the route table's pattern, or `unmatched`).
    pub(crate) fn request_done(
        &self,
        route: &str,
        method: &'static str,
        status: u16,
        latency: Duration,
        bytes: u64,
    ) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests
            .counts
            .entry((route.to_string(), method, status))
            .or_default() += 1;
        requests
            .latency
            .entry(route.to_string())
            .or_default()
            .observe(latency.as_secs_f64());
        drop(requests);
        self.response_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn request_ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Requests whose answer is not yet fully sent.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// An upload stored an entry or a branch entry.
    pub fn entry_stored(&self) {
        self.entries_stored.fetch_add(1, Ordering::Relaxed);
    }

    /// An upload stored a media file.
    pub fn media_file_stored(&self) {
        self.media_files_stored.fetch_add(1, Ordering::Relaxed);
    }

    /// A token was issued.
    pub fn token_issued(&self, kind: TokenKind) {
        match kind {
            TokenKind::Client => &self.client_tokens,
            TokenKind::User => &self.user_tokens,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// The rate limiter refused a request counted against `budget`.
    pub fn rate_limit_refused(&self, budget: Budget) {
        let mut refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        *refusals.entry(budget_label(budget)).or_default() += 1;
    }

    /// The media routes served `bytes` of media files (call as the bytes go out, or once with
    /// the file's size when it is sent whole).
    pub fn media_bytes_served(&self, bytes: u64) {
        self.media_bytes_served.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Everything, in the Prometheus text format (version 0.0.4), with the database pools of
    /// `app` and the process's resident memory read now.
    pub fn render(&self, app: &App) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        header(
            &mut out,
            "quadrat_http_requests_total",
            "counter",
            "Requests answered, by route pattern, method and status.",
        );
        for ((route, method, status), n) in &requests.counts {
            let _ = writeln!(
                out,
                "quadrat_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        header(
            &mut out,
            "quadrat_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer's last byte, by route pattern.",
        );
        for (route, h) in &requests.latency {
            let route = escape(route);
            let mut cumulative = 0;
            for (le, n) in LATENCY_BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "quadrat_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "quadrat_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 quadrat_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 quadrat_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        drop(requests);
        gauge(
            &mut out,
            "quadrat_http_requests_in_flight",
            "Requests whose answer is not fully sent yet.",
            self.in_flight(),
        );
        counter(
            &mut out,
            "quadrat_http_response_bytes_total",
            "Bytes of answer bodies sent.",
            &self.response_bytes,
        );
        counter(
            &mut out,
            "quadrat_entries_stored_total",
            "Entries and branch entries stored by uploads.",
            &self.entries_stored,
        );
        counter(
            &mut out,
            "quadrat_media_files_stored_total",
            "Media files stored by uploads.",
            &self.media_files_stored,
        );
        header(
            &mut out,
            "quadrat_tokens_issued_total",
            "counter",
            "Tokens issued: client apps' access tokens and users' login tokens.",
        );
        let _ = writeln!(
            out,
            "quadrat_tokens_issued_total{{kind=\"client\"}} {}\nquadrat_tokens_issued_total{{kind=\"user\"}} {}",
            self.client_tokens.load(Ordering::Relaxed),
            self.user_tokens.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "quadrat_rate_limit_refusals_total",
            "counter",
            "Requests refused by the rate limiter (429), by budget.",
        );
        let refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        for (budget, n) in refusals.iter() {
            let _ = writeln!(
                out,
                "quadrat_rate_limit_refusals_total{{budget=\"{budget}\"}} {n}"
            );
        }
        drop(refusals);
        counter(
            &mut out,
            "quadrat_media_bytes_served_total",
            "Bytes of media files served.",
            &self.media_bytes_served,
        );
        header(
            &mut out,
            "quadrat_db_pool_connections",
            "gauge",
            "Database connections by pool and state (in_use, idle), and each pool's maximum.",
        );
        for pool in app.store.pool_use() {
            let in_use = pool.open.saturating_sub(pool.idle);
            let _ = writeln!(
                out,
                "quadrat_db_pool_connections{{pool=\"{p}\",state=\"in_use\"}} {in_use}\n\
                 quadrat_db_pool_connections{{pool=\"{p}\",state=\"idle\"}} {idle}\n\
                 quadrat_db_pool_connections{{pool=\"{p}\",state=\"max\"}} {max}",
                p = pool.pool,
                idle = pool.idle,
                max = pool.max
            );
        }
        if let Some(rss) = resident_memory_bytes() {
            gauge(
                &mut out,
                "process_resident_memory_bytes",
                "Resident memory of the server process.",
                rss,
            );
        }
        out
    }
}

/// The budget's name in labels.
fn budget_label(budget: Budget) -> &'static str {
    match budget {
        Budget::ExportEntries => "export_entries",
        Budget::ExportChanges => "export_changes",
        Budget::ExportProject => "export_project",
        Budget::ExportMedia => "export_media",
        Budget::AppMedia => "app_media",
        Budget::Token => "token",
        Budget::Upload => "upload",
        Budget::Global => "global",
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: &AtomicU64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `VmRSS` of `/proc/self/status` (Linux); `None` elsewhere.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_when_written() {
        let mut h = Histogram::default();
        h.observe(0.001);
        h.observe(0.3);
        h.observe(100.0);
        assert_eq!(h.count, 3);
        assert_eq!(h.buckets.iter().sum::<u64>(), 2, "100 s falls only in +Inf");
        assert_eq!(h.buckets[0], 1);
        assert_eq!(h.buckets[6], 1, "0.3 s is in le=0.5");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
