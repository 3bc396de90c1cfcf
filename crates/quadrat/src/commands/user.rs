//! `quadrat user …`

use std::io::BufRead;
use std::process::ExitCode;

use clap::Subcommand;
use quadrat_app::App;
use quadrat_app::model::User;
use quadrat_core::time::sql_datetime;
use quadrat_core::users::UserState;
use serde_json::{Value, json};

use crate::failure::cli_error;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin the user has no password and cannot log in
    /// until `quadrat user set-password`
    Create {
        /// Email address (stored trimmed and lower-case); the login name in the mobile app
        email: String,
        /// Display name, shown in the app after login
        #[arg(long)]
        name: Option<String>,
        /// Read the password (10 characters or more) from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Make the user a server admin: they act as creator on every project where they hold
        /// no role
        #[arg(long)]
        admin: bool,
    },
    /// List users
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (read from the first line of standard input); ends their current
    /// login in the app
    SetPassword {
        email: String,
        /// Read the password from standard input (required: passwords never go on the command
        /// line, where other users of the machine can see them)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Refuse a user's logins and end their current one, keeping their account and roles
    Disable { email: String },
    /// Let a disabled user log in again
    Enable { email: String },
    /// Delete a user and their project roles (not the creator of a project: hand it over first)
    Delete { email: String },
}

pub async fn run(app: &App, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Create {
            email,
            name,
            password_stdin,
            admin,
        } => {
            let password = match password_stdin {
                true => Some(read_password()?),
                false => None,
            };
            let has_password = password.is_some();
            let user = app
                .create_user(&email, name.as_deref(), password, admin)
                .await
                .map_err(cli_error)?;
            let role = if admin { " (server admin)" } else { "" };
            if has_password {
                outln!(
                    "created user {}{role}; they can log in from the mobile app",
                    user.email
                );
            } else {
                outln!(
                    "created user {}{role} without a password: they cannot log in until \
                     `quadrat user set-password {} --password-stdin`",
                    user.email,
                    user.email
                );
            }
        }
        UserCommand::List { json } => list(app, json).await?,
        UserCommand::SetPassword { email, .. } => {
            let password = read_password()?;
            let user = app
                .set_user_password(&email, password)
                .await
                .map_err(cli_error)?;
            outln!(
                "password of {} set; any earlier login in the app has ended",
                user.email
            );
        }
        UserCommand::Disable { email } => {
            let user = app
                .set_user_state(&email, UserState::Disabled)
                .await
                .map_err(cli_error)?;
            outln!(
                "disabled {}: their login has ended and new ones are refused",
                user.email
            );
        }
        UserCommand::Enable { email } => {
            let user = app
                .set_user_state(&email, UserState::Active)
                .await
                .map_err(cli_error)?;
            outln!("enabled {}", user.email);
        }
        UserCommand::Delete { email } => {
            let user = app.delete_user(&email).await.map_err(cli_error)?;
            outln!(
                "deleted user {} and their project roles (their entries stay)",
                user.email
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line)?;
    if read == 0 {
        anyhow::bail!(
            "--password-stdin: standard input is empty; pipe the password in, e.g. `printf '%s\\n' \"$PASSWORD\" | quadrat user …`"
        );
    }
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        anyhow::bail!("--password-stdin: the first line of standard input is empty");
    }
    Ok(password)
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "server_role": u.server_role.as_str(),
        "state": u.state.as_str(),
        "has_password": u.has_password,
        "created_at": sql_datetime(u.created_at),
    })
}

async fn list(app: &App, as_json: bool) -> anyhow::Result<()> {
    let users = app.list_users().await.map_err(cli_error)?;
    if as_json {
        outln!("{}", Value::Array(users.iter().map(user_json).collect()));
        return Ok(());
    }
    if users.is_empty() {
        outln!("no users yet: create one with `quadrat user create EMAIL --password-stdin`");
        return Ok(());
    }
    let width = users
        .iter()
        .map(|u| u.email.len())
        .max()
        .unwrap_or(5)
        .max(5);
    outln!(
        "{:width$}  {:11}  {:8}  {:8}  NAME",
        "EMAIL",
        "SERVER_ROLE",
        "STATE",
        "PASSWORD"
    );
    for u in users {
        outln!(
            "{:width$}  {:11}  {:8}  {:8}  {}",
            u.email,
            u.server_role.as_str(),
            u.state.as_str(),
            if u.has_password { "set" } else { "none" },
            u.name
        );
    }
    Ok(())
}
