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
        schedule: None,
        sort: RunSort::Newest,
        cursor: None,
        limit: LIMIT,
        since: None,
        labels: Default::default(),
        waiting: false,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeMap;

    use imx::control::{LocalControlPlane, LocalOptions, StartRun};
    use imx::model::{StepKind, StepSpec, WorkflowSpec};

    use super::*;

    /// A new store in `dir` with workflow `wf` and one run of it.
    async fn store(dir: &std::path::Path, wf: &str) -> (Plane, String) {
        let opts = LocalOptions {
            create: true,
            ..LocalOptions::default()
        };
        let plane: Plane = Arc::new(LocalControlPlane::open(&dir.join("imx.db"), opts).unwrap());
        let who = Principal::local_owner();
        let spec = WorkflowSpec::new(wf, vec![StepSpec::new("s", StepKind::Noop)]);
        plane.apply_workflow(&who, spec, false).await.unwrap();
        let run = plane
            .start_run(
                &who,
                StartRun {
                    workflow: wf.into(),
                    ..StartRun::default()
                },
            )
            .await
            .unwrap();
        (plane, run.id)
    }

    /// Contexts over planes already open.
    struct Planes(BTreeMap<String, Plane>);

    impl Switcher for Planes {
        fn names(&self) -> Vec<String> {
            self.0.keys().cloned().collect()
        }
        fn connect(&self, name: &str) -> Connecting {
            let found = self.0.get(name).cloned();
            let name = name.to_string();
            Box::pin(async move {
                let plane = found.ok_or(format!("context {name:?} not found"))?;
                let who = plane
                    .whoami(&Principal::local_owner())
                    .await
                    .map_err(|e| e.to_string())?;
                let location = plane.location();
                Ok(Connected {
                    plane,
                    who,
                    location,
                })
            })
        }
    }

    #[tokio::test]
    async fn candidates_and_runs_come_from_the_context_connected_to() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, run_a) = store(da.path(), "alpha").await;
        let (b, run_b) = store(db.path(), "bravo").await;
        let switch: Switch = Arc::new(Planes(BTreeMap::from([
            ("a".to_string(), a.clone()),
            ("b".to_string(), b),
        ])));
        let who = Principal::local_owner();

        let c = candidates(&a, &who, Some(&switch), None).await;
        assert_eq!(c.workflows, ["alpha"]);
        assert_eq!(c.runs, std::slice::from_ref(&run_a));
        assert_eq!(c.contexts, ["a", "b"]);

        let to = switch.connect("b").await.unwrap();
        assert!(
            to.location.contains(&db.path().display().to_string()),
            "{to:?}"
        );
        let c = candidates(
            &to.plane,
            &to.who,
            Some(&switch),
            Some(run_b[..8].to_lowercase()),
        )
        .await;
        assert_eq!(
            (c.workflows, c.runs),
            (vec!["bravo".to_string()], vec![run_b.clone()])
        );
        assert_eq!(
            resolve_run(&to.plane, &to.who, &run_b[..10]).await,
            Ok(run_b)
        );
        let missing = resolve_run(&to.plane, &to.who, &run_a).await.unwrap_err();
        assert!(
            missing.starts_with(&format!("No run {run_a}: ")),
            "{missing}"
        );
        assert!(switch.connect("c").await.unwrap_err().contains("not found"));
    }
}
