//! Replacing a project's definition (the web pages' stand-in for the real formbuilder's save,
//! docs/protocol.md §15.2): the file must carry the project's own ref; it is validated in full;
//! the project version moves, project_extra and EC5_AUTO are made again and the custom maps are
//! merged onto it, as a formbuilder save does.

use quadrat_core::Ec5Error;
use quadrat_core::definition::{Definition, edit, extra, mapping, validate};
use quadrat_core::json::mysql_order;
use quadrat_core::time::{now_millis, whole_seconds};
use quadrat_store::{Conflict, StoreError};
use serde_json::{Value, json};

use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// How many times a replacement is retried when a mapping edit came in between.
const ATTEMPTS: usize = 5;

/// What a replacement did, or what it needs first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replacement {
    Replaced,
    /// The project has entries and questions would come or go: nothing is stored until the
    /// caller confirms. Each list holds `question (ref)` lines in definition order.
    NeedsConfirmation {
        added: Vec<String>,
        removed: Vec<String>,
    },
}

impl App {
    /// Replaces the definition of `project` with `file` (a definition file). Name, slug,
    /// access, status, visibility and logo stay the project's (the settings page changes them).
    /// Refusals: the envelope's codes, `ec5_321` for another project's ref, every definition
    /// error, and a question that already has answers turning its uniqueness on.
    pub async fn replace_definition(
        &self,
        project: &ResolvedProject,
        file: &Value,
        confirmed: bool,
    ) -> Result<Replacement> {
        let mut data = validate::validate_envelope(file)
            .map_err(AppError::invalid)?
            .clone();
        if edit::project_str(&data, "ref") != Some(project.project_ref.as_str()) {
            return Err(AppError::client(400, "ec5_321", "ref"));
        }
        for (field, value) in [
            ("name", project.name.as_str()),
            ("slug", project.slug.as_str()),
            ("access", project.access.as_str()),
            ("status", project.status.as_str()),
            ("visibility", project.visibility.as_str()),
            ("logo_url", project.logo_url.as_str()),
        ] {
            edit::set_project_field(&mut data, field, json!(value));
        }
        validate::validate_definition(&data).map_err(AppError::invalid)?;
        let data = mysql_order(data);
        let new_def = Definition::from_data(&data).map_err(|e| AppError::invalid(vec![e]))?;
        let old_def = project.definition()?;
        let has_entries = self
            .store
            .counters(project.id)
            .await?
            .iter()
            .any(|c| c.entry_count > 0);
        if has_entries {
            uniqueness_unchanged(&old_def, &new_def)?;
            let (added, removed) = question_changes(&old_def, &new_def);
            let unchanged = added.is_empty() && removed.is_empty();
            if !confirmed && !unchanged {
                return Ok(Replacement::NeedsConfirmation { added, removed });
            }
        }
        let definition = serde_json::to_string(&data)
            .map_err(|e| AppError::internal("encoding a definition", e))?;
        let extra = serde_json::to_string(&mysql_order(extra::project_extra(&data)))
            .map_err(|e| AppError::internal("encoding project_extra", e))?;
        let mut current = project.structure.project_mapping.clone();
        for _ in 0..ATTEMPTS {
            let old: Value = serde_json::from_str(&current)
                .map_err(|e| AppError::internal("reading a stored mapping", e))?;
            let merged = serde_json::to_string(&mapping::regenerate(&data, Some(&old)))
                .map_err(|e| AppError::internal("encoding a mapping", e))?;
            match self
                .store
                .replace_structure(
                    project.id,
                    &definition,
                    &extra,
                    &current,
                    &merged,
                    (
                        &new_def.small_description,
                        &new_def.description,
                        &new_def.category,
                    ),
                    whole_seconds(now_millis()),
                )
                .await
            {
                Ok(()) => return Ok(Replacement::Replaced),
                Err(StoreError::Conflict(Conflict::ProjectMapping)) => {
                    current = self.store.structure(project.id).await?.project_mapping;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::broken(
            "the mapping kept changing under this replacement; try again",
        ))
    }
}

/// `question (ref)` of the inputs only `new` has, and of those only `old` has.
fn question_changes(old: &Definition, new: &Definition) -> (Vec<String>, Vec<String>) {
    let only_in = |a: &Definition, b: &Definition| {
        a.all_inputs()
            .into_iter()
            .filter(|i| b.input(i.input_ref.as_str()).is_none())
            .map(|i| format!("{} ({})", i.question, i.input_ref.as_str()))
            .collect::<Vec<_>>()
    };
    (only_in(new, old), only_in(old, new))
}

/// Stored answers were never indexed for uniqueness, so a question that has them cannot start
/// being unique: its duplicates would go unnoticed.
fn uniqueness_unchanged(old: &Definition, new: &Definition) -> Result<()> {
    let refused: Vec<Ec5Error> = new
        .all_inputs()
        .into_iter()
        .filter(|input| {
            old.input(input.input_ref.as_str())
                .is_some_and(|before| before.uniqueness != input.uniqueness)
        })
        .map(|input| {
            Ec5Error::new(
                "The uniqueness of a question that already has answers cannot change.",
                input.input_ref.as_str(),
            )
        })
        .collect();
    match refused.is_empty() {
        true => Ok(()),
        false => Err(AppError::invalid(refused)),
    }
}
