//! Users, their login tokens, project roles and the shared login secrets.

use quadrat_core::roles::Role;

use crate::{BeginWrite, Conflict, Result, Store, StoreError, conflict_as, with_pool};

const USER_COLUMNS: &str =
    "id, email, name, password_hash, server_role, state, api_token_hash, created_at, updated_at";

/// A row of `users`. `password_hash` is `None` for users who cannot log in with a password (the
/// placeholders made when an unknown email is added to a project).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub server_role: String,
    pub state: String,
    /// The digest of the current login's token subject (`sha256:<hex>`); `None`: no login.
    pub api_token_hash: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A project member: the user and their role on one project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
}

/// Everything stored when a user is created. `email` is already normalised.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub server_role: String,
    pub now: i64,
}

impl Store {
    /// Creates a user; an email already taken is `Conflict::Email`.
    pub async fn insert_user(&self, u: &NewUser) -> Result<UserRow> {
        let sql = format!(
            "INSERT INTO users (email, name, password_hash, server_role, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'active', $5, $5) RETURNING {USER_COLUMNS}"
        );
        with_pool!(self, write, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&u.email)
                .bind(&u.name)
                .bind(&u.password_hash)
                .bind(&u.server_role)
                .bind(u.now)
                .fetch_one(pool)
                .await
                .map_err(|e| conflict_as(e, Conflict::Email))
        })
    }

    /// The user with `email`, creating a placeholder (no name, no password) when there is none.
    /// `true` when it was created. Safe when several processes add the same email at once.
    pub async fn ensure_user(&self, email: &str, now: i64) -> Result<(UserRow, bool)> {
        let insert = format!(
            "INSERT INTO users (email, created_at, updated_at) VALUES ($1, $2, $2) \
             ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}"
        );
        let created: Option<UserRow> = with_pool!(self, write, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(insert))
                .bind(email)
                .bind(now)
                .fetch_optional(pool)
                .await?
        });
        match created {
            Some(row) => Ok((row, true)),
            None => self
                .user_by_email(email)
                .await?
                .map(|row| (row, false))
                .ok_or_else(|| StoreError::NotFound(format!("user {email}"))),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(email)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// The user whose current login token subject has the digest `api_token_hash`.
    pub async fn user_by_api_token_hash(&self, api_token_hash: &str) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE api_token_hash = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(api_token_hash)
                .fetch_optional(pool)
                .await?)
        })
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?)
        })
    }

    /// Replaces the password hash and ends the user's login (their token stops working).
    pub async fn set_password_hash(&self, user_id: i64, hash: &str, now: i64) -> Result<()> {
        self.update_user(
            "UPDATE users SET password_hash = $2, api_token_hash = NULL, updated_at = $3 WHERE id = $1",
            user_id,
            hash,
            now,
        )
        .await
    }

    /// Sets the state; any state but active also ends the user's login.
    pub async fn set_user_state(&self, user_id: i64, state: &str, now: i64) -> Result<()> {
        self.update_user(
            "UPDATE users SET state = $2, \
             api_token_hash = CASE WHEN $2 = 'active' THEN api_token_hash ELSE NULL END, \
             updated_at = $3 WHERE id = $1",
            user_id,
            state,
            now,
        )
        .await
    }

    /// Starts a new login: the subject whose digest is `api_token_hash` becomes the only one a
    /// token may carry for this user.
    pub async fn set_api_token_hash(
        &self,
        user_id: i64,
        api_token_hash: &str,
        now: i64,
    ) -> Result<()> {
        self.update_user(
            "UPDATE users SET api_token_hash = $2, updated_at = $3 WHERE id = $1",
            user_id,
            api_token_hash,
            now,
        )
        .await
    }

    async fn update_user(
        &self,
        sql: &'static str,
        user_id: i64,
        value: &str,
        now: i64,
    ) -> Result<()> {
        let done = with_pool!(self, write, |pool| {
            sqlx::query(sql)
                .bind(user_id)
                .bind(value)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        Ok(())
    }

    /// Deletes the user and their project roles (projects they created keep no creator).
    pub async fn delete_user(&self, user_id: i64) -> Result<()> {
        let done = with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        Ok(())
    }

    /// The slugs of the projects where the user is the creator.
    pub async fn projects_created_by(&self, user_id: i64) -> Result<Vec<String>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT p.slug FROM project_roles r JOIN projects p ON p.id = r.project_id \
                 WHERE r.user_id = $1 AND r.role = 'creator' ORDER BY p.slug",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The user's role on the project, if any.
    pub async fn project_role(&self, project_id: i64, user_id: i64) -> Result<Option<String>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT role FROM project_roles WHERE project_id = $1 AND user_id = $2",
            )
            .bind(project_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// The members of a project, creator first, then by role and email.
    pub async fn project_members(&self, project_id: i64) -> Result<Vec<MemberRow>> {
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(
                "SELECT u.id AS user_id, u.email, u.name, r.role, r.created_at \
                 FROM project_roles r JOIN users u ON u.id = r.user_id WHERE r.project_id = $1 \
                 ORDER BY CASE r.role WHEN 'creator' THEN 0 WHEN 'manager' THEN 1 \
                 WHEN 'curator' THEN 2 WHEN 'collector' THEN 3 ELSE 4 END, u.email",
            )
            .bind(project_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Gives the user `role` on the project, replacing any role they had. A second creator is
    /// `Conflict::Creator`. A new creator becomes the project's `created_by` too.
    pub async fn put_project_role(
        &self,
        project_id: i64,
        user_id: i64,
        role: Role,
        now: i64,
    ) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO project_roles (project_id, user_id, role, created_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(project_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_as(e, Conflict::Creator))?;
            if role == Role::Creator {
                sqlx::query("UPDATE projects SET created_by = $2 WHERE id = $1")
                    .bind(project_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Makes the user the project's creator and the previous creator (if any) a manager, in one
    /// transaction.
    pub async fn transfer_creator(&self, project_id: i64, user_id: i64, now: i64) -> Result<()> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE project_roles SET role = 'manager' \
                 WHERE project_id = $1 AND role = 'creator' AND user_id <> $2",
            )
            .bind(project_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO project_roles (project_id, user_id, role, created_at) \
                 VALUES ($1, $2, 'creator', $3) \
                 ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(project_id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_as(e, Conflict::Creator))?;
            sqlx::query("UPDATE projects SET created_by = $2 WHERE id = $1")
                .bind(project_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Removes the user's role on the project; `false` when they had none.
    pub async fn remove_project_role(&self, project_id: i64, user_id: i64) -> Result<bool> {
        let done = with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM project_roles WHERE project_id = $1 AND user_id = $2")
                .bind(project_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// The secret named `name`, storing `candidate` first if there is none yet. Every process
    /// gets the value that was stored first, so concurrent first uses agree.
    pub async fn login_secret(&self, name: &str, candidate: &str, now: i64) -> Result<String> {
        let existing: Option<String> = with_pool!(self, read, |pool| {
            sqlx::query_scalar("SELECT value FROM login_secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        if let Some(value) = existing {
            return Ok(value);
        }
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO login_secrets (name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(candidate)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(
                sqlx::query_scalar("SELECT value FROM login_secrets WHERE name = $1")
                    .bind(name)
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    pub async fn user_by_id(&self, user_id: i64) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        with_pool!(self, read, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(user_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Sets the user's server role (`basic`, `admin`, `superadmin`).
    pub async fn set_server_role(&self, user_id: i64, role: &str, now: i64) -> Result<()> {
        self.update_user(
            "UPDATE users SET server_role = $2, updated_at = $3 WHERE id = $1",
            user_id,
            role,
            now,
        )
        .await
    }

    /// Whether any active user is an admin or superadmin.
    pub async fn any_active_admin(&self) -> Result<bool> {
        with_pool!(self, read, |pool| {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE server_role <> 'basic' AND state = 'active'",
            )
            .fetch_one(pool)
            .await?;
            Ok(n > 0)
        })
    }

    /// `(project id, role)` of every project where the user holds a role.
    pub async fn roles_of_user(&self, user_id: i64) -> Result<Vec<(i64, String)>> {
        with_pool!(self, read, |pool| {
            Ok(
                sqlx::query_as("SELECT project_id, role FROM project_roles WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }
}
