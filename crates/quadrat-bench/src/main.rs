//! The Quadrat benchmark (issue 11): starts `quadrat serve` as it ships (release build, rate
//! limits off) on SQLite and on PostgreSQL, drives it over HTTP with concurrent keep-alive
//! clients on loopback, measures the engine's own floor in the same run, and prints a table of
//! figures, floors, ratios and targets, also written under `bench/results/`.
//!
//! `cargo run --release -p quadrat-bench -- --engine both` (see README, Performance).

mod drive;
mod floor;
mod report;
mod seed;
mod server;
mod web;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};

use report::{Row, median, ms, per_s};
use seed::Seeded;
use server::{Quadrat, RssProbe, Server};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Parser)]
#[command(about = "Benchmarks a running quadrat server against its database engine")]
struct Args {
    /// Which engines to run on
    #[arg(long, value_enum, default_value = "sqlite")]
    engine: EngineArg,
    /// Sites entries seeded before the reads
    #[arg(long, default_value_t = 100_000)]
    entries: usize,
    /// 1,000,000 entries (overrides --entries)
    #[arg(long)]
    full: bool,
    /// Runs of each measure (the table shows their median)
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Uploads per run at each client count [default: entries / 50, 200 to 3,000]
    #[arg(long)]
    uploads: Option<usize>,
    /// CSV rows of the bulk import [default: min(entries, 100,000)]
    #[arg(long)]
    import_rows: Option<usize>,
    /// The quadrat binary to run [default: build target/release/quadrat]
    #[arg(long, value_name = "PATH")]
    quadrat: Option<PathBuf>,
    /// The durability setting given to the server and the import (QUADRAT_DURABILITY);
    /// unset: the server's default
    #[arg(long)]
    durability: Option<String>,
    /// PostgreSQL server; a fresh database is created on it and dropped afterwards
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// Keep the data directory and database afterwards (to profile a server on them)
    #[arg(long)]
    keep: bool,
    /// Only the web data pages (issue 13): each page's time, the map feed's first bytes, the
    /// project zip with the server's memory against its idle level
    #[arg(long)]
    web: bool,
    /// Where the table is written [default: <workspace>/bench/results]
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,
}

fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    if args.full {
        args.entries = 1_000_000;
    }
    if args.entries < 2 || args.runs == 0 {
        bail!("--entries must be at least 2 and --runs at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let bin = match &args.quadrat {
        Some(bin) => bin.clone(),
        None => server::build_release(&workspace_dir())?,
    };
    let engines: &[&str] = match args.engine {
        EngineArg::Sqlite => &["sqlite"],
        EngineArg::Postgres => &["postgres"],
        EngineArg::Both => &["sqlite", "postgres"],
    };
    let mut rows = Vec::new();
    for engine in engines {
        eprintln!("== {engine}");
        rows.extend(run_engine(&args, &bin, engine).await?);
    }
    let table = report::markdown(&rows);
    let header = format!(
        "Quadrat benchmark, {} entries, {} run(s) per measure (median), durability: {}\n\
         command: quadrat-bench {}\nmachine: {}\nbinary: {}\n\n",
        args.entries,
        args.runs,
        args.durability.as_deref().unwrap_or("server default"),
        std::env::args().skip(1).collect::<Vec<_>>().join(" "),
        machine(),
        bin.display(),
    );
    println!("\n{header}{table}");
    let dir = args
        .results
        .clone()
        .unwrap_or_else(|| workspace_dir().join("bench/results"));
    std::fs::create_dir_all(&dir)?;
    let stamp = quadrat_core::time::now_millis() / 1000;
    let path = dir.join(format!("bench-{stamp}.md"));
    std::fs::write(&path, format!("{header}{table}"))?;
    eprintln!("written to {}", path.display());
    Ok(())
}

/// CPU model, cores and memory, from /proc.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = cpu.lines().filter(|l| l.starts_with("processor")).count();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{model}, {cores} cores, {mem} RAM")
}

/// A fresh database for one engine, dropped (PostgreSQL) when done.
struct Database {
    url: String,
    /// PostgreSQL: the admin URL and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl Database {
    async fn create(engine: &str, data_dir: &Path, admin_url: &str) -> Result<Database> {
        if engine == "sqlite" {
            return Ok(Database {
                url: format!("sqlite://{}", data_dir.join("quadrat.sqlite").display()),
                postgres: None,
            });
        }
        let name = format!("quadrat_bench_{}", std::process::id());
        admin(admin_url, &format!("DROP DATABASE IF EXISTS {name}")).await?;
        admin(admin_url, &format!("CREATE DATABASE {name}")).await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        Ok(Database {
            url: format!("{base}/{name}"),
            postgres: Some((admin_url.to_string(), name)),
        })
    }

