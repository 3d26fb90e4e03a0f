//! Users, API tokens and login throttle rows on PostgreSQL, as the SQLite store's
//! (`store::sqlite::users`): only hashes are stored; authorization and audit happen above.

use tokio_postgres::Row;

use super::tx::{PgTx, get, get_u32};
use crate::auth::Role;
use crate::auth::throttle::Throttle;
use crate::auth::unknown_name::KEY_LEN;
use crate::model::{Token, TokenState, User, UserUpdate, now_ms};
use crate::store::api::users::{LoginRow, TokenInsert, TokenRow};
use crate::{Error, Result};

/// The last column is the latest lockout end, account-wide or of any one source.
const USER_COLUMNS: &str = "u.name, u.role, u.password_hash IS NOT NULL, u.disabled, u.created_at, \
     u.updated_at, GREATEST(coalesce(t.locked_until, 0), coalesce((SELECT max(s.locked_until) \
     FROM login_source_throttle s WHERE s.name = u.name), 0))";

fn role_of(s: &str) -> Result<Role> {
    s.parse::<Role>()
        .map_err(|e| Error::Store(format!("a stored role: {e}")))
}

fn user_from_row(r: &Row, now: i64) -> Result<User> {
    let role: String = get(r, 1)?;
    let locked: Option<i64> = get(r, 6)?;
    Ok(User {
        name: get(r, 0)?,
        role: role_of(&role)?,
        has_password: get(r, 2)?,
        disabled: get(r, 3)?,
        created_at: get(r, 4)?,
        updated_at: get(r, 5)?,
        locked_until: locked.filter(|t| *t > now),
    })
}

/// Every user, by name.
pub fn list(tx: &PgTx<'_>) -> Result<Vec<User>> {
    let now = now_ms();
    tx.query(
        &format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN login_throttle t ON t.name = u.name
             ORDER BY u.name COLLATE \"C\""
        ),
        &[],
    )?
    .iter()
    .map(|r| user_from_row(r, now))
    .collect()
}

/// One user by exact name; not found suggests the nearest name.
pub fn get_user(tx: &PgTx<'_>, name: &str) -> Result<User> {
    let now = now_ms();
    let found = tx.query_opt(
        &format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN login_throttle t ON t.name = u.name
             WHERE u.name = $1"
        ),
        &[&name],
    )?;
    match found {
        Some(r) => user_from_row(&r, now),
        None => {
            let names: Vec<String> = tx
                .query("SELECT name FROM users ORDER BY name COLLATE \"C\"", &[])?
                .iter()
                .map(|r| get(r, 0))
                .collect::<Result<_>>()?;
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

/// Insert a user; an existing name, in any case, is a conflict. Creators of one name (in any
/// case) queue on an advisory lock, so two replicas cannot both create it.
pub fn create(tx: &PgTx<'_>, name: &str, role: Role, password_hash: Option<&str>) -> Result<User> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('imx.user:' || lower($1), 0))",
        &[&name],
    )?;
    let existing: Option<String> = tx
        .query_opt(
            "SELECT name FROM users WHERE lower(name) = lower($1) ORDER BY name = $1 DESC LIMIT 1",
            &[&name],
        )?
        .map(|r| get(&r, 0))
        .transpose()?;
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
         VALUES ($1, $2, $3, false, $4, $4)",
        &[&name, &role.as_str(), &password_hash, &now],
    )?;
    clear_throttle(tx, name)?;
    get_user(tx, name)
}

/// Change role and/or disabled.
pub fn update(tx: &PgTx<'_>, name: &str, change: &UserUpdate) -> Result<User> {
    get_user(tx, name)?;
    tx.hint_tokens();
    tx.execute(
        "UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled),
                updated_at = $4
         WHERE name = $1",
        &[
            &name,
            &change.role.map(Role::as_str),
            &change.disabled,
            &now_ms(),
        ],
    )?;
    get_user(tx, name)
}

