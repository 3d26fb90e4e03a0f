//! Users, API tokens and login throttle rows. Only hashes are stored: argon2id PHC strings for
//! passwords, SHA-256 for token secrets. Authorization and audit happen above, in
//! `control::local`.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::auth::Role;
use crate::auth::throttle::Throttle;
use crate::model::{Token, TokenState, User, UserUpdate, now_ms};
pub use crate::store::api::users::{LoginRow, TokenInsert, TokenRow};
use crate::{Error, Result};

/// The last column is the latest lockout end, account-wide or of any one source.
const USER_COLUMNS: &str = "u.name, u.role, u.password_hash IS NOT NULL, u.disabled, u.created_at, \
     u.updated_at, max(coalesce(t.locked_until, 0), coalesce((SELECT max(s.locked_until) \
     FROM login_source_throttle s WHERE s.name = u.name), 0))";

fn role_of(s: &str) -> rusqlite::Result<Role> {
    s.parse::<Role>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn user_from_row(r: &Row<'_>, now: i64) -> rusqlite::Result<User> {
    let role: String = r.get(1)?;
    let locked: Option<i64> = r.get(6)?;
    Ok(User {
        name: r.get(0)?,
        role: role_of(&role)?,
        has_password: r.get(2)?,
        disabled: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
        locked_until: locked.filter(|t| *t > now),
    })
}

/// Every user, by name.
pub fn list(tx: &Transaction<'_>) -> Result<Vec<User>> {
    let now = now_ms();
    let mut stmt = tx.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN login_throttle t ON t.name = u.name
         ORDER BY u.name"
    ))?;
    let rows = stmt.query_map([], |r| user_from_row(r, now))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One user by exact name; not found suggests the nearest name.
pub fn get(tx: &Transaction<'_>, name: &str) -> Result<User> {
    let now = now_ms();
    let found = tx
        .query_row(
            &format!(
                "SELECT {USER_COLUMNS} FROM users u LEFT JOIN login_throttle t ON t.name = u.name
                 WHERE u.name = ?1"
            ),
            [name],
            |r| user_from_row(r, now),
        )
        .optional()?;
    match found {
        Some(u) => Ok(u),
        None => {
            let names: Vec<String> = tx
                .prepare("SELECT name FROM users ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            Err(match crate::suggest::nearest(name, &refs) {
                Some(n) => Error::NotFoundHint {
                    message: format!("user {name:?} not found"),
                    hint: format!("did you mean {n:?}?"),
                },
                None => Error::not_found("user", name),
            })
        }
    }
}

/// Insert a user; an existing name, in any case (`Alice` when `alice` exists), is a conflict.
/// (Stores from before this rule may hold names that differ only in case; they keep working.)
pub fn create(
    tx: &Transaction<'_>,
    name: &str,
    role: Role,
    password_hash: Option<&str>,
) -> Result<User> {
    let existing: Option<String> = tx
        .query_row(
            "SELECT name FROM users WHERE name = ?1 COLLATE NOCASE ORDER BY name = ?1 DESC LIMIT 1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    match existing {
        Some(same) if same == name => {
            return Err(Error::Conflict(format!("user {name:?} already exists")));
        }
        Some(other) => {
            return Err(Error::Conflict(format!(
                "user {other:?} already exists, and user names are unique regardless of case"
            )));
        }
        None => {}
    }
    let now = now_ms();
    tx.execute(
        "INSERT INTO users (name, role, password_hash, disabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, 0, ?4, ?4)",
        params![name, role.as_str(), password_hash, now],
    )?;
    // A fresh account starts with a clean throttle, whatever failed for this name before.
    clear_throttle(tx, name)?;
    get(tx, name)
}

/// Change role and/or disabled.
pub fn update(tx: &Transaction<'_>, name: &str, change: &UserUpdate) -> Result<User> {
    get(tx, name)?;
    tx.execute(
        "UPDATE users SET role = COALESCE(?2, role), disabled = COALESCE(?3, disabled),
                updated_at = ?4
         WHERE name = ?1",
        params![
            name,
            change.role.map(Role::as_str),
            change.disabled,
            now_ms()
        ],
    )?;
    get(tx, name)
}

/// Replace the password hash; clears any lockout (the caller revokes tokens as it sees fit).
pub fn set_password_hash(tx: &Transaction<'_>, name: &str, hash: &str) -> Result<User> {
    get(tx, name)?;
    tx.execute(
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE name = ?1",
        params![name, hash, now_ms()],
    )?;
    clear_throttle(tx, name)?;
    get(tx, name)
}

/// Delete a user and revoke their tokens (kept for the record). Returns the user and how many
/// tokens were revoked.
pub fn delete(tx: &Transaction<'_>, name: &str) -> Result<(User, usize)> {
    let user = get(tx, name)?;
    let revoked = tx.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE user_name = ?1 AND revoked_at IS NULL",
        params![name, now_ms()],
    )?;
    tx.execute("DELETE FROM users WHERE name = ?1", [name])?;
    clear_throttle(tx, name)?;
    Ok((user, revoked))
}

