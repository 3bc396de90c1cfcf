//! Uploads through the mobile app protocol (docs/protocol.md §5): entries, branch entries and
//! media files, checked in the real server's order, first failure wins, and stored in one
//! transaction with every counter. Nothing changes when anything is refused.
//!
//! [`App::ingest`] and [`App::ingest_batch`] take a resolved project and an actor: the HTTP
//! route gets both from the access policy ([`App::app_user`], as the real server's middleware
//! checks them before the body is read); the CLI's bulk import acts as the project's creator.

use std::collections::HashSet;
use std::sync::Arc;

use quadrat_core::Ec5Error;
use quadrat_core::definition::{Definition, Form, Input, InputType};
use quadrat_core::entry::{
    self, DataUpload, EntryKind, EntryRecord, FileUpload, MediaKind, PatternCache, Relationships,
    Scopes, Upload, device, media,
};
use quadrat_core::json::mysql_order;
use quadrat_core::project_state::ProjectStatus;
use quadrat_core::roles::{Actor, Role};
use quadrat_core::time::{now_millis, sql_datetime, whole_seconds};
use quadrat_imaging::ImageError;
pub use quadrat_store::TempUpload;
use quadrat_store::{
    EntryTx, MediaKey, NewRecord, RecordEdit, StoreError, StoredBranchEntry, StoredEntry,
};
use serde_json::{Map, Value};

use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// The answer to every accepted upload.
pub const UPLOADED: &str = "ec5_237";

/// A refusal: the errors the client gets (HTTP 400).
pub(crate) type Refusal = Vec<Ec5Error>;

pub(crate) fn refuse(code: &str, source: impl Into<String>) -> Refusal {
    vec![Ec5Error::new(code, source)]
}

/// What a batch row came to.
pub type RowOutcome = std::result::Result<(), Refusal>;

/// A row past the checks made before its transaction ([`precheck_owned`]), or why not: what
/// [`BatchSession::push_checked`] and [`App::ingest_checked`] take, so the bulk import can
/// check rows on its reading thread, ahead of the writes.
pub(crate) type CheckedRow = std::result::Result<Upload, Refusal>;

/// The project and what every upload to it needs, prepared once per request or batch.
pub(crate) struct Target<'a> {
    pub(crate) project: &'a ResolvedProject,
    pub(crate) def: Arc<Definition>,
    version: String,
    pub(crate) patterns: PatternCache,
    /// The remote `uploaded_at` of a mirrored row (`quadrat mirror`); `None`: the clock.
    uploaded_at: Option<i64>,
}

impl<'a> Target<'a> {
    pub(crate) fn new(project: &'a ResolvedProject) -> Result<Target<'a>> {
        Ok(Target {
            def: project.shared_definition()?,
            version: sql_datetime(project.structure.updated_at),
            patterns: PatternCache::default(),
            uploaded_at: None,
            project,
        })
    }
}

impl App {
    /// One upload (the `data` member of the body, and the file of a file entry) by `actor`,
    /// from structure to storage (docs/protocol.md §5.3).
    pub async fn ingest(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        data: &Value,
        file: Option<TempUpload>,
    ) -> Result<()> {
        self.refuse_locked_mirror(project)?;
        let mut target = Target::new(project)?;
        let upload = precheck(&target, actor, data).map_err(AppError::invalid)?;
        match upload {
            Upload::Data(upload) => {
                let mut tx = self.store.begin_entries(project.id).await?;
                match store_data(&mut tx, &mut target, actor, &upload).await? {
                    Ok(()) => {
                        commit(tx).await?;
                        self.entries_written(project);
                        Ok(())
                    }
                    Err(errors) => Err(AppError::invalid(errors)),
                }
            }
            Upload::File(upload) => self.store_file(&target, &upload, file).await,
        }
    }

