//! Agents: register, look up, drain, resume, remove, deregister; derived states.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::insert_event;
use super::rows::{AGENT_COLUMNS, agent_from_row, agent_state};
use crate::model::{Agent, AgentRegistration, new_id, now_ms, short_id};
use crate::{Error, Result};

/// Register an agent. A name held by an agent that is still online is a conflict; an offline
/// holder is replaced (its leases go back to the queue).
pub fn register(
    tx: &Transaction<'_>,
    reg: &AgentRegistration,
    offline_after_ms: i64,
) -> Result<Agent> {
    let now = now_ms();
    let existing: Option<(String, i64, Option<i64>, String, u32)> = tx
        .query_row(
            "SELECT id, last_heartbeat, stopped_at, hostname, pid FROM agents WHERE name = ?1",
            [&reg.name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    if let Some((old_id, beat, stopped, host, pid)) = existing {
        if stopped.is_none() && now - beat <= offline_after_ms {
            return Err(Error::Conflict(format!(
                "an agent named {:?} is already online (pid {pid} on {host}); choose another --name",
                reg.name
            )));
        }
        release_leases(tx, &old_id, true)?;
        tx.execute("DELETE FROM agents WHERE id = ?1", [&old_id])?;
    }
    let id = new_id();
    tx.execute(
        "INSERT INTO agents (id, name, labels, slots, registered_at, last_heartbeat, hostname, pid, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
        params![
            id,
            reg.name,
            serde_json::to_string(&reg.labels)?,
            reg.slots,
            now,
            reg.hostname,
            reg.pid,
            reg.version
        ],
    )?;
    insert_event(
        tx,
        "agent.registered",
        None,
        None,
        serde_json::json!({ "agent": reg.name, "id": id }),
    )?;
    get(tx, &id, offline_after_ms)
}

/// Put an agent's held steps back in the queue. `lost` counts it against the lost-agent budget.
pub fn release_leases(tx: &Transaction<'_>, agent_id: &str, lost: bool) -> Result<usize> {
    let n = tx.execute(
        "UPDATE steps SET status = 'ready', agent_id = NULL, lease_until = NULL, not_before = ?2,
                lost = lost + ?3
         WHERE agent_id = ?1 AND status IN ('leased', 'running')",
        params![agent_id, now_ms(), i64::from(lost)],
    )?;
    Ok(n)
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

pub fn list(tx: &Transaction<'_>, offline_after_ms: i64) -> Result<Vec<Agent>> {
    let now = now_ms();
    let held = held(tx)?;
    let mut stmt = tx.prepare(&format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY name"))?;
    let rows = stmt.query_map([], agent_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut a, stopped) = row?;
        a.current = held.get(&a.id).cloned().unwrap_or_default();
        a.running = u32::try_from(a.current.len()).unwrap_or(u32::MAX);
        a.state = agent_state(&a, stopped, now, offline_after_ms);
        out.push(a);
    }
    Ok(out)
}

pub fn get(tx: &Transaction<'_>, key: &str, offline_after_ms: i64) -> Result<Agent> {
    let id = resolve(tx, key)?;
    list(tx, offline_after_ms)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| Error::not_found("agent", key))
}

pub fn set_draining(
    tx: &Transaction<'_>,
    key: &str,
    draining: bool,
    offline_after_ms: i64,
) -> Result<Agent> {
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
    get(tx, &id, offline_after_ms)
}

pub fn remove(tx: &Transaction<'_>, key: &str, offline_after_ms: i64) -> Result<Agent> {
    let id = resolve(tx, key)?;
    let agent = get(tx, &id, offline_after_ms)?;
    release_leases(tx, &id, false)?;
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

/// A stopping agent: give back what it holds and mark it stopped.
pub fn deregister(tx: &Transaction<'_>, agent_id: &str) -> Result<()> {
    release_leases(tx, agent_id, false)?;
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
