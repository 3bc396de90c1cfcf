//! Project members: who holds which role on a project (docs/protocol.md §12.1).
//!
//! These are the server administrator's tools (the CLI), so every role may be granted; the rules
//! that still hold are the project's: exactly one creator, who can be neither removed nor demoted
//! except by handing the project over.

use quadrat_core::roles::{Actor, Role, role_change_refusal};
use quadrat_core::time::now_millis;
use quadrat_core::users::parse_email;
use quadrat_store::StoreError;

use crate::model::{self, Member, User};
use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// What adding a member did.
#[derive(Debug, Clone)]
pub struct MemberAdded {
    pub user: User,
    pub role: Role,
    /// A placeholder user was created for an unknown email (no name, no password: they cannot
    /// log in until `quadrat user set-password`).
    pub placeholder_created: bool,
    /// The role the user held before, if any.
    pub previous_role: Option<Role>,
    /// With `transfer`: the email of the former creator, now a manager.
    pub former_creator: Option<String>,
}

impl App {
    /// Gives the user with `email` the role `role` on the project (replacing any role they had),
    /// creating a placeholder user for an unknown email as the real server does. A second creator
    /// is refused unless `transfer`, which makes the current creator a manager. Nothing changes on
    /// any refusal.
    pub async fn add_member(
        &self,
        raw_slug: &str,
        email: &str,
        role: &str,
        transfer: bool,
    ) -> Result<MemberAdded> {
        let role = parse_role(role)?;
        let email = parse_email(email).map_err(|e| AppError::invalid(vec![e]))?;
        let project = self.find_project(raw_slug).await?;
        if transfer && role != Role::Creator {
            return Err(AppError::client(
                400,
                "ec5_29",
                "--transfer: only hands over the creator role (ROLE must be creator)",
            ));
        }
        let members: Vec<Member> = model::all(self.store.project_members(project.id).await?)?;
        let creator = members.iter().find(|m| m.role == Role::Creator);
        let previous_role = members.iter().find(|m| m.email == email).map(|m| m.role);
        if let Some(creator) = creator {
            if creator.email == email && role != Role::Creator {
                return Err(creator_is_fixed(
                    &project,
                    &creator.email,
                    "change the role of",
                ));
            }
            if creator.email != email && role == Role::Creator && !transfer {
                return Err(second_creator(&project, creator, &email));
            }
        }
        let now = now_millis();
        let (user, placeholder_created) = self.store.ensure_user(&email, now).await?;
        let user = User::try_from(user)?;
        let stored = if transfer {
            self.store.transfer_creator(project.id, user.id, now).await
        } else {
            self.store
                .put_project_role(project.id, user.id, role, now)
                .await
        };
        match stored {
            Ok(()) => {}
            // Another process made someone else the creator meanwhile.
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::client(
                    400,
                    "ec5_91",
                    format!(
                        "role: {} already has a creator; a project has exactly one",
                        project.slug
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(MemberAdded {
            user,
            role,
            placeholder_created,
            previous_role,
            former_creator: creator
                .filter(|c| transfer && c.email != email)
                .map(|c| c.email.clone()),
        })
    }

    /// Takes the user's role on the project away. The creator cannot be removed.
    pub async fn remove_member(&self, raw_slug: &str, email: &str) -> Result<(User, Role)> {
        let email = parse_email(email).map_err(|e| AppError::invalid(vec![e]))?;
        let project = self.find_project(raw_slug).await?;
        let user = self.find_user(&email).await?;
        let role = self
            .store
            .project_role(project.id, user.id)
            .await?
            .as_deref()
            .and_then(Role::parse)
            .ok_or_else(|| {
                AppError::client(
                    404,
                    "ec5_34",
                    format!("email: {email} is not a member of {}", project.slug),
                )
            })?;
        if role == Role::Creator {
            return Err(creator_is_fixed(&project, &user.email, "remove"));
        }
        self.store.remove_project_role(project.id, user.id).await?;
        Ok((user, role))
    }

    /// The project and its members, creator first.
    pub async fn list_members(&self, raw_slug: &str) -> Result<(ResolvedProject, Vec<Member>)> {
        let project = self.find_project(raw_slug).await?;
        let members = model::all(self.store.project_members(project.id).await?)?;
        Ok((project, members))
    }
}

fn parse_role(raw: &str) -> Result<Role> {
    Role::parse(raw).ok_or_else(|| {
        AppError::client(
            400,
            "ec5_29",
            format!(
                "role: {raw:?} is not one of {}",
                Role::ALL.map(Role::as_str).join(", ")
            ),
        )
    })
}

fn creator_is_fixed(project: &ResolvedProject, creator: &str, action: &str) -> AppError {
    AppError::client(
        400,
        "ec5_91",
        format!(
            "role: {} is the creator of {}; you cannot {action} the creator. Hand the project \
             over first: quadrat project member add {} OTHER-EMAIL creator --transfer \
             ({} becomes a manager)",
            creator, project.slug, project.slug, creator
        ),
    )
}

fn second_creator(project: &ResolvedProject, creator: &Member, email: &str) -> AppError {
    AppError::client(
        400,
        "ec5_91",
        format!(
            "role: {} already has a creator ({}) and a project has exactly one. To hand it \
             over: quadrat project member add {} {email} creator --transfer ({} becomes a manager)",
            project.slug, creator.email, project.slug, creator.email
        ),
    )
}

/// What a change made on the members page did.
#[derive(Debug, Clone)]
pub struct MemberChange {
    pub email: String,
    /// The role now held (`None`: removed).
    pub role: Option<Role>,
    /// The role held before (`None`: not a member).
    pub previous: Option<Role>,
    /// A placeholder user was made for an unknown email.
    pub placeholder_created: bool,
}

/// The project's members page (docs/protocol.md §12.3): what creators and managers may do to
/// other members, under the real page's role rules ([`role_change_refusal`]), unlike the
/// administrator's [`App::add_member`].
impl App {
    /// The members of a project, creator first.
    pub async fn members_of(&self, project: &ResolvedProject) -> Result<Vec<Member>> {
        model::all(self.store.project_members(project.id).await?)
    }

    /// Gives the user with `email` the role `role` (`None`: takes their role away), as
    /// `actor`. An unknown email gets a placeholder user, made only once every rule has
    /// passed. Refusals: `ec5_42` (email), `ec5_29` (role), `ec5_90` removing a non-member,
    /// then the role rules (`ec5_91`, `ec5_217`, `ec5_344`).
    pub async fn change_member(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        email: &str,
        role: Option<&str>,
    ) -> Result<MemberChange> {
        let email = parse_email(email)
            .map_err(|e| AppError::invalid(vec![quadrat_core::Ec5Error::new(&e.code, "email")]))?;
        let new = match role {
            Some(text) => {
                Some(Role::parse(text).ok_or_else(|| AppError::client(400, "ec5_29", "role"))?)
            }
            None => None,
        };
        let existing = self.store.user_by_email(&email).await?;
        let previous = match &existing {
            Some(user) => self
                .store
                .project_role(project.id, user.id)
                .await?
                .as_deref()
                .and_then(Role::parse),
            None => None,
        };
        if new.is_none() && previous.is_none() {
            return Err(AppError::client(404, "ec5_90", "email"));
        }
        let target = existing.as_ref().map(|u| u.id);
        if let Some(code) = role_change_refusal(actor, target, previous, new) {
            return Err(AppError::client(400, code, "role"));
        }
        let now = now_millis();
        let mut placeholder_created = false;
        match new {
            Some(role) => {
                let (user, created) = self.store.ensure_user(&email, now).await?;
                placeholder_created = created;
                self.store
                    .put_project_role(project.id, user.id, role, now)
                    .await?;
            }
            None => {
                if let Some(id) = target {
                    self.store.remove_project_role(project.id, id).await?;
                }
            }
        }
        Ok(MemberChange {
            email,
            role: new,
            previous,
            placeholder_created,
        })
    }

    /// Hands the project to one of its managers, as its creator (or a server admin acting as
    /// creator); the former creator becomes a manager. Refusals: `ec5_91` for anyone else,
    /// `ec5_226` when `manager_email` is not a manager of the project.
    pub async fn transfer_ownership(
        &self,
        project: &ResolvedProject,
        actor: &Actor,
        manager_email: &str,
    ) -> Result<User> {
        if actor.effective_role() != Some(Role::Creator) {
            return Err(AppError::client(400, "ec5_91", "role"));
        }
        let failed = || AppError::client(400, "ec5_226", "manager");
        let email = parse_email(manager_email).map_err(|_| failed())?;
        let user = self.store.user_by_email(&email).await?.ok_or_else(failed)?;
        let role = self.store.project_role(project.id, user.id).await?;
        if role.as_deref().and_then(Role::parse) != Some(Role::Manager) {
            return Err(failed());
        }
        self.store
            .transfer_creator(project.id, user.id, now_millis())
            .await?;
        User::try_from(user)
    }
}
