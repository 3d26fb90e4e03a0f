//! The agents that can take steps now, for explaining why a step waits
//! (`engine::placement`): only live agents (not stopped, heard from within their own lease), each with
//! how many steps it holds. Cheaper than `agents::list`, which reads every agent ever registered
//! and every held step: `get_run` calls this whenever a live run has steps not yet taken.

use rusqlite::Transaction;

use super::rows::{AGENT_COLUMNS, DEFAULT_LEASE_MS, agent_from_row, agent_state};
use crate::Result;
use crate::model::{Agent, AgentState, now_ms};

/// Agents heard from within their own lease, by name, with `running` and `state` set.
pub fn live_agents(tx: &Transaction<'_>) -> Result<Vec<Agent>> {
    let now = now_ms();
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {AGENT_COLUMNS},
                (SELECT count(*) FROM steps s
                  WHERE s.agent_id = agents.id AND s.status IN ('leased', 'running'))
         FROM agents
         WHERE stopped_at IS NULL AND last_heartbeat + coalesce(lease_ms, ?2) >= ?1
         ORDER BY name"
    ))?;
    let rows = stmt.query_map([now, DEFAULT_LEASE_MS], |r| {
        let (agent, stopped) = agent_from_row(r)?;
        let held: u32 = r.get(13)?;
        Ok((agent, stopped, held))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut agent, stopped, held) = row?;
        agent.running = held;
        agent.state = agent_state(&agent, stopped, now);
        if agent.state != AgentState::Offline {
            out.push(agent);
        }
    }
    Ok(out)
}
