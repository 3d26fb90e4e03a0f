//! `imx agent run [--name N] [--labels k=v,...] [--slots K] [--pass-env NAME]`: the worker
//! process.

use std::collections::BTreeMap;
use std::sync::Arc;

use imx::agent::{AgentConfig, AgentEvent};
use imx::model::{StepOutcome, short_id};
use tokio::sync::watch;

use super::super::context::Context;
use super::super::error::CliError;
use super::super::output::Printer;
use super::super::parse;
use super::steps;

/// Run an agent in this process: register, claim matching steps, run them, report. SIGINT or
/// SIGTERM drains (no new steps; running ones finish), then exits; a second signal stops at once.
///
/// It heartbeats at a third of the lease the control plane grants, learned when it registers.
/// On a local store this process is the control plane: IMX_LEASE, IMX_MAX_OUTPUT and
/// IMX_MAX_LOG set its lease and limits (see `imx server --help`); with --server they are the
/// server's.
#[derive(Debug, clap::Args)]
#[command(after_help = "Steps:
  A `run` step gets a clean environment, never the agent's: PATH, HOME, LANG and TZ (the
  agent's; when unset /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, /,
  C.UTF-8 and :/etc/localtime), IMX_RUN_ID, IMX_STEP_ID, IMX_ATTEMPT, IMX_IDEMPOTENCY_KEY,
  IMX_WORKFLOW, IMX_OUTPUT, the step's `env:`, and the variables named by --pass-env. No
  credential of the agent (IMX_TOKEN, ...) reaches a step.
  Each step runs in its own cgroup (where the agent may create cgroup v2 directories) or under
  a subreaper: everything it starts, `setsid` daemons too, is killed on timeout, cancel and
  completion, and when the agent dies. The start-up log says which; IMX_CONTAINMENT=subreaper
  forces the fallback, IMX_CONTAINMENT=cgroup refuses to start without cgroups.

Examples:
  imx agent run
  imx agent run --name build-01 --labels os=linux,arch=amd64 --slots 8
  imx -v agent run            # one line per step it runs
  imx agent run --pass-env HTTPS_PROXY --pass-env SSL_CERT_FILE
  imx agent run --server https://imx.example:8443 --token-file /etc/imx/agent-token
  IMX_TOKEN=imx_... imx agent run --server https://imx.example:8443
  imx agent run --server https://imx-1:8443,https://imx-2:8443   # replicas: moves on if one fails
  imx agent run --name build-01 --instance \"$INVOCATION_ID\"   # in a systemd unit")]
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

    /// The token for --server (visible to other users in the process list: prefer
    /// --token-file or IMX_TOKEN).
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,

    /// Read the token for --server from this file (e.g. one only the agent's user can read).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,

    /// A nonce the supervisor gives each start of this agent (e.g. systemd's $INVOCATION_ID):
    /// a start with a new one takes the name over from the previous process at once, wherever
    /// it ran. Without it, a restart on the same host takes the name over once the previous
    /// process is gone.
    #[arg(long, value_name = "ID", env = "IMX_AGENT_INSTANCE")]
    pub instance: Option<String>,
    /// Pass this variable of the agent's environment to every step (repeatable, or NAME,NAME);
    /// IMX_* names are refused.
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = parse::pass_env_name)]
    pub pass_env: Vec<String>,
}

