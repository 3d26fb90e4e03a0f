//! The agent rows on SQLite ([`AgentRows`]; registering, draining, removing and listing agents
//! are `store::flow::agents`). With one writer, a name needs no lock of its own.

use rusqlite::{OptionalExtension, Transaction, params};

use super::rows::{AGENT_COLUMNS, agent_from_row};
use crate::Result;
use crate::model::{Agent, AgentRegistration};
use crate::store::flow::agents::{AgentRows, HeldStep, Holder};

impl AgentRows for Transaction<'_> {
    /// Nothing to do: this transaction is the one writer.
    fn lock_agent_name(&self, _name: &str) -> Result<()> {
        Ok(())
    }

    fn name_holder(&self, name: &str) -> Result<Option<Holder>> {
        Ok(self
            .query_row(
                "SELECT id, last_heartbeat, stopped_at, hostname, pid, principal, instance,
                        pid_scope, lease_ms
                 FROM agents WHERE name = ?1",
                [name],
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
            .optional()?)
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
        Ok(())
    }

    fn delete_agent(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM agents WHERE id = ?1", [id])?;
        Ok(())
    }

    fn set_agent_draining_flag(&self, id: &str, draining: bool) -> Result<()> {
        self.execute(
            "UPDATE agents SET draining = ?2 WHERE id = ?1",
            params![id, draining],
        )?;
        Ok(())
    }

    fn mark_agent_stopped(&self, id: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE agents SET stopped_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    fn agent_owner(&self, id: &str) -> Result<Option<(String, Option<String>)>> {
        Ok(self
            .prepare_cached("SELECT name, principal FROM agents WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn agent_id_by_name(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .query_row("SELECT id FROM agents WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn agent_ids_between(&self, lo: &str, hi: &str) -> Result<Vec<String>> {
        let ids = self
            .prepare("SELECT id FROM agents WHERE id >= ?1 AND id < ?2 LIMIT 6")?
            .query_map(params![lo, hi], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn agent_names(&self) -> Result<Vec<String>> {
        let names = self
            .prepare("SELECT name FROM agents ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    fn agent_rows(&self) -> Result<Vec<(Agent, Option<i64>)>> {
        let rows = self
            .prepare(&format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY name"))?
            .query_map([], agent_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn held_steps(&self) -> Result<Vec<HeldStep>> {
        let rows = self
            .prepare_cached(
                "SELECT agent_id, run_id, step_id, attempt FROM steps
                 WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL",
            )?
            .query_map([], |r| {
                Ok(HeldStep {
                    agent_id: r.get(0)?,
                    run_id: r.get(1)?,
                    step_id: r.get(2)?,
                    attempt: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