/// Replace the password hash; clears any lockout.
pub fn set_password_hash(tx: &PgTx<'_>, name: &str, hash: &str) -> Result<User> {
    get_user(tx, name)?;
    tx.hint_tokens();
    tx.execute(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE name = $1",
        &[&name, &hash, &now_ms()],
    )?;
    clear_throttle(tx, name)?;
    get_user(tx, name)
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Delete a user and revoke their tokens (kept for the record).
pub fn delete(tx: &PgTx<'_>, name: &str) -> Result<(User, usize)> {
    let user = get_user(tx, name)?;
    tx.hint_tokens();
    let revoked = tx.execute(
        "UPDATE tokens SET revoked_at = $2 WHERE user_name = $1 AND revoked_at IS NULL",
        &[&name, &now_ms()],
    )?;
    tx.execute("DELETE FROM users WHERE name = $1", &[&name])?;
    clear_throttle(tx, name)?;
    Ok((user, count(revoked)))
}

/// Revoke every active token of user `name` but `keep` (a token id); returns how many.
pub fn revoke_user_tokens(tx: &PgTx<'_>, name: &str, keep: Option<&str>) -> Result<usize> {
    tx.hint_tokens();
    Ok(count(tx.execute(
        "UPDATE tokens SET revoked_at = $2
         WHERE user_name = $1 AND revoked_at IS NULL AND ($3::text IS NULL OR id <> $3)
           AND (expires_at IS NULL OR expires_at > $2)",
        &[&name, &now_ms(), &keep],
    )?))
}

/// How many enabled users have the admin role.
pub fn enabled_admins(tx: &PgTx<'_>) -> Result<u64> {
    let r = tx.query_one(
        "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled",
        &[],
    )?;
    Ok(u64::try_from(get::<i64>(&r, 0)?).unwrap_or(0))
}

/// The login row of a user, if the user exists.
pub fn login_row(tx: &PgTx<'_>, name: &str) -> Result<Option<LoginRow>> {
    tx.query_opt(
        "SELECT password_hash, disabled, role FROM users WHERE name = $1",
        &[&name],
    )?
    .map(|r| {
        let role: String = get(&r, 2)?;
        Ok(LoginRow {
            password_hash: get(&r, 0)?,
            disabled: get(&r, 1)?,
            role: role_of(&role)?,
        })
    })
    .transpose()
}

// --- login throttle ---

fn throttle_from_row(r: &Row) -> Result<Throttle> {
    Ok(Throttle {
        failures: get_u32(r, 0)?,
        lockouts: get_u32(r, 1)?,
        locked_until: get(r, 2)?,
        last_failure: get(r, 3)?,
    })
}

/// The throttle state of an account name (default when there is none).
pub fn throttle(tx: &PgTx<'_>, name: &str) -> Result<Throttle> {
    Ok(tx
        .query_opt(
            "SELECT failures, lockouts, locked_until, last_failure FROM login_throttle
             WHERE name = $1",
            &[&name],
        )?
        .map(|r| throttle_from_row(&r))
        .transpose()?
        .unwrap_or_default())
}

pub fn save_throttle(tx: &PgTx<'_>, name: &str, t: &Throttle) -> Result<()> {
    tx.execute(
        "INSERT INTO login_throttle (name, failures, lockouts, locked_until, last_failure)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET failures = $2, lockouts = $3, locked_until = $4,
                                          last_failure = $5",
        &[
            &name,
            &i64::from(t.failures),
            &i64::from(t.lockouts),
            &t.locked_until,
            &t.last_failure,
        ],
    )?;
    Ok(())
}

/// Forget every failure and lockout of an account: its own and those of all its sources.
pub fn clear_throttle(tx: &PgTx<'_>, name: &str) -> Result<(bool, usize)> {
    let r = tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM login_throttle WHERE name = $1 AND locked_until > $2)",
        &[&name, &now_ms()],
    )?;
    let locked: bool = get(&r, 0)?;
    tx.execute("DELETE FROM login_throttle WHERE name = $1", &[&name])?;
    let sources = tx.execute(
        "DELETE FROM login_source_throttle WHERE name = $1",
        &[&name],
    )?;
    Ok((locked, count(sources)))
}

