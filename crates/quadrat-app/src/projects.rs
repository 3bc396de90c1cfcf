//! Projects: import, list, export, settings, deletion, and the project-level read API.

use std::ops::Deref;
use std::sync::Arc;

use quadrat_core::definition::{Definition, edit, extra, mapping, validate};
use quadrat_core::json::mysql_order;
use quadrat_core::mappings::MappingList;
use quadrat_core::project_state::{
    ProjectAccess, ProjectSetting, ProjectState, ProjectStatus, ProjectVisibility, UnknownValue,
};
use quadrat_core::roles::{Actor, Role};
use quadrat_core::stats::{Counter, ProjectStats};
use quadrat_core::time::{now_millis, sql_datetime, whole_seconds};
use quadrat_core::{Ec5Error, slug};
use quadrat_store::{Conflict, NewProject, StoreError};
use serde_json::{Value, json};

use crate::model::{self, Project, User};
use crate::structure_cache::CachedStructure;
use crate::{App, AppError, Result};

/// The longest project search, in characters: the longest project name a definition may have
/// (docs/protocol.md §3.4, §10.1).
pub const MAX_SEARCH_NAME_CHARS: usize = 100;

/// How a definition file becomes a project.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// A new name (the slug follows it); the file's name otherwise.
    pub name: Option<String>,
    /// Overrides the file's access.
    pub access: Option<ProjectAccess>,
    /// Give the project, its forms and inputs fresh refs, as the real server's web import does.
    pub new_ref: bool,
    pub created_by: Option<i64>,
    /// A slug of its own instead of the name's (`quadrat mirror --local-slug`); it must be a
    /// slug already (`slug::normalize` leaves it as it is).
    pub slug: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub slug: String,
    pub project_ref: String,
    pub name: String,
}

/// A project found by slug, with its stored structure. It reads as the [`Project`] it holds
/// (`project.slug`, `project.is_private()`).
#[derive(Debug, Clone)]
pub struct ResolvedProject {
    pub project: Project,
    /// The stored structure, shared with the process's cache (`structure_cache.rs`).
    pub structure: Arc<CachedStructure>,
    /// A mirror that takes no uploads until unlocked (docs/protocol.md §18.5), as read with
    /// the project.
    pub mirror_locked: bool,
}

impl Deref for ResolvedProject {
    type Target = Project;

    fn deref(&self) -> &Project {
        &self.project
    }
}

impl ResolvedProject {
    pub fn definition_data(&self) -> Result<Value> {
        parse_stored(&self.structure.project_definition)
    }

    /// The definition (a copy of the one parsed once per structure version).
    pub fn definition(&self) -> Result<Definition> {
        Ok((*self.structure.definition()?).clone())
    }

    /// The definition as parsed once per structure version.
    pub fn shared_definition(&self) -> Result<Arc<Definition>> {
        self.structure.definition()
    }

    /// The mapping list as parsed once per structure version.
    pub fn mappings(&self) -> Result<Arc<MappingList>> {
        self.structure.mappings()
    }
}

impl App {
    /// The structure of `project_id` at `version`: the process's copy when it is that
    /// version, else read from the database (and kept).
    pub(crate) async fn structure_of(
        &self,
        project_id: i64,
        version: i64,
    ) -> Result<Arc<CachedStructure>> {
        if let Some(copy) = self.structures.get(project_id, version) {
            return Ok(copy);
        }
        let row = self.store.structure(project_id).await?;
        let version = row.structure_version;
        let copy = Arc::new(CachedStructure::new(row.into(), version));
        self.structures.put(project_id, copy.clone());
        Ok(copy)
    }

