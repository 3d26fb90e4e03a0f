//! Users, API tokens and login throttling inside one store transaction. Only hashes are
//! stored; authorization and audit happen above, in `control::local`.

use crate::Result;
use crate::auth::Role;
use crate::auth::throttle::Throttle;
use crate::auth::unknown_name::KEY_LEN;
use crate::model::{Token, User, UserUpdate};

/// What login needs: the password hash (if any), whether the user is disabled, the role.
pub struct LoginRow {
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub role: Role,
}

/// A token row with what authentication needs besides the public fields.
pub struct TokenRow {
    pub token: Token,
    pub secret_hash: String,
    /// The token's user is disabled.
    pub user_disabled: bool,
    /// The token names a user that no longer exists.
    pub user_missing: bool,
}

/// What to insert for a new token.
pub struct TokenInsert<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub user: Option<&'a str>,
    /// The role of a role-only token (ignored for a user's token).
    pub role: Option<Role>,
    pub secret_hash: &'a str,
    pub last4: &'a str,
    pub created_by: &'a str,
    pub expires_at: Option<i64>,
}

/// Users, tokens, and the login throttle.
pub trait UsersTx {
    /// Every user, by name.
    fn list_users(&self) -> Result<Vec<User>>;
    /// A user by name.
    fn get_user(&self, name: &str) -> Result<User>;
    /// Create a user (the password already hashed).
    fn create_user(&self, name: &str, role: Role, password_hash: Option<&str>) -> Result<User>;
    /// Change a user's role or disabled flag.
    fn update_user(&self, name: &str, change: &UserUpdate) -> Result<User>;
    /// Replace a user's password hash.
    fn set_password_hash(&self, name: &str, hash: &str) -> Result<User>;
    /// Delete a user; the user as it was and how many of its tokens were revoked.
    fn delete_user(&self, name: &str) -> Result<(User, usize)>;
    /// Revoke every token of user `name` but `keep`; how many.
    fn revoke_user_tokens(&self, name: &str, keep: Option<&str>) -> Result<usize>;
    /// How many enabled admins there are.
    fn enabled_admins(&self) -> Result<u64>;
    /// The login row of a user, if the user exists.
    fn login_row(&self, name: &str) -> Result<Option<LoginRow>>;
    /// The account-wide login throttle of `name`.
    fn throttle(&self, name: &str) -> Result<Throttle>;
    /// Save the account-wide login throttle of `name`.
    fn save_throttle(&self, name: &str, t: &Throttle) -> Result<()>;
    /// Clear every throttle of `name`: whether the account was locked, and how many sources
    /// were.
    fn clear_throttle(&self, name: &str) -> Result<(bool, usize)>;
    /// The login throttle of `name` from `source`.
    fn source_throttle(&self, name: &str, source: &str) -> Result<Throttle>;
    /// Save the login throttle of `name` from `source`.
    fn save_source_throttle(&self, name: &str, source: &str, t: &Throttle) -> Result<()>;
    /// Clear the login throttle of `name` from `source`.
    fn clear_source_throttle(&self, name: &str, source: &str) -> Result<()>;
    /// How many sources failed to log in as `name` since `since` (ms).
    fn failing_sources(&self, name: &str, since: i64) -> Result<u64>;
    /// The store's key for hashing unknown login names, created on first use with `create`
    /// (else `None` until then). Never shown.
    fn unknown_name_key(&self, create: bool) -> Result<Option<[u8; KEY_LEN]>>;
    /// Store a new token.
    fn insert_token(&self, t: &TokenInsert<'_>) -> Result<Token>;
    /// The token with this secret hash, if any.
    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>>;
    /// Every token (of `user`, if given).
    fn list_tokens(&self, user: Option<&str>) -> Result<Vec<Token>>;
    /// A token by name or id.
    fn get_token(&self, key: &str) -> Result<TokenRow>;
    /// Revoke a token by id.
    fn revoke_token(&self, id: &str) -> Result<Token>;
    /// Mark a token used at `now` (ms).
    fn touch_token(&self, id: &str, now: i64) -> Result<()>;
}
