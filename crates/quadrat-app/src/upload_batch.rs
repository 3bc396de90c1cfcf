//! Many uploads in one transaction ([`App::ingest_batch`], the bulk import's path), checked by
//! the upload rules row by row as [`App::ingest`] checks them, later rows seeing earlier ones.
//!
//! What the rules read for the batch's new hierarchy entries (records by uuid, parents, the
//! answers other records hold) is looked up for the whole batch in a few statements before
//! the first row, and the rows the batch itself adds are remembered beside it; such rows are
//! checked in memory and written together with multi-row statements
//! ([`quadrat_store::EntryTx::insert_entries`]). Any other row (an edit, a branch entry, a
//! form with an entries limit, a row the lookups cannot decide) goes through the one-row path
//! after the rows waiting before it were written; once such a row wrote something, the
//! lookups no longer describe the database and the rest of the batch takes the one-row path.

use std::collections::{HashMap, HashSet};

use quadrat_core::definition::Definition;
use quadrat_core::entry::{
    self, DataUpload, EntryKind, EntryRecord, Relationships, Scopes, UniqueKey, Upload,
};
use quadrat_core::roles::Actor;
use quadrat_core::time::{now_millis, whole_seconds};
use quadrat_store::{EntryTx, NewEntry, NewRecord, StoredEntry};
use serde_json::Value;

use crate::projects::ResolvedProject;
use crate::upload::{
    Refusal, RowOutcome, Target, commit, hashed_device_id, persist_error, precheck, refuse,
    store_data, zero_branch_counts,
};
use crate::{App, Result};

/// Rows checked and waiting to be written together.
const PENDING_ROWS: usize = 500;

impl App {
    /// Many entry and branch entry uploads in one transaction: each row is checked and stored
    /// as [`App::ingest`] would, later rows seeing earlier ones; a refused row stores nothing
    /// and does not stop the others. File entries are refused (they need their file). An
    /// error of the database rolls back the whole batch.
    pub async fn ingest_batch(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        rows: &[Value],
    ) -> Result<Vec<RowOutcome>> {
        self.refuse_locked_mirror(project).await?;
        let mut target = Target::new(project)?;
        let checked: Vec<_> = rows
            .iter()
            .map(|data| precheck(&target, actor, data))
            .collect();
        let mut tx = self.store.begin_entries(project.id).await?;
        let mut known = Some(Known::look_up(&mut tx, &target.def, &checked).await?);
        let mut pending: Vec<Staged> = Vec::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        for row in checked {
            let upload = match row {
                Err(errors) => {
                    outcomes.push(Err(errors));
                    continue;
                }
                Ok(Upload::File(_)) => {
                    outcomes.push(Err(refuse("ec5_69", "file_entry")));
                    continue;
                }
                Ok(Upload::Data(upload)) => upload,
            };
            let fast = known
                .as_mut()
                .and_then(|k| k.check(&mut target, tx.project_id(), actor, &upload));
            let outcome = match fast {
                Some(Ok(staged)) => {
                    pending.push(staged);
                    if pending.len() >= PENDING_ROWS {
                        write_pending(&mut tx, &mut pending).await?;
                    }
                    Ok(())
                }
                Some(Err(errors)) => Err(errors),
                None => {
                    // The one-row path reads the database: what waits is written first.
                    write_pending(&mut tx, &mut pending).await?;
                    let outcome = store_data(&mut tx, &mut target, actor, &upload).await?;
                    if outcome.is_ok() {
                        known = None;
                    }
                    outcome
                }
            };
            outcomes.push(outcome);
        }
        write_pending(&mut tx, &mut pending).await?;
        commit(tx).await?;
        Ok(outcomes)
    }
}

/// A checked new entry, waiting to be written.
struct Staged {
    record: EntryRecord,
    device_id: String,
    branch_counts: Option<String>,
    keys: Vec<UniqueKey>,
    user_id: i64,
    uploaded_at: i64,
}

async fn write_pending(tx: &mut EntryTx, pending: &mut Vec<Staged>) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewEntry<'_>> = pending
        .iter()
        .map(|s| {
            let r = &s.record;
            NewEntry {
                record: NewRecord {
                    uuid: &r.uuid,
                    form_ref: &r.form_ref,
                    user_id: s.user_id,
                    platform: &r.platform,
                    device_id: &s.device_id,
                    created_at: r.created_at,
                    uploaded_at: s.uploaded_at,
                    title: &r.title,
                    entry_data: &r.entry_data,
                    geo_json_data: r.geo_json_data.as_deref(),
                    unique: &s.keys,
                },
                parent_uuid: &r.relationships.parent_entry_uuid,
                parent_form_ref: &r.relationships.parent_form_ref,
                branch_counts: s.branch_counts.as_deref(),
            }
        })
        .collect();
    tx.insert_entries(&rows).await.map_err(persist_error)?;
    pending.clear();
    Ok(())
}

/// What the upload rules would read for the batch's new entries: the database as it was
/// before the batch, and what the batch added since.
struct Known {
    /// Records by uuid: the rows' own and their parents.
    stored: HashMap<String, StoredEntry>,
    /// Who holds each of the rows' unique answers.
    holders: HashMap<UniqueKey, Vec<String>>,
    /// Entries this batch added: uuid and form.
    added: HashMap<String, String>,
    /// Unique answers this batch added.
    added_keys: HashSet<UniqueKey>,
}

