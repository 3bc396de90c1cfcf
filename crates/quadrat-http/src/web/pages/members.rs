//! The Members page: members by role with counts, add by email, change a role, remove,
//! transfer ownership, under the role rules of the real Manage Users page.

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use quadrat_app::sessions::Flash;
use quadrat_core::codes;
use quadrat_core::roles::{Actor, Role};

use super::details::{ManagerForm, managed, managed_form};
use crate::web::render::{self, Chrome, iso, refusal_flash};
use crate::web::session::{LoggedIn, PostedForm};

pub struct MemberRow {
    pub email: String,
    pub name: String,
    pub since: String,
    pub is_me: bool,
    /// Roles the actor may move this member to (empty: the actor may not touch them).
    pub moves: Vec<&'static str>,
}

pub struct RoleGroup {
    pub role: &'static str,
    pub title: &'static str,
    pub members: Vec<MemberRow>,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    c: Chrome,
    slug: String,
    groups: Vec<RoleGroup>,
    total: usize,
    grantable: Vec<&'static str>,
    can_transfer: bool,
    managers: Vec<String>,
}

fn title(role: Role) -> &'static str {
    match role {
        Role::Creator => "Creator",
        Role::Manager => "Managers",
        Role::Curator => "Curators",
        Role::Collector => "Collectors",
        Role::Viewer => "Viewers",
    }
}

fn grantable(actor: &Actor) -> Vec<Role> {
    let Some(mine) = actor.effective_role() else {
        return Vec::new();
    };
    Role::ALL
        .into_iter()
        .filter(|r| mine.can_manage_project() && mine.can_assign(*r))
        .collect()
}

/// `GET /myprojects/{slug}/manage-users`
pub async fn page(me: LoggedIn, Path(slug): Path<String>) -> Response {
    let (project, actor) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let members = match me.state.app.members_of(&project).await {
        Ok(m) => m,
        Err(e) => return me.refused(e),
    };
    let grant = grantable(&actor);
    let groups = Role::ALL
        .into_iter()
        .map(|role| RoleGroup {
            role: role.as_str(),
            title: title(role),
            members: members
                .iter()
                .filter(|m| m.role == role)
                .map(|m| {
                    let is_me = m.user_id == me.user.id;
                    let movable = !is_me && grant.contains(&m.role);
                    MemberRow {
                        email: m.email.clone(),
                        name: if m.name.is_empty() {
                            "n/a".into()
                        } else {
                            m.name.clone()
                        },
                        since: iso(m.created_at),
                        is_me,
                        moves: match movable {
                            true => grant
                                .iter()
                                .filter(|r| **r != m.role)
                                .map(|r| r.as_str())
                                .collect(),
                            false => Vec::new(),
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let page = MembersPage {
        c: me
            .project_chrome("Members", &project.slug, &project.name, "members")
            .await,
        slug: project.slug.clone(),
        groups,
        total: members.len(),
        grantable: grant.iter().map(|r| r.as_str()).collect(),
        can_transfer: actor.effective_role() == Some(Role::Creator),
        managers: members
            .iter()
            .filter(|m| m.role == Role::Manager)
            .map(|m| m.email.clone())
            .collect(),
    };
    render::page(&page)
}

/// Which change a members form asks for.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// `…/add-role` and `…/switch-role` `{email, role}`
    Set,
    /// `…/remove-role` `{email}`
    Remove,
    /// `…/transfer-ownership` `{email}`
    Transfer,
}

pub async fn change(slug: String, what: Change, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let app = &me.state.app;
    let email = fields.get("email");
    let done = match what {
        Change::Set => app
            .change_member(&project, &actor, email, Some(fields.get("role")))
            .await
            .map(|c| match c.previous {
                None => {
                    let mut text = format!(
                        "{} {} is now {}.",
                        codes::title("ec5_88").unwrap_or_default(),
                        c.email,
                        c.role.map_or("", Role::as_str)
                    );
                    if c.placeholder_created {
                        text.push_str(
                            " They have no account yet: an administrator gives them a password.",
                        );
                    }
                    text
                }
                Some(_) => format!(
                    "{} {} is now {}.",
                    codes::title("ec5_241").unwrap_or_default(),
                    c.email,
                    c.role.map_or("", Role::as_str)
                ),
            }),
        Change::Remove => app
            .change_member(&project, &actor, email, None)
            .await
            .map(|c| {
                format!(
                    "{} ({})",
                    codes::title("ec5_89").unwrap_or_default(),
                    c.email
                )
            }),
        Change::Transfer => app
            .transfer_ownership(&project, &actor, email)
            .await
            .map(|u| {
                format!(
                    "{} {} is the creator; you are a manager.",
                    codes::title("ec5_331").unwrap_or_default(),
                    u.email
                )
            }),
    };
    let flash = match done {
        Ok(text) => Flash::success(text),
        Err(e) => match refusal_flash(e) {
            Ok(flash) => flash,
            Err(e) => return me.refused(e),
        },
    };
    me.redirect_with(&format!("/myprojects/{}/manage-users", project.slug), flash)
        .await
}
