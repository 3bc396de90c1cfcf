//! Many uploads in one transaction ([`App::ingest_batch`], the bulk import's path), checked by
//! the upload rules row by row as [`App::ingest`] checks them, later rows seeing earlier ones.
//!
//! What the rules read for the batch's new hierarchy entries (records by uuid, parents, the
//! answers other records hold) is looked up for the whole batch in a few statements before
//! the first row, and the rows the batch itself adds are remembered beside it; such rows are
//! checked in memory and written together with multi-row statements
//! ([`quadrat_store::EntryTx::insert_entries`]), a chunk at a time while the next chunk is
//! checked (the database works on its own thread or server meanwhile); new branch entries of a stored owner likewise
//! ([`quadrat_store::EntryTx::insert_branch_entries`]), consecutive rows of a kind together and
//! the kinds in the rows' order, so the changes feed numbers them as the one-row path does.
//! Any other row (an edit, a form or branch with an entries limit, a branch entry whose owner
//! the batch itself adds, a row the lookups cannot decide) goes through the one-row path
//! after the rows waiting before it were written; once such a row wrote something, the
//! lookups no longer describe the database and the rest of the batch takes the one-row path.

use std::collections::{HashMap, HashSet};

use quadrat_core::definition::{Definition, Input};
use quadrat_core::entry::{
    self, DataUpload, EntryKind, EntryRecord, PatternCache, Relationships, UniqueKey, Upload,
};
use quadrat_core::roles::Actor;
use quadrat_core::time::{now_millis, whole_seconds};
use quadrat_store::{EntryTx, NewBranchEntry, NewEntry, NewRecord, StoredEntry};
use serde_json::Value;

use crate::projects::ResolvedProject;
use crate::upload::{
    CheckedRow, Refusal, RowOutcome, Target, branch_unique_keys, commit, entry_unique_keys,
    hashed_device_id, persist_error, precheck_owned, refuse, store_data, zero_branch_counts,
};
use crate::{App, Result};

/// Rows checked and then written together, while the next ones are checked.
const CHUNK_ROWS: usize = 100;

/// Rows checked between two chances for the writes beside them to go on.
const CHECK_STEP: usize = 8;

impl App {
    /// Many entry and branch entry uploads in one transaction: each row is checked and stored
    /// as [`App::ingest`] would, later rows seeing earlier ones; a refused row stores nothing
    /// and does not stop the others. File entries are refused (they need their file). An
    /// error of the database rolls back the whole batch.
    pub async fn ingest_batch(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        rows: Vec<Value>,
    ) -> Result<Vec<RowOutcome>> {
        self.refuse_locked_mirror(project)?;
        let mut target = Target::new(project)?;
        let checked = rows
            .into_iter()
            .map(|data| precheck_owned(&target, actor, data))
            .collect();
        self.store_checked(&mut target, actor, checked).await
    }

    /// [`App::ingest_batch`] of rows checked already ([`precheck_owned`]).
    pub(crate) async fn ingest_checked(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        rows: Vec<CheckedRow>,
    ) -> Result<Vec<RowOutcome>> {
        self.refuse_locked_mirror(project)?;
        self.store_checked(&mut Target::new(project)?, actor, rows)
            .await
    }

    /// `rows` in one transaction of their own, committed.
    async fn store_checked(
        &self,
        target: &mut Target<'_>,
        actor: &Actor,
        rows: Vec<CheckedRow>,
    ) -> Result<Vec<RowOutcome>> {
        let mut tx = self.store.begin_entries(target.project.id).await?;
        let outcomes = ingest_checked_rows(&mut tx, target, actor, rows).await?;
        commit(tx).await?;
        self.entries_written(target.project);
        Ok(outcomes)
    }
}

