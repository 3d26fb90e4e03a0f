//! Agents: register (taking a name over from a process that is gone), look up, drain, resume,
//! remove, deregister; who may act for an agent; derived states.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::insert_event;
use super::rows::{AGENT_COLUMNS, agent_from_row, agent_state, offline};
use crate::engine::{LostCause, SpecCache};
use crate::model::{Agent, AgentRegistration, AgentState, new_id, now_ms, short_id};
use crate::store::flow::reap::lose_held;
use crate::{Error, Result};

/// The agent that holds a name, as registration sees it.
#[derive(Debug, Clone)]
pub struct Holder {
    pub id: String,
    pub last_heartbeat: i64,
    pub stopped_at: Option<i64>,
    pub hostname: String,
    pub pid: u32,
    /// Who registered it (none: registered before agents were bound to principals).
    pub principal: Option<String>,
    pub instance: Option<String>,
    pub pid_scope: Option<String>,
    /// The lease it was granted: it is offline once not heard from for this long.
    pub lease_ms: u64,
}

/// Whether `reg`, from `principal`, may take the name over from `holder`, which is still online;
/// says why it may. Only the principal that registered the holder may, and only when the
/// holder's process is known to be gone: the same pid in the same pid scope on the same host
/// (this very process, registering again, or the pid reused after the holder died), a pid the
/// registering process checked is no longer alive there, or a new supervisor instance.
pub fn takeover(holder: &Holder, reg: &AgentRegistration, principal: &str) -> Result<String> {
    if holder.principal.as_deref() != Some(principal) {
        return Err(Error::Conflict(format!(
            "an agent named {:?} is already online, registered by another principal; choose another --name",
            reg.name
        )));
    }
    let same_scope = reg.pid_scope.is_some()
        && reg.pid_scope == holder.pid_scope
        && reg.hostname == holder.hostname;
    if same_scope && reg.pid == holder.pid {
        return Ok(format!(
            "pid {} on {} registered again",
            reg.pid, reg.hostname
        ));
    }
    if same_scope && reg.replaces_pid == Some(holder.pid) {
        return Ok(format!(
            "its process (pid {} on {}) is gone",
            holder.pid, holder.hostname
        ));
    }
    if let (Some(new), Some(old)) = (&reg.instance, &holder.instance)
        && new != old
    {
        return Ok(format!("instance {old} was succeeded by instance {new}"));
    }
    Err(Error::NameHeld {
        name: reg.name.clone(),
        hostname: holder.hostname.clone(),
        pid: holder.pid,
    })
}

/// Register an agent for `principal`, which alone may act for it from then on, to be granted
/// leases of `lease_ms` (recorded with it: its state is derived from it). A name held by an
/// agent that is offline or stopped is taken over; one held by an agent still online only as
/// [`takeover`] allows. The agent taken over loses what it holds (the lease-lost transition)
/// and is forgotten.
pub fn register(
    tx: &Transaction<'_>,
    cache: &SpecCache,
    reg: &AgentRegistration,
    principal: &str,
    lease_ms: i64,
) -> Result<Agent> {
    let now = now_ms();
    let holder: Option<Holder> = tx
        .query_row(
            "SELECT id, last_heartbeat, stopped_at, hostname, pid, principal, instance, pid_scope,
                    lease_ms
             FROM agents WHERE name = ?1",
            [&reg.name],
            |r| {
                Ok(Holder {
                    id: r.get(0)?,
                    last_heartbeat: r.get(1)?,
                    stopped_at: r.get(2)?,
                    hostname: r.get(3)?,
                    pid: r.get(4)?,
                    principal: r.get(5)?,
                    instance: r.get(6)?,
                    pid_scope: r.get(7)?,
                    lease_ms: r.get(8)?,
                })
            },
        )
        .optional()?;
    let mut replaced = serde_json::Value::Null;
    if let Some(old) = holder {
        let why = if old.stopped_at.is_some() {
            "it had stopped".to_string()
        } else if offline(old.last_heartbeat, Some(old.lease_ms), now) {
            "it had gone offline".to_string()
        } else {
            takeover(&old, reg, principal)?
        };
        lose_held(tx, cache, &old.id, &LostCause::Replaced(why.clone()))?;
        tx.execute("DELETE FROM agents WHERE id = ?1", [&old.id])?;
        replaced = serde_json::json!({ "id": old.id, "why": why });
    }
    let id = new_id();
    tx.execute(
        "INSERT INTO agents (id, name, labels, slots, registered_at, last_heartbeat, hostname, pid,
                             version, principal, instance, pid_scope, lease_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            reg.name,
            serde_json::to_string(&reg.labels)?,
            reg.slots,
            now,
            reg.hostname,
            reg.pid,
            reg.version,
            principal,
            reg.instance,
            reg.pid_scope,
            lease_ms
        ],
    )?;
    insert_event(
        tx,
        "agent.registered",
        None,
        None,
        serde_json::json!({ "agent": reg.name, "id": id, "replaced": replaced }),
    )?;
    get(tx, &id)
}

