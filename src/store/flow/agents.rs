//! Agents: register (taking a name over from a process that is gone), look up, drain, resume,
//! remove, deregister; who may act for an agent; derived states — written once over
//! [`AgentRows`], the agent rows each backend reads and writes.

use std::collections::HashMap;

use super::Rows;
use super::reap::lose_held;
use crate::engine::{LostCause, SpecCache};
use crate::model::{Agent, AgentRegistration, AgentState, new_id, now_ms, short_id};
use crate::store::sqlite::rows::{agent_state, offline};
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

/// A held attempt as an agent's listing shows it.
pub struct HeldStep {
    pub agent_id: String,
    pub run_id: String,
    pub step_id: String,
    pub attempt: i64,
}

/// What a backend does for agents: SQL only.
pub trait AgentRows: Rows {
    /// Registrations of `name` queue here until this transaction ends (a name nobody holds yet
    /// has no row to lock).
    fn lock_agent_name(&self, name: &str) -> Result<()>;
    /// The agent holding `name`, locked.
    fn name_holder(&self, name: &str) -> Result<Option<Holder>>;
    /// Store a new agent `id`, heard from at `now`.
    fn insert_agent(
        &self,
        id: &str,
        reg: &AgentRegistration,
        principal: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<()>;
    fn delete_agent(&self, id: &str) -> Result<()>;
    fn set_agent_draining_flag(&self, id: &str, draining: bool) -> Result<()>;
    fn mark_agent_stopped(&self, id: &str, now: i64) -> Result<()>;
    /// An agent's name and the principal that registered it.
    fn agent_owner(&self, id: &str) -> Result<Option<(String, Option<String>)>>;
    fn agent_id_by_name(&self, name: &str) -> Result<Option<String>>;
    /// Up to 6 agent ids from `lo` (inclusive) to `hi` (exclusive), in byte order.
    fn agent_ids_between(&self, lo: &str, hi: &str) -> Result<Vec<String>>;
    /// Every agent name, in order.
    fn agent_names(&self) -> Result<Vec<String>>;
    /// Every agent by name with when it stopped (`running`, `current` and `state` not filled).
    fn agent_rows(&self) -> Result<Vec<(Agent, Option<i64>)>>;
    /// Every held (leased or running) attempt that has an agent.
    fn held_steps(&self) -> Result<Vec<HeldStep>>;
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
pub fn register<T: AgentRows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    reg: &AgentRegistration,
    principal: &str,
    lease_ms: i64,
) -> Result<Agent> {
    let now = now_ms();
    tx.lock_agent_name(&reg.name)?;
    let mut replaced = serde_json::Value::Null;
    if let Some(old) = tx.name_holder(&reg.name)? {
        let why = if old.stopped_at.is_some() {
            "it had stopped".to_string()
        } else if offline(old.last_heartbeat, Some(old.lease_ms), now) {
            "it had gone offline".to_string()
        } else {
            takeover(&old, reg, principal)?
        };
        lose_held(tx, cache, &old.id, &LostCause::Replaced(why.clone()))?;
        tx.delete_agent(&old.id)?;
        replaced = serde_json::json!({ "id": old.id, "why": why });
    }
    let id = new_id();
    tx.insert_agent(&id, reg, principal, now, lease_ms)?;
    tx.event(
        "agent.registered",
        None,
        None,
        serde_json::json!({ "agent": reg.name, "id": id, "replaced": replaced }),
    )?;
    get(tx, &id)
}

/// `Ok(true)` if `principal` may act for agent `agent_id` (the one that registered it),
/// `Ok(false)` if there is no such agent (the call then fails or answers as it would for any
/// unknown agent).
pub fn check_bound<T: AgentRows + ?Sized>(tx: &T, agent_id: &str, principal: &str) -> Result<bool> {
    match tx.agent_owner(agent_id)? {
        None => Ok(false),
        Some((_, Some(owner))) if owner == principal => Ok(true),
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
fn resolve<T: AgentRows + ?Sized>(tx: &T, key: &str) -> Result<String> {
    if let Some(id) = tx.agent_id_by_name(key)? {
        return Ok(id);
    }
    let p = key.to_ascii_uppercase();
    let hi = format!("{p}\u{7f}");
    let ids = tx.agent_ids_between(&p, &hi)?;
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => {
            let names = tx.agent_names()?;
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

/// Every agent by name, with what it holds (as `run/step#attempt`) and when it stopped (its
/// state not yet derived).
pub fn list_with_stopped<T: AgentRows + ?Sized>(tx: &T) -> Result<Vec<(Agent, Option<i64>)>> {
    let mut held: HashMap<String, Vec<String>> = HashMap::new();
    for h in tx.held_steps()? {
        held.entry(h.agent_id).or_default().push(format!(
            "{}/{}#{}",
            short_id(&h.run_id),
            h.step_id,
            h.attempt
        ));
    }
    let mut out = tx.agent_rows()?;
    for (a, _) in &mut out {
        a.current = held.get(&a.id).cloned().unwrap_or_default();
        a.running = u32::try_from(a.current.len()).unwrap_or(u32::MAX);
    }
    Ok(out)
}

/// Every agent by name, its state derived now.
pub fn list<T: AgentRows + ?Sized>(tx: &T) -> Result<Vec<Agent>> {
    let now = now_ms();
    Ok(list_with_stopped(tx)?
        .into_iter()
        .map(|(mut a, stopped)| {
            a.state = agent_state(&a, stopped, now);
            a
        })
        .collect())
}

/// An agent by name, id or unique id prefix.
pub fn get<T: AgentRows + ?Sized>(tx: &T, key: &str) -> Result<Agent> {
    let id = resolve(tx, key)?;
    list(tx)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| Error::not_found("agent", key))
}

/// Drain an agent (it takes no new steps) or resume it.
pub fn set_draining<T: AgentRows + ?Sized>(tx: &T, key: &str, draining: bool) -> Result<Agent> {
    let id = resolve(tx, key)?;
    tx.set_agent_draining_flag(&id, draining)?;
    let kind = if draining {
        "agent.draining"
    } else {
        "agent.resumed"
    };
    tx.event(kind, None, None, serde_json::json!({ "agent": id }))?;
    get(tx, &id)
}

/// Remove an agent. One that is online and holds steps is refused unless `force`; what it
/// holds is lost (the lease-lost transition), and a running `imx agent run` under it stops.
pub fn remove<T: AgentRows + ?Sized>(
    tx: &T,
    cache: &SpecCache,
    key: &str,
    force: bool,
) -> Result<Agent> {
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
    tx.delete_agent(&id)?;
    tx.event(
        "agent.removed",
        None,
        None,
        serde_json::json!({ "agent": agent.name }),
    )?;
    Ok(agent)
}

/// A stopping agent: what it still holds is lost (the lease-lost transition), and it is marked
/// stopped.
pub fn deregister<T: AgentRows + ?Sized>(tx: &T, cache: &SpecCache, agent_id: &str) -> Result<()> {
    lose_held(tx, cache, agent_id, &LostCause::Stopped)?;
    tx.mark_agent_stopped(agent_id, now_ms())?;
    tx.event(
        "agent.stopped",
        None,
        None,
        serde_json::json!({ "agent": agent_id }),
    )?;
    Ok(())
}