    /// A batch kept open across calls (the all-or-nothing bulk import): prechecked rows go in
    /// with `BatchSession::push_checked`, each checked as [`App::ingest_batch`] checks it, and
    /// nothing is kept unless [`BatchSession::commit`] is called.
    pub async fn begin_batch<'a>(
        &self,
        project: &'a ResolvedProject,
        actor: &Actor,
    ) -> Result<BatchSession<'a>> {
        self.refuse_locked_mirror(project)?;
        Ok(BatchSession {
            target: Target::new(project)?,
            tx: self.store.begin_entries(project.id).await?,
            actor: actor.clone(),
        })
    }

    async fn store_file(
        &self,
        target: &Target<'_>,
        upload: &FileUpload,
        file: Option<TempUpload>,
    ) -> Result<()> {
        let kind = upload
            .check_fields()
            .map_err(|e| AppError::invalid(vec![e]))?;
        let Some(mut file) = file else {
            return Err(AppError::client(400, "ec5_69", &upload.uuid));
        };
        let head = file.head(kind.sniff_len()).await.map_err(|e| {
            if crate::error::is_disk_full_io(&e) {
                crate::error::disk_full("ec5_83")
            } else {
                AppError::internal("reading an uploaded file", e)
            }
        })?;
        media::check_content(kind, &head, file.size(), &upload.uuid).map_err(AppError::invalid)?;
        // A file for a question that is gone: accepted and dropped, as the app expects.
        let Some(in_branch) = input_place(&target.def, &upload.input_ref) else {
            return Ok(());
        };
        // Photos are normalised before the project's write lock is taken (decoding takes a
        // while); a failure is reported where the real server reports it, after the owner check.
        let photo = match kind {
            MediaKind::Photo => Some(self.normalise_photo(&mut file).await?),
            MediaKind::Audio | MediaKind::Video => None,
        };
        let project = &target.project.project;
        let mut tx = self.store.begin_entries(project.id).await?;
        let owner_exists = if in_branch {
            tx.branch_entry_by_uuid(&upload.uuid)
                .await?
                .is_some_and(|b| b.project_id == project.id)
        } else {
            tx.entry_by_uuid(&upload.uuid)
                .await?
                .is_some_and(|e| e.project_id == project.id)
        };
        if !owner_exists {
            return Err(AppError::client(400, "ec5_46", &upload.uuid));
        }
        let photo = match photo {
            Some(Err(e)) => {
                tracing::info!(error = %e, name = %upload.name, "refusing an uploaded photo");
                let source = if e.code() == "ec5_83" {
                    upload.input_ref.as_str()
                } else {
                    "file"
                };
                return Err(AppError::client(400, e.code(), source));
            }
            Some(Ok(bytes)) => Some(bytes),
            None => None,
        };
        let store = self.media();
        let size = photo.as_ref().map_or(file.size(), |p| p.len() as u64);
        let key = MediaKey::entry(kind, &project.project_ref, &upload.name)
            .map_err(|_| AppError::client(400, "ec5_47", "file_entry.name"))?;
        let replaced = store
            .size_of(&key)
            .await
            .map_err(|e| AppError::internal("reading the media store", e))?;
        let stored = match photo {
            // Audio and video are kept byte for byte, moved into place as they were streamed.
            None => store.store_upload(file, &key).await,
            Some(bytes) => {
                drop(file);
                store.store_bytes(&key, &bytes).await
            }
        };
        if let Err(e) = stored {
            if crate::error::is_disk_full_io(&e) {
                return Err(crate::error::disk_full("ec5_83"));
            }
            tracing::error!(error = %e, "storing a media file");
            return Err(AppError::client(400, "ec5_83", &upload.input_ref));
        }
        // A replaced photo's kept thumbnail is made again from the new one.
        if kind == MediaKind::Photo
            && let Ok(thumb) = MediaKey::entry_thumb(&project.project_ref, &upload.name)
        {
            store
                .remove(&thumb)
                .await
                .map_err(|e| AppError::internal("removing a thumbnail", e))?;
        }
        let files = i64::from(replaced.is_none());
        let bytes = size as i64 - replaced.unwrap_or(0) as i64;
        tx.add_media(kind, files, bytes).await?;
        commit(tx).await
    }

    /// docs/protocol.md §5.9: an uploaded photo (at most 5000 KB, checked already) decoded,
    /// turned upright, covered to 1024x768 or 768x1024 and encoded as JPEG q70, on the image
    /// workers. The inner error is the client's (an unreadable or truncated image).
    async fn normalise_photo(
        &self,
        file: &mut TempUpload,
    ) -> Result<std::result::Result<Vec<u8>, ImageError>> {
        let size = usize::try_from(file.size())
            .map_err(|e| AppError::internal("sizing an uploaded photo", e))?;
        let bytes = file
            .head(size)
            .await
            .map_err(|e| AppError::internal("reading an uploaded photo", e))?;
        Ok(self
            .images
            .run(move || quadrat_imaging::normalise_photo(&bytes))
            .await)
    }
}

