//! The bulk import (docs/protocol.md §5.10): a CSV file of the bulk-upload template or a JSON lines
//! file of upload bodies, each row checked by the upload API's own validation
//! ([`App::ingest_batch`], or an all-or-nothing [`crate::upload::BatchSession`]).
//!
//! The rules live here, so the CLI and a web page import alike: rows are stored in batches of
//! [`BATCH_ROWS`] (or in one transaction kept open to the end with `all_or_nothing`); a rejected
//! row is reported with its line and does not stop the others; a file whose header, form,
//! branch or map is wrong is refused before anything is stored.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use quadrat_core::Ec5Error;
use quadrat_core::bulk::{RowContext, Template, json_line};
use quadrat_core::definition::{Definition, InputType};
use quadrat_core::mappings::MappingList;
use quadrat_core::roles::{Actor, Role};
use quadrat_core::time::{iso_zero_millis, now_millis, sql_datetime};
use serde::Serialize;
use serde_json::Value;

use crate::projects::ResolvedProject;
use crate::upload::BatchSession;
use crate::{App, AppError, Result};

/// What an import into one project needs, resolved once.
pub struct ImportTarget {
    pub project: ResolvedProject,
    /// The project's creator (anonymous-with-the-creator-role when the project has none):
    /// imports are the creator's act, not rate-limited and allowed on private projects.
    pub actor: Actor,
    pub def: Definition,
    pub maps: MappingList,
}

impl App {
    pub async fn import_target(&self, raw_slug: &str) -> Result<ImportTarget> {
        let project = self.find_project(raw_slug).await?;
        let def = project.definition()?;
        let maps = (*project.mappings()?).clone();
        let creator = self
            .store
            .project_members(project.id)
            .await?
            .into_iter()
            .find(|m| m.role == Role::Creator.as_str());
        let actor = Actor {
            user_id: creator.as_ref().map_or(0, |u| u.user_id),
            email: creator.as_ref().map(|u| u.email.clone()),
            name: creator.as_ref().map(|u| u.name.clone()),
            is_server_admin: false,
            project_role: Some(Role::Creator),
        };
        Ok(ImportTarget {
            project,
            actor,
            def,
            maps,
        })
    }
}

impl ImportTarget {
    /// The version every payload carries: the stored structure's.
    pub fn project_version(&self) -> String {
        sql_datetime(self.project.structure.updated_at)
    }

    /// The form `wanted` names (its ref or its name, any case); the first form when `None`.
    /// Unknown: `ec5_15`, with the forms there are.
    pub fn form_ref(&self, wanted: Option<&str>) -> std::result::Result<String, Ec5Error> {
        let Some(wanted) = wanted else {
            return self
                .def
                .forms
                .first()
                .map(|f| f.form_ref.0.clone())
                .ok_or_else(|| Ec5Error::new("ec5_15", "the project has no form"));
        };
        self.def
            .forms
            .iter()
            .find(|f| f.form_ref.as_str() == wanted || f.name.eq_ignore_ascii_case(wanted))
            .map(|f| f.form_ref.0.clone())
            .ok_or_else(|| {
                let known: Vec<String> = self
                    .def
                    .forms
                    .iter()
                    .map(|f| format!("{} ({})", f.form_ref.as_str(), f.name))
                    .collect();
                let why = format!("no form {wanted:?}; the forms are: {}", known.join(", "));
                Ec5Error::new("ec5_15", why)
            })
    }

    /// The branch input of `form_ref` that `wanted` names (its ref or its question, any case).
    /// Unknown: `ec5_99`, with the branches there are.
    pub fn branch_ref(
        &self,
        form_ref: &str,
        wanted: &str,
    ) -> std::result::Result<String, Ec5Error> {
        let form = self
            .def
            .form(form_ref)
            .ok_or_else(|| Ec5Error::new("ec5_15", format!("no form {form_ref}")))?;
        form.inputs
            .iter()
            .filter(|i| i.kind == InputType::Branch)
            .find(|i| i.input_ref.as_str() == wanted || i.question.eq_ignore_ascii_case(wanted))
            .map(|i| i.input_ref.0.clone())
            .ok_or_else(|| {
                let known: Vec<String> = form
                    .branches()
                    .map(|b| format!("{} ({})", b.input_ref.as_str(), b.question))
                    .collect();
                let why = format!(
                    "no branch {wanted:?} in the form; its branches are: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
                Ec5Error::new("ec5_99", why)
            })
    }

    /// The template of a form or branch under map `map_index` (the default map when `None`).
    /// An unknown map is `ec5_322`, as in the export.
    pub fn template(
        &self,
        form_ref: &str,
        branch_ref: Option<&str>,
        map_index: Option<usize>,
    ) -> std::result::Result<Template, Ec5Error> {
        let index = match map_index {
            Some(i) if !self.maps.contains(i) => {
                return Err(Ec5Error::new(
                    "ec5_322",
                    format!("the project has no map {i}"),
                ));
            }
            Some(i) => i,
            None => self.maps.default_index(),
        };
        Template::new(&self.def, &self.maps, index, form_ref, branch_ref).map_err(|why| {
            Ec5Error::new(
                if branch_ref.is_some() {
                    "ec5_99"
                } else {
                    "ec5_15"
                },
                why,
            )
        })
    }

    /// The template `options` choose: their form (the first one by default), branch and map.
    fn chosen_template(&self, options: &BulkOptions) -> std::result::Result<Template, Ec5Error> {
        let form_ref = self.form_ref(options.form.as_deref())?;
        let branch_ref = match &options.branch {
            Some(b) => Some(self.branch_ref(&form_ref, b)?),
            None => None,
        };
        self.template(&form_ref, branch_ref.as_deref(), options.map_index)
    }
}

/// Rows per transaction: big enough to amortise the commit, small enough to keep the writer
/// lock short and the memory flat.
pub const BATCH_ROWS: usize = 500;

/// How the rows of a file are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkFormat {
    /// The bulk-upload template: the mapping's column names, choices by their labels,
    /// locations as `lat_X`/`long_X`/`accuracy_X`.
    Csv,
    /// One upload body (or its `data` member) per line; blank lines are skipped.
    JsonLines,
}

