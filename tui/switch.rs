//! Reaching other control planes from the dashboard: `:ctx NAME` reconnects to another context
//! through a [`Switcher`] (the CLI builds one from the contexts config), and the palette's
//! completion reads its candidates (run ids, agent, workflow and context names) here.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use imx::auth::Principal;
use imx::control::{AgentQuery, Plane, RunQuery, RunSort};

use super::palette::Candidates;

/// A control plane the dashboard connected to, and who it takes us to be there.
pub struct Connected {
    pub plane: Plane,
    pub who: Principal,
    /// Where it reads (`local /path`, `remote https://…`).
    pub location: String,
}

impl fmt::Debug for Connected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connected")
            .field("who", &self.who)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// What connecting gives: the connection, or why there is none (to show the operator).
pub type Connecting = Pin<Box<dyn Future<Output = Result<Connected, String>> + Send>>;

/// Named contexts the dashboard can switch to.
pub trait Switcher: Send + Sync {
    /// The contexts' names (read afresh: the config may have changed).
    fn names(&self) -> Vec<String>;
    /// Connect to context `name` (without touching the current connection).
    fn connect(&self, name: &str) -> Connecting;
}

/// A shared [`Switcher`].
pub type Switch = Arc<dyn Switcher>;

/// Run ids of the newest runs (and of those starting with `run_prefix`), agent and workflow
/// names, and the contexts: what the palette completes. Reads that fail add nothing.
pub async fn candidates(
    plane: &Plane,
    who: &Principal,
    switcher: Option<&Switch>,
    run_prefix: Option<String>,
) -> Candidates {
    const LIMIT: u32 = 200;
    let mut c = Candidates::default();
    let runs = RunQuery {
        status: None,
        workflow: None,
        text: run_prefix.clone(),
        sort: RunSort::Newest,
        cursor: None,
        limit: LIMIT,
    };
    if let Ok(page) = plane.dashboard_runs(who, runs).await {
        let prefix = run_prefix.unwrap_or_default().to_ascii_uppercase();
        c.runs = page
            .items
            .into_iter()
            .map(|r| r.id)
            .filter(|id| id.starts_with(&prefix))
            .collect();
    }
    let agents = AgentQuery {
        text: None,
        after: None,
        limit: LIMIT,
    };
    if let Ok(page) = plane.dashboard_agents(who, agents).await {
        c.agents = page.items.into_iter().map(|a| a.name).collect();
    }
    if let Ok(list) = plane.list_workflows(who).await {
        c.workflows = list.into_iter().map(|w| w.name).collect();
    }
    if let Some(s) = switcher {
        c.contexts = s.names();
    }
    c.merge(Candidates::default());
    c
}

/// Find the run `prefix` names (the control plane resolves unique prefixes).
pub async fn resolve_run(plane: &Plane, who: &Principal, prefix: &str) -> Result<String, String> {
    plane
        .get_run(who, prefix)
        .await
        .map(|d| d.run.id)
        .map_err(|e| format!("No run {prefix}: {e}"))
}
