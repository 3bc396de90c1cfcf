//! The HTTP side: what clients of a running server do, timed. Every client is a keep-alive
//! connection on loopback; bodies are read to the end and their status checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use crate::seed::Seeded;

/// A client able to keep `connections` connections open to the server.
pub fn client(connections: usize) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .no_proxy()
        .build()?)
}

async fn get_ok(client: &reqwest::Client, url: &str, bearer: Option<&str>) -> Result<usize> {
    let mut request = client.get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if !status.is_success() {
        bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body.len())
}

fn entries_url(base: &str, seeded: &Seeded, query: &str) -> String {
    format!(
        "{base}/api/export/entries/{}?form_ref={}&{query}",
        seeded.slug, seeded.form_ref
    )
}

/// Every page of the form at `per_page=1000`, oldest first, one client: entries per second.
pub async fn whole_form(
    client: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    format: &str,
) -> Result<f64> {
    let pages = seeded.entries.div_ceil(1000);
    let started = Instant::now();
    for page in 1..=pages {
        let url = entries_url(
            base,
            seeded,
            &format!("per_page=1000&page={page}&sort_order=asc&format={format}"),
        );
        get_ok(client, &url, None).await?;
    }
    Ok(seeded.entries as f64 / started.elapsed().as_secs_f64())
}

/// The median latency (ms) of `reps` sequential requests of one page.
pub async fn page_latency(
    client: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    per_page: usize,
    page: usize,
    reps: usize,
) -> Result<f64> {
    let url = entries_url(base, seeded, &format!("per_page={per_page}&page={page}"));
    get_ok(client, &url, None).await?;
    let mut runs = Vec::with_capacity(reps);
    for _ in 0..reps {
        let started = Instant::now();
        get_ok(client, &url, None).await?;
        runs.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(crate::report::median(runs))
}

/// Runs `total` jobs on `clients` concurrent workers, each job made by `job(i)`; returns jobs
/// per second.
async fn concurrently<F, Fut>(clients: usize, total: usize, job: F) -> Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (next, job) = (next.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                job(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// A Sites entry of its own (a unique name: the form's unique question), without the photo.
pub fn site_upload(seeded: &Seeded, tag: &str) -> Vec<u8> {
    let uuid = uuid::Uuid::new_v4().to_string();
    let name = format!("{tag} {uuid}");
    let mut data = quadrat_testkit::uploads::another_site(&seeded.version, &uuid, &name);
    data["entry"]["created_at"] = json!("2025-01-02T03:04:05.678Z");
    serde_json::to_vec(&json!({ "data": data })).unwrap_or_default()
}

/// `total` uploads of new Sites entries from `clients` clients: entries per second.
pub async fn uploads(
    client: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    clients: usize,
    total: usize,
    run: usize,
) -> Result<f64> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..total)
            .map(|i| site_upload(seeded, &format!("upload {clients}.{run}.{i}")))
            .collect(),
    );
    let url = Arc::new(format!("{base}/api/upload/{}", seeded.slug));
    let client = client.clone();
    concurrently(clients, total, move |i| {
        let (client, url, bodies) = (client.clone(), url.clone(), bodies.clone());
        async move {
            let response = client
                .post(url.as_str())
                .header("content-type", "application/vnd.api+json")
                .body(bodies[i].clone())
                .send()
                .await?;
            let status = response.status();
            let body = response.text().await?;
            if !status.is_success() {
                bail!("upload: {status}: {body}");
            }
            Ok(())
        }
    })
    .await
}

/// An access token of the private project's client app.
pub async fn token(client: &reqwest::Client, base: &str, seeded: &Seeded) -> Result<String> {
    let response = client
        .post(format!("{base}/api/oauth/token"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": seeded.client_id,
            "client_secret": seeded.client_secret,
        }))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        bail!("token: {status}: {body}");
    }
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no access_token in {body}"))
}

/// `total` token requests from `clients` clients: tokens per second.
pub async fn token_issuance(
    client: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    clients: usize,
    total: usize,
) -> Result<f64> {
    let (client, base, seeded) = (client.clone(), Arc::new(base.to_string()), seeded.clone());
    concurrently(clients, total, move |_| {
        let (client, base, seeded) = (client.clone(), base.clone(), seeded.clone());
        async move {
            token(&client, &base, &seeded).await?;
            Ok(())
        }
    })
    .await
}

/// `total` reads of the private project's (empty) entries with a bearer token, so each
/// request is mostly the token's check: requests per second.
pub async fn token_verification(
    client: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    clients: usize,
    total: usize,
) -> Result<f64> {
    let bearer = Arc::new(token(client, base, seeded).await?);
    let url = Arc::new(format!(
        "{base}/api/export/entries/{}?per_page=1",
        seeded.private_slug
    ));
    let client = client.clone();
    concurrently(clients, total, move |_| {
        let (client, url, bearer) = (client.clone(), url.clone(), bearer.clone());
        async move {
            get_ok(&client, &url, Some(&bearer)).await?;
            Ok(())
        }
    })
    .await
}

/// A bulk-import file of `rows` new Sites entries: the export's own CSV (which imports again),
/// its first row repeated with a new uuid and a unique name each time.
pub async fn import_csv(
    client: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    rows: usize,
    tag: &str,
) -> Result<String> {
    let url = entries_url(base, seeded, "per_page=1&format=csv&sort_order=asc");
    let text = client
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers()?.clone();
    let sample = reader
        .records()
        .next()
        .ok_or_else(|| anyhow!("the export has no row"))??;
    let uuid_col = header.iter().position(|h| h == "ec5_uuid");
    let name_col = sample
        .iter()
        .position(|v| v == "Oak Ridge")
        .ok_or_else(|| anyhow!("no site-name column in {header:?}"))?;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&header)?;
    let mut record: Vec<String> = sample.iter().map(str::to_string).collect();
    for i in 0..rows {
        if let Some(c) = uuid_col {
            record[c] = uuid::Uuid::new_v4().to_string();
        }
        record[name_col] = format!("{tag} {i}");
        out.write_record(&record)?;
    }
    Ok(String::from_utf8(
        out.into_inner().map_err(|e| anyhow!("{e}"))?,
    )?)
}