impl BulkFormat {
    /// The format a file name says: JSON lines for `.jsonl`, `.ndjson` and `.json` (any case),
    /// CSV otherwise.
    pub fn of_file(path: &Path) -> BulkFormat {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "json" => BulkFormat::JsonLines,
            _ => BulkFormat::Csv,
        }
    }
}

/// What to import, besides the file.
#[derive(Debug, Clone, Default)]
pub struct BulkOptions {
    /// CSV: the form of the rows, by ref or name (the first form when `None`).
    pub form: Option<String>,
    /// CSV: import branch entries of this branch input of the form (ref or question).
    pub branch: Option<String>,
    /// CSV: the map whose column names and labels the file uses (the default map when `None`).
    pub map_index: Option<usize>,
    /// CSV: the parent entry of every child-form row (a row's `ec5_parent_uuid` wins).
    pub parent_uuid: Option<String>,
    /// CSV: the owner entry of every branch row (a row's `ec5_branch_owner_uuid` wins).
    pub owner_uuid: Option<String>,
    /// Store nothing when any row is rejected.
    pub all_or_nothing: bool,
}

/// A rejected row: its line in the file (1 is the first line, a CSV file's header) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub line: u64,
    pub errors: Vec<Ec5Error>,
}

/// An import that read its whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkReport {
    /// Rows stored: with `all_or_nothing`, 0 as soon as one row was rejected.
    pub accepted: u64,
    /// The rejected rows, in line order.
    pub rejected: Vec<Rejection>,
}

/// An import that stopped before the end of its file.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// Nothing of the file can be imported, and nothing was stored: an unknown project, form,
    /// branch or map, or a CSV header with unknown or repeated columns (`ec5_47`).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Ec5Error>),
    /// The file could not be read to its end. The `stored` rows of batches committed before
    /// stay (none with `all_or_nothing`).
    #[error("reading the file: {error}")]
    Unreadable { error: std::io::Error, stored: u64 },
    /// Ours (the database): logged, never shown to a client.
    #[error(transparent)]
    App(AppError),
}

impl From<AppError> for BulkError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Client { errors, .. } => BulkError::Refused(errors),
            other => BulkError::App(other),
        }
    }
}

impl App {
    /// Imports the rows of `input` into the project `raw_slug` names, as its creator (imports
    /// are not rate-limited and allowed on private projects). `progress` hears how many bytes
    /// were read so far. The input is read with blocking IO between the writes: a file, or a
    /// body already received.
    pub async fn bulk_import<R: Read>(
        &self,
        raw_slug: &str,
        format: BulkFormat,
        input: R,
        options: &BulkOptions,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> std::result::Result<BulkReport, BulkError> {
        let target = self.import_target(raw_slug).await?;
        // Decided before the first write, so a refused file stores nothing.
        let template = match format {
            BulkFormat::Csv => Some(target.chosen_template(options).map_err(refused)?),
            BulkFormat::JsonLines => None,
        };
        let sink = if options.all_or_nothing {
            let session = self.begin_batch(&target.project, &target.actor).await?;
            Sink::Session {
                session: Box::new(session),
                pending: Vec::with_capacity(BATCH_ROWS),
            }
        } else {
            Sink::Batches(Vec::with_capacity(BATCH_ROWS))
        };
        let mut import = Import {
            app: self,
            target: &target,
            sink,
            accepted: 0,
            rejected: Vec::new(),
        };
        let read = match &template {
            Some(template) => read_csv(&mut import, template, options, input, progress).await,
            None => read_json_lines(&mut import, input, progress).await,
        };
        match read {
            Ok(()) => import.finish().await,
            Err(ReadError::Io(error)) => Err(BulkError::Unreadable {
                error,
                // Rows waiting for their batch, or the open transaction, are dropped unstored.
                stored: match import.sink {
                    Sink::Batches(_) => import.accepted,
                    Sink::Session { .. } => 0,
                },
            }),
            Err(ReadError::Stop(e)) => Err(e),
        }
    }
}

fn refused(e: Ec5Error) -> BulkError {
    BulkError::Refused(vec![e])
}

/// Why reading stopped: the input, or the import itself.
enum ReadError {
    Io(std::io::Error),
    Stop(BulkError),
}

impl From<BulkError> for ReadError {
    fn from(e: BulkError) -> Self {
        ReadError::Stop(e)
    }
}

/// Where accepted payloads go: committed batches, or one transaction kept open to the end
/// (written in steps of the same size). Each holds its rows waiting, with their lines.
enum Sink<'a> {
    Batches(Vec<(u64, Value)>),
    Session {
        session: Box<BatchSession<'a>>,
        pending: Vec<(u64, Value)>,
    },
}

