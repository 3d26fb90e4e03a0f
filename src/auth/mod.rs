//! Principals, roles and permissions, and the credentials behind them. Enforced in
//! `control::local`, so every path (CLI, TUI, server, agents) gets the same checks.
//!
//! - [`password`]: argon2id hashing at OWASP's parameters, and the password policy.
//! - [`token`]: `imx_...` API tokens — generation, SHA-256 hashing, constant-time comparison.
//! - [`throttle`]: login throttling per (account, source), then per account, with growing
//!   lockouts.
//! - [`unknown_name`]: keyed hashes of names given at login that are no user.
//! - [`webhook`]: Standard Webhooks signatures (outgoing notifications, incoming triggers).
//! - [`Secret`]: a password or token in memory, redacted in `Debug`, zeroed on drop.

pub mod password;
mod secret;
pub mod throttle;
pub mod token;
pub mod unknown_name;
pub mod webhook;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use secret::Secret;

use crate::{Error, Result};

/// Roles, from most to least powerful (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Viewer, Role::Agent];
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid_with_hint(
                    format!("unknown role {s:?}"),
                    "roles are: admin, operator, viewer, agent",
                )
            })
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
    /// Follow the change feed and the status summary: what an agent needs to wake up when work
    /// appears, without reading runs, logs or the audit trail.
    Watch,
    /// Apply/delete workflows, start/cancel/retry runs.
    ManageWorkflows,
    /// Drain, resume, remove agents.
    ManageAgents,
    /// Register as an agent, claim and report steps.
    Work,
    /// Create, change and delete users; create and revoke anyone's tokens.
    ManageUsers,
    /// Create, list and verify backups (operator and admin).
    Backup,
    /// Download, restore and prune backups (a backup holds every password hash); checkpoint and
    /// prune the audit trail; see the store's path (admin only).
    Administer,
}

impl Permission {
    fn verb(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Watch => "follow the change feed",
            Permission::ManageWorkflows => "manage workflows and runs",
            Permission::ManageAgents => "manage agents",
            Permission::Work => "claim and report steps",
            Permission::ManageUsers => "manage users and tokens",
            Permission::Backup => "create or verify backups",
            Permission::Administer => {
                "administer the store (download, restore or prune backups, checkpoint)"
            }
        }
    }
}

/// Who is acting: the actor recorded in the audit trail, and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

    /// A user acting with their own credentials: `user:<name>`.
    pub fn user(name: &str, role: Role, source: &str) -> Self {
        Principal {
            name: format!("user:{name}"),
            role,
            source: source.into(),
        }
    }

    /// A token that belongs to no user, acting with its own role: `token:<name>`.
    pub fn token(name: &str, role: Role, source: &str) -> Self {
        Principal {
            name: format!("token:{name}"),
            role,
            source: source.into(),
        }
    }

    /// The user name, when this principal is a user (`user:<name>`).
    pub fn user_name(&self) -> Option<&str> {
        self.name.strip_prefix("user:")
    }

    /// Whether this principal's role grants `perm`.
    pub fn can(&self, perm: Permission) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator => !matches!(
                perm,
                Permission::Work | Permission::ManageUsers | Permission::Administer
            ),
            Role::Viewer => matches!(perm, Permission::Read | Permission::Watch),
            // DESIGN §6: register, claim, report (and wake up on changes); nothing else, so a
            // token on a worker machine cannot read other workflows' logs or the audit trail.
            Role::Agent => matches!(perm, Permission::Work | Permission::Watch),
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
#[allow(clippy::unwrap_used)]
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
        assert!(
            !p(Role::Agent).can(Permission::Read),
            "agents read no runs, logs or audit"
        );
        for role in Role::ALL {
            assert!(p(role).can(Permission::Watch), "{role}");
        }
        assert!(p(Role::Viewer).require(Permission::ManageAgents).is_err());
        assert!(p(Role::Operator).can(Permission::Backup));
        assert!(!p(Role::Operator).can(Permission::Administer));
        assert!(p(Role::Admin).can(Permission::Administer));
        assert!(!p(Role::Viewer).can(Permission::Backup));
        assert!(p(Role::Admin).can(Permission::ManageUsers));
        for role in [Role::Operator, Role::Viewer, Role::Agent] {
            assert!(!p(role).can(Permission::ManageUsers), "{role}");
        }
    }

    #[test]
    fn roles_parse_and_principals_name_their_kind() {
        assert_eq!("Operator".parse::<Role>().unwrap(), Role::Operator);
        assert!("root".parse::<Role>().is_err());
        let u = Principal::user("alice", Role::Viewer, "10.0.0.1");
        assert_eq!(u.name, "user:alice");
        assert_eq!(u.user_name(), Some("alice"));
        assert_eq!(
            Principal::token("ci", Role::Agent, "local").user_name(),
            None
        );
    }
}