/// The throttle state of an account as seen from one source (default when there is none).
pub fn source_throttle(tx: &PgTx<'_>, name: &str, source: &str) -> Result<Throttle> {
    Ok(tx
        .query_opt(
            "SELECT failures, lockouts, locked_until, last_failure FROM login_source_throttle
             WHERE name = $1 AND source = $2",
            &[&name, &source],
        )?
        .map(|r| throttle_from_row(&r))
        .transpose()?
        .unwrap_or_default())
}

pub fn save_source_throttle(tx: &PgTx<'_>, name: &str, source: &str, t: &Throttle) -> Result<()> {
    tx.execute(
        "INSERT INTO login_source_throttle (name, source, failures, lockouts, locked_until,
                                            last_failure)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name, source) DO UPDATE SET failures = $3, lockouts = $4,
                                                  locked_until = $5, last_failure = $6",
        &[
            &name,
            &source,
            &i64::from(t.failures),
            &i64::from(t.lockouts),
            &t.locked_until,
            &t.last_failure,
        ],
    )?;
    Ok(())
}

/// A successful login from `source` forgets that source's failures.
pub fn clear_source_throttle(tx: &PgTx<'_>, name: &str, source: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM login_source_throttle WHERE name = $1 AND source = $2",
        &[&name, &source],
    )?;
    Ok(())
}

/// How many sources failed to log in to `name` since `since` (epoch ms).
pub fn failing_sources(tx: &PgTx<'_>, name: &str, since: i64) -> Result<u64> {
    let r = tx.query_one(
        "SELECT count(*) FROM login_source_throttle WHERE name = $1 AND last_failure >= $2",
        &[&name, &since],
    )?;
    Ok(u64::try_from(get::<i64>(&r, 0)?).unwrap_or(0))
}

/// The store's key for hashing unknown login names, created on first use with `create`. Two
/// replicas creating it at once keep the first one's (`ON CONFLICT DO NOTHING`, then read).
pub fn unknown_name_key(tx: &PgTx<'_>, create: bool) -> Result<Option<[u8; KEY_LEN]>> {
    const KEY: &str = "login_name_hmac_key";
    let read = |tx: &PgTx<'_>| -> Result<Option<[u8; KEY_LEN]>> {
        let hex: Option<String> = tx
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&KEY])?
            .map(|r| get(&r, 0))
            .transpose()?;
        Ok(hex
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; KEY_LEN]>::try_from(b.as_slice()).ok()))
    };
    if let Some(key) = read(tx)? {
        return Ok(Some(key));
    }
    if !create {
        return Ok(None);
    }
    let key = crate::auth::unknown_name::new_key();
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[&KEY, &hex::encode(key)],
    )?;
    read(tx)
}

// --- tokens ---

const TOKEN_COLUMNS: &str = "k.id, k.name, k.user_name, COALESCE(u.role, k.role), k.last4, \
     k.created_at, k.created_by, k.expires_at, k.revoked_at, k.last_used_at, k.secret_hash, \
     u.disabled, u.name IS NULL";

fn token_from_row(r: &Row, now: i64) -> Result<TokenRow> {
    let role: Option<String> = get(r, 3)?;
    let user: Option<String> = get(r, 2)?;
    let expires_at: Option<i64> = get(r, 7)?;
    let revoked_at: Option<i64> = get(r, 8)?;
    let user_missing = user.is_some() && get::<bool>(r, 12)?;
    let state = if revoked_at.is_some() || user_missing {
        TokenState::Revoked
    } else if expires_at.is_some_and(|t| t <= now) {
        TokenState::Expired
    } else {
        TokenState::Active
    };
    Ok(TokenRow {
        token: Token {
            id: get(r, 0)?,
            name: get(r, 1)?,
            user,
            role: match role {
                Some(s) => role_of(&s)?,
                None => Role::Viewer,
            },
            last4: get(r, 4)?,
            created_at: get(r, 5)?,
            created_by: get(r, 6)?,
            expires_at,
            revoked_at,
            last_used_at: get(r, 9)?,
            state,
        },
        secret_hash: get(r, 10)?,
        user_disabled: get::<Option<bool>>(r, 11)?.unwrap_or(false),
        user_missing,
    })
}

