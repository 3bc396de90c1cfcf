//! A fault-injecting HTTP proxy on loopback between `quadrat mirror` and a Quadrat server R,
//! making R look like the real Epicollect5 server (docs/protocol.md §18.6): the changes feed
//! answers 422 `ec5_219` unless let through, `per_page` above 500 is refused with `ec5_335`,
//! rows of one `uploaded_at` second come in an order of the proxy's choosing (stable per query),
//! and issuing a token revokes the older ones (the real server's behaviour). It can also answer
//! 429 with `Retry-After`, cut a connection in the middle of a body, and slow every request.
//! It can also strip `X-Media-Placeholder` (the real server never sends it: the mirror must know
//! a placeholder by its bytes), and page the entries export itself with the ties of one second
//! in an order of its own, the same for a query whatever its page (as a database without a
//! tie-breaker usually does) or different on every request (rows then repeat and go missing
//! across pages). Every request's path and query are logged.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the traffic; changed by the test between runs.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Let `/api/export/changes` through (a Quadrat remote).
    pub feed: bool,
    /// Answer 429 (`Retry-After: retry_after`) to these request numbers (1-based).
    pub throttle: Vec<u64>,
    pub retry_after: u64,
    /// Send half of the body of these responses and close the connection.
    pub cut: Vec<u64>,
    /// Wait this long before forwarding each request.
    pub delay: Duration,
    /// Drop `X-Media-Placeholder` from media answers (the bytes stay R's placeholder).
    pub strip_placeholder: bool,
    /// Page the entries export here, ties ordered so (default: R's pages, ties reordered
    /// within each page).
    pub ties: Option<Ties>,
}

/// How the proxy orders the rows of one `uploaded_at` second when it pages them itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    /// The same order for a query on every page.
    StablePerQuery,
    /// A new order on every request.
    PerRequest,
}

#[derive(Debug, Default)]
struct Shared {
    faults: Faults,
    count: u64,
    log: Vec<String>,
    /// The token the remote issued last: older ones are refused as revoked.
    latest_token: Option<String>,
}

#[derive(Clone)]
pub struct Proxy {
    pub base_url: String,
    shared: Arc<Mutex<Shared>>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let proxy = Proxy {
            base_url: format!("http://{addr}"),
            shared: shared.clone(),
        };
        let upstream = upstream.to_string();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (shared, upstream, client) = (shared.clone(), upstream.clone(), client.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, shared, &upstream, &client).await;
                });
            }
        });
        proxy
    }

    pub fn set(&self, faults: Faults) {
        self.shared.lock().unwrap().faults = faults;
    }

    /// Requests seen so far.
    pub fn count(&self) -> u64 {
        self.shared.lock().unwrap().count
    }

    /// Paths with queries of the requests seen, and forgets them.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().unwrap().log)
    }
}

/// One connection: requests read and answered in turn (keep-alive).
async fn serve(
    mut stream: TcpStream,
    shared: Arc<Mutex<Shared>>,
    upstream: &str,
    client: &reqwest::Client,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_string();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or("GET").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        let mut length = 0usize;
        for line in lines.filter(|l| !l.is_empty()) {
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_string(), v.trim().to_string());
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[head_end..head_end + length].to_vec();
        buf.drain(..head_end + length);
        let (n, faults) = {
            let mut s = shared.lock().unwrap();
            s.count += 1;
            s.log.push(format!("{method} {target}"));
            (s.count, s.faults.clone())
        };
        if !faults.delay.is_zero() {
            tokio::time::sleep(faults.delay).await;
        }
        let bearer = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let (status, out_headers, out_body) = if faults.throttle.contains(&n) {
            let body = json!({"errors": [{"code": "ec5_255", "title": "Too Many Requests", "source": "rate-limiter"}]});
            (
                429,
                vec![("retry-after".to_string(), faults.retry_after.to_string())],
                body.to_string().into_bytes(),
            )
        } else if target.starts_with("/api/export/changes/") && !faults.feed {
            let body = json!({"errors": [{"code": "ec5_219", "title": "Page not found.", "source": "route"}]});
            (422, Vec::new(), body.to_string().into_bytes())
        } else if target.starts_with("/api/export/entries/") && per_page(&target) > 500 {
            let body = json!({"errors": [{"code": "ec5_335", "title": "per_page too large", "source": "per_page"}]});
            (400, Vec::new(), body.to_string().into_bytes())
        } else if let Some(revoked) = bearer.filter(|b| {
            shared
                .lock()
                .unwrap()
                .latest_token
                .as_ref()
                .is_some_and(|l| l != b)
        }) {
            let _ = revoked;
            let body = json!({"errors": [{"code": "ec5_256", "title": "Project is private.", "source": "auth"}]});
            (404, Vec::new(), body.to_string().into_bytes())
        } else if let (Some(ties), true) = (
            faults.ties,
            target.starts_with("/api/export/entries/") && target.contains("sort_by=uploaded_at"),
        ) {
            let seed = match ties {
                Ties::StablePerQuery => without_paging(&target),
                Ties::PerRequest => n.to_string(),
            };
            paged(client, upstream, &target, &headers, &seed).await
        } else {
            let (status, mut out_headers, out_body) =
                forward(client, upstream, &method, &target, &headers, body, &shared).await;
            if faults.strip_placeholder {
                out_headers.retain(|(k, _)| !k.eq_ignore_ascii_case("x-media-placeholder"));
            }
            (status, out_headers, out_body)
        };
        let mut response = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n",
            out_body.len()
        );
        for (k, v) in &out_headers {
            response.push_str(&format!("{k}: {v}\r\n"));
        }
        response.push_str("\r\n");
        stream.write_all(response.as_bytes()).await?;
        if faults.cut.contains(&n) {
            stream.write_all(&out_body[..out_body.len() / 2]).await?;
            stream.flush().await?;
            return Ok(());
        }
        stream.write_all(&out_body).await?;
    }
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    shared: &Arc<Mutex<Shared>>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, format!("{upstream}{target}"));
    for (k, v) in headers {
        let lower = k.to_ascii_lowercase();
        if !["host", "content-length", "connection"].contains(&lower.as_str()) {
            request = request.header(k, v);
        }
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let out_headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(k, _)| {
            !["content-length", "transfer-encoding", "connection"].contains(&k.as_str())
        })
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let mut bytes = response.bytes().await.unwrap().to_vec();
    if target.starts_with("/api/oauth/token")
        && status == 200
        && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
        && let Some(token) = v.get("access_token").and_then(Value::as_str)
    {
        shared.lock().unwrap().latest_token = Some(token.to_string());
    }
    if target.starts_with("/api/export/entries/")
        && status == 200
        && let Ok(mut v) = serde_json::from_slice::<Value>(&bytes)
    {
        reorder_ties(&mut v, target);
        bytes = serde_json::to_vec(&v).unwrap();
    }
    (status, out_headers, bytes)
}

