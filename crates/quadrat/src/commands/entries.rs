//! `quadrat entries …`

use std::process::ExitCode;

use quadrat_app::entries::Deletion;
use quadrat_app::{App, AppError};
use serde_json::json;

use crate::cli::{DeleteEntriesArgs, EntriesCommand};

pub async fn run(app: App, cmd: EntriesCommand) -> anyhow::Result<ExitCode> {
    let code = match cmd {
        EntriesCommand::Delete(args) => delete(&app, args).await?,
        EntriesCommand::Import(args) => super::import::run(&app, args).await?,
    };
    app.store.close().await;
    Ok(code)
}

async fn delete(app: &App, args: DeleteEntriesArgs) -> anyhow::Result<ExitCode> {
    let what = match (&args.uuid, &args.form) {
        (Some(uuid), _) => Deletion::Uuid(uuid.clone()),
        (None, Some(form_ref)) => Deletion::AllOfForm(form_ref.clone()),
        // clap requires one of the two.
        (None, None) => anyhow::bail!("give --uuid UUID or --form FORM_REF --all"),
    };
    let report = match app.delete_entries(&args.slug, &what).await {
        Ok(r) => r,
        Err(AppError::Client { errors, .. }) => {
            if args.json {
                println!("{}", json!({ "errors": errors }));
            } else {
                for e in &errors {
                    eprintln!(
                        "error: {} {} ({}); nothing was deleted",
                        e.code,
                        e.title.trim(),
                        e.source
                    );
                }
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    if args.json {
        let files: Vec<String> = report.files.iter().map(|f| f.name.clone()).collect();
        println!(
            "{}",
            json!({"entries": report.entries, "branch_entries": report.branch_entries, "files": files})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "deleted {} entr{}, {} branch entr{} and {} media file{} from {}",
        report.entries.len(),
        if report.entries.len() == 1 {
            "y"
        } else {
            "ies"
        },
        report.branch_entries.len(),
        if report.branch_entries.len() == 1 {
            "y"
        } else {
            "ies"
        },
        report.files.len(),
        if report.files.len() == 1 { "" } else { "s" },
        args.slug
    );
    for uuid in &report.entries {
        println!("  entry         {uuid}");
    }
    for uuid in &report.branch_entries {
        println!("  branch entry  {uuid}");
    }
    for file in &report.files {
        println!("  {:<13} {}", file.kind.as_str(), file.name);
    }
    Ok(ExitCode::SUCCESS)
}
