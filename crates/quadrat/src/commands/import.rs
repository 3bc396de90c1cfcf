//! `quadrat entries import`: the file handed to the bulk import of `quadrat-app` (which holds
//! its rules), with a progress bar on a terminal and a report of every rejected row.

use std::fs::File;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quadrat_app::App;
use quadrat_app::bulk::{BulkError, BulkFormat, BulkOptions, BulkReport};
use serde_json::json;

use crate::cli::{ImportEntriesArgs, ImportFormat};
use crate::failure::Failure;

pub async fn run(app: &App, args: ImportEntriesArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Some(ImportFormat::Csv) => BulkFormat::Csv,
        Some(ImportFormat::Jsonl) => BulkFormat::JsonLines,
        None => BulkFormat::of_file(&args.file),
    };
    let options = BulkOptions {
        form: args.form.clone(),
        branch: args.branch.clone(),
        map_index: args.map_index,
        parent_uuid: args.parent_uuid.clone(),
        owner_uuid: args.owner_uuid.clone(),
        all_or_nothing: args.all_or_nothing,
    };
    let file = File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))
        .map_err(|e| Failure::message(format!("{e:#}")).exit(2))?;
    let bar = progress(file.metadata().map(|m| m.len()).unwrap_or(0));
    let mut on_progress = |read: u64| bar.set_position(read);
    let imported = app
        .bulk_import(&args.slug, format, file, &options, &mut on_progress)
        .await;
    bar.finish_and_clear();
    let report = match imported {
        Ok(report) => report,
        Err(BulkError::Refused(errors)) => {
            let what = format!("{} was refused; nothing was imported", args.file.display());
            return Err(Failure::refused(errors).what(what).exit(2).into());
        }
        Err(BulkError::Unreadable { error, stored }) => {
            let mut message = format!("reading {}: {error}", args.file.display());
            if stored > 0 {
                message.push_str(&format!("; {stored} row(s) before the failure were stored"));
            }
            return Err(Failure::message(message).exit(2).into());
        }
        Err(BulkError::App(e)) => return Err(e.into()),
    };
    // Nobody reading the report changes nothing: the exit code still tells of rejected rows.
    let _ = print_report(&args, &report);
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn progress(size: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

fn print_report(args: &ImportEntriesArgs, report: &BulkReport) -> std::io::Result<()> {
    let rejected = &report.rejected;
    if args.json {
        outln!(
            "{}",
            json!({"accepted": report.accepted, "rejected": rejected.len(), "errors": rejected})
        );
        return Ok(());
    }
    for r in rejected {
        for e in &r.errors {
            eprintln!("line {}: {e}", r.line);
        }
    }
    if args.all_or_nothing && !rejected.is_empty() {
        outln!(
            "imported nothing into {}: {} row(s) rejected (--all-or-nothing)",
            args.slug,
            rejected.len()
        );
    } else {
        outln!(
            "imported {} row(s) into {}; {} rejected",
            report.accepted,
            args.slug,
            rejected.len()
        );
    }
    Ok(())
}
