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
            tracing::info!("demo project {} seeded", done.slug);
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
    Ok(())
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