pub fn insert_token(tx: &PgTx<'_>, t: &TokenInsert<'_>) -> Result<Token> {
    let r = tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM tokens WHERE name = $1)",
        &[&t.name],
    )?;
    if get::<bool>(&r, 0)? {
        return Err(Error::Conflict(format!(
            "a token named {:?} already exists; choose another --name",
            t.name
        )));
    }
    let role = if t.user.is_some() {
        None
    } else {
        t.role.map(Role::as_str)
    };
    tx.execute(
        "INSERT INTO tokens (id, name, user_name, role, secret_hash, last4, created_at, created_by,
                             expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &t.id,
            &t.name,
            &t.user,
            &role,
            &t.secret_hash,
            &t.last4,
            &now_ms(),
            &t.created_by,
            &t.expires_at,
        ],
    )?;
    Ok(get_token(tx, t.id)?.token)
}

/// The token whose secret hashes to `hash`, if any.
pub fn token_by_hash(tx: &PgTx<'_>, hash: &str) -> Result<Option<TokenRow>> {
    let now = now_ms();
    tx.query_opt(
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens k LEFT JOIN users u ON u.name = k.user_name
             WHERE k.secret_hash = $1"
        ),
        &[&hash],
    )?
    .map(|r| token_from_row(&r, now))
    .transpose()
}

/// Tokens, newest first; only `user`'s when given.
pub fn list_tokens(tx: &PgTx<'_>, user: Option<&str>) -> Result<Vec<Token>> {
    let now = now_ms();
    tx.query(
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens k LEFT JOIN users u ON u.name = k.user_name
             WHERE $1::text IS NULL OR k.user_name = $1 ORDER BY k.id COLLATE \"C\" DESC"
        ),
        &[&user],
    )?
    .iter()
    .map(|r| token_from_row(r, now).map(|t| t.token))
    .collect()
}

/// A token by name, id, or unique id prefix.
pub fn get_token(tx: &PgTx<'_>, key: &str) -> Result<TokenRow> {
    let now = now_ms();
    let by = |cond: &str| {
        format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens k LEFT JOIN users u ON u.name = k.user_name
             WHERE {cond}"
        )
    };
    if let Some(r) = tx.query_opt(&by("k.name = $1"), &[&key])? {
        return token_from_row(&r, now);
    }
    let p = key.to_ascii_uppercase();
    let hi = format!("{p}\u{7f}");
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM tokens WHERE id COLLATE \"C\" >= $1 AND id COLLATE \"C\" < $2 LIMIT 6",
            &[&p, &hi],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    match ids.as_slice() {
        [one] => token_from_row(&tx.query_one(&by("k.id = $1"), &[one])?, now),
        [] => Err(Error::not_found("token", key)),
        many => Err(Error::Ambiguous {
            kind: "token",
            prefix: key.into(),
            candidates: many.to_vec(),
        }),
    }
}

/// Revoke a token (idempotent: an already revoked token keeps its first revocation time).
pub fn revoke_token(tx: &PgTx<'_>, id: &str) -> Result<Token> {
    tx.hint_tokens();
    tx.execute(
        "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[&id, &now_ms()],
    )?;
    Ok(get_token(tx, id)?.token)
}

/// Record a use of a token.
pub fn touch_token(tx: &PgTx<'_>, id: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE tokens SET last_used_at = $2 WHERE id = $1",
        &[&id, &now],
    )?;
    Ok(())
}
