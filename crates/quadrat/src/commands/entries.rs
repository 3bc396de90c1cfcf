//! `quadrat entries …`

use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use quadrat_app::changes::ChangesOptions;
use quadrat_app::entries::Deletion;
use quadrat_app::export::StreamOptions;
use quadrat_app::{App, AppError};
use serde_json::json;

use crate::cli::{DeleteEntriesArgs, EntriesCommand, ExportEntriesArgs, ExportFormat};
use crate::failure::{Failure, cli_error};

pub async fn run(app: App, cmd: EntriesCommand) -> anyhow::Result<ExitCode> {
    let code = match cmd {
        EntriesCommand::Delete(args) => delete(&app, args).await?,
        EntriesCommand::Import(args) => super::import::run(&app, args).await?,
        EntriesCommand::Export(args) => export(&app, args).await?,
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
            let refusal = Failure::refused(errors).what("refused; nothing was deleted");
            return Err(refusal.into());
        }
        Err(e) => return Err(cli_error(e)),
    };
    if args.json {
        let files: Vec<String> = report.files.iter().map(|f| f.name.clone()).collect();
        outln!(
            "{}",
            json!({"entries": report.entries, "branch_entries": report.branch_entries, "files": files})
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!("deleted {} from {}", report.counts(), args.slug);
    for uuid in &report.entries {
        outln!("  entry         {uuid}");
    }
    for uuid in &report.branch_entries {
        outln!("  branch entry  {uuid}");
    }
    for file in &report.files {
        outln!("  {:<13} {}", file.kind.as_str(), file.name);
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(app: &App, args: ExportEntriesArgs) -> anyhow::Result<ExitCode> {
    if let Some(since) = &args.since {
        return changes(app, &args, since).await;
    }
    let opts = StreamOptions {
        slug: args.slug.clone(),
        form_ref: args.form.clone(),
        branch_ref: args.branch.clone(),
        csv: args.format == ExportFormat::Csv,
        geojson: args.format == ExportFormat::Geojson,
        map_index: args.map_index,
        markers: false,
        origin: None,
    };
    // A refused export removes the file it created, so it leaves nothing behind.
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            Box::new(BufWriter::with_capacity(1 << 16, file))
        }
        None => Box::new(BufWriter::with_capacity(1 << 16, crate::out::stdout())),
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} entries ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let result = app.stream_entries(&opts, &mut out, &mut progress).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(n) => {
            if args.output.is_some() || bar.is_some() {
                eprintln!("exported {n} entr{}", if n == 1 { "y" } else { "ies" });
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(AppError::Client { errors, .. }) => {
            drop(out);
            if let Some(path) = &args.output {
                let _ = std::fs::remove_file(path);
            }
            Err(Failure::refused(errors).into())
        }
        Err(e) => Err(cli_error(e)),
    }
}

/// `quadrat entries export --since CURSOR`: the changes feed's pages as the route renders them
/// (docs/protocol.md §17), until caught up. The last cursor goes to standard error too.
async fn changes(app: &App, args: &ExportEntriesArgs, since: &str) -> anyhow::Result<ExitCode> {
    if args.format == ExportFormat::Geojson {
        anyhow::bail!("--since prints the changes feed as json or csv, not geojson");
    }
    let opts = ChangesOptions {
        slug: args.slug.clone(),
        cursor: (since != "start" && !since.is_empty()).then(|| since.to_string()),
        form_ref: args.form.clone(),
        branch_ref: args.branch.clone(),
        csv: args.format == ExportFormat::Csv,
        map_index: args.map_index,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            Box::new(BufWriter::with_capacity(1 << 16, file))
        }
        None => Box::new(BufWriter::with_capacity(1 << 16, crate::out::stdout())),
    };
    match app.stream_changes(&opts, &mut out).await {
        Ok(cursor) => {
            eprintln!("next cursor: {cursor}");
            Ok(ExitCode::SUCCESS)
        }
        Err(AppError::Client { errors, .. }) => {
            drop(out);
            if let Some(path) = &args.output {
                let _ = std::fs::remove_file(path);
            }
            Err(Failure::refused(errors).into())
        }
        Err(e) => Err(cli_error(e)),
    }
}
