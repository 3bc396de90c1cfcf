//! The bulk import's use-case side (data-model.md §4.10): the project, the acting user and the
//! template of a form or branch. Rows go through [`App::ingest_batch`] (or an all-or-nothing
//! [`crate::upload::BatchSession`]), the upload API's own validation.

use quadrat_core::bulk::Template;
use quadrat_core::definition::{Definition, InputType};
use quadrat_core::mappings::MappingList;
use quadrat_core::roles::{Actor, Role};
use quadrat_core::time::sql_datetime;
use serde_json::Value;

use crate::projects::ResolvedProject;
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
        let stored: Value = serde_json::from_str(&project.structure.project_mapping)
            .map_err(|e| AppError::internal("reading a stored mapping", e))?;
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
            maps: MappingList::from_stored(&stored),
        })
    }
}

impl ImportTarget {
    /// The version every payload carries: the stored structure's.
    pub fn project_version(&self) -> String {
        sql_datetime(self.project.structure.updated_at)
    }

    /// The form a `--form` names (its ref or its name, any case); the first form when `None`.
    pub fn form_ref(&self, wanted: Option<&str>) -> std::result::Result<String, String> {
        let Some(wanted) = wanted else {
            return self
                .def
                .forms
                .first()
                .map(|f| f.form_ref.0.clone())
                .ok_or_else(|| "the project has no form".to_string());
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
                format!("no form {wanted:?}; the forms are: {}", known.join(", "))
            })
    }

    /// The branch input of `form_ref` a `--branch` names (its ref or its question, any case).
    pub fn branch_ref(&self, form_ref: &str, wanted: &str) -> std::result::Result<String, String> {
        let form = self
            .def
            .form(form_ref)
            .ok_or_else(|| format!("no form {form_ref}"))?;
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
                format!(
                    "no branch {wanted:?} in the form; its branches are: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            })
    }

    /// The template of a form or branch under map `map_index` (the default map when `None`).
    pub fn template(
        &self,
        form_ref: &str,
        branch_ref: Option<&str>,
        map_index: Option<usize>,
    ) -> std::result::Result<Template, String> {
        let index = match map_index {
            Some(i) if !self.maps.contains(i) => {
                return Err(format!("the project has no map {i}"));
            }
            Some(i) => i,
            None => self.maps.default_index(),
        };
        Template::new(&self.def, &self.maps, index, form_ref, branch_ref)
    }
}