/// The entries export paged by the proxy: every row of the query read from R (its own pages
/// of 1000), sorted by `uploaded_at` with ties in the order `seed` gives, and the page asked for
/// cut from them; `meta.total` is R's.
async fn paged(
    client: &reqwest::Client,
    upstream: &str,
    target: &str,
    headers: &[(String, String)],
    seed: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let (page, per_page) = (
        param("page").unwrap_or(1).max(1),
        param("per_page").unwrap_or(50),
    );
    let base = without_paging(target);
    let mut rows: Vec<Value> = Vec::new();
    let mut first: Option<Value> = None;
    for upstream_page in 1.. {
        let url = format!("{upstream}{path}?{base}&per_page=1000&page={upstream_page}");
        let mut request = client.get(url);
        for (k, v) in headers {
            if k.eq_ignore_ascii_case("authorization") {
                request = request.header(k, v);
            }
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap().to_vec();
        if status != 200 {
            return (status, Vec::new(), body);
        }
        let v: Value = serde_json::from_slice(&body).unwrap();
        let got = v
            .pointer("/data/entries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let more = got.len() == 1000;
        rows.extend(got);
        first.get_or_insert(v);
        if !more {
            break;
        }
    }
    let key = |row: &Value| {
        let uuid = row
            .get("ec5_branch_uuid")
            .or_else(|| row.get("ec5_uuid"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut h = DefaultHasher::new();
        (seed, uuid).hash(&mut h);
        (
            row["uploaded_at"].as_str().unwrap_or_default().to_string(),
            h.finish(),
        )
    };
    rows.sort_by_cached_key(key);
    let slice: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut out = first.unwrap_or_else(|| json!({"data": {}, "meta": {}}));
    out["meta"]["per_page"] = json!(per_page);
    out["meta"]["current_page"] = json!(page);
    out["data"]["entries"] = json!(slice);
    (
        200,
        vec![("content-type".into(), "application/json".into())],
        serde_json::to_vec(&out).unwrap(),
    )
}

/// A target's query without `page` and `per_page`.
fn without_paging(target: &str) -> String {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter(|kv| !kv.starts_with("page=") && !kv.starts_with("per_page="))
        .collect::<Vec<_>>()
        .join("&")
}

/// Rows of one `uploaded_at` keep their place among the others but come in an order of their
/// own, the same for the same query (the real sort has no tie-breaker).
fn reorder_ties(page: &mut Value, query: &str) {
    let Some(rows) = page
        .pointer_mut("/data/entries")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let key = |row: &Value| {
        let at = row["uploaded_at"].as_str().unwrap_or_default().to_string();
        let uuid = row
            .get("ec5_branch_uuid")
            .or_else(|| row.get("ec5_uuid"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut h = DefaultHasher::new();
        (query, uuid).hash(&mut h);
        (at, h.finish())
    };
    // Stable within a second only: the pages' seconds stay in order.
    let mut i = 0;
    while i < rows.len() {
        let at = rows[i]["uploaded_at"].clone();
        let mut j = i;
        while j < rows.len() && rows[j]["uploaded_at"] == at {
            j += 1;
        }
        rows[i..j].sort_by_key(key);
        i = j;
    }
}

fn per_page(target: &str) -> u64 {
    target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("per_page="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
