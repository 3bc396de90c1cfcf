//! One module per command group; each calls the use-cases of `quadrat-app`.

mod app;
mod backup;
mod entries;
mod import;
mod keys;
mod mapping;
mod media;
pub mod member;
mod mirror;
mod project;
mod serve;
pub mod user;

use std::process::ExitCode;

use anyhow::Context;
use quadrat_app::{App, AppConfig};
use quadrat_store::Store;

use crate::cli::{
    AppCommand, ChangesCommand, Cli, Command, EntriesCommand, MappingCommand, ProjectCommand,
};
use crate::config::Config;
use member::MemberCommand;
use user::UserCommand;

/// Whether the command prints JSON (`--json`), and so its failure too.
pub fn prints_json(command: &Command) -> bool {
    match command {
        Command::Project(ProjectCommand::Import(args)) => args.json,
        Command::Project(ProjectCommand::List { json })
        | Command::Project(ProjectCommand::Member(MemberCommand::List { json, .. }))
        | Command::User(UserCommand::List { json })
        | Command::App(AppCommand::Create { json, .. })
        | Command::App(AppCommand::Show { json, .. })
        | Command::App(AppCommand::RotateSecret { json, .. })
        | Command::Mapping(MappingCommand::List { json, .. })
        | Command::Mapping(MappingCommand::Create { json, .. }) => *json,
        Command::Entries(EntriesCommand::Delete(args)) => args.json,
        Command::Entries(EntriesCommand::Import(args)) => args.json,
        Command::Serve(_)
        | Command::Migrate
        | Command::Media(_)
        | Command::Changes(_)
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Keys(_)
        | Command::Entries(EntriesCommand::Export(_))
        | Command::Mirror(_)
        | Command::Project(
            ProjectCommand::Export { .. }
            | ProjectCommand::Download { .. }
            | ProjectCommand::Set { .. }
            | ProjectCommand::Delete { .. }
            | ProjectCommand::Logo(_)
            | ProjectCommand::Member(MemberCommand::Add { .. } | MemberCommand::Remove { .. }),
        )
        | Command::User(
            UserCommand::Create { .. }
            | UserCommand::SetPassword { .. }
            | UserCommand::Disable { .. }
            | UserCommand::Enable { .. }
            | UserCommand::Delete { .. },
        )
        | Command::App(AppCommand::RevokeTokens { .. } | AppCommand::Delete { .. })
        | Command::Mapping(
            MappingCommand::Show { .. }
            | MappingCommand::Update { .. }
            | MappingCommand::Delete { .. }
            | MappingCommand::SetDefault { .. },
        ) => false,
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut overrides = cli.global.overrides();
    if let Command::Serve(args) = &cli.command {
        overrides.listen = args.listen.clone();
        overrides.public_url = args.public_url.clone();
        overrides.durability = args.durability.map(|d| d.to_string());
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
            outln!("database is up to date");
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
        Command::Media(cmd) => media::run(&config, cmd).await,
        Command::Changes(ChangesCommand::Reset { project }) => {
            let app = open(&config).await?;
            let reset = app.reset_change_epochs(project.as_deref()).await;
            app.store.close().await;
            let n = reset.map_err(crate::failure::cli_error)?;
            outln!(
                "changes feed reset for {n} project{}: cursors handed out before now answer 410 \
                 (clients walk the feed again)",
                if n == 1 { "" } else { "s" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { output, media } => backup::backup(&config, &output, media).await,
        Command::Restore { file } => backup::restore(&config, &file).await,
        Command::Mirror(args) => mirror::run(open(&config).await?, args).await,
    }
}

/// Opens (creating if needed) the data directory and database, migrated.
pub async fn open(config: &Config) -> anyhow::Result<App> {
    config.ensure_dirs()?;
    let url = config.database_url();
    let store = Store::open(&url, config.durability()?)
        .await
        .with_context(|| format!("opening database {}", quadrat_store::redact(&url)))?;
    store.migrate().await.context("migrating the database")?;
    let media = config.media_store()?;
    Ok(App::new(
        store,
        AppConfig {
            public_url: config.public_url(),
            links_from_public_url: config.public_url.as_deref().is_some_and(|u| !u.is_empty()),
            media_dir: config.media_dir(),
            max_upload_bytes: config.max_upload_bytes,
            max_json_body_bytes: config.max_json_body_bytes,
            body_memory_bytes: config.body_memory_bytes,
            passwords: config.passwords.clone(),
            extensions: config.extensions(),
            map_tiles: {
                let default = quadrat_app::MapTiles::default();
                quadrat_app::MapTiles {
                    url: config.map.tile_url.clone().unwrap_or(default.url),
                    attribution: config
                        .map
                        .attribution
                        .clone()
                        .unwrap_or(default.attribution),
                }
            },
            ..AppConfig::default()
        },
    )
    .with_media_store(media))
}
