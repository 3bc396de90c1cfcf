//! Custom mappings (docs/protocol.md §4.4): list, show, create, update, delete and choose the
//! default map of a project. Refusals are the real server's codes, answered with 422 as its
//! mapping endpoints do, and change nothing.

use quadrat_core::Ec5Error;
use quadrat_core::mappings::form_edits::FormEdits;
use quadrat_core::mappings::{MapSummary, MappingList, custom};
use quadrat_store::StoreError;
use serde_json::Value;

use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// How many times an edit is retried when another writer changed the list in between.
const ATTEMPTS: usize = 5;

impl App {
    /// Index, name and default flag of every map of a project.
    pub async fn list_mappings(&self, raw_slug: &str) -> Result<Vec<MapSummary>> {
        let project = self.find_project(raw_slug).await?;
        Ok(mapping_list(&project)?.summaries())
    }

    /// One map, in the JSON of docs/protocol.md §4.1 (what `update` takes back).
    pub async fn show_mapping(&self, raw_slug: &str, index: usize) -> Result<Value> {
        let project = self.find_project(raw_slug).await?;
        mapping_list(&project)?
            .get(index)
            .map(|m| Value::Object(m.clone()))
            .ok_or_else(|| refused(vec![Ec5Error::new("ec5_230", "mapping")]))
    }

    /// Adds a custom map, a copy of EC5_AUTO, and returns its index.
    pub async fn create_mapping(
        &self,
        raw_slug: &str,
        name: &str,
        make_default: bool,
    ) -> Result<usize> {
        self.edit_mappings(raw_slug, |_, list| custom::create(list, name, make_default))
            .await
    }

    /// Replaces custom map `index` with `map`, validated against the definition.
    pub async fn update_mapping(&self, raw_slug: &str, index: usize, map: &Value) -> Result<()> {
        self.edit_mappings(raw_slug, |project, list| {
            let def = project
                .definition()
                .map_err(|_| vec![Ec5Error::new("ec5_116", "definition")])?;
            custom::update(list, &def, index, map).map(|l| (l, ()))
        })
        .await
    }

    pub async fn delete_mapping(&self, raw_slug: &str, index: usize) -> Result<()> {
        self.edit_mappings(raw_slug, |_, list| {
            custom::delete(list, index).map(|l| (l, ()))
        })
        .await
    }

    pub async fn set_default_mapping(&self, raw_slug: &str, index: usize) -> Result<()> {
        self.edit_mappings(raw_slug, |_, list| {
            custom::set_default(list, index).map(|l| (l, ()))
        })
        .await
    }

    /// Reads the list, applies `edit`, and stores the result only if nobody changed the list
    /// meanwhile (else starts again from the newer list).
    async fn edit_mappings<T>(
        &self,
        raw_slug: &str,
        edit: impl Fn(
            &ResolvedProject,
            &MappingList,
        ) -> std::result::Result<(MappingList, T), Vec<Ec5Error>>,
    ) -> Result<T> {
        for _ in 0..ATTEMPTS {
            let project = self.find_project(raw_slug).await?;
            let list = mapping_list(&project)?;
            let (edited, out) = edit(&project, &list).map_err(refused)?;
            let text = serde_json::to_string(&edited.to_stored())
                .map_err(|e| AppError::internal("encoding the mapping", e))?;
            match self
                .store
                .replace_project_mapping(project.id, &project.structure.project_mapping, &text)
                .await
            {
                Ok(()) => return Ok(out),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::broken(
            "the mapping kept changing under this edit; try again",
        ))
    }
}

pub(crate) fn mapping_list(project: &ResolvedProject) -> Result<MappingList> {
    Ok((*project.mappings()?).clone())
}

fn refused(errors: Vec<Ec5Error>) -> AppError {
    AppError::Client {
        status: 422,
        errors,
    }
}

impl App {
    /// The mapping page's save: the column names, hidden flags and answer labels of one form of
    /// custom map `index` ([`FormEdits`]), checked by the same rules as [`App::update_mapping`].
    pub async fn update_mapping_form(
        &self,
        raw_slug: &str,
        index: usize,
        form_ref: &str,
        edits: &FormEdits,
    ) -> Result<()> {
        self.edit_mappings(raw_slug, |project, list| {
            let def = project
                .definition()
                .map_err(|_| vec![Ec5Error::new("ec5_116", "definition")])?;
            if def.form(form_ref).is_none() {
                return Err(vec![Ec5Error::new("ec5_15", "form_ref")]);
            }
            let map = list
                .get(index)
                .ok_or_else(|| vec![Ec5Error::new("ec5_230", "mapping")])?;
            custom::update(list, &def, index, &edits.apply(map, form_ref)).map(|l| (l, ()))
        })
        .await
    }
}
