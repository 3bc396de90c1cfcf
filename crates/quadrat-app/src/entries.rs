//! Deleting entries (docs/protocol.md §6.7): an entry goes with every descendant, their branch
//! entries and all their media files; every counter is put right.

use std::collections::HashSet;

use quadrat_core::Ec5Error;
use quadrat_core::entry::MediaKind;
use quadrat_core::roles::Actor;
use quadrat_store::{DeleteTarget, MediaFile, StoreError};

use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// One entry (with its descendants) or one branch entry, by uuid.
    Uuid(String),
    /// Every entry of a form (with their descendants).
    AllOfForm(String),
}

/// What went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionReport {
    pub entries: Vec<String>,
    pub branch_entries: Vec<String>,
    pub files: Vec<MediaFile>,
}

impl DeletionReport {
    /// `N entr(y|ies), M branch entr(y|ies) and K media file(s)`: how the CLI and the pages
    /// say what went.
    pub fn counts(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{}, {} and {}",
            plural(self.entries.len(), "entry", "entries"),
            plural(self.branch_entries.len(), "branch entry", "branch entries"),
            plural(self.files.len(), "media file", "media files"),
        )
    }
}

impl App {
    /// Deletes entries of the project `raw_slug`, whatever its status (an administrator's
    /// command). An unknown uuid is `ec5_239`, an unknown form `ec5_15`.
    pub async fn delete_entries(&self, raw_slug: &str, what: &Deletion) -> Result<DeletionReport> {
        let project = self.find_project(raw_slug).await?;
        let target = match what {
            Deletion::Uuid(uuid) => DeleteTarget::Uuid(uuid.clone()),
            Deletion::AllOfForm(form_ref) => {
                if project.definition()?.form(form_ref).is_none() {
                    return Err(AppError::client(400, "ec5_15", form_ref.clone()));
                }
                DeleteTarget::Form(form_ref.clone())
            }
        };
        let deleted = match self.store.delete_entries(project.id, &target).await {
            Ok(d) => d,
            Err(StoreError::NotFound(_)) => {
                let source = match what {
                    Deletion::Uuid(uuid) => uuid.clone(),
                    Deletion::AllOfForm(form_ref) => form_ref.clone(),
                };
                return Err(AppError::Client {
                    status: 404,
                    errors: vec![Ec5Error::new("ec5_239", source)],
                });
            }
            Err(e) => return Err(e.into()),
        };
        // Files go after the rows: an upload for a deleted entry is refused from now on, so no
        // new file can appear for these uuids.
        let uuids: HashSet<String> = deleted
            .entries
            .iter()
            .chain(&deleted.branch_entries)
            .cloned()
            .collect();
        let files = self
            .media()
            .delete_for_uuids(&project.project_ref, &uuids)
            .await
            .map_err(|e| AppError::internal("removing media files", e))?;
        for kind in MediaKind::ALL {
            let (count, bytes) = files
                .iter()
                .filter(|f| f.kind == kind)
                .fold((0i64, 0i64), |(n, b), f| (n + 1, b + f.bytes as i64));
            if count > 0 {
                self.store
                    .add_media_totals(project.id, kind, -count, -bytes)
                    .await?;
            }
        }
        Ok(DeletionReport {
            entries: deleted.entries,
            branch_entries: deleted.branch_entries,
            files,
        })
    }
}

/// Whether `actor` may delete any entry of the project from the web pages: creators,
/// managers and curators (and server admins, who act as creators).
pub fn may_delete_entries(actor: &Actor) -> bool {
    actor
        .effective_role()
        .is_some_and(|r| r.can_edit_any_entry())
}

impl App {
    /// `POST /project/{slug}/entry/{uuid}/delete`: one entry (or branch entry) with its
    /// descendants, branch entries and media, through [`App::delete_entries`]. Anyone below
    /// curator is refused with 403 `ec5_91`.
    pub async fn delete_entry_as(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        uuid: &str,
    ) -> Result<DeletionReport> {
        if !may_delete_entries(actor) {
            return Err(AppError::client(403, "ec5_91", "entry"));
        }
        self.delete_entries(&project.slug, &Deletion::Uuid(uuid.to_string()))
            .await
    }
}
