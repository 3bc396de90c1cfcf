//! Whole rows read back, for tests and benchmarks (feature `test-support`): the services never
//! need them.

use crate::{Result, Store, with_pool};

/// Every column of an entry row, for reads and tests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub project_id: i64,
    pub uuid: String,
    pub parent_uuid: String,
    pub form_ref: String,
    pub parent_form_ref: String,
    pub user_id: i64,
    pub platform: String,
    pub device_id: String,
    pub created_at: i64,
    pub uploaded_at: i64,
    pub title: String,
    pub entry_data: String,
    pub geo_json_data: Option<String>,
    pub child_counts: i64,
    pub branch_counts: Option<String>,
}

/// Every column of a branch entry row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BranchEntryRow {
    pub id: i64,
    pub project_id: i64,
    pub uuid: String,
    pub owner_entry_id: i64,
    pub owner_uuid: String,
    pub owner_input_ref: String,
    pub form_ref: String,
    pub user_id: i64,
    pub platform: String,
    pub device_id: String,
    pub created_at: i64,
    pub uploaded_at: i64,
    pub title: String,
    pub entry_data: String,
    pub geo_json_data: Option<String>,
}

impl Store {
    /// A hierarchy entry of a project, by uuid.
    pub async fn entry_row(&self, project_id: i64, uuid: &str) -> Result<Option<EntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT id, project_id, uuid, parent_uuid, form_ref, parent_form_ref, user_id, \
                 platform, device_id, created_at, uploaded_at, title, entry_data, geo_json_data, \
                 child_counts, branch_counts FROM entries WHERE project_id = $1 AND uuid = $2",
            )
            .bind(project_id)
            .bind(uuid)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// A branch entry of a project, by uuid.
    pub async fn branch_entry_row(
        &self,
        project_id: i64,
        uuid: &str,
    ) -> Result<Option<BranchEntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT id, project_id, uuid, owner_entry_id, owner_uuid, owner_input_ref, \
                 form_ref, user_id, platform, device_id, created_at, uploaded_at, title, \
                 entry_data, geo_json_data FROM branch_entries WHERE project_id = $1 AND \
                 uuid = $2",
            )
            .bind(project_id)
            .bind(uuid)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Rows in `entries` and `branch_entries` of a project, counted (for checks and tests).
    pub async fn entry_totals(&self, project_id: i64) -> Result<(i64, i64)> {
        with_pool!(self, read, |pool| {
            let entries: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM entries WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_one(pool)
                    .await?;
            let branches: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM branch_entries WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_one(pool)
                    .await?;
            Ok((entries, branches))
        })
    }

    /// Every entry row of a project, oldest first.
    pub async fn entry_rows(&self, project_id: i64) -> Result<Vec<EntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT id, project_id, uuid, parent_uuid, form_ref, parent_form_ref, user_id, \
                 platform, device_id, created_at, uploaded_at, title, entry_data, geo_json_data, \
                 child_counts, branch_counts FROM entries WHERE project_id = $1 ORDER BY id",
            )
            .bind(project_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Every branch entry row of a project, oldest first.
    pub async fn branch_entry_rows(&self, project_id: i64) -> Result<Vec<BranchEntryRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT id, project_id, uuid, owner_entry_id, owner_uuid, owner_input_ref, \
                 form_ref, user_id, platform, device_id, created_at, uploaded_at, title, \
                 entry_data, geo_json_data FROM branch_entries WHERE project_id = $1 ORDER BY id",
            )
            .bind(project_id)
            .fetch_all(pool)
            .await?)
        })
    }
}
