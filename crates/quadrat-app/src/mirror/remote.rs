//! The remote server as the mirror sees it (docs/protocol.md §18.2–18.3): sequential requests,
//! paced per bucket, 429s waited out (`Retry-After` + jitter, 8 tries), 5xx and broken
//! connections retried with a 2–32 s back-off, the client-credentials token issued once and
//! re-issued once when the remote revoked it.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::pacing::{Bucket, Pacer, Rates};
use super::token::{Credentials, TokenCache};
use super::{MirrorError, MirrorProgress};

/// Tries of one request before the run stops.
const TRIES: u32 = 8;

/// A response read to its end.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Result<Value, MirrorError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            MirrorError::Remote(format!(
                "the remote answered {} with a body that is not JSON: {e}",
                self.status
            ))
        })
    }

    /// The first `ec5_*` code of an error envelope.
    pub fn error_code(&self) -> Option<String> {
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        v.get("errors")?
            .get(0)?
            .get("code")?
            .as_str()
            .map(str::to_string)
    }

    /// The run's error for an answer it cannot use: `GET {what}: HTTP {status} {code}`.
    pub fn unexpected(&self, what: &str) -> MirrorError {
        let code = self
            .error_code()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        MirrorError::Remote(format!("GET {what}: HTTP {}{code}", self.status))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Requests made and waits endured, for the summary. Each wait is counted under its cause only.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RequestStats {
    pub requests: BTreeMap<&'static str, u64>,
    /// 429 answers, and the time slept on their `Retry-After` (jitter included).
    pub rate_limited: u64,
    pub waited_ms: u64,
    /// Time slept by the client's own pacing (90 % of the rates, `X-RateLimit-Remaining: 0`).
    pub paced_ms: u64,
    /// Requests retried after a 5xx or a broken connection, and their back-off.
    pub retried: u64,
    pub backoff_ms: u64,
}

/// Why the mirror sleeps, each counted on its own in [`RequestStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    RetryAfter,
    Pacing(&'static str),
    Backoff,
}

impl Wait {
    fn why(self) -> &'static str {
        match self {
            Wait::RetryAfter => "429 Retry-After",
            Wait::Pacing(why) => why,
            Wait::Backoff => "retrying after an error",
        }
    }
}

pub struct Remote {
    http: reqwest::Client,
    /// `scheme://host[:port][/prefix]`, no trailing slash.
    pub base: String,
    pub slug: String,
    creds: Option<Credentials>,
    tokens: TokenCache,
    token: Option<String>,
    reissued: bool,
    pacer: Pacer,
    max_wait: Duration,
    pub stats: RequestStats,
    /// The `Date` of the first response, in Unix ms (the run's T0, docs/protocol.md §18.2).
    pub first_date: Option<i64>,
}

impl Remote {
    pub fn new(
        base: String,
        slug: String,
        creds: Option<Credentials>,
        tokens: TokenCache,
        rates: Rates,
        max_wait: Duration,
    ) -> Result<Remote, MirrorError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("quadrat-mirror/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| MirrorError::Remote(format!("starting the HTTP client: {e}")))?;
        Ok(Remote {
            http,
            base,
            slug,
            creds,
            tokens,
            token: None,
            reissued: false,
            pacer: Pacer::new(rates),
            max_wait,
            stats: RequestStats::default(),
            first_date: None,
        })
    }

    pub fn has_credentials(&self) -> bool {
        self.creds.is_some()
    }

    /// `GET {base}{path}` with `query`, paced and retried; any final status is returned.
    pub async fn get(
        &mut self,
        bucket: Bucket,
        path: &str,
        query: &[(&str, String)],
        progress: &dyn MirrorProgress,
    ) -> Result<Reply, MirrorError> {
        let url = format!("{}{path}", self.base);
        let mut backoff = Duration::from_secs(2);
        for attempt in 1..=TRIES {
            if self.creds.is_some() && self.token.is_none() {
                self.token = Some(self.issue_token(progress).await?);
            }
            let mut request = self.http.get(&url).query(query);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            let reply = self.send(bucket, request, progress).await;
            let retry = |why: String| (why, attempt < TRIES);
            let (why, again) = match reply {
                Err(e) => retry(format!("{e}")),
                Ok(reply) if reply.status == 429 => {
                    let wait = retry_after(&reply.headers).unwrap_or(Duration::from_secs(60));
                    self.stats.rate_limited += 1;
                    if wait > self.max_wait {
                        return Err(MirrorError::RateLimited { wait });
                    }
                    let jitter = Duration::from_millis(rand::rng().random_range(0..1000));
                    self.sleep(wait + jitter, Wait::RetryAfter, progress).await;
                    continue;
                }
                Ok(reply) if reply.status >= 500 => retry(format!("HTTP {}", reply.status)),
                Ok(reply)
                    if reply.status == 404
                        && self.creds.is_some()
                        && reply.error_code().as_deref() == Some("ec5_256") =>
                {
                    // The real server revokes a client's other tokens when it issues one.
                    if self.reissued {
                        return Err(MirrorError::Remote(
                            "the remote refused a fresh token: another program is using this \
                             client app (each token issued revokes the others)"
                                .into(),
                        ));
                    }
                    self.reissued = true;
                    self.tokens.forget(&self.base, self.client_id());
                    self.token = None;
                    continue;
                }
                Ok(reply) => return Ok(reply),
            };
            if !again {
                return Err(MirrorError::Remote(format!("GET {url}: {why}")));
            }
            self.stats.retried += 1;
            self.sleep(backoff, Wait::Backoff, progress).await;
            backoff = (backoff * 2).min(Duration::from_secs(32));
        }
        Err(MirrorError::Remote(format!("GET {url}: gave up")))
    }

