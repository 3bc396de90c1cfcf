//! Project roles and who may do what (docs/protocol.md §12.1).

/// A user's role on one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Creator,
    Manager,
    Curator,
    Collector,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Creator,
        Role::Manager,
        Role::Curator,
        Role::Collector,
        Role::Viewer,
    ];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Creator => "creator",
            Role::Manager => "manager",
            Role::Curator => "curator",
            Role::Collector => "collector",
            Role::Viewer => "viewer",
        }
    }

    /// May upload new entries to a private project.
    pub fn can_upload(self) -> bool {
        self != Role::Viewer
    }

    /// May edit or delete anybody's entries.
    pub fn can_edit_any_entry(self) -> bool {
        matches!(self, Role::Creator | Role::Manager | Role::Curator)
    }

    /// May change the project: formbuilder, settings, mappings, client apps, entries limits.
    pub fn can_manage_project(self) -> bool {
        matches!(self, Role::Creator | Role::Manager)
    }

    /// Roles this role may grant, change or remove.
    pub fn can_assign(self, other: Role) -> bool {
        match self {
            Role::Creator => other != Role::Creator,
            Role::Manager => matches!(other, Role::Curator | Role::Collector | Role::Viewer),
            _ => false,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is making a request: a user (or nobody: `user_id` 0) and their role on the project in
/// question. Server admins without a project role act as creators.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// 0 for anonymous requests, as the real server stores them.
    pub user_id: i64,
    pub email: Option<String>,
    /// The user's display name (`None` for anonymous requests).
    pub name: Option<String>,
    pub is_server_admin: bool,
    pub project_role: Option<Role>,
}

impl Actor {
    pub fn anonymous() -> Actor {
        Actor::default()
    }

    pub fn is_anonymous(&self) -> bool {
        self.user_id == 0
    }

    /// The role that decides: the project role, else creator for a server admin.
    pub fn effective_role(&self) -> Option<Role> {
        self.project_role
            .or(self.is_server_admin.then_some(Role::Creator))
    }

    /// The code the app's routes (upload, project download) refuse this actor with, as the real
    /// server's `project.permissions` and `project.permissions.viewer.role` middleware do: on a
    /// private project no user is `ec5_77`, no role `ec5_78`, a viewer `ec5_91`. Public projects
    /// accept everyone.
    pub fn app_route_denial(&self, project_is_private: bool) -> Option<&'static str> {
        if !project_is_private {
            return None;
        }
        if self.is_anonymous() {
            return Some("ec5_77");
        }
        match self.effective_role() {
            None => Some("ec5_78"),
            Some(Role::Viewer) => Some("ec5_91"),
            Some(_) => None,
        }
    }
}

/// Why `actor` may not give `target` (`current` role, `None` when not a member) the role `new`
/// (`None`: remove them), as the real server's Manage Users page decides it; `None` when it may.
/// In this order: below manager `ec5_91`; their own role `ec5_217`; making someone creator
/// `ec5_29` (ownership moves only by a transfer); a new or current role outside the actor's
/// grantable roles `ec5_344` (a manager handles curators, collectors and viewers; a creator
/// everyone but the creator).
pub fn role_change_refusal(
    actor: &Actor,
    target_user_id: Option<i64>,
    current: Option<Role>,
    new: Option<Role>,
) -> Option<&'static str> {
    let Some(mine) = actor.effective_role().filter(|r| r.can_manage_project()) else {
        return Some("ec5_91");
    };
    if target_user_id == Some(actor.user_id) {
        return Some("ec5_217");
    }
    if new == Some(Role::Creator) {
        return Some("ec5_29");
    }
    let outside = |role: Option<Role>| role.is_some_and(|r| !mine.can_assign(r));
    if outside(new) || outside(current) {
        return Some("ec5_344");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_the_role_table() {
        assert!(!Role::Viewer.can_upload());
        assert!(Role::Collector.can_upload());
        assert!(!Role::Collector.can_edit_any_entry());
        assert!(Role::Curator.can_edit_any_entry());
        assert!(!Role::Curator.can_manage_project());
        assert!(Role::Manager.can_manage_project());
        assert!(Role::Manager.can_assign(Role::Viewer));
        assert!(!Role::Manager.can_assign(Role::Manager));
        assert!(Role::Creator.can_assign(Role::Manager));
        assert!(!Role::Creator.can_assign(Role::Creator));
        assert_eq!(Role::parse("curator"), Some(Role::Curator));
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn role_changes_follow_the_manage_users_page() {
        let actor = |role| Actor {
            user_id: 1,
            project_role: Some(role),
            ..Actor::default()
        };
        let (creator, manager) = (actor(Role::Creator), actor(Role::Manager));
        assert_eq!(
            role_change_refusal(&creator, Some(2), None, Some(Role::Manager)),
            None
        );
        assert_eq!(
            role_change_refusal(&manager, Some(2), None, Some(Role::Viewer)),
            None
        );
        assert_eq!(
            role_change_refusal(&manager, Some(2), None, Some(Role::Manager)),
            Some("ec5_344")
        );
        assert_eq!(
            role_change_refusal(&manager, Some(2), Some(Role::Manager), Some(Role::Viewer)),
            Some("ec5_344")
        );
        assert_eq!(
            role_change_refusal(&creator, Some(2), Some(Role::Creator), None),
            Some("ec5_344")
        );
        assert_eq!(
            role_change_refusal(&creator, Some(1), Some(Role::Creator), None),
            Some("ec5_217")
        );
        assert_eq!(
            role_change_refusal(&creator, Some(2), None, Some(Role::Creator)),
            Some("ec5_29")
        );
        assert_eq!(
            role_change_refusal(&actor(Role::Curator), Some(2), None, Some(Role::Viewer)),
            Some("ec5_91")
        );
    }

    #[test]
    fn admins_act_as_creators() {
        let admin = Actor {
            user_id: 3,
            is_server_admin: true,
            ..Actor::default()
        };
        assert_eq!(admin.effective_role(), Some(Role::Creator));
        assert_eq!(Actor::anonymous().effective_role(), None);
        assert!(Actor::anonymous().is_anonymous());
    }

    #[test]
    fn app_routes_refuse_per_the_middleware_order() {
        let member = |role| Actor {
            user_id: 9,
            project_role: role,
            ..Actor::default()
        };
        for private in [false, true] {
            let expect = |code| if private { Some(code) } else { None };
            assert_eq!(
                Actor::anonymous().app_route_denial(private),
                expect("ec5_77")
            );
            assert_eq!(member(None).app_route_denial(private), expect("ec5_78"));
            assert_eq!(
                member(Some(Role::Viewer)).app_route_denial(private),
                expect("ec5_91")
            );
            for role in [Role::Creator, Role::Manager, Role::Curator, Role::Collector] {
                assert_eq!(member(Some(role)).app_route_denial(private), None);
            }
        }
        let admin = Actor {
            user_id: 3,
            is_server_admin: true,
            ..Actor::default()
        };
        assert_eq!(admin.app_route_denial(true), None);
    }
}
