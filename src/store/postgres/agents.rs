//! Agents on PostgreSQL: register (taking a name over from a process that is gone), look up,
//! drain, resume, remove, deregister; who may act for an agent — as the SQLite store's
//! (`store::sqlite::agents`, whose rules for a takeover this uses).

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::Row;

use super::events::insert_event;
use super::tx::{PgTx, get, get_u32};
use crate::engine::{LostCause, SpecCache};
use crate::model::{Agent, AgentRegistration, AgentState, new_id, now_ms, short_id};
use crate::store::flow::reap::lose_held;
use crate::store::sqlite::agents::{Holder, takeover};
use crate::store::sqlite::rows::{agent_state, offline};
use crate::{Error, Result};

const AGENT_COLUMNS: &str = "id, name, labels, slots, draining, registered_at, \
     last_heartbeat, stopped_at, hostname, pid, version, lease_ms, principal";

fn agent_from_row(r: &Row) -> Result<(Agent, Option<i64>)> {
    let labels: serde_json::Value = get(r, 2)?;
    let draining: bool = get(r, 4)?;
    let lease_ms: i64 = get(r, 11)?;
    Ok((
        Agent {
            id: get(r, 0)?,
            name: get(r, 1)?,
            labels: serde_json::from_value::<BTreeMap<String, String>>(labels).unwrap_or_default(),
            slots: get_u32(r, 3)?,
            state: if draining {
                AgentState::Draining
            } else {
                AgentState::Online
            },
            draining,
            running: 0,
            registered_at: get(r, 5)?,
            last_heartbeat: get(r, 6)?,
            hostname: get(r, 8)?,
            pid: get_u32(r, 9)?,
            version: get(r, 10)?,
            current: Vec::new(),
            lease_ms: u64::try_from(lease_ms).ok(),
            registered_by: get(r, 12)?,
        },
        get(r, 7)?,
    ))
}

/// Register an agent for `principal` (see `store::sqlite::agents::register`). The name's row
/// is locked while deciding, so two replicas registering one name decide one after the other.
pub fn register(
    tx: &PgTx<'_>,
    cache: &SpecCache,
    reg: &AgentRegistration,
    principal: &str,
    lease_ms: i64,
) -> Result<Agent> {
    let now = now_ms();
    // A name nobody holds yet cannot be locked: queue on the name instead.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('imx.agent:' || $1, 0))",
        &[&reg.name],
    )?;
    let holder = tx
        .query_opt(
            "SELECT id, last_heartbeat, stopped_at, hostname, pid, principal, instance, pid_scope,
                    lease_ms
             FROM agents WHERE name = $1 FOR UPDATE",
            &[&reg.name],
        )?
        .map(|r| -> Result<Holder> {
            Ok(Holder {
                id: get(&r, 0)?,
                last_heartbeat: get(&r, 1)?,
                stopped_at: get(&r, 2)?,
                hostname: get(&r, 3)?,
                pid: get_u32(&r, 4)?,
                principal: get(&r, 5)?,
                instance: get(&r, 6)?,
                pid_scope: get(&r, 7)?,
                lease_ms: u64::try_from(get::<i64>(&r, 8)?).unwrap_or(0),
            })
        })
        .transpose()?;
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
        tx.execute("DELETE FROM agents WHERE id = $1", &[&old.id])?;
        replaced = serde_json::json!({ "id": old.id, "why": why });
    }
    let id = new_id();
    tx.execute(
        "INSERT INTO agents (id, name, labels, slots, registered_at, last_heartbeat, hostname, pid,
                             version, principal, instance, pid_scope, lease_ms)
         VALUES ($1, $2, $3::text::jsonb, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &id,
            &reg.name,
            &serde_json::to_string(&reg.labels)?,
            &i64::from(reg.slots),
            &now,
            &reg.hostname,
            &i64::from(reg.pid),
            &reg.version,
            &principal,
            &reg.instance,
            &reg.pid_scope,
            &lease_ms,
        ],
    )?;
    insert_event(
        tx,
        "agent.registered",
        None,
        None,
        serde_json::json!({ "agent": reg.name, "id": id, "replaced": replaced }),
    )?;
    get_agent(tx, &id)
}