/// An open batch of uploads: see [`App::begin_batch`]. Dropped without commit, nothing stays.
pub struct BatchSession<'a> {
    target: Target<'a>,
    tx: EntryTx,
    actor: Actor,
}

impl BatchSession<'_> {
    /// Checks and stores prechecked rows inside the batch, as [`App::ingest_checked`] does;
    /// later rows, of this call and of the next ones, see them.
    pub(crate) async fn push_checked(&mut self, rows: Vec<CheckedRow>) -> Result<Vec<RowOutcome>> {
        crate::upload_batch::ingest_checked_rows(&mut self.tx, &mut self.target, &self.actor, rows)
            .await
    }

    pub async fn commit(self) -> Result<()> {
        commit(self.tx).await
    }
}

pub(crate) async fn commit(tx: EntryTx) -> Result<()> {
    tx.commit().await.map_err(persist_error)
}

/// A failed write is the real server's `ec5_45`; the detail goes to the log.
pub(crate) fn persist_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::client(400, "ec5_54", "upload"),
        StoreError::DiskFull => crate::error::disk_full("ec5_45"),
        other => {
            tracing::error!(error = %other, "storing an upload");
            AppError::client(400, "ec5_45", "create-entry-service")
        }
    }
}

impl App {
    /// A mirrored project takes no uploads until unlocked (docs/protocol.md §18.5): `ec5_202`,
    /// the real server's answer to a locked project. The lock is read with the project
    /// ([`quadrat_store::Store::project_by_slug_versioned`]), so it costs no statement here.
    pub(crate) fn refuse_locked_mirror(&self, project: &ResolvedProject) -> Result<()> {
        if project.mirror_locked {
            return Err(AppError::client(400, "ec5_202", "upload-controller"));
        }
        Ok(())
    }

    /// Rows of a mirrored project, rebuilt from the remote's export, in one transaction: each
    /// checked as an upload by `actor` (the project's owner) but stamped with its remote
    /// `uploaded_at` and, when new, its uploader's local user id (0: anonymous), whatever the project's status or mirror lock; a row whose stored
    /// `uploaded_at` is already that one is left alone (its local seq does not move).
    pub async fn ingest_mirrored(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        rows: &[(Value, i64, i64)],
    ) -> Result<Vec<MirroredRow>> {
        let mut target = Target::new(project)?;
        let mut tx = self.store.begin_entries(project.id).await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        for (data, uploaded_at, user_id) in rows {
            let upload = match entry::parse_upload(data) {
                Ok(Upload::Data(upload)) => upload,
                Ok(Upload::File(_)) => {
                    outcomes.push(MirroredRow::Refused(refuse("ec5_69", "file_entry")));
                    continue;
                }
                Err(errors) => {
                    outcomes.push(MirroredRow::Refused(errors));
                    continue;
                }
            };
            if target.def.form(&upload.form_ref).is_none() {
                outcomes.push(MirroredRow::Refused(refuse("ec5_15", &upload.form_ref)));
                continue;
            }
            let branch = upload.kind == EntryKind::BranchEntry;
            if tx.record_uploaded_at(&upload.uuid, branch).await? == Some(*uploaded_at) {
                outcomes.push(MirroredRow::Unchanged);
                continue;
            }
            let known = if branch {
                tx.branch_entry_by_uuid(&upload.uuid).await?.is_some()
            } else {
                tx.entry_by_uuid(&upload.uuid).await?.is_some()
            };
            target.uploaded_at = Some(*uploaded_at);
            // The remote uploader (mapped by the mirror) is the new row's `created_by`.
            let uploader = Actor {
                user_id: *user_id,
                ..actor.clone()
            };
            let outcome = store_data(&mut tx, &mut target, &uploader, &upload).await?;
            target.uploaded_at = None;
            outcomes.push(match outcome {
                Ok(()) if known => MirroredRow::Updated,
                Ok(()) => MirroredRow::New,
                Err(errors) => MirroredRow::Refused(errors),
            });
        }
        commit(tx).await?;
        Ok(outcomes)
    }
}

