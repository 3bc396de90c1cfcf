//! The rate limiter (docs/protocol.md §14, §14.1): fixed windows counted in process memory
//! (one instance), in the database or in Redis (several instances sharing one budget). Which
//! buckets a request counts against is decided in `quadrat_core::ratelimit`; time comes from a
//! [`Clock`] so tests can move it.
//!
//! Memory is bounded: bucket names are bounded in length (`quadrat_core::ratelimit::bucket`),
//! the in-memory store holds at most `memory_max_buckets` windows (expired ones go first, then
//! those closest to their end), and ended windows are swept once a minute from every store.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use quadrat_core::project_state::ProjectStatus;
use quadrat_core::ratelimit::{Limit, Limits, Verdict, Window, verdict};
use quadrat_core::slug;
use quadrat_store::{RedisRates, Store};
use serde::{Deserialize, Serialize};

use crate::App;

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
    /// The most windows the memory store keeps (about 200 bytes each).
    pub memory_max_buckets: usize,
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
            memory_max_buckets: DEFAULT_MEMORY_MAX_BUCKETS,
            limits: Limits::default(),
        }
    }
}

/// 50,000 windows: about 10 MB. One instance has a few per project and per active client; a
/// deployment with more shares its counters through the database or Redis.
pub const DEFAULT_MEMORY_MAX_BUCKETS: usize = 50_000;

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
    Memory(Mutex<MemoryWindows>),
    Database(Store),
    Redis(RedisRates),
}

/// Ended windows are swept at most this often (ms).
const SWEEP_EVERY_MS: i64 = 60_000;

/// The in-memory store: at most `cap` windows.
#[derive(Debug)]
struct MemoryWindows {
    windows: HashMap<String, Window>,
    cap: usize,
}

impl MemoryWindows {
    fn new(cap: usize) -> MemoryWindows {
        MemoryWindows {
            windows: HashMap::new(),
            cap: cap.max(1),
        }
    }

    fn hit(&mut self, bucket: &str, now: i64, window_ms: i64) -> Window {
        if !self.windows.contains_key(bucket) && self.windows.len() >= self.cap {
            self.make_room(now);
        }
        let window = Window::hit(self.windows.get(bucket).copied(), now, window_ms);
        self.windows.insert(bucket.to_string(), window);
        window
    }

    /// Frees ended windows; when every window is live, the eighth closest to its end goes too
    /// (their counts restart: a cap that refused new buckets would refuse new clients instead).
    fn make_room(&mut self, now: i64) {
        self.sweep(now);
        if self.windows.len() < self.cap {
            return;
        }
        let mut ends: Vec<i64> = self.windows.values().map(|w| w.reset_at).collect();
        let evict = (self.cap / 8).max(1).min(ends.len() - 1);
        let (_, cutoff, _) = ends.select_nth_unstable(evict);
        let cutoff = *cutoff;
        self.windows.retain(|_, w| w.reset_at > cutoff);
        tracing::warn!(
            kept = self.windows.len(),
            cap = self.cap,
            "rate-limit memory store full: windows closest to their end were dropped"
        );
    }

    fn sweep(&mut self, now: i64) {
        let before = self.windows.len();
        self.windows.retain(|_, w| w.reset_at > now);
        // A map that emptied out gives its memory back.
        if self.windows.len() < before / 2 {
            self.windows.shrink_to_fit();
        }
    }

    fn refund(&mut self, bucket: &str, now: i64) {
        if let Some(w) = self.windows.get_mut(bucket)
            && w.reset_at > now
        {
            w.hits = w.hits.saturating_sub(1);
        }
    }
}

/// Decides whether requests may proceed. Shared by every request of a server.
#[derive(Debug)]
pub struct Limiter {
    enabled: bool,
    limits: Limits,
    trusted: Vec<IpNet>,
    backend: Backend,
    clock: Arc<dyn Clock>,
    last_sweep: AtomicI64,
}

