//! `quadrat project …`

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use quadrat_app::projects::ImportOptions;
use quadrat_app::{App, AppError};
use quadrat_core::Ec5Error;
use quadrat_core::project_state::ProjectSetting;
use serde_json::{Value, json};

use crate::cli::{ImportArgs, LogoArgs, ProjectCommand};
use crate::failure::{Failure, cli_error};

pub async fn run(app: App, cmd: ProjectCommand) -> anyhow::Result<ExitCode> {
    let code = match cmd {
        ProjectCommand::Import(args) => import(&app, args).await?,
        ProjectCommand::List { json } => list(&app, json).await?,
        ProjectCommand::Export { slug, output } => {
            let file = app.export_definition(&slug).await.map_err(cli_error)?;
            let text = serde_json::to_string_pretty(&file)? + "\n";
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => crate::out::stdout().write_all(text.as_bytes())?,
            }
            ExitCode::SUCCESS
        }
        ProjectCommand::Download {
            slug,
            output,
            json,
            map_index,
            media,
        } => {
            let project = app.find_project(&slug).await.map_err(cli_error)?;
            let file = std::fs::File::create(&output)
                .with_context(|| format!("creating {}", output.display()))?;
            let opts = quadrat_app::download::DownloadOptions {
                map_index,
                json,
                media,
                origin: None,
            };
            let out = app
                .download_project(&project, &opts, std::io::BufWriter::new(file))
                .await
                .map_err(cli_error)?;
            out.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .with_context(|| format!("writing {}", output.display()))?;
            let files = quadrat_app::download::download_files(&project, json).map_err(cli_error)?;
            outln!(
                "wrote {} ({} files{})",
                output.display(),
                files.len(),
                if media { " and the media files" } else { "" }
            );
            ExitCode::SUCCESS
        }
        ProjectCommand::Set { slug, field, value } => {
            let setting = ProjectSetting::parse(field, &value)
                .map_err(|e| cli_error(AppError::invalid(vec![e.into()])))?;
            app.set_project_setting(&slug, setting)
                .await
                .map_err(cli_error)?;
            outln!("{field} of {slug} set to {value}");
            ExitCode::SUCCESS
        }
        ProjectCommand::Delete { slug } => {
            let row = app.delete_project(&slug).await.map_err(cli_error)?;
            outln!("deleted project {} ({})", row.name, row.slug);
            ExitCode::SUCCESS
        }
        ProjectCommand::Member(cmd) => super::member::run(&app, cmd).await?,
        ProjectCommand::Logo(args) => logo(&app, args).await?,
    };
    app.store.close().await;
    Ok(code)
}

async fn logo(app: &App, args: LogoArgs) -> anyhow::Result<ExitCode> {
    let project = app.find_project(&args.slug).await.map_err(cli_error)?;
    match args.file {
        Some(path) if !args.remove => {
            let bytes = read_logo(&path)?;
            app.set_project_logo(&project, bytes)
                .await
                .map_err(|e| cli_error(e).context(format!("{} as a logo", path.display())))?;
            outln!("logo of {} set from {}", project.slug, path.display());
        }
        _ => {
            app.remove_project_logo(&project).await.map_err(cli_error)?;
            outln!("logo of {} removed", project.slug);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a logo file, refusing one larger than the limit before reading it whole.
fn read_logo(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let max = quadrat_imaging::MAX_LOGO_BYTES as u64;
    anyhow::ensure!(
        size <= max,
        "{} is {} KB; a logo may have at most {} KB",
        path.display(),
        size.div_ceil(1024),
        max / 1024
    );
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

async fn import(app: &App, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let file = read_definition_file(&args.file).map_err(|e| refuse(&args, vec![e]))?;
    let opts = ImportOptions {
        name: args.name.clone(),
        access: args.access,
        new_ref: args.new_ref,
        created_by: None,
        slug: None,
    };
    match app.import_project(&file, &opts).await {
        Ok(done) => {
            if args.json {
                outln!("{}", json!({"slug": done.slug, "ref": done.project_ref}));
            } else {
                outln!(
                    "imported {} as {} (ref {})",
                    done.name,
                    done.slug,
                    done.project_ref
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(AppError::Client { errors, .. }) => Err(refuse(&args, errors)),
        Err(e) => Err(e.into()),
    }
}

/// Reads and parses the file; an unreadable or non-JSON file is refused like a bad definition.
fn read_definition_file(path: &std::path::Path) -> Result<Value, Ec5Error> {
    let text = std::fs::read(path)
        .map_err(|e| Ec5Error::new("ec5_62", format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_slice(&text)
        .map_err(|e| Ec5Error::new("ec5_62", format!("{}: not JSON: {e}", path.display())))
}

fn refuse(args: &ImportArgs, errors: Vec<Ec5Error>) -> anyhow::Error {
    let what = format!("{} was refused; nothing was stored", args.file.display());
    Failure::refused(errors).what(what).into()
}

async fn list(app: &App, as_json: bool) -> anyhow::Result<ExitCode> {
    let rows = app.list_projects().await.map_err(cli_error)?;
    if as_json {
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({"slug": r.slug, "name": r.name, "ref": r.project_ref,
                       "access": r.access.as_str(), "visibility": r.visibility.as_str(),
                       "status": r.status.as_str()})
            })
            .collect();
        outln!("{}", Value::Array(items));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        outln!("no projects yet: import one with `quadrat project import FILE`");
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows.iter().map(|r| r.slug.len()).max().unwrap_or(4).max(4);
    outln!(
        "{:width$}  {:7}  {:10}  {:7}  NAME",
        "SLUG",
        "ACCESS",
        "VISIBILITY",
        "STATUS"
    );
    for r in rows {
        outln!(
            "{:width$}  {:7}  {:10}  {:7}  {}",
            r.slug,
            r.access.as_str(),
            r.visibility.as_str(),
            r.status.as_str(),
            r.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