/// What a mirrored row came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirroredRow {
    New,
    Updated,
    Unchanged,
    Refused(Vec<Ec5Error>),
}

/// Steps 1–6 of docs/protocol.md §5.3, which need no database: structure, project status, role,
/// project version, payload scan, form.
pub(crate) fn precheck(
    target: &Target<'_>,
    actor: &Actor,
    data: &Value,
) -> std::result::Result<Upload, Refusal> {
    let upload = entry::parse_upload(data)?;
    admit(target, actor, &upload, || entry::scan_payload(data))?;
    Ok(upload)
}

/// [`precheck`] of a payload it takes apart (the batch's rows): its answers are moved into the
/// upload. The scan reads the whole payload first, and counts where [`precheck`] counts it.
pub(crate) fn precheck_owned(
    target: &Target<'_>,
    actor: &Actor,
    data: Value,
) -> std::result::Result<Upload, Refusal> {
    let scanned = entry::scan_payload(&data);
    let upload = entry::parse_upload_owned(data)?;
    admit(target, actor, &upload, || scanned)?;
    Ok(upload)
}

/// Steps 2–6 for a structurally valid upload: `scan` gives the payload scan's outcome.
fn admit(
    target: &Target<'_>,
    actor: &Actor,
    upload: &Upload,
    scan: impl FnOnce() -> std::result::Result<(), Ec5Error>,
) -> std::result::Result<(), Refusal> {
    match target.project.status {
        ProjectStatus::Locked => return Err(refuse("ec5_202", "upload-controller")),
        ProjectStatus::Trashed | ProjectStatus::Archived => {
            return Err(refuse("ec5_11", "upload-controller"));
        }
        ProjectStatus::Active => {}
    }
    if target.project.is_private() && !actor.effective_role().is_some_and(Role::can_upload) {
        return Err(refuse("ec5_78", "upload-controller"));
    }
    if upload.project_version() != target.version {
        return Err(refuse("ec5_201", "upload-controller"));
    }
    scan().map_err(|e| vec![e])?;
    if target.def.form(upload.form_ref()).is_none() {
        return Err(refuse("ec5_15", upload.form_ref()));
    }
    Ok(())
}

/// `Some(true)` when the input sits inside a branch (directly or in a group there),
/// `Some(false)` for any other input of the project, `None` when there is no such input.
fn input_place(def: &Definition, input_ref: &str) -> Option<bool> {
    fn find(inputs: &[Input], input_ref: &str, in_branch: bool) -> Option<bool> {
        inputs.iter().find_map(|i| {
            if i.input_ref.as_str() == input_ref {
                return Some(in_branch);
            }
            find(
                i.children(),
                input_ref,
                in_branch || i.kind == InputType::Branch,
            )
        })
    }
    def.forms
        .iter()
        .find_map(|f| find(&f.inputs, input_ref, false))
}

/// What a data upload turned out to be once the database was asked.
enum Existing {
    New,
    Entry(StoredEntry),
    Branch(StoredBranchEntry),
}

