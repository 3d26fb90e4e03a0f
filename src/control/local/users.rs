//! Users, tokens and login on the local control plane: the checks, the hashing and the audit
//! records behind the `ControlPlane` user methods, plus what `imx server` needs before it
//! serves: [`LocalControlPlane::authenticate_token`] for its middleware and
//! [`LocalControlPlane::has_admin`] for its first start.
//!
//! Audit actions: `user.create`, `user.update`, `user.disable`, `user.enable`, `user.delete`,
//! `user.password` (ok / failed), `user.unlock`, `token.create`, `token.revoke`, `auth.login`
//! (ok / failed / locked / denied), `auth.lockout`, `auth.logout`; denials through `authorize`.
//! Never a secret or a hash, and never a name given at login that is no user: those are
//! recorded by their keyed hash ([`unknown_name`]).

use serde_json::json;

use super::{LocalControlPlane, token_cache};
use crate::auth::throttle::{self, ACCOUNT_LOCK_SOURCES, SOURCE_WINDOW_MS, Throttle};
use crate::auth::{Permission, Principal, Role, Secret, password, token, unknown_name};
use crate::model::{
    IssuedToken, NewToken, NewUser, PasswordChange, Token, TokenState, User, UserUpdate, new_id,
    now_ms, time,
};
use crate::store::api::TokenInsert;
use crate::{Error, Result, audit};

/// How long a token from `imx login` lives (or the longest a token may live, if shorter).
pub const LOGIN_TOKEN_TTL_MS: i64 = 30 * 24 * 3_600_000;

/// The longest a token may live unless the control plane is told otherwise (`imx server
/// --max-token-ttl`, `IMX_MAX_TOKEN_TTL`): 90 days. Also the lifetime of a token made without
/// one.
pub const DEFAULT_MAX_TOKEN_TTL_MS: i64 = 90 * 24 * 3_600_000;

/// A duration for messages, in its largest whole unit: `90d`, `36h`, `90s`, `1500ms`.
fn human_ms(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    UNITS
        .iter()
        .find(|(unit, _)| ms >= *unit && ms % unit == 0)
        .map_or_else(
            || format!("{ms}ms"),
            |(unit, s)| format!("{}{s}", ms / unit),
        )
}

/// A token's `last_used_at` is written at most this often (authentication stays a read).
const TOUCH_EVERY_MS: i64 = 60_000;

/// The longest user or token name.
const MAX_NAME: usize = 64;

/// User and token names: 1–64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_with_hint(
            format!("invalid {kind} name {name:?}"),
            format!(
                "a {kind} name has 1 to {MAX_NAME} letters, digits, '.', '_' or '-', and starts with a letter or digit"
            ),
        ))
    }
}

/// Run CPU-heavy work (argon2) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("password hashing stopped: {e}")))
}

async fn hash_password(password: Secret) -> Result<String> {
    password::check_policy(&password)?;
    blocking(move || password::hash(&password)).await?
}

impl LocalControlPlane {
    /// Whether the store has an enabled admin user. `imx server` refuses to serve without one
    /// (create one with `imx init --admin NAME`).
    pub fn has_admin(&self) -> Result<bool> {
        Ok(self.store.read(|tx| tx.enabled_admins())? > 0)
    }

    /// The principal a bearer token stands for: `user:<name>` with the user's current role, or
    /// `token:<name>` with the token's role. Unknown, malformed, expired or revoked tokens, and
    /// tokens of disabled users, are [`Error::Unauthenticated`] (a message without the secret).
    /// Cheap: a token verified in the last moments is taken from the cache (see
    /// [`token_cache`](super::token_cache) for how changes reach it); else one indexed read.
    /// Either way a write at most once a minute per token for `last_used`.
    pub fn authenticate_token(&self, secret: &Secret, source: &str) -> Result<Principal> {
        let invalid = || Error::Unauthenticated("the token is not valid".into());
        if !token::well_formed(secret) {
            return Err(invalid());
        }
        let hash = token::hash(secret);
        let now = now_ms();
        self.tokens.sync(self.store.feed().auth_version());
        let verified = match self.tokens.get(&hash, now) {
            Some(v) => v,
            None => {
                let generation = self.tokens.generation();
                let v = self.verify_token(&hash)?;
                self.tokens.put(&hash, v.clone(), generation);
                v
            }
        };
        if verified
            .last_used_at
            .is_none_or(|used| now - used >= TOUCH_EVERY_MS)
        {
            self.store
                .write(|tx| tx.touch_token(&verified.token_id, now))?;
            self.tokens.touched(&hash, now);
        }
        Ok(verified.principal(source))
    }

