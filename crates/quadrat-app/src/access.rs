//! Who may do what to which project: the one access policy. There is one function per kind of
//! caller; each resolves the project named in a route and returns it with the caller behind the
//! request, or the refusal the real server answers (status, `ec5_*` code and source). A route
//! calls exactly one of them before anything else and adds no rule of its own, so a new route
//! (the media routes, the web pages) picks the caller it serves and gets the same answers.
//!
//! | Caller | Function | Routes |
//! |---|---|---|
//! | anyone, no credentials | [`App::public_reader`] | `GET /api/project-version/{slug}` |
//! | the export API's reader: anyone on a public project, the project's own OAuth client (bearer token) on a private one | [`App::export_reader`] | `GET /api/export/project/{slug}`, `GET /api/export/entries/{slug}`; `GET /api/export/media/{slug}` |
//! | a mobile-app user (user token: `jwt` parameter or `Authorization: Bearer`) | [`App::app_user`] | `GET /api/project/{slug}`, `POST /api/upload/{slug}`, `GET /api/media/{slug}` |
//! | a manager of the project (creator, manager, server admin) | [`App::project_manager`] | `/myprojects/{slug}/app…`; the project's web pages |
//! | a server administrator | [`App::server_admin`] over HTTP; the CLI is the server's operator and uses [`App::find_project`] | admin pages; every `quadrat` command |
//!
//! Tokens are passed as received (`None` when the request has none): telling a malformed or
//! stale token from a missing one is the policy's job, not the route's. The web pages identify
//! their caller by a session instead of a token: the `…_as` functions take either ([`Caller`]),
//! so a page and an API route asking the same question get the same answer.

use quadrat_core::oauth::{self, MIDDLEWARE_SOURCE, TokenClaims};
use quadrat_core::project_state::ProjectStatus;
use quadrat_core::roles::{Actor, Role};
use quadrat_core::slug;
use quadrat_core::time::now_millis;
use quadrat_core::users::UserState;

use crate::model::{Project, User};
use crate::projects::ResolvedProject;
use crate::{App, AppError, Result};

/// Who reads through the export API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiReader {
    /// Anyone: the project is public (a token, if sent, is not looked at).
    Anyone,
    /// The project's own client app, by its id (private projects).
    Client { client_id: i64 },
}

/// What a mobile-app user does: the real server's middleware differs between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppRoute {
    /// Reading the project (its download): a trashed project is gone.
    Read,
    /// Reading its media files (`GET /api/media/{slug}`): a trashed project's files are still
    /// served, as on the real server; an archived one is gone.
    Media,
    /// Uploading: a trashed project passes the middleware, and the upload's own checks refuse
    /// it (`ec5_11` from `upload-controller`), after the payload's structure.
    Upload,
}

