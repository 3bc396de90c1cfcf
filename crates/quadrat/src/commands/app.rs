//! `quadrat app …`: a project's client app (one per project).

use std::process::ExitCode;

use quadrat_app::App;
use quadrat_app::oauth::ClientSecret;
use quadrat_core::time::sql_datetime;
use serde_json::json;

use crate::cli::AppCommand;
use crate::failure::cli_error;

pub async fn run(app: App, cmd: AppCommand) -> anyhow::Result<ExitCode> {
    let result = run_one(&app, cmd).await;
    app.store.close().await;
    result
}

async fn run_one(app: &App, cmd: AppCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AppCommand::Create { slug, name, json } => {
            let project = app.find_project(&slug).await.map_err(cli_error)?;
            let secret = app
                .create_client_app(&project, &name, None)
                .await
                .map_err(cli_error)?;
            print_secret(
                &secret,
                json,
                &format!("created client app for project {}", project.slug),
            )?;
        }
        AppCommand::Show { slug, json } => {
            let project = app.find_project(&slug).await.map_err(cli_error)?;
            let Some(client) = app.client_app(&project).await.map_err(cli_error)? else {
                anyhow::bail!(
                    "project {} has no client app: create one with `quadrat app create {} --name NAME`",
                    project.slug,
                    project.slug
                );
            };
            if json {
                outln!(
                    "{}",
                    json!({
                        "client_id": client.client_id,
                        "name": client.name,
                        "created_at": sql_datetime(client.created_at),
                        "updated_at": sql_datetime(client.updated_at),
                        "live_tokens": client.live_tokens,
                    })
                );
            } else {
                outln!("project:     {}", project.slug);
                outln!("name:        {}", client.name);
                outln!("client id:   {}", client.client_id);
                outln!("created:     {} UTC", sql_datetime(client.created_at));
                outln!("live tokens: {}", client.live_tokens);
            }
        }
        AppCommand::RevokeTokens { slug } => {
            let project = app.find_project(&slug).await.map_err(cli_error)?;
            let revoked = app
                .revoke_client_tokens(&project)
                .await
                .map_err(cli_error)?;
            outln!(
                "revoked the tokens of the client app of {} ({revoked} were live)",
                project.slug
            );
        }
        AppCommand::RotateSecret { slug, json } => {
            let project = app.find_project(&slug).await.map_err(cli_error)?;
            let secret = app
                .rotate_client_secret(&project)
                .await
                .map_err(cli_error)?;
            print_secret(
                &secret,
                json,
                &format!(
                    "new secret for the client app of {} (the old one no longer works; tokens already issued stay valid until revoked or expired)",
                    project.slug
                ),
            )?;
        }
        AppCommand::Delete { slug } => {
            let project = app.find_project(&slug).await.map_err(cli_error)?;
            let gone = app.delete_client_app(&project).await.map_err(cli_error)?;
            outln!(
                "deleted client app {} ({}) of {}; its {} live tokens no longer work",
                gone.client_id,
                gone.name,
                project.slug,
                gone.live_tokens
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_secret(secret: &ClientSecret, as_json: bool, headline: &str) -> std::io::Result<()> {
    if as_json {
        outln!(
            "{}",
            json!({"client_id": secret.client_id, "client_secret": secret.client_secret})
        );
        return Ok(());
    }
    outln!("{headline}");
    outln!("client id:     {}", secret.client_id);
    outln!("client secret: {}", secret.client_secret);
    outln!("The secret is shown only now and stored hashed: keep it somewhere safe.");
    Ok(())
}
