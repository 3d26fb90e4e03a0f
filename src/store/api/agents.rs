//! Agents inside one store transaction: registration, lookup, draining, removal, and which
//! agents are live for placement.

use crate::Result;
use crate::engine::SpecCache;
use crate::model::{Agent, AgentRegistration};

/// Agents.
pub trait AgentsTx {
    /// Register an agent for `principal` (a name held by a live agent of another principal is
    /// refused; one held by a dead agent is taken over), granting leases of `lease_ms`.
    fn register_agent(
        &self,
        cache: &SpecCache,
        reg: &AgentRegistration,
        principal: &str,
        lease_ms: i64,
    ) -> Result<Agent>;
    /// Refuse ([`crate::Error::Forbidden`]) `principal` acting for agent `agent_id` unless it
    /// registered it; unknown agents pass. `true`: the agent exists, bound to `principal` (a
    /// binding never changes, so the answer may be remembered); `false`: no such agent.
    fn check_agent_bound(&self, agent_id: &str, principal: &str) -> Result<bool>;
    /// Every agent.
    fn list_agents(&self) -> Result<Vec<Agent>>;
    /// An agent by name or id.
    fn get_agent(&self, key: &str) -> Result<Agent>;
    /// Drain (or resume) an agent.
    fn set_agent_draining(&self, key: &str, draining: bool) -> Result<Agent>;
    /// Remove an agent (`force`: even while it holds steps, which are then lost).
    fn remove_agent(&self, cache: &SpecCache, key: &str, force: bool) -> Result<Agent>;
    /// An agent leaves: its held steps are lost, its row goes.
    fn deregister_agent(&self, cache: &SpecCache, agent_id: &str) -> Result<()>;
    /// The agents that can take steps now (for saying why steps wait).
    fn live_agents(&self) -> Result<Vec<Agent>>;
}
