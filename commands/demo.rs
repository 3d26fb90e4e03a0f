//! `imx demo`: try imx in one command. Opens (or creates, saying so) the store, starts N agents in this
//! process, serves a tiny local HTTP endpoint for the `http-call` example, applies the example
//! workflows, starts one run of each, shows their progress and ends with a summary.
//! The examples are embedded, so the demo works from any directory.

use std::collections::BTreeMap;
use std::time::Duration;

use imx::agent::AgentConfig;
use imx::control::StartRun;
use imx::model::{RunDetail, RunStatus, short_id};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use super::context::Context;
use super::error::{CliError, Exit};
use super::output::{Cells, Row};
use super::run::follow;

/// The example workflows, as (file name, contents).
const EXAMPLES: &[(&str, &str)] = &[
    (
        "examples/workflows/build-test-deploy.yaml",
        include_str!("../examples/workflows/build-test-deploy.yaml"),
    ),
    (
        "examples/workflows/http-call.yaml",
        include_str!("../examples/workflows/http-call.yaml"),
    ),
    (
        "examples/workflows/flaky.yaml",
        include_str!("../examples/workflows/flaky.yaml"),
    ),
];

/// Try imx: a store, agents, example workflows and live runs, in one command.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx demo
  imx --store /tmp/imx-demo.db demo --agents 5")]
pub struct DemoArgs {
    /// How many agents to start in this process.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub agents: u32,
}

pub async fn run(ctx: &Context, args: DemoArgs) -> Result<(), CliError> {
    if EXAMPLES.is_empty() {
        return Err(CliError::other(
            "this build has no example workflows embedded; the demo is not finished yet",
        ));
    }
    let out = ctx.out();
    let plane = ctx.plane_creating()?;
    let who = ctx.principal();
    out.status(match plane.location().strip_prefix("local ") {
        Some(path) => format!("Store: {path}"),
        None => format!("Server: {}", plane.location().trim_start_matches("remote ")),
    });

    // Agents, in this process, sharing the plane.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut agents = Vec::new();
    for i in 1..=args.agents {
        let mut config = AgentConfig::new(format!("demo-{i}"));
        config.labels = BTreeMap::from([("demo".to_string(), "true".to_string())]);
        config.slots = 2;
        config.launch = super::agent::steps::launch(out, &[])?;
        agents.push(tokio::spawn(imx::agent::run(
            plane.clone(),
            who.clone(),
            config,
            stop_rx.clone(),
        )));
    }
    out.status(format!("Started {} agents (demo-1 ..).", args.agents));

    // A local endpoint for the http-call example.
    let url = serve_ok().await?;
    out.status(format!("Serving a test endpoint at {url}"));

    // Apply the examples and start one run of each.
    let mut runs = Vec::new();
    for (file, source) in EXAMPLES {
        let spec = imx::spec::parse_str(source, file)?;
        let name = spec.name.clone();
        let takes_url = spec.params.iter().any(|p| p.name == "url");
        plane.apply_workflow(&who, spec, false).await?;
        let mut params = BTreeMap::new();
        if takes_url {
            params.insert("url".to_string(), url.clone());
        }
        let run = plane
            .start_run(
                &who,
                StartRun {
                    workflow: name,
                    params,
                    timeout_ms: None,
                    labels: Default::default(),
                },
            )
            .await?;
        out.status(format!(
            "Started run {} of {}.",
            short_id(&run.id),
            run.workflow
        ));
        runs.push(run.id);
    }

    // Follow each run to its end.
    let mut results: Vec<RunDetail> = Vec::new();
    for id in &runs {
        results.push(follow::follow(ctx, &plane, id, Some(Duration::from_secs(300))).await?);
    }

    let _ = stop_tx.send(true);
    for agent in agents {
        let _ = agent.await;
    }

    out.list(&results.iter().map(Summary).collect::<Vec<_>>())?;
    out.hint("explore with: imx run list · imx run show <id> · imx run logs <id>");
    let failed = results
        .iter()
        .filter(|d| d.run.status != RunStatus::Succeeded)
        .count();
    if failed > 0 {
        return Err(CliError::new(
            Exit::RunFailed,
            match failed {
                1 => "1 demo run did not succeed".to_string(),
                n => format!("{n} demo runs did not succeed"),
            },
        ));
    }
    Ok(())
}

/// Serve `200 {"ok":true}` on 127.0.0.1:0 for the rest of the process; returns the URL.
async fn serve_ok() -> Result<String, CliError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::other(format!("cannot start the demo endpoint: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::other(format!("cannot start the demo endpoint: {e}")))?;
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 8192];
                let _ = sock.read(&mut buf).await;
                let body = r#"{"ok":true,"from":"imx demo"}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    Ok(format!("http://{addr}/"))
}

/// One line of the summary table.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Summary<'a>(&'a RunDetail);

impl Row for Summary<'_> {
    fn headers(_cx: &Cells) -> Vec<&'static str> {
        vec!["RUN", "WORKFLOW", "STEPS", "DURATION", "OUTCOME"]
    }

    fn cells(&self, cx: &Cells) -> Vec<String> {
        let run = &self.0.run;
        vec![
            cx.id(&run.id),
            run.workflow.clone(),
            self.0.steps.len().to_string(),
            cx.duration(run.duration_ms(cx.now)),
            run.status.to_string(),
        ]
    }

    fn name(&self) -> String {
        self.0.run.id.clone()
    }
}
