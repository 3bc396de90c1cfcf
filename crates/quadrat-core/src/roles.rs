//! Project roles and who may do what (data-model.md §6.1).

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
}
