//! The web data pages phase (`--web`, issue 13): each page's time on the seeded form through
//! the running server (a request on loopback: server time plus a loopback round trip), the map
//! feed's first bytes, and the project zip streamed whole with the server's resident memory
//! watched against its idle level.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use quadrat_app::{App, AppConfig};
use quadrat_store::Store;
use quadrat_testkit::pages::Visitor;
use quadrat_testkit::uploads::SITE_UUID;

use crate::report::{Row, median, ms};
use crate::seed::Seeded;
use crate::server::RssProbe;

const EMAIL: &str = "bench-web@example.org";
const PASSWORD: &str = "bench web password";

/// A user for the zip (downloads need a login, even of public projects), made before the
/// server starts.
pub async fn create_user(database_url: &str, data_dir: &std::path::Path) -> Result<()> {
    let store = Store::connect(database_url).await?;
    let app = App::new(
        store.clone(),
        AppConfig {
            media_dir: data_dir.join("media"),
            ..AppConfig::default()
        },
    );
    app.create_user(EMAIL, None, Some(PASSWORD.into()), false)
        .await
        .map_err(|e| anyhow::anyhow!("creating the download user: {e}"))?;
    store.close().await;
    Ok(())
}

/// The median time of `reps` GETs of `url` after one unmeasured, in ms, and the body's size.
async fn time(client: &reqwest::Client, url: &str, reps: usize) -> Result<(f64, usize)> {
    let size = get(client, url).await?.len();
    let mut runs = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        get(client, url).await?;
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((median(runs), size))
}

async fn get(client: &reqwest::Client, url: &str) -> Result<String> {
    let r = client.get(url).send().await?;
    let status = r.status();
    let body = r.text().await?;
    if !status.is_success() {
        bail!("GET {url}: {status}");
    }
    Ok(body)
}

