//! Client-side pacing per remote rate-limit bucket (docs/protocol.md §18.3): a minimum interval
//! at 90 % of the configured rate, tightened to a smaller `X-RateLimit-Limit`, and a wait to the
//! end of the tracked window once `X-RateLimit-Remaining` is 0. 429s are the caller's.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// The remote's rate-limit buckets a mirror uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    Token,
    Project,
    Entries,
    Changes,
    Media,
}

impl Bucket {
    pub const ALL: [Bucket; 5] = [
        Bucket::Token,
        Bucket::Project,
        Bucket::Entries,
        Bucket::Changes,
        Bucket::Media,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Token => "token",
            Bucket::Project => "project",
            Bucket::Entries => "entries",
            Bucket::Changes => "changes",
            Bucket::Media => "media",
        }
    }

    pub fn parse(s: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// Requests per window for each bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates(pub HashMap<Bucket, Rate>);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub requests: u64,
    pub per: Duration,
}

impl Default for Rates {
    /// The real server's code defaults (docs/protocol.md §18.3): token 10/h, project 60/min,
    /// entries 60/min, media 30/min; the changes feed is Quadrat's 60/min.
    fn default() -> Rates {
        let minute = Duration::from_secs(60);
        let rate = |requests, per| Rate { requests, per };
        Rates(HashMap::from([
            (Bucket::Token, rate(10, Duration::from_secs(3600))),
            (Bucket::Project, rate(60, minute)),
            (Bucket::Entries, rate(60, minute)),
            (Bucket::Changes, rate(60, minute)),
            (Bucket::Media, rate(30, minute)),
        ]))
    }
}

impl Rates {
    /// `entries=60/min,media=30/min,token=10/h` over the defaults; units `s`, `min`, `h`.
    pub fn parse(text: &str) -> Result<Rates, String> {
        let mut rates = Rates::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || format!("--rate: {part:?} is not BUCKET=N/UNIT (e.g. entries=60/min)");
            let (name, value) = part.split_once('=').ok_or_else(bad)?;
            let bucket = Bucket::parse(name.trim()).ok_or_else(|| {
                format!("--rate: unknown bucket {name:?} (token, project, entries, changes, media)")
            })?;
            let (n, unit) = value.split_once('/').ok_or_else(bad)?;
            let requests: u64 = n.trim().parse().map_err(|_| bad())?;
            let per = match unit.trim() {
                "s" | "sec" => Duration::from_secs(1),
                "min" | "m" => Duration::from_secs(60),
                "h" | "hour" => Duration::from_secs(3600),
                _ => return Err(bad()),
            };
            if requests == 0 {
                return Err(bad());
            }
            rates.0.insert(bucket, Rate { requests, per });
        }
        Ok(rates)
    }

    /// The interval between two requests at 90 % of the bucket's rate.
    fn interval(&self, bucket: Bucket) -> Duration {
        let rate = self.0.get(&bucket).copied().unwrap_or(Rate {
            requests: 60,
            per: Duration::from_secs(60),
        });
        rate.per.mul_f64(1.0 / (0.9 * rate.requests as f64))
    }
}

/// The real server's limiter window: it opens at the first hit and lasts a minute.
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Pace {
    interval: Duration,
    next_at: Instant,
    window_start: Option<Instant>,
    blocked_until: Option<Instant>,
}

/// The pacing state of every bucket.
#[derive(Debug)]
pub struct Pacer {
    rates: Rates,
    paces: HashMap<Bucket, Pace>,
}

impl Pacer {
    pub fn new(rates: Rates) -> Pacer {
        Pacer {
            rates,
            paces: HashMap::new(),
        }
    }

    fn pace(&mut self, bucket: Bucket) -> &mut Pace {
        let interval = self.rates.interval(bucket);
        self.paces.entry(bucket).or_insert_with(|| Pace {
            interval,
            next_at: Instant::now(),
            window_start: None,
            blocked_until: None,
        })
    }

    /// How long to wait before the next request of `bucket`, and why (for the status line);
    /// reserves the slot.
    pub fn reserve(&mut self, bucket: Bucket) -> Option<(Duration, &'static str)> {
        let pace = self.pace(bucket);
        let now = Instant::now();
        let blocked = pace.blocked_until.filter(|b| *b > now);
        let start = blocked
            .map_or(pace.next_at, |b| b.max(pace.next_at))
            .max(now);
        pace.next_at = start + pace.interval;
        let wait = start - now;
        if wait.is_zero() {
            return None;
        }
        Some((
            wait,
            if blocked.is_some() {
                "X-RateLimit-Remaining 0"
            } else {
                "pacing"
            },
        ))
    }

    /// Learns from a response's `X-RateLimit-*` headers.
    pub fn observe(&mut self, bucket: Bucket, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let (Some(limit), Some(remaining)) =
            (number("x-ratelimit-limit"), number("x-ratelimit-remaining"))
        else {
            return;
        };
        let configured = self.rates.interval(bucket);
        let now = Instant::now();
        let pace = self.pace(bucket);
        if limit > 0 {
            let from_header = WINDOW.mul_f64(1.0 / (0.9 * limit as f64));
            pace.interval = configured.max(from_header);
        }
        if remaining + 1 >= limit || pace.window_start.is_none() {
            pace.window_start = Some(now);
        }
        if remaining == 0 {
            let start = pace.window_start.unwrap_or(now);
            pace.blocked_until = Some(start + WINDOW);
            pace.window_start = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_over_the_defaults() {
        let r = Rates::parse("entries=120/min, media=2/s").unwrap();
        assert_eq!(r.0[&Bucket::Entries].requests, 120);
        assert_eq!(r.0[&Bucket::Media].per, Duration::from_secs(1));
        assert_eq!(r.0[&Bucket::Token].requests, 10);
        assert!(Rates::parse("photos=1/min").is_err());
        assert!(Rates::parse("entries=0/min").is_err());
        assert!(Rates::parse("entries=5").is_err());
    }

    #[test]
    fn remaining_zero_blocks_until_the_window_ends() {
        let mut p = Pacer::new(Rates::parse("entries=6000/min").unwrap());
        assert!(p.reserve(Bucket::Entries).is_none());
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", "2".parse().unwrap());
        h.insert("x-ratelimit-remaining", "1".parse().unwrap());
        p.observe(Bucket::Entries, &h);
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        p.observe(Bucket::Entries, &h);
        let (wait, why) = p.reserve(Bucket::Entries).unwrap();
        assert_eq!(why, "X-RateLimit-Remaining 0");
        // The window opened with the first hit, just now.
        assert!(wait <= WINDOW && wait >= Duration::from_secs(59));
    }
}