/// [`App::ingest_checked`]'s rows inside an open transaction, which stays open: the batched
/// path of both the committed batches and the all-or-nothing session. The lookups are made
/// here, inside `tx`, so they see what earlier calls on the same transaction wrote.
pub(crate) async fn ingest_checked_rows(
    tx: &mut EntryTx,
    target: &mut Target<'_>,
    actor: &Actor,
    checked: Vec<CheckedRow>,
) -> Result<Vec<RowOutcome>> {
    let mut known = Some(Known::look_up(tx, &target.def, &checked).await?);
    let project_id = tx.project_id();
    let mut outcomes = Vec::with_capacity(checked.len());
    let mut rows = checked.into_iter();
    // The rows checked last, written while the next ones are checked: the checks are work in
    // memory, the writes the database's (its own thread for SQLite, the server for PostgreSQL).
    let mut writing: Vec<Staged> = Vec::new();
    loop {
        let mut staged = Vec::with_capacity(CHUNK_ROWS);
        let (written, end) = tokio::join!(
            write_pending(tx, &mut writing),
            check_chunk(
                &mut rows,
                &mut known,
                target,
                (project_id, actor),
                &mut staged,
                &mut outcomes,
            )
        );
        written?;
        writing = staged;
        match end {
            ChunkEnd::Full => {}
            ChunkEnd::Rows => break,
            ChunkEnd::OneRow(upload) => {
                // The one-row path reads the database: what waits is written first.
                write_pending(tx, &mut writing).await?;
                let outcome = store_data(tx, target, actor, &upload).await?;
                if outcome.is_ok() {
                    known = None;
                }
                outcomes.push(outcome);
            }
        }
    }
    write_pending(tx, &mut writing).await?;
    Ok(outcomes)
}

/// Why [`check_chunk`] stopped.
enum ChunkEnd {
    /// [`CHUNK_ROWS`] rows are staged.
    Full,
    /// The rows ended.
    Rows,
    /// This row takes the one-row path (after the staged rows are written).
    OneRow(Box<DataUpload>),
}

/// Checks rows in their order, staging those the lookups decide and telling the outcome of
/// each, until a chunk is staged, the rows end, or a row needs the one-row path. It yields
/// every [`CHECK_STEP`] rows, so the writes it runs beside go on to their next statement.
async fn check_chunk(
    rows: &mut impl Iterator<Item = CheckedRow>,
    known: &mut Option<Known>,
    target: &mut Target<'_>,
    (project_id, actor): (i64, &Actor),
    staged: &mut Vec<Staged>,
    outcomes: &mut Vec<RowOutcome>,
) -> ChunkEnd {
    let mut step = 0;
    while staged.len() < CHUNK_ROWS {
        step += 1;
        if step == CHECK_STEP {
            step = 0;
            tokio::task::yield_now().await;
        }
        let upload = match rows.next() {
            None => return ChunkEnd::Rows,
            Some(Err(errors)) => {
                outcomes.push(Err(errors));
                continue;
            }
            Some(Ok(Upload::File(_))) => {
                outcomes.push(Err(refuse("ec5_69", "file_entry")));
                continue;
            }
            Some(Ok(Upload::Data(upload))) => upload,
        };
        match known
            .as_mut()
            .and_then(|k| k.check(target, project_id, actor, &upload))
        {
            Some(Ok(row)) => {
                staged.push(row);
                outcomes.push(Ok(()));
            }
            Some(Err(errors)) => outcomes.push(Err(errors)),
            None => return ChunkEnd::OneRow(Box::new(upload)),
        }
    }
    ChunkEnd::Full
}

/// A checked new entry or branch entry, waiting to be written.
struct Staged {
    record: EntryRecord,
    device_id: String,
    keys: Vec<UniqueKey>,
    user_id: i64,
    uploaded_at: i64,
    place: Place,
}

/// Where a staged row goes.
enum Place {
    /// A hierarchy entry, with its own `branch_counts`.
    Entry { branch_counts: Option<String> },
    /// A branch entry, with its stored owner's id.
    Branch { owner_id: i64 },
}

impl Staged {
    fn new(
        record: EntryRecord,
        keys: Vec<UniqueKey>,
        user_id: i64,
        now: i64,
        place: Place,
    ) -> Staged {
        Staged {
            device_id: hashed_device_id(&record),
            place,
            keys,
            user_id,
            uploaded_at: now,
            record,
        }
    }

    fn new_record(&self) -> NewRecord<'_> {
        let r = &self.record;
        NewRecord {
            uuid: &r.uuid,
            form_ref: &r.form_ref,
            user_id: self.user_id,
            platform: &r.platform,
            device_id: &self.device_id,
            created_at: r.created_at,
            uploaded_at: self.uploaded_at,
            title: &r.title,
            entry_data: &r.entry_data,
            geo_json_data: r.geo_json_data.as_deref(),
            unique: &self.keys,
        }
    }
}

