//! The rate limiter (docs/protocol.md §14, §14.1): fixed windows counted in process memory
//! (one instance), in the database or in Redis (several instances sharing one budget). Which
//! buckets a request counts against is decided in `quadrat_core::ratelimit`; time comes from a
//! [`Clock`] so tests can move it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use quadrat_core::ratelimit::{Limit, Limits, Verdict, Window, verdict};
use quadrat_store::{RedisRates, Store};
use serde::{Deserialize, Serialize};

/// Where counters live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateStoreKind {
    /// This process only (the default; one instance).
    #[default]
    Memory,
    /// The `rate_limit_windows` table of the configured database.
    Database,
    /// The Redis server at `redis_url`.
    Redis,
}

/// The `[rate_limits]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// `false` switches every limit off (`quadrat serve --no-rate-limits`).
    pub enabled: bool,
    pub store: RateStoreKind,
    pub redis_url: String,
    /// Proxies (addresses or CIDRs) whose `X-Forwarded-For` names the client. From any other
    /// peer the header is ignored: the socket address is the client.
    #[serde(deserialize_with = "string_list")]
    pub trusted_proxies: Vec<String>,
    #[serde(flatten)]
    pub limits: Limits,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            store: RateStoreKind::Memory,
            redis_url: "redis://127.0.0.1:6379".into(),
            trusted_proxies: Vec::new(),
            limits: Limits::default(),
        }
    }
}

/// Now, in Unix milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_millis(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        quadrat_core::time::now_millis()
    }
}

#[derive(Debug)]
enum Backend {
    Memory(Mutex<HashMap<String, Window>>),
    Database(Store),
    Redis(RedisRates),
}

/// Expired windows are swept every this many hits.
const SWEEP_EVERY: u64 = 4096;

/// Decides whether requests may proceed. Shared by every request of a server.
#[derive(Debug)]
pub struct Limiter {
    enabled: bool,
    limits: Limits,
    trusted: Vec<IpNet>,
    backend: Backend,
    clock: Arc<dyn Clock>,
    hits: AtomicU64,
}

impl Limiter {
    /// No limits at all.
    pub fn disabled() -> Limiter {
        Limiter {
            enabled: false,
            limits: Limits::default(),
            trusted: Vec::new(),
            backend: Backend::Memory(Mutex::new(HashMap::new())),
            clock: Arc::new(SystemClock),
            hits: AtomicU64::new(0),
        }
    }

    /// In-process counters with `limits`, the system clock and no trusted proxies.
    pub fn in_memory(limits: Limits) -> Limiter {
        Limiter {
            enabled: true,
            limits,
            ..Limiter::disabled()
        }
    }

    /// The limiter `config` describes, over `store` when counters go to the database. Fails on a
    /// bad proxy address or an unreachable Redis.
    pub async fn from_config(config: &RateLimitConfig, store: &Store) -> Result<Limiter, String> {
        let trusted = parse_proxies(&config.trusted_proxies)?;
        let backend = match config.store {
            RateStoreKind::Memory => Backend::Memory(Mutex::new(HashMap::new())),
            RateStoreKind::Database => Backend::Database(store.clone()),
            RateStoreKind::Redis => Backend::Redis(
                RedisRates::connect(&config.redis_url, "quadrat:rate:")
                    .await
                    .map_err(|e| format!("rate_limits.redis_url: {e}"))?,
            ),
        };
        Ok(Limiter {
            enabled: config.enabled,
            limits: config.limits.clone(),
            trusted,
            backend,
            clock: Arc::new(SystemClock),
            hits: AtomicU64::new(0),
        })
    }

    /// Counters in Redis under `prefix` (tests give each run its own).
    pub async fn redis(limits: Limits, url: &str, prefix: &str) -> Result<Limiter, String> {
        Ok(Limiter {
            backend: Backend::Redis(
                RedisRates::connect(url, prefix)
                    .await
                    .map_err(|e| e.to_string())?,
            ),
            ..Limiter::in_memory(limits)
        })
    }