/// `Ok` if `principal` may act for agent `agent_id` (the one that registered it), or if there
/// is no such agent (the call then fails or answers as it would for any unknown agent).
pub fn check_bound(tx: &Transaction<'_>, agent_id: &str, principal: &str) -> Result<()> {
    let row: Option<(String, Option<String>)> = tx
        .prepare_cached("SELECT name, principal FROM agents WHERE id = ?1")?
        .query_row([agent_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(()),
        Some((_, Some(owner))) if owner == principal => Ok(()),
        Some((name, owner)) => Err(Error::Forbidden {
            principal: principal.to_string(),
            action: match owner {
                Some(_) => format!("act for agent {name:?}, which another principal registered"),
                None => format!(
                    "act for agent {name:?}, registered before agents were bound to principals (restart it to register again)"
                ),
            },
        }),
    }
}

/// Resolve a name, id or unique id prefix.
fn resolve(tx: &Transaction<'_>, key: &str) -> Result<String> {
    if let Some(id) = tx
        .query_row("SELECT id FROM agents WHERE name = ?1", [key], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    {
        return Ok(id);
    }
    let p = key.to_ascii_uppercase();
    let hi = format!("{p}\u{7f}");
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM agents WHERE id >= ?1 AND id < ?2 LIMIT 6")?
        .query_map(params![p, hi], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => {
            let names: Vec<String> = tx
                .prepare("SELECT name FROM agents ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            Err(match crate::suggest::nearest(key, &refs) {
                Some(n) => Error::NotFoundHint {
                    message: format!("agent {key:?} not found"),
                    hint: format!("did you mean {n:?}?"),
                },
                None => Error::not_found("agent", key),
            })
        }
        many => Err(Error::Ambiguous {
            kind: "agent",
            prefix: key.into(),
            candidates: many.to_vec(),
        }),
    }
}

/// Held steps per agent id, as `run/step#attempt`.
fn held(tx: &Transaction<'_>) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt = tx.prepare_cached(
        "SELECT agent_id, run_id, step_id, attempt FROM steps
         WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, u32>(3)?,
        ))
    })?;
    for row in rows {
        let (agent, run, step, attempt) = row?;
        out.entry(agent)
            .or_default()
            .push(format!("{}/{step}#{attempt}", short_id(&run)));
    }
    Ok(out)
}

pub fn list(tx: &Transaction<'_>) -> Result<Vec<Agent>> {
    let now = now_ms();
    let held = held(tx)?;
    let mut stmt = tx.prepare(&format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY name"))?;
    let rows = stmt.query_map([], agent_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut a, stopped) = row?;
        a.current = held.get(&a.id).cloned().unwrap_or_default();
        a.running = u32::try_from(a.current.len()).unwrap_or(u32::MAX);
        a.state = agent_state(&a, stopped, now);
        out.push(a);
    }
    Ok(out)
}

pub fn get(tx: &Transaction<'_>, key: &str) -> Result<Agent> {
    let id = resolve(tx, key)?;
    list(tx)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| Error::not_found("agent", key))
}

pub fn set_draining(tx: &Transaction<'_>, key: &str, draining: bool) -> Result<Agent> {
    let id = resolve(tx, key)?;
    tx.execute(
        "UPDATE agents SET draining = ?2 WHERE id = ?1",
        params![id, draining],
    )?;
    let kind = if draining {
        "agent.draining"
    } else {
        "agent.resumed"
    };
    insert_event(tx, kind, None, None, serde_json::json!({ "agent": id }))?;
    get(tx, &id)
}

/// Remove an agent. One that is online and holds steps is refused unless `force`; what it
/// holds is lost (the lease-lost transition), and a running `imx agent run` under it stops.
pub fn remove(tx: &Transaction<'_>, cache: &SpecCache, key: &str, force: bool) -> Result<Agent> {
    let id = resolve(tx, key)?;
    let agent = get(tx, &id)?;
    if agent.running > 0 && agent.state != AgentState::Offline && !force {
        return Err(Error::Conflict(format!(
            "agent {} is online with {} running step{}; drain it first (imx agent drain {}) and \
             remove it once it is idle, or use --force to give its steps back to the queue",
            agent.name,
            agent.running,
            if agent.running == 1 { "" } else { "s" },
            agent.name
        )));
    }
    lose_held(tx, cache, &id, &LostCause::Removed)?;
    tx.execute("DELETE FROM agents WHERE id = ?1", [&id])?;
    insert_event(
        tx,
        "agent.removed",
        None,
        None,
        serde_json::json!({ "agent": agent.name }),
    )?;
    Ok(agent)
}

/// A stopping agent: what it still holds is lost (the lease-lost transition), and it is marked
/// stopped.
pub fn deregister(tx: &Transaction<'_>, cache: &SpecCache, agent_id: &str) -> Result<()> {
    lose_held(tx, cache, agent_id, &LostCause::Stopped)?;
    tx.execute(
        "UPDATE agents SET stopped_at = ?2 WHERE id = ?1",
        params![agent_id, now_ms()],
    )?;
    insert_event(
        tx,
        "agent.stopped",
        None,
        None,
        serde_json::json!({ "agent": agent_id }),
    )?;
    Ok(())
}
