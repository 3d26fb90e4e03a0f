//! `imx agent run [--name N] [--labels k=v,...] [--slots K]`: the worker process.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use imx::agent::AgentConfig;
use imx::control::Plane;
use imx::model::short_id;
use tokio::sync::watch;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::Printer;
use super::super::parse;

/// Run an agent in this process: register, claim matching steps, run them, report. SIGINT or
/// SIGTERM drains (no new steps; running ones finish), then exits; a second signal stops at once.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx agent run
  imx agent run --name build-01 --labels os=linux,arch=amd64 --slots 8
  imx -v agent run            # one line per step it runs")]
pub struct RunArgs {
    /// The agent's name [default: <hostname>-<pid>].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Labels that steps can select on, e.g. os=linux,gpu=true.
    #[arg(short, long, value_name = "K=V,...", value_parser = parse::labels)]
    pub labels: Option<BTreeMap<String, String>>,

    /// How many steps it runs at once.
    #[arg(long, default_value_t = 4, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub slots: u32,
}

pub async fn run(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let name = args
        .name
        .unwrap_or_else(|| format!("{}-{}", imx::config::hostname(), std::process::id()));
    let lease_ms = ctx.local_options(false)?.lease_ms;
    let config = AgentConfig {
        name: name.clone(),
        labels: args.labels.unwrap_or_default(),
        slots: args.slots,
        heartbeat: Duration::from_millis((lease_ms / 3).max(100)),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let labels = if config.labels.is_empty() {
        "no labels".to_string()
    } else {
        config
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    ctx.out().status(format!(
        "Agent {name} started on {} ({} slots, {labels}); Ctrl-C to drain and stop.",
        plane.location(),
        config.slots
    ));

    let reporter = (ctx.out().verbosity() > 0 && !ctx.out().quiet()).then(|| {
        tokio::spawn(report_steps(
            plane.clone(),
            ctx.principal(),
            name.clone(),
            ctx.out().clone(),
        ))
    });
    let worker = imx::agent::run(plane, ctx.principal(), config, stop_rx);
    tokio::pin!(worker);

    let mut signals = Signals::new()?;
    let result = tokio::select! {
        r = &mut worker => r,
        () = signals.next() => {
            ctx.out().status(format!(
                "Draining agent {name}: no new steps; waiting for running steps (signal again to stop now)."
            ));
            let _ = stop_tx.send(true);
            tokio::select! {
                r = &mut worker => r,
                () = signals.next() => {
                    if let Some(r) = reporter { r.abort(); }
                    return Err(CliError::other(format!(
                        "agent {name} stopped without draining; the steps it held are retried when their leases expire"
                    )));
                }
            }
        }
    };
    if let Some(r) = reporter {
        r.abort();
    }
    let summary = result?;
    ctx.out().status(format!(
        "Agent {name} stopped: {} step(s) succeeded, {} failed.",
        summary.succeeded, summary.failed
    ));
    Ok(())
}

/// SIGINT and SIGTERM as one stream.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self, CliError> {
        use tokio::signal::unix::{SignalKind, signal};
        let err = |e: std::io::Error| CliError::other(format!("cannot listen for signals: {e}"));
        Ok(Signals {
            term: signal(SignalKind::terminate()).map_err(err)?,
            int: signal(SignalKind::interrupt()).map_err(err)?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {},
            _ = self.int.recv() => {},
        }
    }
}

/// With -v: one line when this agent starts a step and one when the step ends.
async fn report_steps(plane: Plane, who: imx::auth::Principal, name: String, out: Printer) {
    let mut held: BTreeSet<String> = BTreeSet::new();
    loop {
        plane.wait_for_change(Duration::from_secs(1)).await;
        let Ok(agent) = plane.get_agent(&who, &name).await else {
            continue;
        };
        let now: BTreeSet<String> = agent.current.iter().cloned().collect();
        for started in now.difference(&held) {
            out.status(format!("→ {}", describe(started)));
        }
        for ended in held.difference(&now) {
            let status = step_status(&plane, &who, ended).await;
            out.status(format!("{} {}", status, describe(ended)));
        }
        held = now;
    }
}

/// `run/step#attempt` → `step build of run 01HZX4ABCDEF (attempt 2)`.
fn describe(lease: &str) -> String {
    match parse_lease(lease) {
        Some((run, step, attempt)) => {
            format!("step {step} of run {} (attempt {attempt})", short_id(run))
        }
        None => lease.to_string(),
    }
}

fn parse_lease(lease: &str) -> Option<(&str, &str, &str)> {
    let (rest, attempt) = lease.rsplit_once('#')?;
    let (run, step) = rest.split_once('/')?;
    Some((run, step, attempt))
}

async fn step_status(plane: &Plane, who: &imx::auth::Principal, lease: &str) -> String {
    let Some((run, step, _)) = parse_lease(lease) else {
        return "·".into();
    };
    match plane.get_run(who, run).await {
        Ok(detail) => detail
            .steps
            .iter()
            .find(|s| s.step_id == step)
            .map(|s| format!("{} {}:", imx::control::step_symbol(s.status), s.status))
            .unwrap_or_else(|| "·".into()),
        Err(_) => "·".into(),
    }
}