/// Writes the staged rows in their order: each run of consecutive rows of one kind with
/// multi-row statements.
async fn write_pending(tx: &mut EntryTx, pending: &mut Vec<Staged>) -> Result<()> {
    let mut rest = pending.as_slice();
    while let Some(first) = rest.first() {
        let branch = matches!(first.place, Place::Branch { .. });
        let run = rest
            .iter()
            .take_while(|s| matches!(s.place, Place::Branch { .. }) == branch)
            .count();
        let (now, later) = rest.split_at(run);
        if branch {
            let rows: Vec<NewBranchEntry<'_>> = now
                .iter()
                .filter_map(|s| match s.place {
                    Place::Branch { owner_id } => Some(NewBranchEntry {
                        record: s.new_record(),
                        owner_entry_id: owner_id,
                        owner_uuid: &s.record.relationships.owner_entry_uuid,
                        owner_input_ref: &s.record.relationships.owner_input_ref,
                    }),
                    Place::Entry { .. } => None,
                })
                .collect();
            tx.insert_branch_entries(&rows)
                .await
                .map_err(persist_error)?;
        } else {
            let rows: Vec<NewEntry<'_>> = now
                .iter()
                .filter_map(|s| match &s.place {
                    Place::Entry { branch_counts } => Some(NewEntry {
                        record: s.new_record(),
                        parent_uuid: &s.record.relationships.parent_entry_uuid,
                        parent_form_ref: &s.record.relationships.parent_form_ref,
                        branch_counts: branch_counts.as_deref(),
                    }),
                    Place::Branch { .. } => None,
                })
                .collect();
            tx.insert_entries(&rows).await.map_err(persist_error)?;
        }
        rest = later;
    }
    pending.clear();
    Ok(())
}

/// What the upload rules would read for the batch's new entries: the database as it was
/// before the batch, and what the batch added since.
struct Known {
    /// Records by uuid: the rows' own, their parents and the branch entries' owners.
    stored: HashMap<String, StoredEntry>,
    /// The branch entries' uuids that are stored already (in any project).
    stored_branches: HashSet<String>,
    /// Who holds each of the rows' unique answers.
    holders: HashMap<UniqueKey, Vec<String>>,
    /// Entries this batch added: uuid and form.
    added: HashMap<String, String>,
    /// Branch entries this batch added.
    added_branches: HashSet<String>,
    /// Unique answers this batch added.
    added_keys: HashSet<UniqueKey>,
    /// Each form's [`zero_branch_counts`], by form index: the same for every new entry.
    zero_counts: Vec<Option<String>>,
}

/// The parent uuid a hierarchy entry's upload names, where its form has a parent form.
fn sent_parent<'a>(def: &Definition, upload: &'a DataUpload) -> Option<&'a str> {
    (def.form_index(&upload.form_ref).unwrap_or(0) > 0)
        .then_some(upload.relationships.parent_entry_uuid.as_str())
}

/// The unique answers of a new hierarchy entry, scoped as the one-row path scopes them.
fn entry_keys(def: &Definition, upload: &DataUpload) -> Vec<UniqueKey> {
    def.form(&upload.form_ref).map_or_else(Vec::new, |form| {
        entry_unique_keys(
            &form.inputs,
            upload,
            sent_parent(def, upload).unwrap_or_default(),
        )
    })
}

/// A branch entry's branch input, where its form has the one it names.
fn sent_branch<'a>(def: &'a Definition, upload: &DataUpload) -> Option<&'a Input> {
    let owner_ref = upload.relationships.owner_input_ref.as_str();
    def.form(&upload.form_ref)?
        .branches()
        .find(|b| b.input_ref.as_str() == owner_ref)
}