    async fn drop_it(&self) -> Result<()> {
        if let Some((admin_url, name)) = &self.postgres {
            admin(
                admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
        Ok(())
    }
}

async fn admin(url: &str, sql: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

async fn run_engine(args: &Args, bin: &Path, engine: &str) -> Result<Vec<Row>> {
    let dir = tempfile::Builder::new()
        .prefix("quadrat-bench-")
        .tempdir()?;
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let db = Database::create(engine, &data_dir, &args.postgres_url).await?;
    let result = measure(args, bin, engine, &data_dir, &db).await;
    if args.keep {
        eprintln!("kept {} ({})", dir.keep().display(), db.url);
        return result;
    }
    db.drop_it().await?;
    result
}

/// Runs `f` `runs` times and returns the median.
async fn med<F, Fut>(runs: usize, mut f: F) -> Result<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<f64>>,
{
    let mut values = Vec::with_capacity(runs);
    for run in 0..runs {
        values.push(f(run).await?);
    }
    Ok(median(values))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await?
}

async fn measure(
    args: &Args,
    bin: &Path,
    engine: &str,
    data_dir: &Path,
    db: &Database,
) -> Result<Vec<Row>> {
    let runs = args.runs;
    let mut rows = Vec::new();
    eprintln!("seeding {} entries…", args.entries);
    let seeded: Seeded = seed::seed(&db.url, data_dir, args.entries).await?;
    rows.push(Row::new(
        engine,
        format!("seed {} entries (batched, app layer)", seeded.entries),
        per_s(seeded.entries as f64 / seeded.seed_secs, "entries"),
    ));
    let mut env = Vec::new();
    if let Some(mode) = &args.durability {
        env.push(("QUADRAT_DURABILITY".to_string(), mode.clone()));
    }
    let q = Quadrat {
        bin: bin.to_path_buf(),
        data_dir: data_dir.to_path_buf(),
        database_url: db.url.clone(),
        env,
    };
    let client = drive::client(64)?;
    let probe_path = format!("/api/export/project/{}", seeded.slug);
    if args.web {
        web::create_user(&db.url, data_dir).await?;
        let server = Server::start(&q, &client, &probe_path).await?;
        eprintln!("web pages…");
        let web_rows = web::pages(
            &client,
            &server.base,
            &seeded,
            engine,
            server.pid(),
            5 * runs,
        )
        .await?;
        server.stop();
        rows.extend(web_rows);
        return Ok(rows);
    }
    let server = Server::start(&q, &client, &probe_path).await?;
    let base = server.base.clone();
    let rss = RssProbe::start(server.pid());
    let sqlite_file = data_dir.join("quadrat.sqlite");

    // Reads. One unmeasured pass first: server and floor both read a warm cache.
    drive::whole_form(&client, &base, &seeded, "json").await?;
    eprintln!("raw read…");
    let (pid, form) = (seeded.project_id, seeded.form_ref.clone());
    let raw = med(runs, |_| {
        let (file, form, url) = (sqlite_file.clone(), form.clone(), db.url.clone());
        async move {
            let t = if engine == "sqlite" {
                blocking(move || floor::sqlite_read(&file, pid, &form)).await?
            } else {
                floor::postgres_copy_read(&url, pid, &form).await?
            };
            Ok(t.rate())
        }
    })
    .await?;
    let raw_name = if engine == "sqlite" {
        "query loop"
    } else {
        "COPY TO STDOUT"
    };
    let export_target = if engine == "sqlite" {
        "≤ 2×"
    } else {
        "≤ 3×"
    };
    for format in ["json", "csv"] {
        eprintln!("whole form as {format}…");
        rss.reset();
        let rate = med(runs, |_| drive::whole_form(&client, &base, &seeded, format)).await?;
        rows.push(
            Row::new(
                engine,
                format!(
                    "whole form as {} pages, per_page=1000, 1 client",
                    format.to_uppercase()
                ),
                per_s(rate, "entries"),
            )
            .floor(format!("{} ({raw_name})", per_s(raw, "rows")))
            .ratio(format!("{:.2}× slower", raw / rate))
            .target(if format == "json" { export_target } else { "" })
            .peak(rss.peak_mb()),
        );
    }
    eprintln!("page latencies…");
    rss.reset();
    let last_page = seeded.entries.div_ceil(1000);
    let reps = 5 * runs;
    let first = drive::page_latency(&client, &base, &seeded, 1000, 1, reps).await?;
    let last = drive::page_latency(&client, &base, &seeded, 1000, last_page, reps).await?;
    rows.push(
        Row::new(
            engine,
            "first / last page, per_page=1000, JSON",
            format!("{} / {}", ms(first), ms(last)),
        )
        .ratio(format!("{:.2}", last / first))
        .target("≤ 1.2")
        .peak(rss.peak_mb()),
    );
    let small = drive::page_latency(&client, &base, &seeded, 50, 1, reps * 2).await?;
    rows.push(Row::new(engine, "first page, per_page=50, JSON", ms(small)).peak(rss.peak_mb()));

    // Writes: the one-row floor, then uploads and the bulk import against it.
    eprintln!("one-row transactions…");
    let floor_rows = args
        .uploads
        .unwrap_or((args.entries / 50).clamp(200, 3000))
        .min(seeded.entries);
    let mut floors = Vec::new();
    let modes: &[&str] = if engine == "sqlite" {
        &["NORMAL", "FULL"]
    } else {
        &["default"]
    };
    for mode in modes {
        let rate = med(runs, |_| {
            let (file, form, url) = (sqlite_file.clone(), form.clone(), db.url.clone());
            let floor_db = data_dir.join("floor.sqlite");
            let mode = mode.to_string();
            async move {
                let t = if engine == "sqlite" {
                    blocking(move || {
                        floor::sqlite_one_row_inserts(
                            &file, &floor_db, &mode, pid, &form, floor_rows,
                        )
                    })
                    .await?
                } else {
                    floor::postgres_one_row_inserts(&url, pid, &form, floor_rows).await?
                };
                Ok(t.rate())
            }
        })
        .await?;
        let (label, short) = if engine == "sqlite" {
            (
                format!("one-row transactions, WAL, synchronous={mode}"),
                mode.to_string(),
            )
        } else {
            (
                "one-row transactions, synchronous_commit=on".to_string(),
                "commit=on".to_string(),
            )
        };
        rows.push(Row::new(engine, label, per_s(rate, "rows")));
        floors.push((short, rate));
    }
    // Writes are shown against every floor (SQLite: NORMAL and FULL), whatever the server's
    // durability: the reader picks the one its mode matches.
    let floor_text = floors
        .iter()
        .map(|(mode, rate)| format!("{} ({mode})", per_s(*rate, "rows")))
        .collect::<Vec<_>>()
        .join(" / ");
    let ratio_text = |rate: f64| {
        floors
            .iter()
            .map(|(_, floor)| format!("{:.2}×", rate / floor))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    for clients in [1, 8, 32] {
        eprintln!("uploads, {clients} clients…");
        rss.reset();
        let rate = med(runs, |run| {
            drive::uploads(&client, &base, &seeded, clients, floor_rows, run)
        })
        .await?;
        rows.push(
            Row::new(
                engine,
                format!("uploads, {clients} client(s)"),
                per_s(rate, "entries"),
            )
            .floor(floor_text.clone())
            .ratio(ratio_text(rate))
            .target("≥ 0.25×")
            .peak(rss.peak_mb()),
        );
    }

    eprintln!("bulk import…");
    let import_rows = args.import_rows.unwrap_or(args.entries.min(100_000)).max(1);
    let mut import_peak: f64 = 0.0;
    let mut import_runs = Vec::with_capacity(runs);
    for run in 0..runs {
        let tag = format!("import {run}");
        let csv = drive::import_csv(&client, &base, &seeded, import_rows, &tag).await?;
        let file = data_dir.join("import.csv");
        std::fs::write(&file, csv)?;
        let (q, slug) = (q.clone(), seeded.slug.clone());
        let (rate, mb) = blocking(move || bulk_import(&q, &slug, &file, import_rows)).await?;
        import_peak = import_peak.max(mb);
        import_runs.push(rate);
    }
    let import_rate = median(import_runs);
    rows.push(
        Row::new(
            engine,
            format!("quadrat entries import, CSV, {import_rows} rows (peak: the CLI)"),
            per_s(import_rate, "rows"),
        )
        .floor(floor_text.clone())
        .ratio(ratio_text(import_rate))
        .target("≥ 2×")
        .peak(import_peak),
    );

    eprintln!("tokens…");
    let token_total = 50 * runs.max(1) * 2;
    rss.reset();
    let issued = med(runs, |_| {
        drive::token_issuance(&client, &base, &seeded, 8, token_total)
    })
    .await?;
    rows.push(
        Row::new(engine, "token issuance, 8 clients", per_s(issued, "tokens")).peak(rss.peak_mb()),
    );
    rss.reset();
    let verified = med(runs, |_| {
        drive::token_verification(&client, &base, &seeded, 8, token_total * 5)
    })
    .await?;
    rows.push(
        Row::new(
            engine,
            "token verification (bearer read of an empty private form), 8 clients",
            per_s(verified, "requests"),
        )
        .peak(rss.peak_mb()),
    );
    drop(rss);
    server.stop();
    Ok(rows)
}

/// Runs `quadrat entries import` on `file`; returns rows per second and the CLI's peak RSS.
fn bulk_import(q: &Quadrat, slug: &str, file: &Path, rows: usize) -> Result<(f64, f64)> {
    let started = Instant::now();
    let child = q
        .command()
        .args(["entries", "import", slug])
        .arg(file)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let probe = RssProbe::start(child.id());
    let out = child.wait_with_output()?;
    let secs = started.elapsed().as_secs_f64();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "quadrat entries import: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let accepted = report["accepted"].as_u64().unwrap_or(0) as usize;
    if accepted != rows {
        bail!("the import stored {accepted} of {rows} rows: {report}");
    }
    Ok((rows as f64 / secs, probe.sampled_peak_mb()))
}