impl Limiter {
    /// No limits at all.
    pub fn disabled() -> Limiter {
        Limiter {
            enabled: false,
            limits: Limits::default(),
            trusted: Vec::new(),
            backend: Backend::Memory(Mutex::new(MemoryWindows::new(DEFAULT_MEMORY_MAX_BUCKETS))),
            clock: Arc::new(SystemClock),
            last_sweep: AtomicI64::new(i64::MIN),
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
            RateStoreKind::Memory => {
                Backend::Memory(Mutex::new(MemoryWindows::new(config.memory_max_buckets)))
            }
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
            last_sweep: AtomicI64::new(i64::MIN),
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

    /// The memory store keeps at most `cap` windows.
    pub fn with_memory_cap(mut self, cap: usize) -> Limiter {
        if let Backend::Memory(_) = self.backend {
            self.backend = Backend::Memory(Mutex::new(MemoryWindows::new(cap)));
        }
        self
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
                return Ok(map.hit(&limit.bucket, now, limit.window_ms));
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

    /// Takes back one hit of `bucket` (a login that succeeded is no failure). Store failures are
    /// logged: a lost refund only makes the limit a little stricter.
    pub async fn refund(&self, bucket: &str) {
        if !self.enabled {
            return;
        }
        let now = self.clock.now_millis();
        let done = match &self.backend {
            Backend::Memory(map) => {
                map.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .refund(bucket, now);
                Ok(())
            }
            Backend::Database(store) => store.rate_refund(bucket, now).await,
            Backend::Redis(redis) => redis.refund(bucket, now).await,
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, bucket, "rate-limit store failed to take back a hit");
        }
    }

    /// Forgets `bucket` altogether (a successful login clears its account's failures).
    pub async fn forget(&self, bucket: &str) {
        if !self.enabled {
            return;
        }
        let done = match &self.backend {
            Backend::Memory(map) => {
                map.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .windows
                    .remove(bucket);
                Ok(())
            }
            Backend::Database(store) => store.rate_forget(bucket).await,
            Backend::Redis(redis) => redis.forget(bucket).await,
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, bucket, "rate-limit store failed to forget a bucket");
        }
    }

    /// How many windows the memory store holds (0 for the shared stores).
    pub fn memory_windows(&self) -> usize {
        match &self.backend {
            Backend::Memory(map) => map.lock().unwrap_or_else(|p| p.into_inner()).windows.len(),
            Backend::Database(_) | Backend::Redis(_) => 0,
        }
    }

    /// Frees ended windows, at most once a minute (one request does it; the others go on).
    async fn sweep(&self, now: i64) {
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) < SWEEP_EVERY_MS
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        match &self.backend {
            Backend::Memory(map) => map.lock().unwrap_or_else(|p| p.into_inner()).sweep(now),
            Backend::Database(store) => {
                if let Err(e) = store.purge_rate_windows(now).await {
                    tracing::warn!(error = %e, "sweeping rate-limit windows failed");
                }
            }
            // Redis expires idle windows itself.
            Backend::Redis(_) => {}
        }
    }

    /// Whether `peer` is one of the trusted proxies, whose forwarded headers are believed.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&peer))
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

/// No stored slug is longer (names have at most 100 characters); a longer one names no project
/// and costs no query.
const MAX_SLUG_BYTES: usize = 1024;

impl App {
    /// The key of a per-project budget (docs/protocol.md §14.1): the stored slug of the project
    /// `raw_slug` names (normalised as every route normalises it), or `None` when it names no
    /// project, or only an archived one: such a request is counted against the caller's global
    /// budget, so made-up slugs cost no memory. A lookup that fails counts it there too.
    pub async fn project_rate_key(&self, raw_slug: &str) -> Option<String> {
        let wanted = slug::normalize(raw_slug);
        if wanted.is_empty() || wanted.len() > MAX_SLUG_BYTES {
            return None;
        }
        match self.store.project_by_slug(&wanted).await {
            Ok(Some(row)) if ProjectStatus::parse(&row.status) != Some(ProjectStatus::Archived) => {
                Some(row.slug)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "resolving a slug for its rate limit");
                None
            }
        }
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
    fn memory_store_keeps_at_most_its_cap_and_frees_ended_windows() {
        let mut m = MemoryWindows::new(8);
        for i in 0..8 {
            m.hit(&format!("b{i}"), 1_000 + i, 60_000);
        }
        assert_eq!(m.windows.len(), 8);
        // Full and all live: the window closest to its end goes.
        m.hit("new", 2_000, 60_000);
        assert!(m.windows.len() <= 8, "{}", m.windows.len());
        assert!(!m.windows.contains_key("b0"));
        assert!(m.windows.contains_key("new"));
        // A known bucket is counted without eviction.
        assert_eq!(m.hit("new", 2_001, 60_000).hits, 2);
        // Once they have ended, a sweep frees them all.
        m.sweep(10_000_000);
        assert!(m.windows.is_empty());
        m.hit("a", 0, 60_000);
        m.hit("a", 1, 60_000);
        m.refund("a", 2);
        assert_eq!(m.windows["a"].hits, 1);
    }

    #[test]
    fn bad_proxy_addresses_are_refused() {
        let err = Limiter::disabled()
            .with_trusted_proxies(&["10.0.0.0/33".into()])
            .unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
    }
}