/// The `href` of the pager's link `rel` (`next`, `prev`, …) in a table page.
fn pager_link(page: &str, rel: &str) -> Option<String> {
    let at = page.find(&format!("rel=\"{rel}\""))?;
    let start = page[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + page[start..].find('"')?;
    Some(page[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// Times every page; returns the table's rows.
pub async fn pages(
    client: &reqwest::Client,
    base: &str,
    seeded: &Seeded,
    engine: &str,
    server_pid: u32,
    reps: usize,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let slug = &seeded.slug;
    let home = format!("{base}/project/{slug}");
    let data = format!("{home}/data");
    let mut measure = |label: String, (ms_taken, size): (f64, usize)| {
        let label = format!("{label} ({} KB)", size.div_ceil(1024));
        eprintln!("  {label}: {}", ms(ms_taken));
        rows.push(Row::new(engine, label, ms(ms_taken)).target("< 50 ms"));
    };
    measure("project home".into(), time(client, &home, reps).await?);
    // Each sort: the first page, a middle page reached by its keyset link (the `next` of an
    // older offset link to the page before, read once, unmeasured) and the last.
    let middle = seeded.entries.div_ceil(50) / 2;
    for sort in [
        "created_at-desc",
        "created_at-asc",
        "uploaded_at-desc",
        "uploaded_at-asc",
        "title-asc",
        "title-desc",
    ] {
        let first = format!("{data}?sort={sort}");
        measure(
            format!("entries, {sort}, first page"),
            time(client, &first, reps).await?,
        );
        let before = get(client, &format!("{first}&page={}", middle - 1)).await?;
        let link = pager_link(&before, "next").context("a next link")?;
        measure(
            format!("entries, {sort}, middle page ({middle}, keyset)"),
            time(client, &format!("{base}{link}"), reps).await?,
        );
        let last = pager_link(&get(client, &first).await?, "last").context("a last link")?;
        measure(
            format!("entries, {sort}, last page"),
            time(client, &format!("{base}{last}"), reps).await?,
        );
        let before_last = pager_link(&get(client, &format!("{base}{last}")).await?, "prev")
            .context("a previous link")?;
        measure(
            format!("entries, {sort}, the page before the last (keyset)"),
            time(client, &format!("{base}{before_last}"), reps).await?,
        );
    }
    // Seeded entry i was created at 1,700,000,000,000 + i s (2023-11-14T22:13:20Z): a whole
    // day holds 86,400 of them; a small run has only the first (part of a) day.
    let date = if seeded.entries > 100_000 {
        "2023-11-15"
    } else {
        "2023-11-14"
    };
    let day = format!("{data}?from={date}&to={date}");
    measure(
        format!("entries, one day (date range {date}), first page"),
        time(client, &day, reps).await?,
    );
    if let Some(day_last) = pager_link(&get(client, &day).await?, "last") {
        measure(
            format!("entries, one day (date range {date}), last page"),
            time(client, &format!("{base}{day_last}"), reps).await?,
        );
    }
    let target = seeded.entries / 2;
    measure(
        format!("entries, title search \"Site {target}\" (one match)"),
        time(client, &format!("{data}?title=Site%20{target}"), reps).await?,
    );
    measure(
        "entries, title search \"Site 99\" (many matches)".into(),
        time(client, &format!("{data}?title=Site%2099"), reps).await?,
    );
    measure(
        "entry view".into(),
        time(
            client,
            &format!("{home}/entry/{SITE_UUID}?form_ref={}", seeded.form_ref),
            reps,
        )
        .await?,
    );
    measure(
        "map page".into(),
        time(client, &format!("{data}/map"), reps).await?,
    );

    // The map feed: its first bytes, then the whole of it.
    let feed = format!("{data}/map.geojson?form_ref={}", seeded.form_ref);
    let mut firsts = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let mut r = client.get(&feed).send().await?;
        r.chunk().await?;
        firsts.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let t = Instant::now();
    let (_, bytes) = read_all(client.get(&feed)).await?;
    let first = median(firsts);
    eprintln!("  map feed: first bytes {}", ms(first));
    rows.push(
        Row::new(engine, "map feed (GeoJSON), first bytes", ms(first))
            .ratio(format!(
                "whole: {:.0} MB in {:.1} s",
                bytes as f64 / 1e6,
                t.elapsed().as_secs_f64()
            ))
            .target("< 50 ms"),
    );

    // The project zip from a logged-in session, the server's RSS sampled while it streams.
    let mut visitor = Visitor::new(base);
    visitor.log_in(EMAIL, PASSWORD).await;
    let cookie = format!(
        "quadrat_session={}",
        visitor.cookie.clone().context("a session")?
    );
    let probe = RssProbe::start(server_pid);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    probe.reset();
    let idle = probe.peak_mb();
    let t = Instant::now();
    let (first, bytes) = read_all(
        client
            .get(format!("{home}/download?format=csv"))
            .header("cookie", cookie),
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    let peak = probe.peak_mb();
    eprintln!(
        "  zip: first bytes {}, {:.0} MB in {secs:.1} s, RSS idle {idle:.1} MB, peak {peak:.1} MB",
        ms(first),
        bytes as f64 / 1e6
    );
    rows.push(
        Row::new(
            engine,
            format!("project zip (CSV), {} entries", seeded.entries),
            format!(
                "first bytes {}, {:.0} MB in {secs:.1} s",
                ms(first),
                bytes as f64 / 1e6
            ),
        )
        .floor(format!("idle RSS {idle:.1} MB"))
        .ratio(format!("+{:.1} MB", peak - idle))
        .target("≤ +30 MB")
        .peak(peak),
    );
    Ok(rows)
}

/// Sends a request and reads its body to the end: `(ms to the first bytes, bytes)`.
async fn read_all(request: reqwest::RequestBuilder) -> Result<(f64, usize)> {
    let t = Instant::now();
    let mut r = request.send().await?;
    if !r.status().is_success() {
        bail!("{}", r.status());
    }
    let mut first = None;
    let mut bytes = 0;
    while let Some(chunk) = r.chunk().await? {
        first.get_or_insert_with(|| t.elapsed().as_secs_f64() * 1000.0);
        bytes += chunk.len();
    }
    Ok((first.unwrap_or_default(), bytes))
}
