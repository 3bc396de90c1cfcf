//! Projects, their structures (definition, extra, mappings) and their stats.

use quadrat_core::project_state::{ProjectSetting, SettingField};

use crate::changes::{ProjectChange, record_project_event};
use crate::rows::{CounterRow, MediaTotalsRow, ProjectRow, StructureRow, VersionedProjectRow};
use crate::{BeginWrite, Conflict, Result, Store, StoreError, conflict_as, with_pool};

const PROJECT_COLUMNS: &str = "id, ref, name, slug, access, visibility, status, category, \
    small_description, description, logo_url, can_bulk_upload, app_link_visibility, created_by, \
    created_at, updated_at";

/// Everything stored when a project is created.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub project_ref: String,
    pub name: String,
    pub slug: String,
    pub access: String,
    pub visibility: String,
    pub status: String,
    pub category: String,
    pub small_description: String,
    pub description: String,
    pub can_bulk_upload: String,
    pub created_by: Option<i64>,
    pub definition: String,
    pub extra: String,
    pub mapping: String,
    pub now: i64,
}

impl Store {
    /// Creates the project with its structure and stats rows in one transaction.
    pub async fn insert_project(&self, p: &NewProject) -> Result<i64> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let taken: Option<String> = sqlx::query_scalar(
                "SELECT CASE WHEN ref = $1 THEN 'ref' ELSE 'slug' END FROM projects \
                 WHERE ref = $1 OR slug = $2 LIMIT 1",
            )
            .bind(&p.project_ref)
            .bind(&p.slug)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(taken) = taken {
                return Err(StoreError::Conflict(match taken.as_str() {
                    "ref" => Conflict::ProjectRef,
                    _ => Conflict::ProjectSlug,
                }));
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO projects (ref, name, slug, access, visibility, status, category, \
                 small_description, description, logo_url, can_bulk_upload, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', $10, $11, $12, $12) RETURNING id",
            )
            .bind(&p.project_ref)
            .bind(&p.name)
            .bind(&p.slug)
            .bind(&p.access)
            .bind(&p.visibility)
            .bind(&p.status)
            .bind(&p.category)
            .bind(&p.small_description)
            .bind(&p.description)
            .bind(&p.can_bulk_upload)
            .bind(p.created_by)
            .bind(p.now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict_as(e, Conflict::Project))?;
            sqlx::query(
                "INSERT INTO project_structures (project_id, project_definition, project_extra, project_mapping, updated_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(&p.definition)
            .bind(&p.extra)
            .bind(&p.mapping)
            .bind(p.now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO project_stats (project_id, updated_at) VALUES ($1, $2)")
                .bind(id)
                .bind(p.now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO change_counters (project_id, last_seq, epoch, tombstone_floor) \
                 VALUES ($1, 0, $2, 0)",
            )
            .bind(id)
            .bind(crate::changes::new_epoch())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// [`Store::project_by_slug`] with the version of the project's stored structure and
    /// whether it is a locked mirror (uploads refused), in the same statement: a copy
    /// of the structure kept in memory is checked, and an upload's mirror lock, at no extra cost.
    pub async fn project_by_slug_versioned(
        &self,
        slug: &str,
    ) -> Result<Option<VersionedProjectRow>> {
        let sql = format!(
            "SELECT {PROJECT_COLUMNS}, (SELECT s.structure_version FROM project_structures s \
             WHERE s.project_id = projects.id) AS structure_version, EXISTS (SELECT 1 FROM \
             mirror_sources m WHERE m.project_id = projects.id AND m.unlocked = 0) AS \
             mirror_locked FROM projects WHERE slug = $1"
        );
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(slug)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The project whose stored slug is `slug` (already normalised), whatever its status.
    pub async fn project_by_slug(&self, slug: &str) -> Result<Option<ProjectRow>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE slug = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(slug)
                .fetch_optional(pool)
                .await?)
        })
    }

