//! Rows as the database returns them. Timestamps are Unix milliseconds (UTC).

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: i64,
    #[sqlx(rename = "ref")]
    pub project_ref: String,
    pub name: String,
    pub slug: String,
    pub access: String,
    pub visibility: String,
    pub status: String,
    pub category: String,
    pub small_description: String,
    pub description: String,
    pub logo_url: String,
    pub can_bulk_upload: String,
    pub app_link_visibility: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A project row with its structure's version, read in one statement (the request's lookup).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VersionedProjectRow {
    #[sqlx(flatten)]
    pub project: ProjectRow,
    pub structure_version: i64,
    /// A mirror that takes no uploads until unlocked (`mirror_sources.unlocked = 0`).
    pub mirror_locked: bool,
}

/// The stored definition and what is derived from it. `updated_at` is the project version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StructureRow {
    pub project_id: i64,
    pub project_definition: String,
    pub project_extra: String,
    pub project_mapping: String,
    pub updated_at: i64,
    /// Moves with every change of the row (a trigger, migration 0013): what a copy kept in
    /// memory is compared with.
    pub structure_version: i64,
}

/// Entry count and first/last timestamps of one form (`branch_ref` empty) or one branch input,
/// kept in the same transaction as every write.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CounterRow {
    pub form_ref: String,
    pub branch_ref: String,
    pub entry_count: i64,
    pub first_created_at: Option<i64>,
    pub last_created_at: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct MediaTotalsRow {
    pub photo_files: i64,
    pub photo_bytes: i64,
    pub audio_files: i64,
    pub audio_bytes: i64,
    pub video_files: i64,
    pub video_bytes: i64,
}
