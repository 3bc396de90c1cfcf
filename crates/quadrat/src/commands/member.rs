//! `quadrat project member …`

use std::process::ExitCode;

use clap::Subcommand;
use quadrat_app::App;
use serde_json::{Value, json};

use crate::failure::cli_error;

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Give a user a role on a project (replacing any role they had). An unknown email gets a
    /// placeholder user, as on the real server
    #[command(
        after_help = "Roles: creator (exactly one per project), manager, curator, \
        collector, viewer. On a private project every role but viewer may upload from the app; \
        viewers may not download it either.\n\nA project has one creator: to hand it over, add \
        the new one with --transfer; the former creator becomes a manager."
    )]
    Add {
        /// Project slug (or name)
        slug: String,
        /// The user's email
        email: String,
        /// creator, manager, curator, collector or viewer
        role: String,
        /// With ROLE creator: hand the project over, making the current creator a manager
        #[arg(long)]
        transfer: bool,
    },
    /// Take a user's role on a project away (not the creator's)
    Remove {
        /// Project slug (or name)
        slug: String,
        /// The user's email
        email: String,
    },
    /// List a project's members, creator first
    List {
        /// Project slug (or name)
        slug: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(app: &App, cmd: MemberCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MemberCommand::Add {
            slug,
            email,
            role,
            transfer,
        } => {
            let added = app
                .add_member(&slug, &email, &role, transfer)
                .await
                .map_err(cli_error)?;
            let email = &added.user.email;
            match added.previous_role {
                Some(previous) if previous == added.role => {
                    outln!("{email} already is {} of {slug}", added.role)
                }
                Some(previous) => {
                    outln!("{email} is now {} of {slug} (was {previous})", added.role)
                }
                None => outln!("{email} is now {} of {slug}", added.role),
            }
            if let Some(former) = &added.former_creator {
                outln!("{former} is now manager of {slug}");
            }
            if added.placeholder_created {
                outln!(
                    "{email} had no account: created a placeholder user, who cannot log in until \
                     `quadrat user set-password {email} --password-stdin`"
                );
            }
        }
        MemberCommand::Remove { slug, email } => {
            let (user, role) = app.remove_member(&slug, &email).await.map_err(cli_error)?;
            outln!("{} is no longer {role} of {slug}", user.email);
        }
        MemberCommand::List { slug, json } => {
            let (project, members) = app.list_members(&slug).await.map_err(cli_error)?;
            if json {
                let items: Vec<Value> = members
                    .iter()
                    .map(|m| {
                        json!({"user_id": m.user_id, "email": m.email, "name": m.name, "role": m.role.as_str()})
                    })
                    .collect();
                outln!("{}", Value::Array(items));
            } else if members.is_empty() {
                outln!(
                    "{} has no members yet: add one with `quadrat project member add {} EMAIL ROLE`",
                    project.slug,
                    project.slug
                );
            } else {
                let width = members
                    .iter()
                    .map(|m| m.email.len())
                    .max()
                    .unwrap_or(5)
                    .max(5);
                outln!("{:9}  {:width$}  NAME", "ROLE", "EMAIL");
                for m in members {
                    outln!("{:9}  {:width$}  {}", m.role.as_str(), m.email, m.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