/// Revoke every active token of user `name` but `keep` (a token id); returns how many.
pub fn revoke_user_tokens(tx: &Transaction<'_>, name: &str, keep: Option<&str>) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE tokens SET revoked_at = ?2
         WHERE user_name = ?1 AND revoked_at IS NULL AND (?3 IS NULL OR id <> ?3)
           AND (expires_at IS NULL OR expires_at > ?2)",
        params![name, now_ms(), keep],
    )?)
}

/// How many enabled users have the admin role.
pub fn enabled_admins(tx: &Transaction<'_>) -> Result<u64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0",
        [],
        |r| r.get(0),
    )?)
}

/// The login row of a user, if the user exists.
pub fn login_row(tx: &Transaction<'_>, name: &str) -> Result<Option<LoginRow>> {
    let row = tx
        .query_row(
            "SELECT password_hash, disabled, role FROM users WHERE name = ?1",
            [name],
            |r| {
                let role: String = r.get(2)?;
                Ok(LoginRow {
                    password_hash: r.get(0)?,
                    disabled: r.get(1)?,
                    role: role_of(&role)?,
                })
            },
        )
        .optional()?;
    Ok(row)
}

// --- login throttle ---

/// The throttle state of an account name (default when there is none).
pub fn throttle(tx: &Transaction<'_>, name: &str) -> Result<Throttle> {
    let t = tx
        .query_row(
            "SELECT failures, lockouts, locked_until, last_failure FROM login_throttle
             WHERE name = ?1",
            [name],
            |r| {
                Ok(Throttle {
                    failures: r.get(0)?,
                    lockouts: r.get(1)?,
                    locked_until: r.get(2)?,
                    last_failure: r.get(3)?,
                })
            },
        )
        .optional()?;
    Ok(t.unwrap_or_default())
}

pub fn save_throttle(tx: &Transaction<'_>, name: &str, t: &Throttle) -> Result<()> {
    tx.execute(
        "INSERT INTO login_throttle (name, failures, lockouts, locked_until, last_failure)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET failures = ?2, lockouts = ?3, locked_until = ?4,
                                          last_failure = ?5",
        params![name, t.failures, t.lockouts, t.locked_until, t.last_failure],
    )?;
    Ok(())
}

/// Forget every failure and lockout of an account: its own and those of all its sources.
/// Returns whether the account was locked and how many source rows were dropped.
pub fn clear_throttle(tx: &Transaction<'_>, name: &str) -> Result<(bool, usize)> {
    let now = now_ms();
    let locked: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM login_throttle WHERE name = ?1 AND locked_until > ?2)",
        params![name, now],
        |r| r.get(0),
    )?;
    tx.execute("DELETE FROM login_throttle WHERE name = ?1", [name])?;
    let sources = tx.execute("DELETE FROM login_source_throttle WHERE name = ?1", [name])?;
    Ok((locked, sources))
}

/// The throttle state of an account as seen from one source (default when there is none).
pub fn source_throttle(tx: &Transaction<'_>, name: &str, source: &str) -> Result<Throttle> {
    let t = tx
        .query_row(
            "SELECT failures, lockouts, locked_until, last_failure FROM login_source_throttle
             WHERE name = ?1 AND source = ?2",
            params![name, source],
            |r| {
                Ok(Throttle {
                    failures: r.get(0)?,
                    lockouts: r.get(1)?,
                    locked_until: r.get(2)?,
                    last_failure: r.get(3)?,
                })
            },
        )
        .optional()?;
    Ok(t.unwrap_or_default())
}

pub fn save_source_throttle(
    tx: &Transaction<'_>,
    name: &str,
    source: &str,
    t: &Throttle,
) -> Result<()> {
    tx.execute(
        "INSERT INTO login_source_throttle (name, source, failures, lockouts, locked_until,
                                            last_failure)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name, source) DO UPDATE SET failures = ?3, lockouts = ?4,
                                                  locked_until = ?5, last_failure = ?6",
        params![
            name,
            source,
            t.failures,
            t.lockouts,
            t.locked_until,
            t.last_failure
        ],
    )?;
    Ok(())
}

/// A successful login from `source` forgets that source's failures (not its lockout history
/// elsewhere, nor the account's).
pub fn clear_source_throttle(tx: &Transaction<'_>, name: &str, source: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM login_source_throttle WHERE name = ?1 AND source = ?2",
        params![name, source],
    )?;
    Ok(())
}

/// How many sources failed to log in to `name` since `since` (epoch ms).
pub fn failing_sources(tx: &Transaction<'_>, name: &str, since: i64) -> Result<u64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM login_source_throttle WHERE name = ?1 AND last_failure >= ?2",
        params![name, since],
        |r| r.get(0),
    )?)
}

/// The store's key for hashing unknown login names ([`crate::auth::unknown_name`]), created on
/// first use with `create` (else `None` until then). Kept in `meta`; never shown.
pub fn unknown_name_key(
    tx: &Transaction<'_>,
    create: bool,
) -> Result<Option<[u8; crate::auth::unknown_name::KEY_LEN]>> {
    const KEY: &str = "login_name_hmac_key";
    let read = |tx: &Transaction<'_>| -> Result<Option<[u8; 32]>> {
        let hex: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [KEY], |r| r.get(0))
            .optional()?;
        Ok(hex
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok()))
    };
    if let Some(key) = read(tx)? {
        return Ok(Some(key));
    }
    if !create {
        return Ok(None);
    }
    let key = crate::auth::unknown_name::new_key();
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = ?2",
        params![KEY, hex::encode(key)],
    )?;
    Ok(Some(key))
}