/// The token from `--token` or `--token-file`, if either is given; only for a server.
fn flag_token(ctx: &Context, args: &RunArgs) -> Result<Option<imx::auth::Secret>, CliError> {
    let token = match (&args.token, &args.token_file) {
        (Some(token), _) => token.trim().to_string(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .map_err(|e| {
                CliError::usage(format!(
                    "cannot read the token file {}: {e}",
                    file.display()
                ))
            })?
            .trim()
            .to_string(),
        (None, None) => return Ok(None),
    };
    if token.is_empty() {
        return Err(CliError::usage("the token is empty"));
    }
    if !matches!(ctx.target()?, imx::config::contexts::Target::Remote { .. }) {
        return Err(
            CliError::usage("--token and --token-file are for an agent of a server")
                .with_hint("add --server URL (or use a context with a server)"),
        );
    }
    Ok(Some(imx::auth::Secret::new(&token)))
}

pub async fn run(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    if let Some(token) = flag_token(ctx, &args)? {
        ctx.use_token(token);
    }
    let local = ctx.local_plane()?;
    let plane = ctx.plane()?;
    let name = args
        .name
        .unwrap_or_else(|| format!("{}-{}", imx::config::hostname(), std::process::id()));
    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let verbose = ctx.out().verbosity() > 0 && !ctx.out().quiet();
    let mut config = AgentConfig::new(name.clone());
    config.labels = args.labels.unwrap_or_default();
    config.slots = args.slots;
    // The heartbeat interval is the control plane's to say: a third of the lease it grants,
    // learned when the agent registers.
    config.on_event = Some(events_tx);
    config.instance = args.instance.filter(|i| !i.trim().is_empty());
    config.launch = steps::launch(ctx.out(), &args.pass_env)?;
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
    // Said once the control plane has the agent (not before: a script or a test waiting for
    // this line may then drain or remove it by name).
    let started = format!(
        "Agent {name} started on {} ({} slots, {labels}); Ctrl-C to drain and stop.",
        plane.location(),
        config.slots
    );

    let reporter = tokio::spawn(report_events(
        events_rx,
        ctx.out().clone(),
        verbose,
        started,
    ));
    // On a local store this long-running process also fires schedules (one process at a time:
    // see `imx::control::run_scheduler`) and delivers notifications (issue 12); a remote agent
    // leaves both to the server.
    let scheduler = local.clone().map(|local| {
        tokio::spawn(imx::control::run_scheduler(
            local,
            Arc::new(imx::schedule::SystemClock),
            stop_rx.clone(),
            |pass| {
                if let Err(e) = pass {
                    tracing::warn!(error = %e, "a scheduler pass failed");
                }
            },
        ))
    });
    let notifications = local.map(|local| {
        tokio::spawn(imx::control::deliver_notifications(
            local,
            stop_rx.clone(),
            |e| tracing::warn!(error = %e, "notification delivery failed"),
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
                    reporter.abort();
                    return Err(CliError::other(format!(
                        "agent {name} stopped without draining; the steps it held are retried when their leases expire"
                    )));
                }
            }
        }
    };
    reporter.abort();
    if let Some(s) = scheduler {
        s.abort();
    }
    if let Some(task) = notifications {
        task.abort();
    }
    let summary = result?;
    ctx.out().status(format!(
        "Agent {name} stopped: {} succeeded, {} failed.",
        super::super::output::count(summary.succeeded as u64, "step"),
        summary.failed
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

/// Print what the agent does: that it started (once registered), warnings always, and with -v one line per step start and end.
async fn report_events(
    mut events: tokio::sync::mpsc::UnboundedReceiver<AgentEvent>,
    out: Printer,
    verbose: bool,
    started: String,
) {
    while let Some(event) = events.recv().await {
        match event {
            AgentEvent::Registered { .. } => out.status(&started),
            AgentEvent::Warning(w) => out.warn(w),
            AgentEvent::Containment(how) => out.status(steps::containment_line(&how)),
            AgentEvent::Draining(true) => out.status("Draining: no new steps."),
            AgentEvent::Draining(false) => out.status("Resumed: taking steps again."),
            AgentEvent::StepStarted { lease, kind } if verbose => out.status(format!(
                "→ {kind} step {} of run {} (attempt {})",
                lease.step_id,
                short_id(&lease.run_id),
                lease.attempt
            )),
            AgentEvent::StepFinished {
                lease,
                outcome,
                error,
                accepted,
            } if verbose => {
                let (mark, what) = match (accepted, outcome) {
                    (false, _) => (
                        "⊘",
                        "stopped: no longer held by this agent (run cancelled or step reassigned)"
                            .to_string(),
                    ),
                    (true, StepOutcome::Succeeded) => ("✓", "succeeded".to_string()),
                    (true, StepOutcome::Failed) => {
                        ("✗", format!("failed: {}", error.unwrap_or_default()))
                    }
                };
                out.status(format!(
                    "{mark} step {} of run {} (attempt {}) {what}",
                    lease.step_id,
                    short_id(&lease.run_id),
                    lease.attempt
                ));
            }
            _ => {}
        }
    }
}