impl Known {
    async fn look_up(tx: &mut EntryTx, def: &Definition, checked: &[CheckedRow]) -> Result<Known> {
        let uploads = checked.iter().filter_map(|c| match c {
            Ok(Upload::Data(u)) => Some(u),
            _ => None,
        });
        let mut uuids: Vec<&str> = Vec::with_capacity(checked.len() * 2);
        let mut branch_uuids: Vec<&str> = Vec::new();
        let mut keys = Vec::new();
        for u in uploads {
            if u.kind == EntryKind::BranchEntry {
                let Some(branch) = sent_branch(def, u) else {
                    continue;
                };
                branch_uuids.push(&u.uuid);
                uuids.push(&u.relationships.owner_entry_uuid);
                keys.extend(branch_unique_keys(branch, u));
                continue;
            }
            uuids.push(&u.uuid);
            if let Some(parent) = sent_parent(def, u).filter(|p| !p.is_empty()) {
                uuids.push(parent);
            }
            keys.extend(entry_keys(def, u));
        }
        uuids.sort_unstable();
        uuids.dedup();
        branch_uuids.sort_unstable();
        branch_uuids.dedup();
        let stored_branches = tx
            .branch_entries_by_uuids(&branch_uuids)
            .await?
            .into_iter()
            .map(|b| b.uuid)
            .collect();
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
            stored_branches,
            holders,
            added: HashMap::new(),
            added_branches: HashSet::new(),
            added_keys: HashSet::new(),
            zero_counts: def.forms.iter().map(zero_branch_counts).collect(),
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
        if upload.kind == EntryKind::BranchEntry {
            return self.check_branch(target, project_id, actor, upload);
        }
        let def = &target.def;
        let form_ref = upload.form_ref.as_str();
        if !entry::is_entry_uuid(&upload.uuid) || def.entries_limits.contains_key(form_ref) {
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
        let form = &def.forms[index];
        if form.inputs.is_empty() {
            return None;
        }
        let keys = entry_keys(def, upload);
        let (record, now) = match self.answered(
            &mut target.patterns,
            upload,
            &form.inputs,
            relationships,
            &keys,
        ) {
            Ok(r) => r,
            Err(refusal) => return Some(Err(refusal)),
        };
        let place = Place::Entry {
            branch_counts: self.zero_counts[index].clone(),
        };
        let staged = Staged::new(record, keys, actor.user_id, now, place);
        self.added
            .insert(upload.uuid.clone(), upload.form_ref.clone());
        self.added_keys.extend(staged.keys.iter().cloned());
        Some(Ok(staged))
    }

    /// The record of a new row whose answers to `inputs` pass the upload's checks (with
    /// `keys` taken as [`Known::taken`] says), stamped now; both kinds of row end here.
    fn answered(
        &self,
        patterns: &mut PatternCache,
        upload: &DataUpload,
        inputs: &[Input],
        relationships: Relationships,
        keys: &[UniqueKey],
    ) -> std::result::Result<(EntryRecord, i64), Refusal> {
        let taken = self.taken(keys, &upload.uuid);
        let answerable = entry::answerable_inputs(inputs);
        let validated = entry::validate_answers(&answerable, &upload.answers, &taken, patterns)
            .map_err(|e| vec![e])?;
        let now = whole_seconds(now_millis());
        let record = entry::build_record(upload, relationships, inputs, &validated, now);
        Ok((record, now))
    }

    /// The inputs of `keys` whose answer another record holds: stored (as the one-row path's
    /// [`EntryTx::look_up_entry`] reads it) or added by this batch.
    fn taken(&self, keys: &[UniqueKey], uuid: &str) -> HashSet<String> {
        keys.iter()
            .filter(|k| {
                self.added_keys.contains(*k)
                    || self
                        .holders
                        .get(*k)
                        .is_some_and(|h| h.iter().any(|u| u != uuid))
            })
            .map(|k| k.input_ref.clone())
            .collect()
    }

    /// A new branch entry of a stored owner checked in memory, in the one-row path's order,
    /// as [`Known::check`] checks an entry.
    fn check_branch(
        &mut self,
        target: &mut Target<'_>,
        project_id: i64,
        actor: &Actor,
        upload: &DataUpload,
    ) -> Option<std::result::Result<Staged, Refusal>> {
        let def = &target.def;
        let sent = &upload.relationships;
        let branch = sent_branch(def, upload)?;
        if branch.branch.is_empty() || def.entries_limits.contains_key(branch.input_ref.as_str()) {
            return None;
        }
        // An owner this batch added has no id yet: the one-row path writes it first.
        if self.added.contains_key(&sent.owner_entry_uuid) {
            return None;
        }
        let owner_id = self
            .stored
            .get(&sent.owner_entry_uuid)
            .filter(|o| o.project_id == project_id && o.form_ref == upload.form_ref)?
            .id;
        // An edit: the one-row path's rules.
        if self.stored_branches.contains(&upload.uuid) || self.added_branches.contains(&upload.uuid)
        {
            return None;
        }
        let relationships = Relationships {
            owner_input_ref: sent.owner_input_ref.clone(),
            owner_entry_uuid: sent.owner_entry_uuid.clone(),
            ..Relationships::default()
        };
        let keys = branch_unique_keys(branch, upload);
        let (record, now) = match self.answered(
            &mut target.patterns,
            upload,
            &branch.branch,
            relationships,
            &keys,
        ) {
            Ok(r) => r,
            Err(refusal) => return Some(Err(refusal)),
        };
        let staged = Staged::new(record, keys, actor.user_id, now, Place::Branch { owner_id });
        self.added_branches.insert(upload.uuid.clone());
        self.added_keys.extend(staged.keys.iter().cloned());
        Some(Ok(staged))
    }
}
