//! The bulk import (docs/protocol.md §5.10): a CSV file of the bulk-upload template or a JSON lines
//! file of upload bodies, each row checked by the upload API's own validation: its first checks
//! on the reading thread, the rest as it is written (`App::ingest_checked`, or an
//! all-or-nothing [`crate::upload::BatchSession`]).
//!
//! The rules live here, so the CLI and a web page import alike: rows are stored in batches of
//! [`BATCH_ROWS`] (or in one transaction kept open to the end with `all_or_nothing`); a rejected
//! row is reported with its line and does not stop the others; a file whose header, form,
//! branch or map is wrong is refused before anything is stored.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use quadrat_core::Ec5Error;
use quadrat_core::bulk::{Binding, RowContext, Template, json_line};
use quadrat_core::definition::{Definition, InputType};
use quadrat_core::mappings::MappingList;
use quadrat_core::roles::{Actor, Role};
use quadrat_core::time::{iso_zero_millis, now_millis, sql_datetime};
use serde::Serialize;
use serde_json::Value;

use crate::projects::ResolvedProject;
use crate::upload::{BatchSession, CheckedRow, Target, precheck_owned};
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

/// Rows per transaction: big enough to amortise the commit (its index pages written once for
/// many rows, fewer segments of the title search to merge: 2,000 rows imported about 13 %
/// faster than 500), small enough to keep the writer lock short (a few tenths of a second)
/// and the memory flat.
pub const BATCH_ROWS: usize = 2_000;

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
    /// were read so far. The input is read with blocking IO on a thread of its own (a file, or
    /// a body already received).
    pub async fn bulk_import<R: Read + Send + 'static>(
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
            Sink::Session(Box::new(session))
        } else {
            Sink::Batches
        };
        let reading = Reading {
            template,
            options: options.clone(),
            project: target.project.clone(),
            actor: target.actor.clone(),
        };
        let mut import = Import {
            app: self,
            target: &target,
            sink,
            accepted: 0,
            rejected: Vec::new(),
        };
        match import.run(reading.start(input), progress).await {
            Ok(()) => import.finish().await,
            Err(ReadError::Io(error)) => Err(BulkError::Unreadable {
                error,
                // Rows read after the last batch, or the open transaction, are dropped unstored.
                stored: match import.sink {
                    Sink::Batches => import.accepted,
                    Sink::Session(_) => 0,
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
/// (written in steps of the same size).
enum Sink<'a> {
    Batches,
    Session(Box<BatchSession<'a>>),
}

struct Import<'a> {
    app: &'a App,
    target: &'a ImportTarget,
    sink: Sink<'a>,
    /// Rows stored (committed batches), or checked and written in the open transaction.
    accepted: u64,
    rejected: Vec<Rejection>,
}

/// Rows read for one batch: each with the checks made before a transaction, the rows refused
/// as they were read, the bytes of the input read so far, and whether the input ended.
#[derive(Default)]
struct ReadBatch {
    rows: Vec<(u64, CheckedRow)>,
    rejected: Vec<Rejection>,
    bytes: u64,
    end: bool,
}

/// Batches read ahead of the one being written: the reading thread waits for the writes
/// beyond this, so memory stays flat.
const READ_AHEAD: usize = 1;

/// What the reading thread owns.
struct Reading {
    /// The CSV template; `None` for JSON lines.
    template: Option<Template>,
    options: BulkOptions,
    project: ResolvedProject,
    actor: Actor,
}

/// The batches of the reading thread, in order; an error ends them.
type Batches = tokio::sync::mpsc::Receiver<std::result::Result<ReadBatch, ReadError>>;

impl Reading {
    /// Reads, converts and checks the rows on a blocking thread while the database writes the
    /// batches before: parsing and the rows' checks are as much work as the writes, and on
    /// one thread they would take turns with them.
    fn start<R: Read + Send + 'static>(self, input: R) -> Batches {
        let (send, batches) = tokio::sync::mpsc::channel(READ_AHEAD);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = self.read(input, &send) {
                // Nobody hears it when the import stopped first.
                let _ = send.blocking_send(Err(e));
            }
        });
        batches
    }

    fn read<R: Read>(
        &self,
        input: R,
        send: &tokio::sync::mpsc::Sender<std::result::Result<ReadBatch, ReadError>>,
    ) -> std::result::Result<(), ReadError> {
        let checks = Target::new(&self.project).map_err(|e| ReadError::Stop(BulkError::App(e)))?;
        let mut rows: Box<dyn RowSource> = match &self.template {
            Some(template) => Box::new(CsvRows::new(
                template,
                &self.options,
                sql_datetime(self.project.structure.updated_at),
                input,
            )?),
            None => Box::new(JsonRows::new(input)),
        };
        loop {
            let batch = read_batch(rows.as_mut(), &checks, &self.actor)?;
            let end = batch.end;
            // A closed channel: the import stopped (its error is told there).
            if send.blocking_send(Ok(batch)).is_err() || end {
                return Ok(());
            }
        }
    }
}

/// The rows of a file, one at a time.
trait RowSource {
    /// The next row and its line; `None` at the end of the input.
    fn next_row(&mut self) -> std::result::Result<Option<(u64, Row)>, ReadError>;
    /// Bytes of the input read so far.
    fn bytes_read(&self) -> u64;
}