/// `Ok` if `principal` may act for agent `agent_id`, or if there is no such agent.
pub fn check_bound(tx: &PgTx<'_>, agent_id: &str, principal: &str) -> Result<()> {
    let row = tx.query_opt(
        "SELECT name, principal FROM agents WHERE id = $1",
        &[&agent_id],
    )?;
    let Some(row) = row else { return Ok(()) };
    let (name, owner): (String, Option<String>) = (get(&row, 0)?, get(&row, 1)?);
    match owner {
        Some(owner) if owner == principal => Ok(()),
        owner => Err(Error::Forbidden {
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
fn resolve(tx: &PgTx<'_>, key: &str) -> Result<String> {
    if let Some(r) = tx.query_opt("SELECT id FROM agents WHERE name = $1", &[&key])? {
        return get(&r, 0);
    }
    let p = key.to_ascii_uppercase();
    let hi = format!("{p}\u{7f}");
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM agents WHERE id COLLATE \"C\" >= $1 AND id COLLATE \"C\" < $2 LIMIT 6",
            &[&p, &hi],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_>>()?;
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => {
            let names: Vec<String> = tx
                .query("SELECT name FROM agents ORDER BY name", &[])?
                .iter()
                .map(|r| get(r, 0))
                .collect::<Result<_>>()?;
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
fn held(tx: &PgTx<'_>) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in tx.query(
        "SELECT agent_id, run_id, step_id, attempt FROM steps
         WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL ORDER BY seq",
        &[],
    )? {
        let (agent, run, step, attempt): (String, String, String, i64) =
            (get(&r, 0)?, get(&r, 1)?, get(&r, 2)?, get(&r, 3)?);
        out.entry(agent)
            .or_default()
            .push(format!("{}/{step}#{attempt}", short_id(&run)));
    }
    Ok(out)
}

pub fn list(tx: &PgTx<'_>) -> Result<Vec<Agent>> {
    let now = now_ms();
    Ok(list_with_stopped(tx)?
        .into_iter()
        .map(|(mut a, stopped)| {
            a.state = agent_state(&a, stopped, now);
            a
        })
        .collect())
}

/// Every agent by name, with what it holds and when it stopped (its state not yet derived).
pub fn list_with_stopped(tx: &PgTx<'_>) -> Result<Vec<(Agent, Option<i64>)>> {
    let held = held(tx)?;
    let mut out = Vec::new();
    for r in tx.query(
        &format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY name COLLATE \"C\""),
        &[],
    )? {
        let (mut a, stopped) = agent_from_row(&r)?;
        a.current = held.get(&a.id).cloned().unwrap_or_default();
        a.running = u32::try_from(a.current.len()).unwrap_or(u32::MAX);
        out.push((a, stopped));
    }
    Ok(out)
}

/// The agents that can take steps now (not stopped, heard from within their lease), by name.
pub fn live(tx: &PgTx<'_>) -> Result<Vec<Agent>> {
    Ok(list(tx)?
        .into_iter()
        .filter(|a| a.state != AgentState::Offline)
        .collect())
}

pub fn get_agent(tx: &PgTx<'_>, key: &str) -> Result<Agent> {
    let id = resolve(tx, key)?;
    list(tx)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| Error::not_found("agent", key))
}

pub fn set_draining(tx: &PgTx<'_>, key: &str, draining: bool) -> Result<Agent> {
    let id = resolve(tx, key)?;
    tx.execute(
        "UPDATE agents SET draining = $2 WHERE id = $1",
        &[&id, &draining],
    )?;
    let kind = if draining {
        "agent.draining"
    } else {
        "agent.resumed"
    };
    insert_event(tx, kind, None, None, serde_json::json!({ "agent": id }))?;
    get_agent(tx, &id)
}

/// Remove an agent (see `store::sqlite::agents::remove`).
pub fn remove(tx: &PgTx<'_>, cache: &SpecCache, key: &str, force: bool) -> Result<Agent> {
    let id = resolve(tx, key)?;
    let agent = get_agent(tx, &id)?;
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
    tx.execute("DELETE FROM agents WHERE id = $1", &[&id])?;
    insert_event(
        tx,
        "agent.removed",
        None,
        None,
        serde_json::json!({ "agent": agent.name }),
    )?;
    Ok(agent)
}

/// A stopping agent: what it still holds is lost, and it is marked stopped.
pub fn deregister(tx: &PgTx<'_>, cache: &SpecCache, agent_id: &str) -> Result<()> {
    lose_held(tx, cache, agent_id, &LostCause::Stopped)?;
    tx.execute(
        "UPDATE agents SET stopped_at = $2 WHERE id = $1",
        &[&agent_id, &now_ms()],
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
