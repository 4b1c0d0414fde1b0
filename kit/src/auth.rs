//! Who is signed in and what their Keycloak realm roles allow. The rules here
//! are the only place roles are interpreted; the SQL binds their answers.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::i18n::T;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Role {
    Rep,
    Manager,
    Viewer,
    Admin,
}

impl Role {
    /// The Keycloak realm role name.
    pub fn realm_name(self) -> &'static str {
        match self {
            Role::Rep => "sales-rep",
            Role::Manager => "sales-manager",
            Role::Viewer => "sales-viewer",
            Role::Admin => "salesops-admin",
        }
    }

    pub fn from_realm_name(name: &str) -> Option<Role> {
        [Role::Rep, Role::Manager, Role::Viewer, Role::Admin].into_iter().find(|r| r.realm_name() == name)
    }

    pub fn label(self) -> T {
        match self {
            Role::Rep => T::RoleRep,
            Role::Manager => T::RoleManager,
            Role::Viewer => T::RoleViewer,
            Role::Admin => T::RoleAdmin,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

impl CurrentUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Any SalesOps role at all: without one the user sees the "no access" page.
    pub fn has_access(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Sees and edits every record, reassigns owners, restores deleted records.
    pub fn is_manager(&self) -> bool {
        self.has(Role::Manager) || self.has(Role::Admin)
    }

    /// May create records at all (viewers change nothing).
    pub fn can_write(&self) -> bool {
        self.has(Role::Rep) || self.is_manager()
    }

    /// Managers, admins and viewers see every deal and contract; reps only their own.
    pub fn sees_all_owned(&self) -> bool {
        self.is_manager() || self.has(Role::Viewer)
    }

    /// May edit a record owned by `owner_id`.
    pub fn can_edit_owned_by(&self, owner_id: Uuid) -> bool {
        self.is_manager() || (self.has(Role::Rep) && self.id == owner_id)
    }
}

/// A user as shown in owner pickers and history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: Uuid,
    pub display_name: String,
}