    /// Counters in the database of `store`.
    pub fn database(limits: Limits, store: Store) -> Limiter {
        Limiter {
            backend: Backend::Database(store),
            ..Limiter::in_memory(limits)
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Limiter {
        self.clock = clock;
        self
    }

    pub fn with_trusted_proxies(mut self, proxies: &[String]) -> Result<Limiter, String> {
        self.trusted = parse_proxies(proxies)?;
        Ok(self)
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Counts one request against each of `limits` (in order, stopping at the first full one)
    /// and says whether it may proceed. `None` when limits are off or none apply. A counter
    /// store that fails lets the request through (logged): an outage of Redis must not take the
    /// API down with it.
    pub async fn check(&self, limits: &[Limit]) -> Option<Verdict> {
        if !self.enabled || limits.is_empty() {
            return None;
        }
        let now = self.clock.now_millis();
        let mut counted = Vec::with_capacity(limits.len());
        let mut windows = Vec::with_capacity(limits.len());
        for limit in limits {
            match self.hit(limit, now).await {
                Ok(window) => {
                    counted.push(limit.clone());
                    windows.push(window);
                    if window.hits > limit.max {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, bucket = %limit.bucket, "rate-limit store failed; request let through")
                }
            }
        }
        self.sweep(now).await;
        verdict(&counted, &windows, now)
    }

    async fn hit(&self, limit: &Limit, now: i64) -> Result<Window, String> {
        let (hits, reset_at) = match &self.backend {
            Backend::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                let window = Window::hit(map.get(&limit.bucket).copied(), now, limit.window_ms);
                map.insert(limit.bucket.clone(), window);
                return Ok(window);
            }
            Backend::Database(store) => store
                .rate_hit(&limit.bucket, now, limit.window_ms)
                .await
                .map_err(|e| e.to_string())?,
            Backend::Redis(redis) => redis
                .hit(&limit.bucket, now, limit.window_ms)
                .await
                .map_err(|e| e.to_string())?,
        };
        Ok(Window {
            hits: hits.max(0) as u64,
            reset_at,
        })
    }

    async fn sweep(&self, now: i64) {
        if self.hits.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        match &self.backend {
            Backend::Memory(map) => map
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, w| w.reset_at > now),
            Backend::Database(store) => {
                if let Err(e) = store.purge_rate_windows(now).await {
                    tracing::warn!(error = %e, "sweeping rate-limit windows failed");
                }
            }
            // Redis expires idle windows itself.
            Backend::Redis(_) => {}
        }
    }

    /// The client's address: the socket peer, unless the peer is a trusted proxy, in which case
    /// `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first other
    /// address is the client.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let trusted = |ip: &IpAddr| self.trusted.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !trusted(&ip) {
                        break;
                    }
                }
                // A hop we cannot read ends the chain: trust stops there.
                Err(_) => break,
            }
        }
        client
    }
}

/// A list of strings from a list, or from one comma-separated string (how an environment
/// variable can carry a list: `QUADRAT_RATE_LIMITS__TRUSTED_PROXIES=10.0.0.0/8,192.168.0.1`).
pub fn string_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(items) => items,
        OneOrMany::One(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

fn parse_proxies(proxies: &[String]) -> Result<Vec<IpNet>, String> {
    proxies
        .iter()
        .map(|p| {
            let p = p.trim();
            p.parse::<IpNet>()
                .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("rate_limits.trusted_proxies: {p:?} is not an IP address or CIDR")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_only_counts_from_trusted_proxies() {
        let limiter = Limiter::in_memory(Limits::default())
            .with_trusted_proxies(&["10.0.0.0/8".into(), "192.168.1.1".into()])
            .unwrap();
        let xff = Some("203.0.113.9, 10.1.1.1");
        assert_eq!(
            limiter.client_ip(ip("198.51.100.7"), xff),
            ip("198.51.100.7")
        );
        assert_eq!(limiter.client_ip(ip("10.2.2.2"), xff), ip("203.0.113.9"));
        assert_eq!(
            limiter.client_ip(ip("192.168.1.1"), Some("198.51.100.1")),
            ip("198.51.100.1")
        );
        // A client cannot hide behind a forged first hop: the rightmost untrusted one counts.
        assert_eq!(
            limiter.client_ip(ip("10.2.2.2"), Some("1.1.1.1, 203.0.113.9")),
            ip("203.0.113.9")
        );
        assert_eq!(
            limiter.client_ip(ip("10.2.2.2"), Some("garbage")),
            ip("10.2.2.2")
        );
        assert_eq!(limiter.client_ip(ip("10.2.2.2"), None), ip("10.2.2.2"));
    }

    #[test]
    fn bad_proxy_addresses_are_refused() {
        let err = Limiter::disabled()
            .with_trusted_proxies(&["10.0.0.0/33".into()])
            .unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
    }
}