    /// When a valid token expires (`None`: never); errors as [`Self::authenticate_token`].
    pub fn token_expiry(&self, secret: &Secret) -> Result<Option<i64>> {
        if !token::well_formed(secret) {
            return Err(Error::Unauthenticated("the token is not valid".into()));
        }
        Ok(self.verify_token(&token::hash(secret))?.expires_at)
    }

    /// Read and check the token with this hash.
    fn verify_token(&self, hash: &str) -> Result<token_cache::Verified> {
        let invalid = || Error::Unauthenticated("the token is not valid".into());
        let row = self
            .store
            .read_quick(|tx| tx.token_by_hash(hash))?
            .ok_or_else(invalid)?;
        if !token::hashes_equal(&row.secret_hash, hash) {
            return Err(invalid());
        }
        let t = row.token;
        match t.state {
            TokenState::Active => {}
            TokenState::Revoked => {
                return Err(Error::Unauthenticated(format!(
                    "the token {:?} was revoked",
                    t.name
                )));
            }
            TokenState::Expired => {
                return Err(Error::Unauthenticated(format!(
                    "the token {:?} expired at {}",
                    t.name,
                    crate::error::utc(t.expires_at.unwrap_or_default())
                )));
            }
        }
        if row.user_disabled {
            return Err(Error::Unauthenticated(format!(
                "the token's user {:?} is disabled",
                t.user.as_deref().unwrap_or_default()
            )));
        }
        Ok(token_cache::Verified {
            token_id: t.id,
            user: t.user,
            token_name: t.name,
            role: t.role,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        })
    }

    /// The last enabled admin may not be disabled, demoted or deleted while it is the last.
    fn keep_an_admin(tx: &crate::store::Tx<'_>, before: u64, what: &str) -> Result<()> {
        if before > 0 && tx.enabled_admins()? == 0 {
            return Err(Error::Conflict(format!(
                "{what} would leave no enabled admin; create or enable another admin first"
            )));
        }
        Ok(())
    }

    /// A user may act on themselves; anyone else needs ManageUsers (denials audited).
    fn authorize_self_or_admin(&self, who: &Principal, user: &str, action: &str) -> Result<()> {
        if who.user_name() == Some(user) {
            return Ok(());
        }
        self.authorize(who, Permission::ManageUsers, action, user)
    }

    pub(super) async fn users_create(&self, who: &Principal, new: NewUser) -> Result<User> {
        self.authorize(who, Permission::ManageUsers, "user.create", &new.name)?;
        check_name("user", &new.name)?;
        let hash = match new.password {
            Some(pw) => Some(hash_password(pw).await?),
            None => None,
        };
        self.mutate(
            who,
            "user.create",
            |u: &User| u.name.clone(),
            |u| json!({ "role": u.role, "password": u.has_password }),
            |tx| tx.create_user(&new.name, new.role, hash.as_deref()),
        )
    }

    pub(super) fn users_list(&self, who: &Principal) -> Result<Vec<User>> {
        self.authorize(who, Permission::ManageUsers, "user.list", "")?;
        self.store.read(|tx| tx.list_users())
    }

    pub(super) fn users_get(&self, who: &Principal, name: &str) -> Result<User> {
        self.authorize_self_or_admin(who, name, "user.get")?;
        self.store.read(|tx| tx.get_user(name))
    }