/// Steps 7–9 for an entry or branch entry, inside `tx`. The outer error is the database's
/// (abandon the transaction); the inner one the client's (nothing was written).
pub(crate) async fn store_data(
    tx: &mut EntryTx,
    target: &mut Target<'_>,
    actor: &Actor,
    upload: &DataUpload,
) -> Result<RowOutcome> {
    let form = target
        .def
        .form(&upload.form_ref)
        .ok_or_else(|| AppError::broken("the upload's form is not in the definition"))?;
    let checked = match upload.kind {
        EntryKind::BranchEntry => check_branch_entry(tx, form, actor, upload).await?,
        _ => check_entry(tx, &target.def, form, actor, upload).await?,
    };
    let Checked {
        existing,
        relationships,
        inputs,
        owner_id,
        keys,
        taken,
    } = match checked {
        Ok(c) => c,
        Err(errors) => return Ok(Err(errors)),
    };
    if inputs.is_empty() {
        return Ok(Err(refuse("ec5_15", "upload")));
    }
    let answerable = entry::answerable_inputs(inputs);
    let validated =
        match entry::validate_answers(&answerable, &upload.answers, &taken, &mut target.patterns) {
            Ok(v) => v,
            Err(e) => return Ok(Err(vec![e])),
        };
    if matches!(existing, Existing::New)
        && limit_reached(tx, &target.def, upload, &relationships).await?
    {
        return Ok(Err(refuse("ec5_250", "upload-controller")));
    }
    let now = target
        .uploaded_at
        .unwrap_or_else(|| whole_seconds(now_millis()));
    let record = entry::build_record(upload, relationships, inputs, &validated, now);
    persist(tx, actor, form, &record, &keys, existing, owner_id, now)
        .await
        .map_err(persist_error)?;
    Ok(Ok(()))
}

/// What the checks of one record found: what is stored under its uuid, its relationships as
/// kept, the inputs it answers, its owner's id (branch entries), its unique answers and which
/// of them another record holds.
struct Checked<'f> {
    existing: Existing,
    relationships: Relationships,
    inputs: &'f [Input],
    owner_id: i64,
    keys: Vec<entry::UniqueKey>,
    taken: HashSet<String>,
}

/// The unique answers of a hierarchy entry answering `inputs`, scoped by its parent's uuid
/// (`""` for a top-form entry): what the uniqueness check compares, on the one-row path and
/// the batched one.
pub(crate) fn entry_unique_keys(
    inputs: &[Input],
    upload: &DataUpload,
    parent_uuid: &str,
) -> Vec<entry::UniqueKey> {
    let scopes = Scopes {
        form: String::new(),
        hierarchy: parent_uuid.to_string(),
    };
    entry::unique_keys(&entry::answerable_inputs(inputs), &upload.answers, &scopes)
}

/// The unique answers of a branch entry of `branch`, scoped by its owner.
pub(crate) fn branch_unique_keys(branch: &Input, upload: &DataUpload) -> Vec<entry::UniqueKey> {
    let owner = &upload.relationships.owner_entry_uuid;
    let scopes = Scopes {
        form: owner.clone(),
        hierarchy: owner.clone(),
    };
    entry::unique_keys(
        &entry::answerable_inputs(&branch.branch),
        &upload.answers,
        &scopes,
    )
}

