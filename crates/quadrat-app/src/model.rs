//! What the use-cases hand out: projects, users and members as domain values with typed states.
//! Each is made from its store row here and nowhere else, so a stored word that is none of a
//! state's values is found in one place (and is our error, never the caller's).

use quadrat_core::project_state::{ProjectAccess, ProjectState, ProjectStatus, ProjectVisibility};
use quadrat_core::roles::Role;
use quadrat_core::users::{ServerRole, UserState};
use quadrat_store::{MemberRow, ProjectRow, StructureRow, UserRow};

use crate::{AppError, Result};

/// A project's attributes (without its definition: see [`ProjectStructure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: i64,
    pub project_ref: String,
    pub name: String,
    pub slug: String,
    pub access: ProjectAccess,
    pub visibility: ProjectVisibility,
    pub status: ProjectStatus,
    pub category: String,
    pub small_description: String,
    pub description: String,
    pub logo_url: String,
    /// `nobody`, `members` or `everybody`.
    pub can_bulk_upload: String,
    pub app_link_visibility: String,
    pub created_by: Option<i64>,
    /// Unix milliseconds, as every `*_at`.
    pub created_at: i64,
    pub updated_at: i64,
}

impl Project {
    pub fn is_private(&self) -> bool {
        self.access == ProjectAccess::Private
    }
}

impl TryFrom<ProjectRow> for Project {
    type Error = AppError;

    fn try_from(row: ProjectRow) -> Result<Project> {
        Ok(Project {
            access: stored(&row.access, &row.slug)?,
            visibility: stored(&row.visibility, &row.slug)?,
            status: stored(&row.status, &row.slug)?,
            id: row.id,
            project_ref: row.project_ref,
            name: row.name,
            slug: row.slug,
            category: row.category,
            small_description: row.small_description,
            description: row.description,
            logo_url: row.logo_url,
            can_bulk_upload: row.can_bulk_upload,
            app_link_visibility: row.app_link_visibility,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A stored state word, read back.
fn stored<S: ProjectState>(word: &str, slug: &str) -> Result<S> {
    S::parse(word).ok_or_else(|| {
        AppError::broken(format!(
            "project {slug} has {} {word:?}, which Quadrat never writes",
            S::FIELD
        ))
    })
}

/// The stored definition of a project and what is derived from it, as the JSON text that is
/// served back. `updated_at` is the project version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectStructure {
    pub project_definition: String,
    pub project_extra: String,
    pub project_mapping: String,
    pub updated_at: i64,
}

impl From<StructureRow> for ProjectStructure {
    fn from(row: StructureRow) -> Self {
        ProjectStructure {
            project_definition: row.project_definition,
            project_extra: row.project_extra,
            project_mapping: row.project_mapping,
            updated_at: row.updated_at,
        }
    }
}

/// A user account, without its secrets (password hash, login token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub server_role: ServerRole,
    pub state: UserState,
    /// Placeholders (made by adding an unknown email to a project) have none and cannot log in.
    pub has_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = AppError;

    fn try_from(row: UserRow) -> Result<User> {
        let broken = |what: &str, word: &str| {
            AppError::broken(format!(
                "user {} has {what} {word:?}, which Quadrat never writes",
                row.id
            ))
        };
        Ok(User {
            server_role: ServerRole::parse(&row.server_role)
                .ok_or_else(|| broken("server role", &row.server_role))?,
            state: UserState::parse(&row.state).ok_or_else(|| broken("state", &row.state))?,
            has_password: row.password_hash.is_some(),
            id: row.id,
            email: row.email,
            name: row.name,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A user's role on one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = AppError;

    fn try_from(row: MemberRow) -> Result<Member> {
        Ok(Member {
            role: Role::parse(&row.role).ok_or_else(|| {
                AppError::broken(format!(
                    "user {} has role {:?}, which Quadrat never writes",
                    row.user_id, row.role
                ))
            })?,
            user_id: row.user_id,
            email: row.email,
            name: row.name,
            created_at: row.created_at,
        })
    }
}

/// Converts each row of a list.
pub(crate) fn all<R, T: TryFrom<R, Error = AppError>>(rows: Vec<R>) -> Result<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}
