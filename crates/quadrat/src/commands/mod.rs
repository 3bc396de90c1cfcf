//! One module per command group; each calls the use-cases of `quadrat-app`.

mod app;
mod entries;
mod import;
mod keys;
mod mapping;
pub mod member;
mod project;
mod serve;
pub mod user;

use std::process::ExitCode;

use anyhow::Context;
use quadrat_app::{App, AppConfig};
use quadrat_store::Store;

use crate::cli::{Cli, Command};
use crate::config::Config;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut overrides = cli.global.overrides();
    if let Command::Serve(args) = &cli.command {
        overrides.listen = args.listen.clone();
        overrides.public_url = args.public_url.clone();
        if args.no_rate_limits {
            overrides.rate_limits = Some(crate::config::RateLimitOverrides { enabled: false });
        }
    }
    let config = Config::load(overrides)?;
    match cli.command {
        Command::Serve(args) => serve::run(config, args).await,
        Command::Migrate => {
            let app = open(&config).await?;
            app.store.close().await;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Project(cmd) => project::run(open(&config).await?, cmd).await,
        Command::User(cmd) => {
            let app = open(&config).await?;
            let code = user::run(&app, cmd).await;
            app.store.close().await;
            code
        }
        Command::App(cmd) => app::run(open(&config).await?, cmd).await,
        Command::Keys(cmd) => keys::run(&config, cmd),
        Command::Entries(cmd) => entries::run(open(&config).await?, cmd).await,
        Command::Mapping(cmd) => mapping::run(open(&config).await?, cmd).await,
    }
}

/// Opens (creating if needed) the data directory and database, migrated.
pub async fn open(config: &Config) -> anyhow::Result<App> {
    config.ensure_dirs()?;
    let url = config.database_url();
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening database {}", quadrat_store::redact(&url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(App::new(
        store,
        AppConfig {
            public_url: config.public_url(),
            media_dir: config.media_dir(),
            max_upload_bytes: config.max_upload_bytes,
            ..AppConfig::default()
        },
    ))
}
