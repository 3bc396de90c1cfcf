//! `quadrat mapping …`

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use quadrat_app::{App, AppError};
use quadrat_core::Ec5Error;
use serde_json::{Value, json};

use crate::cli::MappingCommand;
use crate::failure::{Failure, cli_error};

pub async fn run(app: App, cmd: MappingCommand) -> anyhow::Result<ExitCode> {
    let code = match cmd {
        MappingCommand::List { slug, json } => match app.list_mappings(&slug).await {
            Ok(maps) if json => {
                let items: Vec<Value> = maps
                    .iter()
                    .map(|m| json!({"index": m.index, "name": m.name, "is_default": m.is_default}))
                    .collect();
                outln!("{}", Value::Array(items));
                ExitCode::SUCCESS
            }
            Ok(maps) => {
                outln!("INDEX  DEFAULT  NAME");
                for m in maps {
                    let flag = if m.is_default { "*" } else { "" };
                    outln!("{:<5}  {:<7}  {}", m.index, flag, m.name);
                }
                ExitCode::SUCCESS
            }
            Err(e) => refuse(e)?,
        },
        MappingCommand::Show { slug, index } => match app.show_mapping(&slug, index).await {
            Ok(map) => {
                let text = serde_json::to_string_pretty(&map)? + "\n";
                crate::out::stdout().write_all(text.as_bytes())?;
                ExitCode::SUCCESS
            }
            Err(e) => refuse(e)?,
        },
        MappingCommand::Create {
            slug,
            name,
            default,
            json,
        } => match app.create_mapping(&slug, &name, default).await {
            Ok(index) if json => {
                outln!("{}", json!({ "map_index": index }));
                ExitCode::SUCCESS
            }
            Ok(index) => {
                outln!("created map {index} ({name}) of {slug}");
                ExitCode::SUCCESS
            }
            Err(e) => refuse(e)?,
        },
        MappingCommand::Update { slug, index, file } => {
            let map = match read_map(file.as_deref()) {
                Ok(map) => map,
                Err(e) => return Err(unchanged(Failure::refused(vec![e]))),
            };
            match app.update_mapping(&slug, index, &map).await {
                Ok(()) => {
                    outln!("updated map {index} of {slug}");
                    ExitCode::SUCCESS
                }
                Err(e) => refuse(e)?,
            }
        }
        MappingCommand::Delete { slug, index } => match app.delete_mapping(&slug, index).await {
            Ok(()) => {
                outln!("deleted map {index} of {slug}");
                ExitCode::SUCCESS
            }
            Err(e) => refuse(e)?,
        },
        MappingCommand::SetDefault { slug, index } => {
            match app.set_default_mapping(&slug, index).await {
                Ok(()) => {
                    outln!("map {index} is now the default of {slug}");
                    ExitCode::SUCCESS
                }
                Err(e) => refuse(e)?,
            }
        }
    };
    app.store.close().await;
    Ok(code)
}

/// The map JSON from a file, or standard input for `None` and `-`.
fn read_map(file: Option<&Path>) -> Result<Value, Ec5Error> {
    let (text, name) = match file {
        Some(path) if path != Path::new("-") => (
            std::fs::read_to_string(path).map_err(|e| {
                Ec5Error::new("ec5_62", format!("{}: cannot read: {e}", path.display()))
            })?,
            path.display().to_string(),
        ),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Ec5Error::new("ec5_62", format!("stdin: cannot read: {e}")))?;
            (text, "stdin".to_string())
        }
    };
    serde_json::from_str(&text)
        .map_err(|e| Ec5Error::new("ec5_62", format!("{name}: not JSON: {e}")))
}

/// A refused request fails with its codes; an internal error with its cause.
fn refuse(e: AppError) -> anyhow::Result<ExitCode> {
    match e {
        AppError::Client { errors, .. } => Err(unchanged(Failure::refused(errors))),
        other => Err(cli_error(other)),
    }
}

fn unchanged(refusal: Failure) -> anyhow::Error {
    refusal.what("refused; nothing was changed").into()
}