/// A row's payload, or why it was refused as it was read.
type Row = std::result::Result<Value, Vec<Ec5Error>>;

fn read_batch(
    source: &mut dyn RowSource,
    checks: &Target<'_>,
    actor: &Actor,
) -> std::result::Result<ReadBatch, ReadError> {
    let mut batch = ReadBatch {
        rows: Vec::with_capacity(BATCH_ROWS),
        ..ReadBatch::default()
    };
    while batch.rows.len() < BATCH_ROWS {
        match source.next_row()? {
            None => {
                batch.end = true;
                break;
            }
            Some((line, Ok(data))) => batch.rows.push((line, precheck_owned(checks, actor, data))),
            Some((line, Err(errors))) => batch.rejected.push(Rejection { line, errors }),
        }
    }
    batch.bytes = source.bytes_read();
    Ok(batch)
}

impl Import<'_> {
    /// Stores every batch the reading thread sends, in order. A batch is stored before any
    /// error of the reading after it is told.
    async fn run(
        &mut self,
        mut batches: Batches,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> std::result::Result<(), ReadError> {
        loop {
            let Some(batch) = batches.recv().await else {
                // The thread ended without its last batch: it panicked.
                let e = AppError::internal("reading the import", "the reading thread stopped");
                return Err(ReadError::Stop(BulkError::App(e)));
            };
            let ReadBatch {
                rows,
                rejected,
                bytes,
                end,
            } = batch?;
            self.rejected.extend(rejected);
            self.flush(rows).await?;
            progress(bytes);
            if end {
                return Ok(());
            }
        }
    }

    /// Checks and writes `rows`: a committed batch, or a step of the open transaction (both on
    /// the batched path).
    async fn flush(&mut self, rows: Vec<(u64, CheckedRow)>) -> std::result::Result<(), BulkError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (lines, rows): (Vec<u64>, Vec<CheckedRow>) = rows.into_iter().unzip();
        let outcomes = match &mut self.sink {
            Sink::Session(session) => session.push_checked(rows).await,
            Sink::Batches => {
                self.app
                    .ingest_checked(&self.target.project, &self.target.actor, rows)
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

    /// With all-or-nothing, commits only when no row was rejected.
    async fn finish(mut self) -> std::result::Result<BulkReport, BulkError> {
        if let Sink::Session(session) = self.sink {
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

/// The rows of a CSV file of the bulk-upload template.
struct CsvRows<'a, R: Read> {
    reader: csv::Reader<R>,
    record: csv::StringRecord,
    template: &'a Template,
    binding: Binding,
    options: &'a BulkOptions,
    version: String,
}

impl<'a, R: Read> CsvRows<'a, R> {
    /// Reads the header; a header the template cannot bind refuses the whole file.
    fn new(
        template: &'a Template,
        options: &'a BulkOptions,
        version: String,
        input: R,
    ) -> std::result::Result<Self, ReadError> {
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
        Ok(CsvRows {
            reader,
            record: csv::StringRecord::new(),
            template,
            binding,
            options,
            version,
        })
    }
}

impl<R: Read> RowSource for CsvRows<'_, R> {
    fn next_row(&mut self) -> std::result::Result<Option<(u64, Row)>, ReadError> {
        let line = self.reader.position().line();
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = self.record.position().map_or(line, |p| p.line());
                let uuid = uuid::Uuid::new_v4().to_string();
                let created_at = iso_zero_millis(now_millis());
                let ctx = RowContext {
                    new_uuid: &uuid,
                    created_at: &created_at,
                    project_version: &self.version,
                    parent_uuid: self.options.parent_uuid.as_deref(),
                    owner_uuid: self.options.owner_uuid.as_deref(),
                };
                let fields: Vec<&str> = self.record.iter().collect();
                Ok(Some((
                    line,
                    self.template.payload(&self.binding, &fields, &ctx),
                )))
            }
            // A row that is not UTF-8 is that row's problem only.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                let line = e.position().map_or(line, |p| p.line());
                let errors = vec![Ec5Error::new("The row is not valid UTF-8 text.", "csv")];
                Ok(Some((line, Err(errors))))
            }
            Err(e) => Err(csv_error(e, &format!("line {line}"))),
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// A CSV reading error: the input's own (`Unreadable`), or a file that is not CSV text.
fn csv_error(e: csv::Error, place: &str) -> ReadError {
    let text = format!("{place}: {e}");
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ReadError::Io(io),
        _ => ReadError::Stop(refused(Ec5Error::new("ec5_47", text))),
    }
}

/// The rows of a JSON lines file; blank lines are skipped.
struct JsonRows<R: Read> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    line: u64,
    read: u64,
}

impl<R: Read> JsonRows<R> {
    fn new(input: R) -> Self {
        JsonRows {
            reader: BufReader::new(input),
            buf: Vec::new(),
            line: 0,
            read: 0,
        }
    }
}

impl<R: Read> RowSource for JsonRows<R> {
    fn next_row(&mut self) -> std::result::Result<Option<(u64, Row)>, ReadError> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(ReadError::Io)?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.read += n as u64;
            let row = match std::str::from_utf8(&self.buf) {
                Ok(text) => json_line(text),
                Err(_) => Some(Err(vec![Ec5Error::new(
                    "The line is not valid UTF-8 text.",
                    "json",
                )])),
            };
            if let Some(row) = row {
                return Ok(Some((self.line, row)));
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.read
    }
}