// --- tokens ---

const TOKEN_COLUMNS: &str = "k.id, k.name, k.user_name, COALESCE(u.role, k.role), k.last4, \
     k.created_at, k.created_by, k.expires_at, k.revoked_at, k.last_used_at, k.secret_hash, \
     u.disabled, u.name IS NULL";

fn token_from_row(r: &Row<'_>, now: i64) -> rusqlite::Result<TokenRow> {
    let role: Option<String> = r.get(3)?;
    let user: Option<String> = r.get(2)?;
    let expires_at: Option<i64> = r.get(7)?;
    let revoked_at: Option<i64> = r.get(8)?;
    let user_missing = user.is_some() && r.get::<_, bool>(12)?;
    let state = if revoked_at.is_some() || user_missing {
        TokenState::Revoked
    } else if expires_at.is_some_and(|t| t <= now) {
        TokenState::Expired
    } else {
        TokenState::Active
    };
    Ok(TokenRow {
        token: Token {
            id: r.get(0)?,
            name: r.get(1)?,
            user,
            // A user's deleted token has no role left: show the least one.
            role: match role {
                Some(s) => role_of(&s)?,
                None => Role::Viewer,
            },
            last4: r.get(4)?,
            created_at: r.get(5)?,
            created_by: r.get(6)?,
            expires_at,
            revoked_at,
            last_used_at: r.get(9)?,
            state,
        },
        secret_hash: r.get(10)?,
        user_disabled: r.get::<_, Option<bool>>(11)?.unwrap_or(false),
        user_missing,
    })
}

pub fn insert_token(tx: &Transaction<'_>, t: &TokenInsert<'_>) -> Result<Token> {
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM tokens WHERE name = ?1)",
        [t.name],
        |r| r.get(0),
    )?;
    if taken {
        return Err(Error::Conflict(format!(
            "a token named {:?} already exists; choose another --name",
            t.name
        )));
    }
    tx.execute(
        "INSERT INTO tokens (id, name, user_name, role, secret_hash, last4, created_at, created_by,
                             expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            t.id,
            t.name,
            t.user,
            if t.user.is_some() {
                None
            } else {
                t.role.map(Role::as_str)
            },
            t.secret_hash,
            t.last4,
            now_ms(),
            t.created_by,
            t.expires_at
        ],
    )?;
    Ok(get_token(tx, t.id)?.token)
}

/// The token whose secret hashes to `hash`, if any.
pub fn token_by_hash(tx: &Transaction<'_>, hash: &str) -> Result<Option<TokenRow>> {
    let now = now_ms();
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens k LEFT JOIN users u ON u.name = k.user_name
             WHERE k.secret_hash = ?1"
        ))?
        .query_row([hash], |r| token_from_row(r, now))
        .optional()?)
}

/// Tokens, newest first; only `user`'s when given.
pub fn list_tokens(tx: &Transaction<'_>, user: Option<&str>) -> Result<Vec<Token>> {
    let now = now_ms();
    let mut stmt = tx.prepare(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens k LEFT JOIN users u ON u.name = k.user_name
         WHERE ?1 IS NULL OR k.user_name = ?1 ORDER BY k.id DESC"
    ))?;
    let rows = stmt.query_map([user], |r| token_from_row(r, now).map(|t| t.token))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A token by name, id, or unique id prefix.
pub fn get_token(tx: &Transaction<'_>, key: &str) -> Result<TokenRow> {
    let now = now_ms();
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens k LEFT JOIN users u ON u.name = k.user_name
         WHERE k.name = ?1"
    );
    if let Some(t) = tx
        .query_row(&sql, [key], |r| token_from_row(r, now))
        .optional()?
    {
        return Ok(t);
    }
    let p = key.to_ascii_uppercase();
    let hi = format!("{p}\u{7f}");
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM tokens WHERE id >= ?1 AND id < ?2 LIMIT 6")?
        .query_map(params![p, hi], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    match ids.as_slice() {
        [one] => Ok(tx.query_row(
            &format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens k LEFT JOIN users u ON u.name = k.user_name
                 WHERE k.id = ?1"
            ),
            [one],
            |r| token_from_row(r, now),
        )?),
        [] => Err(Error::not_found("token", key)),
        many => Err(Error::Ambiguous {
            kind: "token",
            prefix: key.into(),
            candidates: many.to_vec(),
        }),
    }
}

/// Revoke a token (idempotent: an already revoked token keeps its first revocation time).
pub fn revoke_token(tx: &Transaction<'_>, id: &str) -> Result<Token> {
    tx.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now_ms()],
    )?;
    Ok(get_token(tx, id)?.token)
}

/// Record a use of a token.
pub fn touch_token(tx: &Transaction<'_>, id: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}
