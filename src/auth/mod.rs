//! Principals, roles and permissions. Enforced in `control::local`, so every path (CLI, TUI,
//! server, agents) gets the same checks.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Roles, from most to least powerful (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Operator,
    Viewer,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
            Role::Agent => "agent",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read anything but secrets.
    Read,
    /// Apply/delete workflows, start/cancel/retry runs.
    ManageWorkflows,
    /// Drain, resume, remove agents.
    ManageAgents,
    /// Register as an agent, claim and report steps.
    Work,
    /// Create, list and verify backups (operator and admin).
    Backup,
    /// Restore and prune backups; checkpoint and prune the audit trail (admin only).
    Administer,
}

impl Permission {
    fn verb(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::ManageWorkflows => "manage workflows and runs",
            Permission::ManageAgents => "manage agents",
            Permission::Work => "claim and report steps",
            Permission::Backup => "create or verify backups",
            Permission::Administer => "administer the store (restore, prune, checkpoint)",
        }
    }
}

/// Who is acting: the actor recorded in the audit trail, and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// `local:<os-user>`, `user:<name>`, `token:<name>`.
    pub name: String,
    pub role: Role,
    /// Where the request came from: `local` or a network address.
    pub source: String,
}

impl Principal {
    /// The owner of a local store: `local:<os-user>` with the admin role.
    pub fn local_owner() -> Self {
        Principal {
            name: format!("local:{}", crate::config::os_user()),
            role: Role::Admin,
            source: "local".into(),
        }
    }

    /// Whether this principal's role grants `perm`.
    pub fn can(&self, perm: Permission) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator => !matches!(perm, Permission::Work | Permission::Administer),
            Role::Viewer => perm == Permission::Read,
            Role::Agent => matches!(perm, Permission::Work | Permission::Read),
        }
    }

    /// `Ok` if allowed, else a [`Error::Forbidden`].
    pub fn require(&self, perm: Permission) -> Result<()> {
        if self.can(perm) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                principal: self.name.clone(),
                action: perm.verb().into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role) -> Principal {
        Principal {
            name: "t".into(),
            role,
            source: "local".into(),
        }
    }

    #[test]
    fn roles_grant_what_design_says() {
        assert!(p(Role::Admin).can(Permission::ManageAgents));
        assert!(p(Role::Operator).can(Permission::ManageWorkflows));
        assert!(!p(Role::Operator).can(Permission::Work));
        assert!(p(Role::Viewer).can(Permission::Read));
        assert!(!p(Role::Viewer).can(Permission::ManageWorkflows));
        assert!(p(Role::Agent).can(Permission::Work));
        assert!(!p(Role::Agent).can(Permission::ManageWorkflows));
        assert!(p(Role::Viewer).require(Permission::ManageAgents).is_err());
        assert!(p(Role::Operator).can(Permission::Backup));
        assert!(!p(Role::Operator).can(Permission::Administer));
        assert!(p(Role::Admin).can(Permission::Administer));
        assert!(!p(Role::Viewer).can(Permission::Backup));
    }
}