    fn client_id(&self) -> &str {
        self.creds.as_ref().map_or("", |c| c.client_id.as_str())
    }

    async fn send(
        &mut self,
        bucket: Bucket,
        request: reqwest::RequestBuilder,
        progress: &dyn MirrorProgress,
    ) -> Result<Reply, reqwest::Error> {
        if let Some((wait, why)) = self.pacer.reserve(bucket) {
            self.sleep(wait, Wait::Pacing(why), progress).await;
        }
        *self.stats.requests.entry(bucket.as_str()).or_default() += 1;
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.pacer.observe(bucket, &headers);
        if self.first_date.is_none() {
            self.first_date = headers
                .get("date")
                .and_then(|v| v.to_str().ok())
                .and_then(http_date);
        }
        let body = response.bytes().await?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// One timer for the whole wait (no polling loop), counted under its cause.
    async fn sleep(&mut self, wait: Duration, cause: Wait, progress: &dyn MirrorProgress) {
        if wait >= Duration::from_secs(1) {
            progress.waiting(cause.why(), wait);
        }
        let ms = wait.as_millis() as u64;
        match cause {
            Wait::RetryAfter => self.stats.waited_ms += ms,
            Wait::Pacing(_) => self.stats.paced_ms += ms,
            Wait::Backoff => self.stats.backoff_ms += ms,
        }
        tokio::time::sleep(wait).await;
    }

    /// A client-credentials token: the cached one while it lasts, else `POST /api/oauth/token`.
    async fn issue_token(&mut self, progress: &dyn MirrorProgress) -> Result<String, MirrorError> {
        let Some(creds) = self.creds.clone() else {
            return Err(MirrorError::Remote("no client credentials".into()));
        };
        if !self.reissued
            && let Some(token) = self.tokens.get(&self.base, &creds.client_id)
        {
            return Ok(token);
        }
        let url = format!("{}/api/oauth/token", self.base);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.secret.as_str()),
        ];
        let mut backoff = Duration::from_secs(2);
        for attempt in 1..=TRIES {
            let request = self.http.post(&url).form(&form);
            let reply = match self.send(Bucket::Token, request, progress).await {
                Ok(r) => r,
                Err(e) if attempt < TRIES => {
                    tracing::debug!(error = %e, "token request failed");
                    self.sleep(backoff, Wait::Backoff, progress).await;
                    backoff = (backoff * 2).min(Duration::from_secs(32));
                    continue;
                }
                Err(e) => return Err(MirrorError::Remote(format!("POST {url}: {e}"))),
            };
            if reply.status == 429 {
                let wait = retry_after(&reply.headers).unwrap_or(Duration::from_secs(60));
                self.stats.rate_limited += 1;
                if wait > self.max_wait {
                    return Err(MirrorError::RateLimited { wait });
                }
                self.sleep(wait, Wait::RetryAfter, progress).await;
                continue;
            }
            if reply.status >= 500 && attempt < TRIES {
                self.sleep(backoff, Wait::Backoff, progress).await;
                backoff = (backoff * 2).min(Duration::from_secs(32));
                continue;
            }
            if reply.status != 200 {
                return Err(MirrorError::Remote(format!(
                    "the remote refused the client credentials (HTTP {}{})",
                    reply.status,
                    reply
                        .error_code()
                        .map(|c| format!(", {c}"))
                        .unwrap_or_default()
                )));
            }
            let body = reply.json()?;
            let token = body
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| MirrorError::Remote("the token answer has no access_token".into()))?
                .to_string();
            let expires_in = body.get("expires_in").and_then(Value::as_i64).unwrap_or(0);
            self.tokens
                .put(&self.base, &creds.client_id, &token, expires_in);
            return Ok(token);
        }
        Err(MirrorError::Remote(format!("POST {url}: gave up")))
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date(text)?;
    let now = quadrat_core::time::now_millis();
    Some(Duration::from_millis(u64::try_from(at - now).unwrap_or(0)))
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) in Unix ms.
fn http_date(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(text)
        .ok()
        .map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
    }
}