/// docs/protocol.md §5.5 for an entry: uuid shape, parent, then edit rules. The record, its
/// parent and its unique answers are read in one statement.
async fn check_entry<'f>(
    tx: &mut EntryTx,
    def: &Definition,
    form: &'f Form,
    actor: &Actor,
    upload: &DataUpload,
) -> Result<std::result::Result<Checked<'f>, Refusal>> {
    let form_ref = upload.form_ref.as_str();
    if !entry::is_entry_uuid(&upload.uuid) {
        return Ok(Err(refuse("ec5_334", form_ref)));
    }
    let index = def.form_index(form_ref).unwrap_or(0);
    let sent = &upload.relationships;
    // A top-form entry has no parent, whatever was sent (kept, it would make the entry a
    // descendant of another one when that one is deleted).
    let mut relationships = Relationships::default();
    let mut parent = None;
    if index > 0 {
        let expected = def.forms[index - 1].form_ref.as_str();
        if sent.parent_form_ref != expected {
            return Ok(Err(refuse("ec5_18", sent.parent_form_ref.as_str())));
        }
        if sent.parent_entry_uuid.is_empty() {
            return Ok(Err(refuse("ec5_19", form_ref)));
        }
        parent = Some((sent.parent_entry_uuid.as_str(), expected));
    }
    let keys = entry_unique_keys(&form.inputs, upload, parent.map_or("", |(uuid, _)| uuid));
    let found = tx.look_up_entry(&upload.uuid, parent, &keys).await?;
    if parent.is_some() {
        if found.related_id.is_none() {
            return Ok(Err(refuse("ec5_19", form_ref)));
        }
        relationships.parent_form_ref = sent.parent_form_ref.clone();
        relationships.parent_entry_uuid = sent.parent_entry_uuid.clone();
    }
    let existing = match found.stored {
        None => Existing::New,
        Some(stored) => {
            if stored.parent_uuid != relationships.parent_entry_uuid {
                return Ok(Err(refuse("ec5_359", "upload")));
            }
            if stored.project_id != tx.project_id()
                || !may_edit(actor, upload, stored.user_id, &stored.device_id)
            {
                return Ok(Err(refuse("ec5_54", "upload")));
            }
            // An edit cannot move an entry to another form (the real server would keep the old
            // form_ref beside the new form's answers).
            if stored.form_ref != form_ref {
                return Ok(Err(refuse("ec5_359", "upload")));
            }
            Existing::Entry(stored)
        }
    };
    Ok(Ok(Checked {
        existing,
        relationships,
        inputs: &form.inputs,
        owner_id: 0,
        keys,
        taken: found.taken.into_iter().collect(),
    }))
}

/// docs/protocol.md §5.5 for a branch entry: the branch, its owner, then edit rules. The
/// record, its owner and its unique answers are read in one statement.
async fn check_branch_entry<'f>(
    tx: &mut EntryTx,
    form: &'f Form,
    actor: &Actor,
    upload: &DataUpload,
) -> Result<std::result::Result<Checked<'f>, Refusal>> {
    let sent = &upload.relationships;
    let owner_ref = sent.owner_input_ref.as_str();
    let Some(branch) = form.branches().find(|b| b.input_ref.as_str() == owner_ref) else {
        return Ok(Err(refuse("ec5_17", owner_ref)));
    };
    let keys = branch_unique_keys(branch, upload);
    // docs/protocol.md §5.5: the owner must be an entry of this project and this form.
    let found = tx
        .look_up_branch_entry(
            &upload.uuid,
            (&sent.owner_entry_uuid, &upload.form_ref),
            &keys,
        )
        .await?;
    let Some(owner_id) = found.related_id else {
        return Ok(Err(refuse("ec5_17", owner_ref)));
    };
    let relationships = Relationships {
        owner_input_ref: sent.owner_input_ref.clone(),
        owner_entry_uuid: sent.owner_entry_uuid.clone(),
        ..Relationships::default()
    };
    let existing = match found.stored {
        None => Existing::New,
        Some(stored) => {
            if stored.project_id != tx.project_id()
                || !may_edit(actor, upload, stored.user_id, &stored.device_id)
            {
                return Ok(Err(refuse("ec5_54", "upload")));
            }
            if stored.owner_uuid != sent.owner_entry_uuid || stored.owner_input_ref != owner_ref {
                return Ok(Err(refuse("ec5_358", "upload")));
            }
            Existing::Branch(stored)
        }
    };
    Ok(Ok(Checked {
        existing,
        relationships,
        inputs: &branch.branch,
        owner_id,
        keys,
        taken: found.taken.into_iter().collect(),
    }))
}

/// docs/protocol.md §6.5: curators and above edit anything; users their own rows; a device (not the
/// web) the rows it made.
fn may_edit(actor: &Actor, upload: &DataUpload, stored_user: i64, stored_device: &str) -> bool {
    actor.effective_role().is_some_and(Role::can_edit_any_entry)
        || (stored_user != 0 && stored_user == actor.user_id)
        || device_matches(upload, stored_device)
}

fn device_matches(upload: &DataUpload, stored_device: &str) -> bool {
    upload.platform != "WEB" && device::device_id_matches(&upload.device_id, stored_device)
}