/// The parent uuid a hierarchy entry's upload names, where its form has a parent form.
fn sent_parent<'a>(def: &Definition, upload: &'a DataUpload) -> Option<&'a str> {
    (def.form_index(&upload.form_ref).unwrap_or(0) > 0)
        .then_some(upload.relationships.parent_entry_uuid.as_str())
}

/// The unique answers of a new hierarchy entry, scoped as the one-row path scopes them.
fn entry_keys(def: &Definition, upload: &DataUpload) -> Vec<UniqueKey> {
    let Some(form) = def.form(&upload.form_ref) else {
        return Vec::new();
    };
    let answerable = entry::answerable_inputs(&form.inputs);
    let scopes = Scopes {
        form: String::new(),
        hierarchy: sent_parent(def, upload).unwrap_or_default().to_string(),
    };
    entry::unique_keys(&answerable, &upload.answers, &scopes)
}

impl Known {
    async fn look_up(
        tx: &mut EntryTx,
        def: &Definition,
        checked: &[std::result::Result<Upload, Refusal>],
    ) -> Result<Known> {
        let entries: Vec<&DataUpload> = checked
            .iter()
            .filter_map(|c| match c {
                Ok(Upload::Data(u)) if u.kind != EntryKind::BranchEntry => Some(u),
                _ => None,
            })
            .collect();
        let mut uuids: Vec<&str> = Vec::with_capacity(entries.len() * 2);
        let mut keys = Vec::new();
        for u in &entries {
            uuids.push(&u.uuid);
            if let Some(parent) = sent_parent(def, u).filter(|p| !p.is_empty()) {
                uuids.push(parent);
            }
            keys.extend(entry_keys(def, u));
        }
        uuids.sort_unstable();
        uuids.dedup();
        let stored = tx
            .entries_by_uuids(&uuids)
            .await?
            .into_iter()
            .map(|e| (e.uuid.clone(), e))
            .collect();
        let mut holders: HashMap<UniqueKey, Vec<String>> = HashMap::new();
        for (key, uuid) in tx.answer_holders(&keys).await? {
            holders.entry(key).or_default().push(uuid);
        }
        Ok(Known {
            stored,
            holders,
            added: HashMap::new(),
            added_keys: HashSet::new(),
        })
    }

    /// A new hierarchy entry checked in memory, in the one-row path's order: `Some(Ok)` to
    /// write, `Some(Err)` refused by its answers; `None` when the one-row path must decide.
    fn check(
        &mut self,
        target: &mut Target<'_>,
        project_id: i64,
        actor: &Actor,
        upload: &DataUpload,
    ) -> Option<std::result::Result<Staged, Refusal>> {
        let def = &target.def;
        let form_ref = upload.form_ref.as_str();
        if upload.kind == EntryKind::BranchEntry
            || !entry::is_entry_uuid(&upload.uuid)
            || def.entries_limits.contains_key(form_ref)
        {
            return None;
        }
        let index = def.form_index(form_ref)?;
        let mut relationships = Relationships::default();
        if index > 0 {
            let expected = def.forms[index - 1].form_ref.as_str();
            let sent = &upload.relationships;
            let parent = sent.parent_entry_uuid.as_str();
            let parent_here = match self.added.get(parent) {
                Some(form) => form == expected,
                None => self
                    .stored
                    .get(parent)
                    .is_some_and(|e| e.project_id == project_id && e.form_ref == expected),
            };
            if sent.parent_form_ref != expected || parent.is_empty() || !parent_here {
                return None;
            }
            relationships.parent_form_ref = sent.parent_form_ref.clone();
            relationships.parent_entry_uuid = sent.parent_entry_uuid.clone();
        }
        // An edit: the one-row path's rules.
        if self.stored.contains_key(&upload.uuid) || self.added.contains_key(&upload.uuid) {
            return None;
        }
        let form = def.form(form_ref)?;
        if form.inputs.is_empty() {
            return None;
        }
        let keys = entry_keys(def, upload);
        let taken: HashSet<String> = keys
            .iter()
            .filter(|k| {
                self.added_keys.contains(*k)
                    || self
                        .holders
                        .get(*k)
                        .is_some_and(|h| h.iter().any(|u| *u != upload.uuid))
            })
            .map(|k| k.input_ref.clone())
            .collect();
        let answerable = entry::answerable_inputs(&form.inputs);
        let validated = match entry::validate_answers(
            &answerable,
            &upload.answers,
            &taken,
            &mut target.patterns,
        ) {
            Ok(v) => v,
            Err(e) => return Some(Err(vec![e])),
        };
        let now = whole_seconds(now_millis());
        let record = entry::build_record(upload, relationships, &form.inputs, &validated, now);
        let staged = Staged {
            device_id: hashed_device_id(&record),
            branch_counts: zero_branch_counts(form),
            keys,
            user_id: actor.user_id,
            uploaded_at: now,
            record,
        };
        self.added
            .insert(upload.uuid.clone(), upload.form_ref.clone());
        self.added_keys.extend(staged.keys.iter().cloned());
        Some(Ok(staged))
    }
}
