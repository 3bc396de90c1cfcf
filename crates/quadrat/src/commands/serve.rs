//! `quadrat serve`

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use std::sync::Arc;

use anyhow::Context;
use quadrat_app::App;
use quadrat_app::oauth::KeyRing;
use quadrat_app::ratelimit::Limiter;

use std::time::Duration;

use quadrat_http::{Metrics, ServeOptions};

use crate::cli::ServeArgs;
use crate::config::{Config, LogFormat};
use crate::deployment::{self, Deployment};

pub async fn run(config: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(config.log_format);
    let problems = deployment::cluster_problems(&config);
    if !problems.is_empty() {
        anyhow::bail!(
            "deployment = \"cluster\" needs every instance to share its state:\n  - {}",
            problems.join("\n  - ")
        );
    }
    let metrics_token = config.metrics.resolved_token()?;
    let mut app = super::open(&config).await?;
    // One instance among several never makes a key of its own: its tokens would be unknown to
    // the others.
    let (keys, made) = match config.deployment {
        Deployment::Cluster => KeyRing::open(config.key_settings()).map(|k| (k, None)),
        Deployment::Single => KeyRing::open_or_generate(config.key_settings()),
    }
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
    // The configured public URL, else the address actually bound (the port may have been 0).
    let web_base = match &config.public_url {
        Some(url) if !url.is_empty() => url.trim_end_matches('/').to_string(),
        _ => base.clone(),
    };
    announce_web(&app, &web_base, args.demo).await?;
    app.spawn_tombstone_retention(config.sync.retention());
    app.start_render_ahead();
    let options = ServeOptions {
        metrics: Arc::new(Metrics::new()),
        metrics_token,
        grace: Duration::from_secs(config.shutdown_grace_seconds),
    };
    // One signal stops both listeners.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let metrics_server = match config.metrics.listen() {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("listening on metrics.listen {address}"))?;
            tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
            Some(tokio::spawn(quadrat_http::serve_metrics(
                listener,
                app.clone(),
                options.metrics.clone(),
                stopped(stop_rx.clone()),
            )))
        }
        None => None,
    };
    quadrat_http::serve_with_options(listener, app, limiter, options, stopped(stop_rx)).await?;
    if let Some(server) = metrics_server {
        server.abort();
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUADRAT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second call (tests running serve twice in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        // One object per line, the event's fields at the top level, the request's span (its
        // request id) beside them.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Seeds the demo project (the app layer decides what it holds) and prints requests to try.
async fn seed_demo(app: &App, base: &str) -> anyhow::Result<()> {
    let seed = app.seed_demo().await.context("seeding the demo project")?;
    if seed.created {
        tracing::info!(
            "demo project {} seeded with {} entries",
            seed.slug,
            seed.entries
        );
    } else {
        tracing::info!("demo project {} already there", seed.slug);
    }
    say(format_args!("Try the demo project:"));
    for line in try_lines(base, &seed.slug) {
        say(format_args!("  {line}"));
    }
    Ok(())
}

/// A line on standard output; the server runs on when nobody reads it (no panic, no error).
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The web pages' first start: with `--demo` a demo administrator (its password new on every
/// start, printed once); without any administrator, the one-time setup URL.
async fn announce_web(app: &App, public_url: &str, demo: bool) -> anyhow::Result<()> {
    if demo {
        let (email, password) = app
            .ensure_demo_admin()
            .await
            .context("creating the demo administrator")?;
        say(format_args!(
            "Log in to the web pages at {public_url}/login as {email} with password {password}"
        ));
    }
    if let Some(token) = app.setup_token().await.context("reading the setup token")? {
        tracing::info!(
            "no administrator yet: create the first one at {public_url}/setup?token={token}"
        );
    }
    Ok(())
}

/// `curl` lines for a project's public routes. The project search takes a name prefix: the
/// slug's first four characters (characters, not bytes, whatever the slug holds).
fn try_lines(base: &str, slug: &str) -> Vec<String> {
    let prefix: String = slug.chars().take(4).collect();
    [
        format!("/api/export/project/{slug}"),
        format!("/api/projects/{prefix}"),
        format!("/api/project-version/{slug}"),
        format!("/api/export/entries/{slug}"),
        format!("/api/export/entries/{slug}?format=csv"),
    ]
    .into_iter()
    .map(|path| format!("curl '{base}{path}'"))
    .collect()
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
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use super::try_lines;

    #[test]
    fn try_lines_cut_a_non_ascii_slug_between_characters() {
        // Byte 4 falls inside `ü` (and inside the second `本`): a byte slice would panic.
        for (slug, search) in [("aéü-garden", "aéü-"), ("日本語", "日本語"), ("ab", "ab")]
        {
            let lines = try_lines("http://127.0.0.1:8080", slug);
            assert_eq!(lines.len(), 5);
            assert_eq!(
                lines[1],
                format!("curl 'http://127.0.0.1:8080/api/projects/{search}'")
            );
            assert!(lines[0].ends_with(&format!("/api/export/project/{slug}'")));
        }
    }
}
