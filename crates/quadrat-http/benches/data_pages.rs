//! The data pages' server time on a form of 1,000,000 entries (SQLite), through the real server
//! on loopback: the project home, the entries table (first, middle and last page, a date range, a
//! title search), an entry, the map page and its GeoJSON feed, and the project zip with the
//! process's peak memory while it streams. Run with
//! `cargo bench -p quadrat-http --bench data_pages` (ENTRIES=N for another size); never run by
//! `cargo test`. Figures in README ("Performance").

use std::time::Instant;

use quadrat_testkit::uploads::{
    SITE_UUID, SITES, SLUG, import_tree_survey, ingest_entry, site_entry, version_of,
};
use quadrat_testkit::{TestDb, TestServer};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let entries: usize = std::env::var("ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(entries));
}

/// Best of five after a warm-up, in ms, and the body's size.
async fn time(client: &reqwest::Client, url: &str) -> (f64, usize) {
    let warm = client.get(url).send().await.unwrap();
    assert!(warm.status().is_success(), "{url}: {}", warm.status());
    let size = warm.bytes().await.unwrap().len();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let r = client.get(url).send().await.unwrap();
        r.bytes().await.unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
    }
    (best, size)
}

async fn run(entries: usize) {
    let db = TestDb::sqlite().await;
    let server = TestServer::start(&db).await;
    let app = &server.app;
    let project = import_tree_survey(app).await;
    ingest_entry(app, &project, &site_entry(&version_of(&project))).await;
    let template = app
        .store
        .entry_row(project.id, SITE_UUID)
        .await
        .unwrap()
        .unwrap()
        .entry_data
        .replace(SITE_UUID, "{uuid}");
    let t = Instant::now();
    app.store
        .seed_entries_for_bench(
            project.id,
            SITES,
            &template,
            "Site",
            entries - 1,
            1_720_000_000_000,
        )
        .await
        .unwrap();
    println!(
        "seeded {entries} entries in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let base = format!("{}/project/{SLUG}", server.base_url);
    let last = entries.div_ceil(50);
    let client = reqwest::Client::new();
    for (label, url) in [
        ("project home", base.clone()),
        ("entries, page 1", format!("{base}/data")),
        (
            "entries, middle page",
            format!("{base}/data?page={}", last / 2),
        ),
        ("entries, last page", format!("{base}/data?page={last}")),
        (
            "entries, oldest first",
            format!("{base}/data?sort=created_at-asc"),
        ),
        ("entries, by title", format!("{base}/data?sort=title-asc")),
        (
            "entries, one day",
            format!("{base}/data?from=2024-07-03&to=2024-07-03"),
        ),
        (
            "entries, title search",
            format!("{base}/data?title=Site%2012345"),
        ),
        (
            "entry view",
            format!("{base}/entry/{SITE_UUID}?form_ref={SITES}"),
        ),
        ("map page", format!("{base}/data/map")),
    ] {
        let (ms, size) = time(&client, &url).await;
        println!("{label}: {ms:.1} ms ({size} bytes)");
    }

    // The map feed: time to the first bytes and to the end.
    let t = Instant::now();
    let mut r = client
        .get(format!("{base}/data/map.geojson"))
        .send()
        .await
        .unwrap();
    let mut first = None;
    let mut bytes = 0usize;
    while let Some(chunk) = r.chunk().await.unwrap() {
        first.get_or_insert_with(|| t.elapsed().as_secs_f64() * 1000.0);
        bytes += chunk.len();
    }
    println!(
        "map feed: first bytes after {:.1} ms, {:.0} MB in {:.1} s",
        first.unwrap_or_default(),
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // The zip, from a logged-in session, counted as it arrives; peak memory of this process
    // (server and client) while it streams.
    app.create_user(
        "bench@example.org",
        None,
        Some("bench password 1".into()),
        false,
    )
    .await
    .unwrap();
    let mut visitor = quadrat_testkit::pages::Visitor::new(&server.base_url);
    visitor
        .log_in("bench@example.org", "bench password 1")
        .await;
    let cookie = format!("quadrat_session={}", visitor.cookie.clone().unwrap());
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let idle = status_kb("VmRSS:");
    let t = Instant::now();
    let mut r = client
        .get(format!("{base}/download?format=csv"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let mut first = None;
    let mut bytes = 0usize;
    while let Some(chunk) = r.chunk().await.unwrap() {
        first.get_or_insert_with(|| t.elapsed().as_secs_f64() * 1000.0);
        bytes += chunk.len();
    }
    println!(
        "project zip: first bytes after {:.1} ms, {:.0} MB in {:.1} s; RSS before {} MB, peak while streaming {} MB",
        first.unwrap_or_default(),
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        idle / 1024,
        status_kb("VmHWM:") / 1024
    );
}