    pub(super) fn users_update(
        &self,
        who: &Principal,
        name: &str,
        change: UserUpdate,
    ) -> Result<User> {
        let action = match (change.role, change.disabled) {
            (None, Some(true)) => "user.disable",
            (None, Some(false)) => "user.enable",
            _ => "user.update",
        };
        self.authorize(who, Permission::ManageUsers, action, name)?;
        if change.role.is_none() && change.disabled.is_none() {
            return Err(Error::invalid("nothing to change: give --role"));
        }
        let out = self.store.write(|tx| {
            let before = tx.get_user(name)?;
            let admins = tx.enabled_admins()?;
            let after = tx.update_user(name, &change)?;
            Self::keep_an_admin(tx, admins, &format!("changing {name:?}"))?;
            audit::append(
                tx,
                who,
                action,
                name,
                "ok",
                json!({
                    "role": after.role,
                    "previous_role": before.role,
                    "disabled": after.disabled,
                }),
            )?;
            Ok(after)
        });
        // A role change or a disable applies to the user's tokens at once.
        self.forget_verified_tokens();
        out
    }

    pub(super) fn users_delete(&self, who: &Principal, name: &str) -> Result<User> {
        self.authorize(who, Permission::ManageUsers, "user.delete", name)?;
        let out = self.store.write(|tx| {
            let admins = tx.enabled_admins()?;
            let (user, revoked) = tx.delete_user(name)?;
            Self::keep_an_admin(tx, admins, &format!("deleting {name:?}"))?;
            audit::append(
                tx,
                who,
                "user.delete",
                name,
                "ok",
                json!({ "role": user.role, "tokens_revoked": revoked }),
            )?;
            Ok(user)
        });
        self.forget_verified_tokens();
        out
    }

    /// Set a password. Users changing their own prove it with the current password (a stolen
    /// session token alone cannot take the account over) and keep only the token of this
    /// request; an admin setting another user's password revokes all of that user's tokens.
    pub(super) async fn users_set_password(
        &self,
        who: &Principal,
        name: &str,
        change: PasswordChange,
    ) -> Result<User> {
        self.authorize_self_or_admin(who, name, "user.password")?;
        self.store.read(|tx| tx.get_user(name))?;
        let own = who.user_name() == Some(name);
        let PasswordChange {
            password: new_password,
            current,
            session,
        } = change;
        if own {
            let Some(current) = current else {
                return Err(Error::invalid_with_hint(
                    "changing your own password needs your current password",
                    "give it too (imx user passwd prompts for it, or reads it with \
                     --current-password-stdin; the API takes `current_password`)",
                ));
            };
            self.check_current_password(who, name, current).await?;
        }
        let hash = hash_password(new_password).await?;
        // The request's own token survives the change of one's own password.
        let keep = match (own, &session) {
            (true, Some(secret)) => self
                .store
                .read_quick(|tx| tx.token_by_hash(&token::hash(secret)))?
                .filter(|row| row.token.user.as_deref() == Some(name))
                .map(|row| row.token.id),
            _ => None,
        };
        let out = self.store.write(|tx| {
            let user = tx.set_password_hash(name, &hash)?;
            let revoked = tx.revoke_user_tokens(name, keep.as_deref())?;
            audit::append(
                tx,
                who,
                "user.password",
                name,
                "ok",
                json!({ "own": own, "tokens_revoked": revoked, "kept_session": keep.is_some() }),
            )?;
            Ok(user)
        });
        self.forget_verified_tokens();
        out
    }

    /// Check a user's current password (changing their own): a wrong one is unauthenticated,
    /// audited, and counts as a failed login from the caller's source.
    async fn check_current_password(
        &self,
        who: &Principal,
        name: &str,
        current: Secret,
    ) -> Result<()> {
        let source = throttle::source_key(&who.source);
        let now = now_ms();
        let (account, from_here, row) = self.store.read(|tx| {
            Ok((
                tx.throttle(name)?,
                tx.source_throttle(name, &source)?,
                tx.login_row(name)?,
            ))
        })?;
        if let Some(until) = account.locked_at(now).or(from_here.locked_at(now)) {
            return Err(Error::LockedOut { until });
        }
        let Some(hash) = row.and_then(|r| r.password_hash) else {
            return Err(Error::Conflict(format!(
                "user {name:?} has no password yet; an admin sets the first one \
                 (imx user passwd {name})"
            )));
        };
        let matched = blocking(move || password::verify(&hash, &current)).await?;
        if matched {
            return Ok(());
        }
        let locked = self.store.write(|tx| {
            audit::append(
                tx,
                who,
                "user.password",
                name,
                "failed",
                json!({ "reason": "wrong current password" }),
            )?;
            Self::count_failure(tx, who, name, &source)
        })?;
        Err(match locked {
            Some(until) => Error::LockedOut { until },
            None => Error::Unauthenticated("the current password is not right".into()),
        })
    }