struct Import<'a> {
    app: &'a App,
    target: &'a ImportTarget,
    sink: Sink<'a>,
    /// Rows stored (committed batches), or checked and written in the open transaction.
    accepted: u64,
    rejected: Vec<Rejection>,
}

impl Import<'_> {
    async fn push(
        &mut self,
        line: u64,
        row: std::result::Result<Value, Vec<Ec5Error>>,
    ) -> std::result::Result<(), BulkError> {
        let data = match row {
            Ok(data) => data,
            Err(errors) => {
                self.rejected.push(Rejection { line, errors });
                return Ok(());
            }
        };
        let (Sink::Batches(pending) | Sink::Session { pending, .. }) = &mut self.sink;
        pending.push((line, data));
        if pending.len() >= BATCH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Checks and writes the rows waiting: a committed batch, or a step of the open
    /// transaction (both on the batched path).
    async fn flush(&mut self) -> std::result::Result<(), BulkError> {
        let (session, pending) = match &mut self.sink {
            Sink::Batches(pending) => (None, pending),
            Sink::Session { session, pending } => (Some(session), pending),
        };
        if pending.is_empty() {
            return Ok(());
        }
        let (lines, rows): (Vec<u64>, Vec<Value>) = std::mem::take(pending).into_iter().unzip();
        let outcomes = match session {
            Some(session) => session.push_rows(&rows).await,
            None => {
                self.app
                    .ingest_batch(&self.target.project, &self.target.actor, &rows)
                    .await
            }
        }
        .map_err(BulkError::App)?;
        for (line, outcome) in lines.into_iter().zip(outcomes) {
            match outcome {
                Ok(()) => self.accepted += 1,
                Err(errors) => self.rejected.push(Rejection { line, errors }),
            }
        }
        Ok(())
    }

    /// Stores what is left; with all-or-nothing, commits only when no row was rejected.
    async fn finish(mut self) -> std::result::Result<BulkReport, BulkError> {
        self.flush().await?;
        if let Sink::Session { session, .. } = self.sink {
            if self.rejected.is_empty() {
                session.commit().await.map_err(BulkError::App)?;
            } else {
                // Dropped: the transaction rolls back and nothing was stored.
                drop(session);
                self.accepted = 0;
            }
        }
        self.rejected.sort_by_key(|r| r.line);
        Ok(BulkReport {
            accepted: self.accepted,
            rejected: self.rejected,
        })
    }
}

async fn read_csv<R: Read>(
    import: &mut Import<'_>,
    template: &Template,
    options: &BulkOptions,
    input: R,
    progress: &mut (dyn FnMut(u64) + Send),
) -> std::result::Result<(), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(str::to_string).collect(),
        Err(e) => return Err(csv_error(e, "the header row")),
    };
    // The whole file is refused before anything is stored.
    let binding = template
        .bind(&header)
        .map_err(|why| refused(Ec5Error::new("ec5_47", why)))?;
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
                    parent_uuid: options.parent_uuid.as_deref(),
                    owner_uuid: options.owner_uuid.as_deref(),
                };
                let fields: Vec<&str> = record.iter().collect();
                let row = template.payload(&binding, &fields, &ctx);
                import.push(line, row).await?;
            }
            // A row that is not UTF-8 is that row's problem only.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let line = e.position().map_or(line, |p| p.line());
                let errors = vec![Ec5Error::new("The row is not valid UTF-8 text.", "csv")];
                import.push(line, Err(errors)).await?;
            }
            Err(e) => return Err(csv_error(e, &format!("line {line}"))),
        }
        progress(reader.position().byte());
    }
    Ok(())
}

/// A CSV reading error: the input's own (`Unreadable`), or a file that is not CSV text.
fn csv_error(e: csv::Error, place: &str) -> ReadError {
    let text = format!("{place}: {e}");
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ReadError::Io(io),
        _ => ReadError::Stop(refused(Ec5Error::new("ec5_47", text))),
    }
}

async fn read_json_lines<R: Read>(
    import: &mut Import<'_>,
    input: R,
    progress: &mut (dyn FnMut(u64) + Send),
) -> std::result::Result<(), ReadError> {
    let mut reader = BufReader::new(input);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut read = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(ReadError::Io)?;
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
        progress(read);
    }
    Ok(())
}