    /// Validates a definition file in full and stores it with its project_extra and EC5_AUTO
    /// mapping. Keeps the file's refs unless `new_ref`. Nothing is stored on any error.
    pub async fn import_project(&self, file: &Value, opts: &ImportOptions) -> Result<Imported> {
        let mut data = validate::validate_envelope(file)
            .map_err(AppError::invalid)?
            .clone();
        if opts.new_ref {
            let old = edit::project_str(&data, "ref")
                .unwrap_or_default()
                .to_string();
            let fresh = uuid::Uuid::new_v4().simple().to_string();
            data = edit::replace_project_ref(&data, &old, &fresh);
            edit::set_project_field(&mut data, "ref", json!(fresh));
        }
        if let Some(name) = &opts.name {
            edit::set_project_field(&mut data, "name", json!(name));
        }
        if let Some(access) = opts.access {
            edit::set_project_field(&mut data, ProjectAccess::FIELD, json!(access.as_str()));
        }
        let name = edit::project_str(&data, "name")
            .unwrap_or_default()
            .to_string();
        let new_slug = match &opts.slug {
            Some(s) if slug::normalize(s) == *s && !s.is_empty() => s.clone(),
            Some(s) => {
                return Err(AppError::client(
                    400,
                    "ec5_85",
                    format!("slug: {s:?} is not a project slug (lower-case words joined by -)"),
                ));
            }
            None => slug::normalize(&name),
        };
        edit::set_project_field(&mut data, "slug", json!(new_slug));
        // A logo never travels with a definition file.
        edit::set_project_field(&mut data, "logo_url", json!(""));
        validate::validate_definition(&data).map_err(AppError::invalid)?;
        let data = mysql_order(data);
        let def = Definition::from_data(&data).map_err(|e| AppError::invalid(vec![e]))?;
        // The validator has checked these; reading them here keeps every stored word one of
        // the states'.
        let invalid = |e: UnknownValue| AppError::invalid(vec![Ec5Error::from(e)]);
        let access: ProjectAccess = def.access.parse().map_err(invalid)?;
        let visibility: ProjectVisibility = def.visibility.parse().map_err(invalid)?;
        let status: ProjectStatus = def.status.parse().map_err(invalid)?;
        let now = whole_seconds(now_millis());
        let project = NewProject {
            project_ref: def.project_ref.0.clone(),
            name: def.name.clone(),
            slug: new_slug.clone(),
            access: access.as_str().into(),
            visibility: visibility.as_str().into(),
            status: status.as_str().into(),
            category: def.category.clone(),
            small_description: def.small_description.clone(),
            description: def.description.clone(),
            can_bulk_upload: can_bulk_upload(&data),
            created_by: opts.created_by,
            definition: to_stored(&data),
            extra: to_stored(&mysql_order(extra::project_extra(&data))),
            mapping: to_stored(&mapping::regenerate(&data, None)),
            now,
        };
        match self.store.insert_project(&project).await {
            Ok(_) => Ok(Imported {
                slug: new_slug,
                project_ref: def.project_ref.0,
                name: def.name,
            }),
            Err(StoreError::Conflict(Conflict::ProjectSlug)) => Err(AppError::client(
                400,
                "ec5_85",
                format!("name: a project with slug {new_slug:?} already exists"),
            )),
            Err(StoreError::Conflict(_)) => Err(AppError::client(
                400,
                "ec5_224",
                format!(
                    "ref: project ref {} is already in use; import with --new-ref to give the copy fresh refs",
                    def.project_ref
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        model::all(self.store.list_projects().await?)
    }

    /// The definition file of a project, re-importable as it is.
    pub async fn export_definition(&self, raw_slug: &str) -> Result<Value> {
        let project = self.find_project(raw_slug).await?;
        Ok(json!({ "data": project.definition_data()? }))
    }

    /// Sets access, visibility or status on the row and inside the stored definition and extra.
    pub async fn set_project_setting(&self, raw_slug: &str, setting: ProjectSetting) -> Result<()> {
        let project = self.find_project(raw_slug).await?;
        let (field, value) = (setting.field().as_str(), setting.value());
        let mut data = project.definition_data()?;
        edit::set_project_field(&mut data, field, json!(value));
        let mut extra = parse_stored(&project.structure.project_extra)?;
        if let Some(details) = extra
            .get_mut("project")
            .and_then(|p| p.get_mut("details"))
            .and_then(Value::as_object_mut)
        {
            details.insert(field.to_string(), json!(value));
        }
        self.store
            .update_project_setting(
                project.id,
                setting,
                &to_stored(&data),
                &to_stored(&extra),
                whole_seconds(now_millis()),
            )
            .await?;
        Ok(())
    }

    pub async fn delete_project(&self, raw_slug: &str) -> Result<Project> {
        let resolved = self.find_project(raw_slug).await?;
        self.store.delete_project(resolved.id).await?;
        // The rows went first: no upload can add a file for a project that is gone.
        self.media()
            .delete_project(&resolved.project_ref)
            .await
            .map_err(|e| AppError::internal("removing the project's media files", e))?;
        Ok(resolved.project)
    }

    /// The stats of a project, from the counters kept at write time.
    pub async fn project_stats(&self, project: &ResolvedProject) -> Result<ProjectStats> {
        let def = project.definition()?;
        let counters = self.store.counters(project.id).await?;
        let media = self.store.media_totals(project.id).await?;
        let counter = |form_ref: &str, branch_ref: &str| {
            counters
                .iter()
                .find(|c| c.form_ref == form_ref && c.branch_ref == branch_ref)
                .map(|c| Counter {
                    count: c.entry_count,
                    first_created_at: c.first_created_at.unwrap_or_default(),
                    last_created_at: c.last_created_at.unwrap_or_default(),
                })
                .unwrap_or_default()
        };
        let mut stats = ProjectStats {
            total_files: media.photo_files + media.audio_files + media.video_files,
            total_bytes: media.photo_bytes + media.audio_bytes + media.video_bytes,
            structure_last_updated: project.structure.updated_at,
            ..Default::default()
        };
        for form in &def.forms {
            let c = counter(form.form_ref.as_str(), "");
            stats.total_entries += c.count;
            stats.form_counts.push((form.form_ref.0.clone(), c));
            for branch in form.branches() {
                let c = counter(form.form_ref.as_str(), branch.input_ref.as_str());
                stats.branch_counts.push((branch.input_ref.0.clone(), c));
            }
        }
        Ok(stats)
    }

    /// `GET /api/export/project/{slug}` (docs/protocol.md §9.1).
    pub async fn project_export_body(&self, project: &ResolvedProject) -> Result<Value> {
        let stats = self.project_stats(project).await?;
        let mut data = project.definition_data()?;
        self.inject_project_fields(&mut data, project, false);
        Ok(json!({
            "meta": {
                "project_mapping": parse_stored(&project.structure.project_mapping)?,
                "project_stats": stats.to_json(),
            },
            "data": data,
        }))
    }

    /// `GET /api/project/{slug}`: what the mobile app downloads (docs/protocol.md §9.2), for
    /// `actor` (see [`App::app_user`]). `project_user` names the logged-in user (the
    /// real server's "User" when nobody is), their role (creator for a server admin without one)
    /// and id. Quadrat keeps no avatars, so it is always the placeholder image.
    pub async fn project_download_body(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
    ) -> Result<Value> {
        let stats = self.project_stats(project).await?;
        let mut data = project.definition_data()?;
        self.inject_project_fields(&mut data, project, true);
        let (name, id) = match actor.is_anonymous() {
            true => ("User".to_string(), Value::Null),
            false => (actor.name.clone().unwrap_or_default(), json!(actor.user_id)),
        };
        Ok(json!({
            "meta": {
                "project_extra": parse_stored(&project.structure.project_extra)?,
                "project_user": {
                    "name": name,
                    "avatar": format!("{}/images/avatar-placeholder.png", self.config.public_url),
                    "role": actor.effective_role().map(Role::as_str),
                    "id": id,
                },
                "project_mapping": parse_stored(&project.structure.project_mapping)?,
                "project_stats": stats.to_json(),
            },
            "data": data,
        }))
    }

    /// `GET /api/project-version/{slug}`, for anyone ([`App::public_reader`]); this route
    /// answers each of its refusals as 400 `ec5_11` (source `version`).
    pub async fn project_version_body(&self, raw_slug: &str) -> Result<Value> {
        let project = self.public_reader(raw_slug).await.map_err(|e| match e {
            AppError::Client { .. } => AppError::client(400, "ec5_11", "version"),
            other => other,
        })?;
        let version = project.structure.updated_at;
        Ok(json!({
            "data": {
                "type": "project-version",
                "id": project.slug,
                "attributes": {
                    "structure_last_updated": sql_datetime(version),
                    "version": (version.div_euclid(1000)).to_string(),
                }
            }
        }))
    }

    /// `GET /api/projects/{name}` (docs/protocol.md §10). A name longer than any project's
    /// is `400 ec5_44` (source `name`): it goes into a SQL `LIKE` pattern, which SQLite refuses
    /// past 50,000 bytes and both engines pay for per row.
    pub async fn search_projects_body(&self, name: &str, exact: bool) -> Result<Value> {
        // No project name holds a NUL, and PostgreSQL refuses one in a query parameter.
        if name.is_empty() || name.contains('\0') {
            return Ok(json!({ "data": [] }));
        }
        if name.chars().nth(MAX_SEARCH_NAME_CHARS).is_some() {
            return Err(AppError::client(400, "ec5_44", "name"));
        }
        let found: Vec<Project> = model::all(
            self.store
                .search_projects(name, exact, if exact { 1 } else { 50 })
                .await?,
        )?;
        let hits: Vec<Value> = found
            .into_iter()
            .map(|p| {
                json!({
                    "type": "project",
                    "id": p.project_ref,
                    "project": {"name": p.name, "slug": p.slug, "access": p.access.as_str(), "ref": p.project_ref},
                })
            })
            .collect();
        Ok(json!({ "data": hits }))
    }

    fn inject_project_fields(&self, data: &mut Value, project: &ResolvedProject, app: bool) {
        let Some(obj) = data.get_mut("project").and_then(Value::as_object_mut) else {
            return;
        };
        obj.insert("created_at".into(), json!(sql_datetime(project.created_at)));
        if app {
            obj.insert("can_bulk_upload".into(), json!(project.can_bulk_upload));
        }
        obj.insert(
            "homepage".into(),
            json!(format!(
                "{}/project/{}",
                self.config.public_url, project.slug
            )),
        );
    }
}

fn can_bulk_upload(data: &Value) -> String {
    match edit::project_str(data, "can_bulk_upload") {
        Some(v @ ("nobody" | "members" | "everybody")) => v.to_string(),
        _ => "nobody".to_string(),
    }
}

fn to_stored(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse_stored(s: &str) -> Result<Value> {
    serde_json::from_str(s).map_err(|e| AppError::internal("reading stored JSON", e))
}

/// A project as its member sees it on "My Projects".
#[derive(Debug, Clone)]
pub struct MyProject {
    pub project: Project,
    /// The user's role; a server admin without one acts as creator (`None` here).
    pub role: Option<Role>,
}

/// What a project manager does from the project's pages, with the rules of the real pages.
impl App {
    /// The projects of `user` (every project for a server admin), archived ones left out.
    pub async fn my_projects(&self, user: &User) -> Result<Vec<MyProject>> {
        let roles = self.store.roles_of_user(user.id).await?;
        let rows = if user.server_role.is_admin() {
            self.store.list_projects().await?
        } else {
            self.store.projects_of_user(user.id).await?
        };
        let mut out = Vec::new();
        for row in rows {
            let project = Project::try_from(row)?;
            if project.status == ProjectStatus::Archived {
                continue;
            }
            let role = roles
                .iter()
                .find(|(id, _)| *id == project.id)
                .and_then(|(_, r)| Role::parse(r));
            out.push(MyProject { project, role });
        }
        Ok(out)
    }

    /// Changes one setting as a project manager. A status moves only along
    /// [`ProjectStatus::next_statuses`] (the real settings page's buttons); anything else is
    /// `ec5_29`.
    pub async fn change_project_setting(
        &self,
        project: &ResolvedProject,
        setting: ProjectSetting,
    ) -> Result<()> {
        if let ProjectSetting::Status(to) = setting
            && !project.status.next_statuses().contains(&to)
        {
            return Err(AppError::client(
                400,
                "ec5_29",
                format!("status: {} cannot become {to}", project.status),
            ));
        }
        self.set_project_setting(&project.slug, setting).await
    }

    /// Deletes a trashed project for its creator (or a server admin), who confirms by typing
    /// its name. Refusals: `ec5_91` for anyone else or a project not in the trash, `ec5_21`
    /// (source `project-name`) when the typed name is not the project's.
    pub async fn delete_project_confirmed(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        typed_name: &str,
    ) -> Result<Project> {
        if actor.effective_role() != Some(Role::Creator) || project.status != ProjectStatus::Trashed
        {
            return Err(AppError::client(400, "ec5_91", "delete"));
        }
        if typed_name.trim() != project.name {
            return Err(AppError::client(400, "ec5_21", "project-name"));
        }
        self.delete_project(&project.slug).await
    }
}