    /// Clear a user's lockouts, from every source and account-wide.
    pub(super) fn users_unlock(&self, who: &Principal, name: &str) -> Result<User> {
        self.authorize(who, Permission::ManageUsers, "user.unlock", name)?;
        self.store.write(|tx| {
            tx.get_user(name)?;
            let (account_locked, sources) = tx.clear_throttle(name)?;
            audit::append(
                tx,
                who,
                "user.unlock",
                name,
                "ok",
                json!({ "account_locked": account_locked, "sources_cleared": sources }),
            )?;
            tx.get_user(name)
        })
    }

    /// Issue a token inside `tx` and audit it as `action`.
    fn issue(
        tx: &crate::store::Tx<'_>,
        who: &Principal,
        action: &str,
        name: Option<&str>,
        user: Option<&str>,
        role: Option<Role>,
        expires_at: Option<i64>,
    ) -> Result<IssuedToken> {
        let id = new_id();
        let suffix = id[20..].to_ascii_lowercase();
        let name = match name {
            Some(n) => n.to_string(),
            None => format!(
                "{}-{suffix}",
                user.unwrap_or_else(|| role.map_or("token", Role::as_str))
            ),
        };
        let generated = token::generate();
        let token = tx.insert_token(&TokenInsert {
            id: &id,
            name: &name,
            user,
            role,
            secret_hash: &generated.hash,
            last4: &generated.last4,
            created_by: &who.name,
            expires_at,
        })?;
        audit::append(
            tx,
            who,
            action,
            &token.name,
            "ok",
            json!({
                "id": token.id,
                "user": token.user,
                "role": token.role,
                "expires_at": token.expires_at.map(time::json),
            }),
        )?;
        Ok(IssuedToken {
            token,
            secret: generated.secret,
        })
    }

