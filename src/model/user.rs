//! Users and API tokens as the control plane returns them. Never a secret: users carry whether
//! they have a password, tokens only the last four characters of theirs.

use serde::{Deserialize, Serialize};

use super::Millis;
use crate::auth::{Role, Secret};

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// Whether a password is set (`imx login` needs one).
    pub has_password: bool,
    pub disabled: bool,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Millis,
    /// Set while failed logins have locked the account, everywhere or from some source (an
    /// address that kept failing); `imx user unlock` clears it.
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Millis>,
}

/// A new user. Without a password the user can only use tokens.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub password: Option<Secret>,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// A new password for a user. Users changing their own give their current password; an admin
/// setting another user's does not.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub password: Secret,
    /// The user's current password: needed when users change their own.
    pub current: Option<Secret>,
    /// The bearer token the request came with: it stays valid when users change their own
    /// password, while every other token of theirs is revoked. The server fills it in from the
    /// request's `Authorization` header; it never comes from a body.
    pub session: Option<Secret>,
}

impl PasswordChange {
    /// A new password, without the current one (an admin's reset).
    pub fn new(password: Secret) -> Self {
        PasswordChange {
            password,
            current: None,
            session: None,
        }
    }

    /// With the current password (changing one's own).
    pub fn with_current(mut self, current: Option<Secret>) -> Self {
        self.current = current;
        self
    }
}

/// Whether a token can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl std::fmt::Display for TokenState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenState::Active => "active",
            TokenState::Expired => "expired",
            TokenState::Revoked => "revoked",
        })
    }
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Token {
    pub id: String,
    pub name: String,
    /// The user it acts as (with that user's current role), or none for a role-only token.
    pub user: Option<String>,
    /// The role it acts with: the user's current role, or the token's own.
    pub role: Role,
    /// The last four characters of the secret, to tell tokens apart.
    pub last4: String,
    #[serde(with = "crate::model::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    /// Who created it (`local:<os-user>`, `user:<name>`, ...).
    pub created_by: String,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Millis>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Millis>,
    #[serde(default, with = "crate::model::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Millis>,
    pub state: TokenState,
}

/// A request for a token: for a user (acting as them) or for a role alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Defaults to a generated name.
    pub name: Option<String>,
    pub user: Option<String>,
    pub role: Option<Role>,
    /// Lifetime from now, at most the control plane's longest (`imx server --max-token-ttl`,
    /// 90 days by default); `None` gives a token that longest lifetime. Tokens always expire.
    pub expires_in_ms: Option<u64>,
}

/// A token just created, with its secret: the only time the secret is ever returned.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: Token,
    pub secret: Secret,
}
