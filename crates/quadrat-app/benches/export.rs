//! The entries export on a form of 1,000,000 entries (SQLite): the first and the last page at
//! per_page=1000 through the use-case (rendering included), and the whole form streamed as CSV
//! with the process's peak memory while streaming. Run with
//! `cargo bench -p quadrat-app --bench export` (ENTRIES=N for another size); never run by
//! `cargo test`.

use std::io::Write;
use std::time::Instant;

use quadrat_app::export::{EntriesRequest, StreamOptions};
use quadrat_app::{App, AppConfig};
use quadrat_store::Store;
use quadrat_testkit::uploads::{
    SITES, SLUG, import_tree_survey, ingest_entry, site_entry, site_template, version_of,
};

/// Counts bytes instead of keeping them.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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

async fn run(entries: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let app = App::new(
        store,
        AppConfig {
            public_url: "http://localhost:8080".into(),
            media_dir: dir.path().join("media"),
            ..AppConfig::default()
        },
    );
    let project = import_tree_survey(&app).await;
    ingest_entry(&app, &project, &site_entry(&version_of(&project))).await;
    // Every seeded entry is the worked example's site (all its input types) under a new uuid.
    let template = site_template(&app, &project).await;
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
    let project = app.find_project(SLUG).await.unwrap();

    let path = format!("/api/export/entries/{SLUG}");
    let last_page = entries.div_ceil(1000);
    for (label, query) in [
        ("first page, JSON", "per_page=1000".to_string()),
        ("last page, JSON", format!("per_page=1000&page={last_page}")),
        ("first page, CSV", "per_page=1000&format=csv".to_string()),
        (
            "last page, CSV",
            format!("per_page=1000&format=csv&page={last_page}"),
        ),
    ] {
        let request = EntriesRequest {
            query: &query,
            origin: "http://localhost:8080",
            path: &path,
            count_cap: None,
        };
        // One warm-up, then the best of five.
        let page = app.export_entries(&project, &request).await.unwrap();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            app.export_entries(&project, &request).await.unwrap();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("{label}: {best:.1} ms ({} bytes)", page.body.len());
    }

    // Peak resident memory while streaming: reset the high-water mark (Linux), stream, read it.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kb("VmRSS:");
    let t = Instant::now();
    let mut out = Counter(0);
    let n = app
        .stream_entries(
            &StreamOptions {
                slug: SLUG.into(),
                csv: true,
                ..StreamOptions::default()
            },
            &mut out,
            &mut |_, _| {},
        )
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "whole form as CSV: {n} entries, {:.0} MB in {secs:.1} s ({:.0} entries/s); RSS before {} MB, peak while streaming {} MB",
        out.0 as f64 / 1e6,
        n as f64 / secs,
        before / 1024,
        status_kb("VmHWM:") / 1024
    );
}