    pub(super) fn tokens_create(&self, who: &Principal, req: NewToken) -> Result<IssuedToken> {
        let user = match (&req.user, req.role) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "a token acts as a user or has a role of its own: give --user or --role, not both",
                ));
            }
            (Some(u), None) => Some(u.clone()),
            (None, Some(_)) => None,
            (None, None) => match who.user_name() {
                Some(me) => Some(me.to_string()),
                None => {
                    return Err(Error::invalid_with_hint(
                        "say whom the token is for",
                        "give --user NAME (the token acts as that user) or --role ROLE",
                    ));
                }
            },
        };
        let target = req
            .name
            .clone()
            .or_else(|| user.clone())
            .unwrap_or_default();
        match &user {
            Some(u) if who.user_name() == Some(u.as_str()) => {}
            _ => self.authorize(who, Permission::ManageUsers, "token.create", &target)?,
        }
        if let Some(name) = &req.name {
            check_name("token", name)?;
        }
        let expires_at = now_ms().saturating_add(self.token_lifetime(req.expires_in_ms)?);
        self.store.write(|tx| {
            if let Some(u) = &user
                && tx.get_user(u)?.disabled
            {
                return Err(Error::Conflict(format!(
                    "user {u:?} is disabled; enable it before giving it tokens"
                )));
            }
            Self::issue(
                tx,
                who,
                "token.create",
                req.name.as_deref(),
                user.as_deref(),
                req.role,
                Some(expires_at),
            )
        })
    }

    /// The lifetime of a new token: what was asked for, at most the longest allowed; the
    /// longest when nothing was asked for.
    fn token_lifetime(&self, asked_ms: Option<u64>) -> Result<i64> {
        let max = self.max_token_ttl_ms;
        match asked_ms {
            None => Ok(max),
            Some(0) => Err(Error::invalid("a token's lifetime must be more than zero")),
            Some(ms) if i64::try_from(ms).is_ok_and(|ms| ms <= max) => {
                Ok(i64::try_from(ms).unwrap_or(max))
            }
            Some(ms) => Err(Error::invalid_with_hint(
                format!(
                    "a token may live at most {} (the longest this control plane allows), not {}",
                    human_ms(max),
                    human_ms(i64::try_from(ms).unwrap_or(i64::MAX))
                ),
                format!(
                    "ask for {} or less, or have the server started with a longer --max-token-ttl \
                     (IMX_MAX_TOKEN_TTL for a local store); tokens never live forever",
                    human_ms(max)
                ),
            )),
        }
    }

    pub(super) fn tokens_list(&self, who: &Principal) -> Result<Vec<Token>> {
        if who.can(Permission::ManageUsers) {
            return self.store.read(|tx| tx.list_tokens(None));
        }
        match who.user_name() {
            Some(me) => self.store.read(|tx| tx.list_tokens(Some(me))),
            None => {
                self.authorize(who, Permission::ManageUsers, "token.list", "")?;
                Ok(Vec::new())
            }
        }
    }

    pub(super) fn tokens_revoke(&self, who: &Principal, key: &str) -> Result<Token> {
        let row = self.store.read(|tx| tx.get_token(key));
        let own = match &row {
            Ok(r) => r.token.user.is_some() && r.token.user.as_deref() == who.user_name(),
            Err(_) => false,
        };
        if !own {
            self.authorize(who, Permission::ManageUsers, "token.revoke", key)?;
        }
        let row = row?;
        if row.token.state == TokenState::Revoked {
            return Err(Error::Conflict(format!(
                "token {:?} is already revoked",
                row.token.name
            )));
        }
        let out = self.mutate(
            who,
            "token.revoke",
            |t: &Token| t.name.clone(),
            |t| json!({ "id": t.id, "user": t.user }),
            |tx| tx.revoke_token(&row.token.id),
        );
        self.forget_verified_tokens();
        out
    }

    pub(super) async fn auth_login(
        &self,
        user: &str,
        password: &Secret,
        source: &str,
    ) -> Result<IssuedToken> {
        let now = now_ms();
        let from = throttle::source_key(source);
        let (row, key) = self.store.read(|tx| {
            let row = if check_name("user", user).is_ok() {
                tx.login_row(user)?
            } else {
                None
            };
            Ok((row, tx.unknown_name_key(false)?))
        })?;
        // The account the attempt is throttled and audited under: a user's name, or for a name
        // that is no user (maybe a password typed in the wrong field) its keyed hash, never
        // the name itself. Without a key yet, nothing was ever recorded for unknown names.
        let account = match (&row, key) {
            (Some(_), _) => Some(user.to_string()),
            (None, Some(key)) => Some(unknown_name::id(&key, user)?),
            (None, None) => None,
        };
        let (whole, from_here) = match &account {
            Some(a) => self
                .store
                .read(|tx| Ok((tx.throttle(a)?, tx.source_throttle(a, &from)?)))?,
            None => (Throttle::default(), Throttle::default()),
        };
        if let (Some(a), Some(until)) =
            (&account, whole.locked_at(now).or(from_here.locked_at(now)))
        {
            let who = Principal::user(a, Role::Viewer, source);
            let scope = if whole.locked_at(now).is_some() {
                "account"
            } else {
                "source"
            };
            self.store.write(|tx| {
                audit::append(
                    tx,
                    &who,
                    "auth.login",
                    a,
                    "locked",
                    json!({ "until": time::json(until), "scope": scope }),
                )
            })?;
            return Err(Error::LockedOut { until });
        }
        let hash = row.as_ref().and_then(|r| r.password_hash.clone());
        let pw = password.clone();
        let matched = blocking(move || match hash {
            Some(h) => password::verify(&h, &pw),
            None => {
                password::verify_dummy(&pw);
                false
            }
        })
        .await?;
        let row = match row {
            Some(r) if matched => r,
            _ => return self.login_failed(user, row.is_some(), source),
        };
        if row.disabled {
            let who = Principal::user(user, row.role, source);
            self.store.write(|tx| {
                audit::append(
                    tx,
                    &who,
                    "auth.login",
                    user,
                    "denied",
                    json!({ "reason": "disabled" }),
                )
            })?;
            return Err(Error::Unauthenticated(format!(
                "user {user:?} is disabled; ask an admin to enable it"
            )));
        }
        let who = Principal::user(user, row.role, source);
        let ttl = LOGIN_TOKEN_TTL_MS.min(self.max_token_ttl_ms);
        self.store.write(|tx| {
            tx.clear_source_throttle(user, &from)?;
            Self::issue(
                tx,
                &who,
                "auth.login",
                Some(&format!(
                    "login-{user}-{}",
                    &new_id()[20..].to_ascii_lowercase()
                )),
                Some(user),
                None,
                Some(now_ms() + ttl),
            )
        })
    }

    /// Count a failed login (audited under the user's name, or the keyed hash of a name that
    /// is no user); lock the source, or the account, when it is one too many.
    fn login_failed(&self, user: &str, known: bool, source: &str) -> Result<IssuedToken> {
        let from = throttle::source_key(source);
        let locked = self.store.write(|tx| {
            let account = if known {
                user.to_string()
            } else {
                match tx.unknown_name_key(true)? {
                    Some(key) => unknown_name::id(&key, user)?,
                    None => return Err(Error::Internal("no key for unknown names".into())),
                }
            };
            let who = Principal::user(&account, Role::Viewer, source);
            audit::append(tx, &who, "auth.login", &account, "failed", json!({}))?;
            Self::count_failure(tx, &who, &account, &from)
        })?;
        Err(match locked {
            Some(until) => Error::LockedOut { until },
            None => Error::BadCredentials,
        })
    }

    /// One more failure for `account` from `source` (a [`throttle::source_key`]): lock the
    /// source after too many in a row, and the account once too many sources are failing.
    /// Audited as `auth.lockout`. Returns the end of the lockout this failure started.
    fn count_failure(
        tx: &crate::store::Tx<'_>,
        who: &Principal,
        account: &str,
        source: &str,
    ) -> Result<Option<i64>> {
        let now = now_ms();
        let (here, source_locked) = tx.source_throttle(account, source)?.fail(now);
        tx.save_source_throttle(account, source, &here)?;
        if let Some(until) = source_locked {
            audit::append(
                tx,
                who,
                "auth.lockout",
                account,
                "ok",
                json!({ "until": time::json(until), "scope": "source", "lockouts": here.lockouts }),
            )?;
        }
        let sources = tx.failing_sources(account, now - SOURCE_WINDOW_MS)?;
        let whole = tx.throttle(account)?;
        if sources < ACCOUNT_LOCK_SOURCES || whole.locked_at(now).is_some() {
            return Ok(source_locked);
        }
        let (whole, until) = whole.lock(now);
        tx.save_throttle(account, &whole)?;
        audit::append(
            tx,
            who,
            "auth.lockout",
            account,
            "ok",
            json!({
                "until": time::json(until),
                "scope": "account",
                "sources": sources,
                "lockouts": whole.lockouts,
            }),
        )?;
        Ok(Some(until))
    }

    pub(super) fn auth_logout(&self, secret: &Secret, source: &str) -> Result<()> {
        let who = self.authenticate_token(secret, source)?;
        let hash = token::hash(secret);
        let out = self.store.write(|tx| {
            let row = tx
                .token_by_hash(&hash)?
                .ok_or_else(|| Error::Unauthenticated("the token is not valid".into()))?;
            let t = tx.revoke_token(&row.token.id)?;
            audit::append(
                tx,
                &who,
                "auth.logout",
                &t.name,
                "ok",
                json!({ "id": t.id }),
            )?;
            Ok(())
        });
        self.forget_verified_tokens();
        out
    }
}