/// Who is behind a request.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// The mobile app's user token as the request carries it (`None`: no token).
    Token(Option<&'a str>),
    /// The web pages' logged-in user (an active user, found by their session), if any.
    User(Option<&'a User>),
}

/// A slug looked up, whatever the project's status.
enum Lookup {
    Found(Box<ResolvedProject>),
    /// The slug normalises to nothing.
    EmptySlug,
    /// No project has the slug (normalised).
    Unknown(String),
}

fn middleware(status: u16, code: &str) -> AppError {
    AppError::client(status, code, MIDDLEWARE_SOURCE)
}

impl App {
    async fn lookup(&self, raw_slug: &str) -> Result<Lookup> {
        let wanted = slug::normalize(raw_slug);
        if wanted.is_empty() {
            return Ok(Lookup::EmptySlug);
        }
        let Some(row) = self.store.project_by_slug_versioned(&wanted).await? else {
            return Ok(Lookup::Unknown(wanted));
        };
        let structure = self
            .structure_of(row.project.id, row.structure_version)
            .await?;
        Ok(Lookup::Found(Box::new(ResolvedProject {
            project: Project::try_from(row.project)?,
            structure,
            mirror_locked: row.mirror_locked,
        })))
    }

    /// The server's operator (every `quadrat` command): the project named by `raw_slug` as typed
    /// (normalised first), whatever its status. Refusals: 404 `ec5_21` (source `slug`) for a slug
    /// that normalises to nothing, 404 `ec5_11` (source `no project "…"`) for an unknown one.
    pub async fn find_project(&self, raw_slug: &str) -> Result<ResolvedProject> {
        match self.lookup(raw_slug).await? {
            Lookup::Found(project) => Ok(*project),
            Lookup::EmptySlug => Err(AppError::client(404, "ec5_21", "slug")),
            Lookup::Unknown(wanted) => Err(AppError::client(
                404,
                "ec5_11",
                format!("no project {wanted:?}"),
            )),
        }
    }

    /// Anyone, without credentials: a project that exists and is not trashed or archived,
    /// private or not (the caller shows only what any visitor may see). Refusals, all 404 with
    /// source `middleware`: `ec5_21` for a slug that normalises to nothing, `ec5_11` for an
    /// unknown, trashed or archived project.
    pub async fn public_reader(&self, raw_slug: &str) -> Result<ResolvedProject> {
        match self.lookup(raw_slug).await? {
            Lookup::Found(project) if project.status.is_gone() => Err(middleware(404, "ec5_11")),
            Lookup::Found(project) => Ok(*project),
            Lookup::EmptySlug => Err(middleware(404, "ec5_21")),
            Lookup::Unknown(_) => Err(middleware(404, "ec5_11")),
        }
    }

    /// The export API's reader (docs/protocol.md §13.8). `authorization` is the request's
    /// `Authorization` header as received. A public project is read by anyone; a private one
    /// only with a live bearer token of its own client app. Refusals, all 404 with source
    /// `middleware`: those of [`App::public_reader`]; on a private project `ec5_256` for a
    /// missing, malformed, badly signed, expired or revoked token (or no signing keys), and
    /// `ec5_257` for a token of another project's app.
    pub async fn export_reader(
        &self,
        raw_slug: &str,
        authorization: Option<&str>,
    ) -> Result<(ResolvedProject, ApiReader)> {
        let project = self.public_reader(raw_slug).await?;
        if !project.is_private() {
            return Ok((project, ApiReader::Anyone));
        }
        let client_id = self
            .check_client_token(&project, authorization, now_millis())
            .await?;
        Ok((project, ApiReader::Client { client_id }))
    }

    /// The bearer check of docs/protocol.md §13.8 at `now` (Unix ms): the client id of a live token
    /// of the project's own app, else the refusals of [`App::export_reader`].
    pub async fn check_client_token(
        &self,
        project: &Project,
        authorization: Option<&str>,
        now: i64,
    ) -> Result<i64> {
        let denied = || middleware(404, "ec5_256");
        let jwt = oauth::bearer_token(authorization.ok_or_else(denied)?);
        if jwt.is_empty() {
            return Err(denied());
        }
        let keys = self.config.keys.as_ref().ok_or_else(denied)?;
        let claims = keys
            .verify(jwt)
            .and_then(|map| TokenClaims::read(&map))
            .ok_or_else(denied)?;
        if !claims.valid_at(now as f64 / 1000.0) || !oauth::is_token_id(&claims.jti) {
            return Err(denied());
        }
        let row = self.store.token(&claims.jti).await?.ok_or_else(denied)?;
        if row.revoked || row.client_id != claims.client_id || row.expires_at <= now {
            return Err(denied());
        }
        let client = self
            .store
            .client_by_id(claims.client_id)
            .await?
            .filter(|c| !c.revoked)
            .ok_or_else(denied)?;
        if client.project_id != project.id {
            return Err(middleware(404, "ec5_257"));
        }
        Ok(client.id)
    }

    /// A mobile-app user (docs/protocol.md §12.1) on one of the app's routes; `token` is the user
    /// token as the request carries it (see `UserToken` in the HTTP layer). A missing, bad or
    /// stale token is an anonymous user. Refusals, all 404 with source `middleware`, in this
    /// order:
    /// - the project: `ec5_11` for an unknown or archived project; reading also refuses a
    ///   trashed one (`ec5_11`) and a slug that normalises to nothing (`ec5_21`), where an
    ///   upload answers `ec5_11` and leaves a trashed project to the upload's own checks;
    ///   media are served from a trashed project too (an empty slug is `ec5_21`);
    /// - the user, on a private project only ([`check_app_user`]): `ec5_77` without a user,
    ///   `ec5_78` without a role, `ec5_91` for a viewer.
    pub async fn app_user(
        &self,
        raw_slug: &str,
        token: Option<&str>,
        route: AppRoute,
    ) -> Result<(ResolvedProject, Actor)> {
        let project = match route {
            AppRoute::Read => self.public_reader(raw_slug).await?,
            AppRoute::Media => match self.lookup(raw_slug).await? {
                Lookup::Found(p) if p.status == ProjectStatus::Archived => {
                    return Err(middleware(404, "ec5_11"));
                }
                Lookup::Found(p) => *p,
                Lookup::EmptySlug => return Err(middleware(404, "ec5_21")),
                Lookup::Unknown(_) => return Err(middleware(404, "ec5_11")),
            },
            AppRoute::Upload => match self.lookup(raw_slug).await? {
                Lookup::Found(p) if p.status == ProjectStatus::Archived => {
                    return Err(middleware(404, "ec5_11"));
                }
                Lookup::Found(p) => *p,
                Lookup::EmptySlug | Lookup::Unknown(_) => return Err(middleware(404, "ec5_11")),
            },
        };
        let actor = self.actor_for_project(&project, token).await?;
        check_app_user(&project, &actor)?;
        Ok((project, actor))
    }

    /// A manager of the project: its creator or a manager, or a server admin (who acts as
    /// creator). `token` is the user token as for [`App::app_user`]. Refusals: those of
    /// [`App::find_project`]; 404 `ec5_11` (`middleware`) for an archived project; then
    /// [`check_project_manager`]: 404 `ec5_70` without a user, 404 `ec5_71` without a role,
    /// 400 `ec5_91` (source `apps`) for a role below manager.
    pub async fn project_manager(
        &self,
        raw_slug: &str,
        token: Option<&str>,
    ) -> Result<(ResolvedProject, Actor)> {
        self.project_manager_as(raw_slug, Caller::Token(token))
            .await
    }

    /// [`App::project_manager`] for any [`Caller`] (the web pages pass their session's user).
    pub async fn project_manager_as(
        &self,
        raw_slug: &str,
        caller: Caller<'_>,
    ) -> Result<(ResolvedProject, Actor)> {
        let project = self.find_project(raw_slug).await?;
        if project.status == ProjectStatus::Archived {
            return Err(middleware(404, "ec5_11"));
        }
        let actor = self.actor_for(&project, caller).await?;
        check_project_manager(&actor)?;
        Ok((project, actor))
    }

    /// A reader of the project's data pages (its home, entries, entry view, map, download):
    /// anyone on a public project; on a private one any member, viewers included (the real
    /// data viewer shows them the data read-only). Refusals, all 404 with source `middleware`:
    /// those of [`App::public_reader`]; on a private project `ec5_77` without a user and
    /// `ec5_78` without a role.
    pub async fn data_reader_as(
        &self,
        raw_slug: &str,
        caller: Caller<'_>,
    ) -> Result<(ResolvedProject, Actor)> {
        let project = self.public_reader(raw_slug).await?;
        let actor = self.actor_for(&project, caller).await?;
        if project.is_private() {
            if actor.is_anonymous() {
                return Err(middleware(404, "ec5_77"));
            }
            if actor.effective_role().is_none() {
                return Err(middleware(404, "ec5_78"));
            }
        }
        Ok((project, actor))
    }

    /// A server administrator (a user whose server role is admin or superadmin), for pages
    /// that concern the server rather than one project. The real server answers a JSON request
    /// without a logged-in user with 404 `ec5_219` (source `auth`) and redirects other users
    /// home; Quadrat answers both with that refusal.
    pub async fn server_admin(&self, token: Option<&str>) -> Result<(User, Actor)> {
        self.server_admin_as(Caller::Token(token)).await
    }

    /// [`App::server_admin`] for any [`Caller`].
    pub async fn server_admin_as(&self, caller: Caller<'_>) -> Result<(User, Actor)> {
        let refused = || AppError::client(404, "ec5_219", "auth");
        let user = self.caller_user(caller).await?.ok_or_else(refused)?;
        let actor = actor_of(&user, None);
        check_server_admin(&actor).map_err(|_| refused())?;
        Ok((user, actor))
    }

    /// The active user behind `caller`, if any.
    async fn caller_user(&self, caller: Caller<'_>) -> Result<Option<User>> {
        match caller {
            Caller::Token(token) => self.user_for_token(token.unwrap_or_default()).await,
            Caller::User(user) => Ok(user.filter(|u| u.state == UserState::Active).cloned()),
        }
    }

    /// The actor `caller` is on `project`; nobody (or a token that names no active user) is
    /// an anonymous actor. Refuses nobody.
    pub async fn actor_for(&self, project: &Project, caller: Caller<'_>) -> Result<Actor> {
        let Some(user) = self.caller_user(caller).await? else {
            return Ok(Actor::anonymous());
        };
        let project_role = self
            .store
            .project_role(project.id, user.id)
            .await?
            .as_deref()
            .and_then(Role::parse);
        Ok(actor_of(&user, project_role))
    }

    /// The actor behind a request to `project` carrying the user token `token`. No token, or
    /// one that does not name an active user, means an anonymous actor, as the real server's
    /// guard treats it. The building block of the functions above; it refuses nobody.
    pub async fn actor_for_project(&self, project: &Project, token: Option<&str>) -> Result<Actor> {
        self.actor_for(project, Caller::Token(token)).await
    }
}

pub(crate) fn actor_of(user: &User, project_role: Option<Role>) -> Actor {
    Actor {
        user_id: user.id,
        email: Some(user.email.clone()),
        name: Some(user.name.clone()),
        is_server_admin: user.server_role.is_admin(),
        project_role,
    }
}

/// Whether `actor` may use the app's routes of `project`, as the real server's
/// `project.permissions` and `project.permissions.viewer.role` middleware decide it (404,
/// source `middleware`): on a private project `ec5_77` without a user, `ec5_78` without a role,
/// `ec5_91` for a viewer. Public projects take anyone; server admins act as creators.
pub fn check_app_user(project: &Project, actor: &Actor) -> Result<()> {
    match actor.app_route_denial(project.is_private()) {
        Some(code) => Err(middleware(404, code)),
        None => Ok(()),
    }
}

/// Whether `actor` may manage the project (its client app, later its settings), with the real
/// server's answers: nobody logged in → 404 `ec5_70` (its `project.permissions.required.role`
/// middleware); no role on the project → 404 `ec5_71`; a role below manager → 400 `ec5_91`
/// (`ProjectAppsController`, ajax, source `apps`).
pub fn check_project_manager(actor: &Actor) -> Result<()> {
    if actor.is_anonymous() {
        return Err(middleware(404, "ec5_70"));
    }
    match actor.effective_role() {
        None => Err(middleware(404, "ec5_71")),
        Some(role) if role.can_manage_project() => Ok(()),
        Some(_) => Err(AppError::client(400, "ec5_91", "apps")),
    }
}

/// Whether `actor` is a server administrator: anyone else is 404 `ec5_219` (source `auth`).
pub fn check_server_admin(actor: &Actor) -> Result<()> {
    if actor.is_server_admin {
        Ok(())
    } else {
        Err(AppError::client(404, "ec5_219", "auth"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<()>) -> Option<(u16, String, String)> {
        match result {
            Ok(()) => None,
            Err(AppError::Client { status, errors }) => {
                Some((status, errors[0].code.clone(), errors[0].source.clone()))
            }
            Err(e) => panic!("{e}"),
        }
    }

    fn user(role: Option<Role>, admin: bool) -> Actor {
        Actor {
            user_id: 7,
            is_server_admin: admin,
            project_role: role,
            ..Actor::default()
        }
    }

    #[test]
    fn only_creators_managers_and_admins_manage_projects() {
        let refused =
            |status, code: &str, source: &str| Some((status, code.to_string(), source.to_string()));
        assert_eq!(
            code(check_project_manager(&Actor::anonymous())),
            refused(404, "ec5_70", "middleware")
        );
        assert_eq!(
            code(check_project_manager(&user(None, false))),
            refused(404, "ec5_71", "middleware")
        );
        assert_eq!(code(check_project_manager(&user(None, true))), None);
        for role in [Role::Creator, Role::Manager] {
            assert_eq!(code(check_project_manager(&user(Some(role), false))), None);
        }
        for role in [Role::Curator, Role::Collector, Role::Viewer] {
            assert_eq!(
                code(check_project_manager(&user(Some(role), false))),
                refused(400, "ec5_91", "apps")
            );
        }
    }

    #[test]
    fn only_server_admins_are_server_admins() {
        assert_eq!(code(check_server_admin(&user(None, true))), None);
        for actor in [Actor::anonymous(), user(Some(Role::Creator), false)] {
            assert_eq!(
                code(check_server_admin(&actor)),
                Some((404, "ec5_219".into(), "auth".into()))
            );
        }
    }
}
