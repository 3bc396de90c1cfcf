//! `quadrat entries import`: a CSV or JSON lines file streamed through the upload validation
//! in batches, with a progress bar on a terminal and a report of every rejected row.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quadrat_app::bulk::ImportTarget;
use quadrat_app::upload::BatchSession;
use quadrat_app::{App, AppError};
use quadrat_core::Ec5Error;
use quadrat_core::bulk::{RowContext, Template, json_line};
use quadrat_core::time::{iso_zero_millis, now_millis};
use serde_json::{Value, json};

use crate::cli::{ImportEntriesArgs, ImportFormat};

/// Rows per transaction: big enough to amortise the commit, small enough to keep the writer
/// lock short and the memory flat.
const BATCH: usize = 500;

/// A rejected row.
struct Rejection {
    line: u64,
    errors: Vec<Ec5Error>,
}

/// Where accepted payloads go: committed batches, or one transaction kept open to the end.
enum Sink<'a> {
    Batches(Vec<(u64, Value)>),
    Session(Box<BatchSession<'a>>),
}

struct Import<'a> {
    app: &'a App,
    target: &'a ImportTarget,
    sink: Sink<'a>,
    accepted: u64,
    rejected: Vec<Rejection>,
}

impl<'a> Import<'a> {
    async fn push(&mut self, line: u64, row: Result<Value, Vec<Ec5Error>>) -> anyhow::Result<()> {
        let data = match row {
            Ok(data) => data,
            Err(errors) => {
                self.rejected.push(Rejection { line, errors });
                return Ok(());
            }
        };
        match &mut self.sink {
            Sink::Batches(pending) => {
                pending.push((line, data));
                if pending.len() >= BATCH {
                    self.flush().await?;
                }
            }
            Sink::Session(session) => match session.push(&data).await.map_err(internal)? {
                Ok(()) => self.accepted += 1,
                Err(errors) => self.rejected.push(Rejection { line, errors }),
            },
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        let Sink::Batches(pending) = &mut self.sink else {
            return Ok(());
        };
        if pending.is_empty() {
            return Ok(());
        }
        let (lines, rows): (Vec<u64>, Vec<Value>) = std::mem::take(pending).into_iter().unzip();
        let outcomes = self
            .app
            .ingest_batch(&self.target.project, &self.target.actor, &rows)
            .await
            .map_err(internal)?;
        for (line, outcome) in lines.into_iter().zip(outcomes) {
            match outcome {
                Ok(()) => self.accepted += 1,
                Err(errors) => self.rejected.push(Rejection { line, errors }),
            }
        }
        Ok(())
    }

    /// Stores what is left; with all-or-nothing, commits only when no row was rejected.
    async fn finish(mut self) -> anyhow::Result<(u64, Vec<Rejection>)> {
        self.flush().await?;
        if let Sink::Session(session) = self.sink {
            if self.rejected.is_empty() {
                session.commit().await.map_err(internal)?;
            } else {
                // Dropped: the transaction rolls back and nothing was stored.
                drop(session);
                self.accepted = 0;
            }
        }
        self.rejected.sort_by_key(|r| r.line);
        Ok((self.accepted, self.rejected))
    }
}

fn internal(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn run(app: &App, args: ImportEntriesArgs) -> anyhow::Result<ExitCode> {
    let target = match app.import_target(&args.slug).await {
        Ok(t) => t,
        Err(AppError::Client { errors, .. }) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    let format = args.format.unwrap_or_else(|| {
        let ext = args
            .file
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "json" => ImportFormat::Jsonl,
            _ => ImportFormat::Csv,
        }
    });
    let file =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress(size);
    let sink = if args.all_or_nothing {
        Sink::Session(Box::new(
            app.begin_batch(&target.project, &target.actor)
                .await
                .map_err(internal)?,
        ))
    } else {
        Sink::Batches(Vec::with_capacity(BATCH))
    };
    let mut import = Import {
        app,
        target: &target,
        sink,
        accepted: 0,
        rejected: Vec::new(),
    };
    let read = match format {
        ImportFormat::Csv => match csv_template(&target, &args) {
            Ok(template) => read_csv(&mut import, &template, &args, file, &bar).await,
            Err(message) => Err(anyhow::anyhow!(message)),
        },
        ImportFormat::Jsonl => read_jsonl(&mut import, file, &bar).await,
    };
    bar.finish_and_clear();
    if let Err(e) = read {
        // Nothing of this file is kept in all-or-nothing mode; batches already committed stay.
        eprintln!("error: {e:#}");
        if !args.all_or_nothing && import.accepted > 0 {
            eprintln!("{} row(s) before the failure were stored", import.accepted);
        }
        return Ok(ExitCode::from(2));
    }
    let (accepted, rejected) = import.finish().await?;
    report(&args, accepted, &rejected);
    Ok(if rejected.is_empty() {
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

fn csv_template(target: &ImportTarget, args: &ImportEntriesArgs) -> Result<Template, String> {
    let form_ref = target.form_ref(args.form.as_deref())?;
    let branch_ref = match &args.branch {
        Some(b) => Some(target.branch_ref(&form_ref, b)?),
        None => None,
    };
    target.template(&form_ref, branch_ref.as_deref(), args.map_index)
}

async fn read_csv(
    import: &mut Import<'_>,
    template: &Template,
    args: &ImportEntriesArgs,
    file: File,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let header: Vec<String> = reader
        .headers()
        .context("reading the header row")?
        .iter()
        .map(str::to_string)
        .collect();
    // The whole file is refused before anything is stored.
    let binding = template
        .bind(&header)
        .map_err(|e| anyhow::anyhow!("{e}; nothing was imported"))?;
    let version = import.target.project_version();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                let uuid = uuid::Uuid::new_v4().to_string();
                let created_at = iso_zero_millis(now_millis());
                let ctx = RowContext {
                    new_uuid: &uuid,
                    created_at: &created_at,
                    project_version: &version,
                    parent_uuid: args.parent_uuid.as_deref(),
                    owner_uuid: args.owner_uuid.as_deref(),
                };
                let fields: Vec<&str> = record.iter().collect();
                let row = template.payload(&binding, &fields, &ctx);
                import.push(line, row).await?;
            }
            Err(e) => match e.kind() {
                // A row that is not UTF-8 is that row's problem only.
                csv::ErrorKind::Utf8 { pos, .. } => {
                    let line = pos.as_ref().map_or(line, |p| p.line());
                    import
                        .push(
                            line,
                            Err(vec![Ec5Error::new(
                                "The row is not valid UTF-8 text.",
                                "csv",
                            )]),
                        )
                        .await?;
                }
                _ => return Err(anyhow::anyhow!("reading the file: {e}")),
            },
        }
        bar.set_position(reader.position().byte());
    }
    Ok(())
}

async fn read_jsonl(import: &mut Import<'_>, file: File, bar: &ProgressBar) -> anyhow::Result<()> {
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut read = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .context("reading the file")?;
        if n == 0 {
            break;
        }
        line += 1;
        read += n as u64;
        let row = match std::str::from_utf8(&buf) {
            Ok(text) => json_line(text),
            Err(_) => Some(Err(vec![Ec5Error::new(
                "The line is not valid UTF-8 text.",
                "json",
            )])),
        };
        if let Some(row) = row {
            import.push(line, row).await?;
        }
        bar.set_position(read);
    }
    Ok(())
}

fn report(args: &ImportEntriesArgs, accepted: u64, rejected: &[Rejection]) {
    if args.json {
        let errors: Vec<Value> = rejected
            .iter()
            .map(|r| json!({"line": r.line, "errors": r.errors}))
            .collect();
        println!(
            "{}",
            json!({"accepted": accepted, "rejected": rejected.len(), "errors": errors})
        );
        return;
    }
    for r in rejected {
        for e in &r.errors {
            eprintln!("line {}: {e}", r.line);
        }
    }
    if args.all_or_nothing && !rejected.is_empty() {
        println!(
            "imported nothing into {}: {} row(s) rejected (--all-or-nothing)",
            args.slug,
            rejected.len()
        );
    } else {
        println!(
            "imported {accepted} row(s) into {}; {} rejected",
            args.slug,
            rejected.len()
        );
    }
}
