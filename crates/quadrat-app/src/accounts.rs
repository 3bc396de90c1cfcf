//! Who is asking: user accounts, logins and project roles.

use quadrat_core::roles::Actor;

use crate::projects::ResolvedProject;
use crate::{App, Result};

impl App {
    /// The actor behind a request to `project` carrying the user JWT `bearer` (the mobile app's
    /// login token). No token means an anonymous actor.
    pub async fn actor_for_project(
        &self,
        _project: &ResolvedProject,
        bearer: Option<&str>,
    ) -> Result<Actor> {
        match bearer {
            None => Ok(Actor::anonymous()),
            // User logins arrive with the accounts work; until then a token proves nothing.
            Some(_) => Ok(Actor::anonymous()),
        }
    }
}
