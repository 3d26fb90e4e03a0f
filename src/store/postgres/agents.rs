//! The agent rows on PostgreSQL ([`AgentRows`]; registering, draining, removing and listing
//! agents are `store::flow::agents`). Replicas register concurrently: a name is locked while
//! registration decides, so two replicas registering one name decide one after the other.

use std::collections::BTreeMap;

use tokio_postgres::Row;

use super::tx::{PgTx, get, get_u32};
use crate::Result;
use crate::model::{Agent, AgentRegistration, AgentState};
use crate::store::flow::agents::{AgentRows, HeldStep, Holder, list};

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

/// The agents that can take steps now (not stopped, heard from within their lease), by name.
pub fn live(tx: &PgTx<'_>) -> Result<Vec<Agent>> {
    Ok(list(tx)?
        .into_iter()
        .filter(|a| a.state != AgentState::Offline)
        .collect())
}

impl AgentRows for PgTx<'_> {
    /// A transaction-scoped advisory lock: a name nobody holds yet has no row to lock.
    fn lock_agent_name(&self, name: &str) -> Result<()> {
        self.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('imx.agent:' || $1, 0))",
            &[&name],
        )?;
        Ok(())
    }

    fn name_holder(&self, name: &str) -> Result<Option<Holder>> {
        self.query_opt(
            "SELECT id, last_heartbeat, stopped_at, hostname, pid, principal, instance, pid_scope,
                    lease_ms
             FROM agents WHERE name = $1 FOR UPDATE",
            &[&name],
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
        .transpose()
    }

    fn insert_agent(
        &self,
        id: &str,
        reg: &AgentRegistration,
        principal: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO agents (id, name, labels, slots, registered_at, last_heartbeat, hostname,
                                 pid, version, principal, instance, pid_scope, lease_ms)
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
        Ok(())
    }

    fn delete_agent(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM agents WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn set_agent_draining_flag(&self, id: &str, draining: bool) -> Result<()> {
        self.execute(
            "UPDATE agents SET draining = $2 WHERE id = $1",
            &[&id, &draining],
        )?;
        Ok(())
    }

    fn mark_agent_stopped(&self, id: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE agents SET stopped_at = $2 WHERE id = $1",
            &[&id, &now],
        )?;
        Ok(())
    }

    fn agent_owner(&self, id: &str) -> Result<Option<(String, Option<String>)>> {
        self.query_opt("SELECT name, principal FROM agents WHERE id = $1", &[&id])?
            .map(|r| Ok((get(&r, 0)?, get(&r, 1)?)))
            .transpose()
    }

    fn agent_id_by_name(&self, name: &str) -> Result<Option<String>> {
        self.query_opt("SELECT id FROM agents WHERE name = $1", &[&name])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    /// Byte order (COLLATE "C"), as SQLite compares: the prefix range is exact.
    fn agent_ids_between(&self, lo: &str, hi: &str) -> Result<Vec<String>> {
        self.query(
            "SELECT id FROM agents WHERE id COLLATE \"C\" >= $1 AND id COLLATE \"C\" < $2 LIMIT 6",
            &[&lo, &hi],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn agent_names(&self) -> Result<Vec<String>> {
        self.query("SELECT name FROM agents ORDER BY name", &[])?
            .iter()
            .map(|r| get(r, 0))
            .collect()
    }

    fn agent_rows(&self) -> Result<Vec<(Agent, Option<i64>)>> {
        self.query(
            &format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY name COLLATE \"C\""),
            &[],
        )?
        .iter()
        .map(agent_from_row)
        .collect()
    }

    fn held_steps(&self) -> Result<Vec<HeldStep>> {
        self.query(
            "SELECT agent_id, run_id, step_id, attempt FROM steps
             WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL ORDER BY seq",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(HeldStep {
                agent_id: get(r, 0)?,
                run_id: get(r, 1)?,
                step_id: get(r, 2)?,
                attempt: get(r, 3)?,
            })
        })
        .collect()
    }
}
