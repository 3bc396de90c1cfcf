//! `quadrat serve`

use std::io::IsTerminal;
use std::process::ExitCode;

use std::sync::Arc;

use anyhow::Context;
use quadrat_app::App;
use quadrat_app::oauth::KeyRing;
use quadrat_app::projects::ImportOptions;
use quadrat_app::ratelimit::Limiter;

use crate::cli::ServeArgs;
use crate::config::Config;

/// The demo definition `serve --demo` seeds.
const DEMO_PROJECT: &str = include_str!("../../../quadrat-core/tests/fixtures/demo.json");

pub async fn run(config: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let mut app = super::open(&config).await?;
    let (keys, made) = KeyRing::open_or_generate(config.key_settings())
        .context("loading the token-signing keys")?;
    if let Some(kid) = made {
        tracing::info!(
            "generated the token-signing key {kid} at {}",
            keys.settings().private_path().display()
        );
    }
    app.config.keys = Some(Arc::new(keys));
    let limiter = Limiter::from_config(&config.rate_limits, &app.store)
        .await
        .map_err(|e| anyhow::anyhow!(e))
        .context("setting up rate limits")?;
    if !limiter.is_enabled() {
        tracing::info!("rate limits are off");
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let local = listener.local_addr()?;
    let base = format!("http://{local}");
    tracing::info!(
        "Quadrat listening on {base} (data in {}, database {})",
        config.data_dir.display(),
        quadrat_store::redact(&config.database_url())
    );
    if args.demo {
        seed_demo(&app, &base).await?;
    }
    quadrat_http::serve_with(listener, app, limiter, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUADRAT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    // A second call (tests running serve twice in one process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

async fn seed_demo(app: &App, base: &str) -> anyhow::Result<()> {
    let file: serde_json::Value =
        serde_json::from_str(DEMO_PROJECT).context("reading the bundled demo project")?;
    let slug = match app.import_project(&file, &ImportOptions::default()).await {
        Ok(done) => {
            let entries = seed_demo_entries(app, &done.slug).await?;
            tracing::info!("demo project {} seeded with {entries} entries", done.slug);
            done.slug
        }
        Err(quadrat_app::AppError::Client { .. }) => {
            let name = quadrat_core::definition::edit::project_str(&file["data"], "name")
                .unwrap_or_default();
            let slug = quadrat_core::slug::normalize(name);
            tracing::info!("demo project {slug} already there");
            slug
        }
        Err(e) => return Err(e.into()),
    };
    println!("Try the demo project:");
    println!("  curl '{base}/api/export/project/{slug}'");
    println!(
        "  curl '{base}/api/projects/{}'",
        &slug[..slug.len().min(4)]
    );
    println!("  curl '{base}/api/project-version/{slug}'");
    println!("  curl '{base}/api/export/entries/{slug}'");
    println!("  curl '{base}/api/export/entries/{slug}?format=csv'");
    Ok(())
}

/// A few gardens for the demo project, stored through the bulk import's path (the upload
/// validation), so the export has something to show. Returns how many were stored.
async fn seed_demo_entries(app: &App, slug: &str) -> anyhow::Result<usize> {
    // (nickname, latitude, longitude, accuracy, size label, features)
    const GARDENS: [(&str, &str, &str, &str, &str, &str); 3] = [
        (
            "Rose Corner",
            "51.507400",
            "-0.127800",
            "5",
            "Small",
            "Bird feeder, Nest box",
        ),
        (
            "Allotment 12",
            "53.480800",
            "-2.242600",
            "8",
            "Large",
            "Bird bath, Pond",
        ),
        (
            "Flat 4B balcony",
            "55.953300",
            "-3.188300",
            "12",
            "Balcony or yard",
            "Bird feeder",
        ),
    ];
    let target = app.import_target(slug).await?;
    let form_ref = target.form_ref(None).map_err(anyhow::Error::msg)?;
    let template = target
        .template(&form_ref, None, None)
        .map_err(anyhow::Error::msg)?;
    let headers = template.headers();
    let binding = template.bind(&headers).map_err(anyhow::Error::msg)?;
    let version = target.project_version();
    let created_at = quadrat_core::time::iso_zero_millis(quadrat_core::time::now_millis());
    let mut rows = Vec::new();
    for (name, lat, long, accuracy, size, features) in GARDENS {
        // Each column is found by the EC5_AUTO name of its question (`1_Garden_nickname`, …).
        let cells: Vec<&str> = headers
            .iter()
            .map(|h| match h.as_str() {
                h if h.starts_with("lat_") => lat,
                h if h.starts_with("long_") => long,
                h if h.starts_with("accuracy_") => accuracy,
                h if h.starts_with("1_") => name,
                h if h.starts_with("3_") => size,
                h if h.starts_with("4_") => features,
                _ => "",
            })
            .collect();
        let uuid = uuid::Uuid::new_v4().to_string();
        let ctx = quadrat_core::bulk::RowContext {
            new_uuid: &uuid,
            created_at: &created_at,
            project_version: &version,
            parent_uuid: None,
            owner_uuid: None,
        };
        let payload = template
            .payload(&binding, &cells, &ctx)
            .map_err(|e| anyhow::anyhow!("demo entry {name}: {e:?}"))?;
        rows.push(payload);
    }
    let outcomes = app
        .ingest_batch(&target.project, &target.actor, &rows)
        .await?;
    Ok(outcomes.iter().filter(|o| o.is_ok()).count())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