    pub async fn project_by_ref(&self, project_ref: &str) -> Result<Option<ProjectRow>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE ref = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(project_ref)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Every project, oldest first.
    pub async fn list_projects(&self) -> Result<Vec<ProjectRow>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?)
        })
    }

    /// Projects whose name starts with `name` (or equals it when `exact`), case-insensitively,
    /// trashed and archived excluded; an exact case-insensitive match first, then the most
    /// recently updated. `%` and `_` stay wildcards, as on the real server.
    pub async fn search_projects(
        &self,
        name: &str,
        exact: bool,
        limit: i64,
    ) -> Result<Vec<ProjectRow>> {
        let filter = if exact {
            "LOWER(name) = LOWER($1)"
        } else {
            "LOWER(name) LIKE LOWER($1) || '%'"
        };
        let sql = format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE {filter} AND status NOT IN ('trashed', 'archived') \
             ORDER BY CASE WHEN LOWER(name) = LOWER($1) THEN 0 ELSE 1 END, updated_at DESC, id DESC LIMIT $2"
        );
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(name)
                .bind(limit)
                .fetch_all(pool)
                .await?)
        })
    }

    pub async fn structure(&self, project_id: i64) -> Result<StructureRow> {
        with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT project_id, project_definition, project_extra, project_mapping, updated_at, \
                 structure_version FROM project_structures WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| StoreError::NotFound("project structure".into()))
        })
    }

    /// Sets one attribute on the row and stores the definition and extra carrying the same
    /// value. The project version does not move (the real settings page does not bump it).
    pub async fn update_project_setting(
        &self,
        project_id: i64,
        setting: ProjectSetting,
        definition: &str,
        extra: &str,
        now: i64,
    ) -> Result<()> {
        let column = match setting.field() {
            SettingField::Access => "access",
            SettingField::Visibility => "visibility",
            SettingField::Status => "status",
        };
        let value = setting.value();
        let sql = format!("UPDATE projects SET {column} = $1, updated_at = $2 WHERE id = $3");
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(value)
                .bind(now)
                .bind(project_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("project".into()));
            }
            sqlx::query(
                "UPDATE project_structures SET project_definition = $1, project_extra = $2 WHERE project_id = $3",
            )
            .bind(definition)
            .bind(extra)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
            // Public <-> private changes every row's rendering (docs/protocol.md §17.5).
            if setting.field() == SettingField::Access {
                record_project_event!(&mut *tx, project_id, ProjectChange::Access);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes the project and, by cascade, everything that belongs to it.
    pub async fn delete_project(&self, project_id: i64) -> Result<()> {
        with_pool!(self, write, |pool| {
            let done = sqlx::query("DELETE FROM projects WHERE id = $1")
                .bind(project_id)
                .execute(pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("project".into()));
            }
            Ok(())
        })
    }

    /// The per-form and per-branch counters of a project.
    pub async fn counters(&self, project_id: i64) -> Result<Vec<CounterRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT form_ref, branch_ref, entry_count, first_created_at, last_created_at \
                 FROM entry_counters WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_all(pool)
            .await?)
        })
    }

    pub async fn media_totals(&self, project_id: i64) -> Result<MediaTotalsRow> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT photo_files, photo_bytes, audio_files, audio_bytes, video_files, video_bytes \
                 FROM project_stats WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await?
            .unwrap_or_default())
        })
    }

    /// The projects where the user holds a role, oldest first.
    pub async fn projects_of_user(&self, user_id: i64) -> Result<Vec<ProjectRow>> {
        let sql = format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE id IN \
             (SELECT project_id FROM project_roles WHERE user_id = $1) ORDER BY id"
        );
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(user_id)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Replaces a project's definition and what is derived from it (a new project version,
    /// `now`), and the descriptive columns the definition carries. The mapping list is replaced
    /// only if it is still `old_mapping` (else `Conflict::ProjectMapping`: a mapping edit came
    /// in between and the caller starts again).
    #[allow(clippy::too_many_arguments)]
    pub async fn replace_structure(
        &self,
        project_id: i64,
        definition: &str,
        extra: &str,
        old_mapping: &str,
        mapping: &str,
        details: (&str, &str, &str),
        now: i64,
    ) -> Result<()> {
        let (small_description, description, category) = details;
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE project_structures SET project_definition = $1, project_extra = $2, \
                 project_mapping = $3, updated_at = $4 WHERE project_id = $5 AND project_mapping = $6",
            )
            .bind(definition)
            .bind(extra)
            .bind(mapping)
            .bind(now)
            .bind(project_id)
            .bind(old_mapping)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(Conflict::ProjectMapping));
            }
            sqlx::query(
                "UPDATE projects SET small_description = $1, description = $2, category = $3, \
                 updated_at = $4 WHERE id = $5",
            )
            .bind(small_description)
            .bind(description)
            .bind(category)
            .bind(now)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
            record_project_event!(&mut *tx, project_id, ProjectChange::Structure);
            tx.commit().await?;
            Ok(())
        })
    }
}