/// docs/protocol.md §5.8, for new records only: the form's entries (top form), the parent's
/// children of this form (child forms), the owner's branch entries of this branch.
async fn limit_reached(
    tx: &mut EntryTx,
    def: &Definition,
    upload: &DataUpload,
    rel: &Relationships,
) -> Result<bool> {
    let limit_ref = match upload.kind {
        EntryKind::BranchEntry => rel.owner_input_ref.as_str(),
        _ => upload.form_ref.as_str(),
    };
    let Some(&limit) = def.entries_limits.get(limit_ref) else {
        return Ok(false);
    };
    let count = if upload.kind == EntryKind::BranchEntry {
        tx.branch_count(&rel.owner_entry_uuid, &rel.owner_input_ref)
            .await?
    } else if def.form_index(&upload.form_ref) == Some(0) {
        tx.form_count(&upload.form_ref).await?
    } else {
        tx.children_count(&upload.form_ref, &rel.parent_entry_uuid)
            .await?
    };
    Ok(count + 1 > limit)
}

#[allow(clippy::too_many_arguments)]
async fn persist(
    tx: &mut EntryTx,
    actor: &Actor,
    form: &Form,
    record: &EntryRecord,
    keys: &[entry::UniqueKey],
    existing: Existing,
    owner_id: i64,
    now: i64,
) -> std::result::Result<(), StoreError> {
    let edit = |id: i64, claim: Option<i64>| RecordEdit {
        id,
        uuid: &record.uuid,
        form_ref: &record.form_ref,
        title: &record.title,
        entry_data: &record.entry_data,
        geo_json_data: record.geo_json_data.as_deref(),
        uploaded_at: now,
        user_id: claim,
        unique: keys,
    };
    // A device's anonymous row becomes its logged-in user's (docs/protocol.md §6.5).
    let claim = |stored_user: i64, stored_device: &str, upload_platform: &str| {
        (stored_user == 0
            && actor.user_id != 0
            && upload_platform != "WEB"
            && device::device_id_matches(&record.device_id, stored_device))
        .then_some(actor.user_id)
    };
    match existing {
        Existing::Entry(stored) => {
            let claim = claim(stored.user_id, &stored.device_id, &record.platform);
            tx.update_entry(&edit(stored.id, claim)).await
        }
        Existing::Branch(stored) => {
            let claim = claim(stored.user_id, &stored.device_id, &record.platform);
            tx.update_branch_entry(&edit(stored.id, claim), &stored.owner_input_ref)
                .await
        }
        Existing::New => {
            let device_id = hashed_device_id(record);
            let new = NewRecord {
                uuid: &record.uuid,
                form_ref: &record.form_ref,
                user_id: actor.user_id,
                platform: &record.platform,
                device_id: &device_id,
                created_at: record.created_at,
                uploaded_at: now,
                title: &record.title,
                entry_data: &record.entry_data,
                geo_json_data: record.geo_json_data.as_deref(),
                unique: keys,
            };
            let rel = &record.relationships;
            if record.kind == EntryKind::BranchEntry {
                tx.insert_branch_entry(&new, owner_id, &rel.owner_entry_uuid, &rel.owner_input_ref)
                    .await
                    .map(drop)
            } else {
                let branch_counts = zero_branch_counts(form);
                tx.insert_entry(
                    &new,
                    &rel.parent_entry_uuid,
                    &rel.parent_form_ref,
                    branch_counts.as_deref(),
                )
                .await
                .map(drop)
            }
        }
    }
}

/// A new record's device id as stored: hashed with a fresh salt.
pub(crate) fn hashed_device_id(record: &EntryRecord) -> String {
    let salt = uuid::Uuid::new_v4();
    device::hash_device_id(&record.device_id, salt.as_bytes())
}

/// A new entry's own `branch_counts`: zero for each branch of its form, `None` when it has none.
pub(crate) fn zero_branch_counts(form: &Form) -> Option<String> {
    let zeros: Map<String, Value> = form
        .branches()
        .map(|b| (b.input_ref.0.clone(), Value::from(0)))
        .collect();
    (!zeros.is_empty())
        .then(|| serde_json::to_string(&mysql_order(Value::Object(zeros))).unwrap_or_default())
}
