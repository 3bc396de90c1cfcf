//! A project's client app (one per project, docs/protocol.md §13.1): create, show, revoke its
//! tokens, rotate its secret, delete it. Shared by `quadrat app …` and the management routes;
//! nothing is cached, so a change made by either is what a running server uses at its next request.

use quadrat_core::Ec5Error;
use quadrat_core::oauth::validate_app_name;
use quadrat_core::time::now_millis;
use quadrat_store::{ClientRow, StoreError};

use super::{hash_secret, new_secret};
use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// Credentials to hand to the app's owner: the secret is shown this once and stored hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecret {
    pub client_id: i64,
    pub client_secret: String,
}

/// What may be shown about an app (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientApp {
    pub client_id: i64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Tokens neither revoked nor expired.
    pub live_tokens: i64,
}

/// No app yet: there is no Epicollect5 code for it (the real page simply lists none).
fn no_app(project: &ResolvedProject) -> AppError {
    AppError::Client {
        status: 404,
        errors: vec![Ec5Error::new(
            "This project has no client app.",
            format!("project {}", project.slug),
        )],
    }
}

impl App {
    /// Creates the project's app named `name` (docs/protocol.md §13.1 rule). A project that already
    /// has one is refused with `ec5_258`.
    pub async fn create_client_app(
        &self,
        project: &ResolvedProject,
        name: &str,
        user_id: Option<i64>,
    ) -> Result<ClientSecret> {
        let name = validate_app_name(name).map_err(|e| AppError::invalid(vec![e]))?;
        let taken = || AppError::client(400, "ec5_258", "application_name");
        if self.store.client_by_project(project.id).await?.is_some() {
            return Err(taken());
        }
        let secret = new_secret()?;
        let id = match self
            .store
            .insert_client(
                project.id,
                user_id,
                name,
                &hash_secret(&secret),
                now_millis(),
            )
            .await
        {
            Ok(id) => id,
            // Two creations raced; the other one won.
            Err(StoreError::Conflict(_)) => return Err(taken()),
            Err(e) => return Err(e.into()),
        };
        Ok(ClientSecret {
            client_id: id,
            client_secret: secret,
        })
    }

    /// The project's app, if it has one.
    pub async fn client_app(&self, project: &ResolvedProject) -> Result<Option<ClientApp>> {
        let Some(row) = self.store.client_by_project(project.id).await? else {
            return Ok(None);
        };
        let live_tokens = self.store.live_token_count(row.id, now_millis()).await?;
        Ok(Some(describe(row, live_tokens)))
    }

    async fn require_client(&self, project: &ResolvedProject) -> Result<ClientRow> {
        self.store
            .client_by_project(project.id)
            .await?
            .ok_or_else(|| no_app(project))
    }

    /// Revokes every token of the project's app; returns how many were still live.
    pub async fn revoke_client_tokens(&self, project: &ResolvedProject) -> Result<u64> {
        let client = self.require_client(project).await?;
        Ok(self.store.revoke_tokens(client.id, now_millis()).await?)
    }

    /// Gives the project's app a new secret; the old one stops working at once. Tokens already
    /// issued stay valid until they expire or are revoked.
    pub async fn rotate_client_secret(&self, project: &ResolvedProject) -> Result<ClientSecret> {
        let client = self.require_client(project).await?;
        let secret = new_secret()?;
        self.store
            .update_client_secret(client.id, &hash_secret(&secret), now_millis())
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => no_app(project),
                other => other.into(),
            })?;
        Ok(ClientSecret {
            client_id: client.id,
            client_secret: secret,
        })
    }

    /// Deletes the project's app and with it every token it was issued.
    pub async fn delete_client_app(&self, project: &ResolvedProject) -> Result<ClientApp> {
        let client = self.require_client(project).await?;
        let live = self.store.live_token_count(client.id, now_millis()).await?;
        self.store
            .delete_client(client.id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => no_app(project),
                other => other.into(),
            })?;
        Ok(describe(client, live))
    }
}

fn describe(row: ClientRow, live_tokens: i64) -> ClientApp {
    ClientApp {
        client_id: row.id,
        name: row.name,
        created_at: row.created_at,
        updated_at: row.updated_at,
        live_tokens,
    }
}

/// What the Apps page shows about the project's app beside [`ClientApp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientStatus {
    pub app: ClientApp,
    /// The email of the user who created it, if known.
    pub created_by: Option<String>,
    /// `(issued at, expires at)` of the newest live token.
    pub newest_token: Option<(i64, i64)>,
}

impl App {
    /// The project's app with who made it and its newest live token, if it has an app.
    pub async fn client_status(&self, project: &ResolvedProject) -> Result<Option<ClientStatus>> {
        let Some(row) = self.store.client_by_project(project.id).await? else {
            return Ok(None);
        };
        let now = now_millis();
        let created_by = match row.user_id {
            Some(id) => self.store.user_by_id(id).await?.map(|u| u.email),
            None => None,
        };
        let newest_token = self.store.newest_live_token(row.id, now).await?;
        let live_tokens = self.store.live_token_count(row.id, now).await?;
        Ok(Some(ClientStatus {
            app: describe(row, live_tokens),
            created_by,
            newest_token,
        }))
    }
}
