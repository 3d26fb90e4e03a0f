//! Fan-out benchmarks (issue 13: "a matrix of 1,000 instances expands and starts in < 200 ms;
//! a foreach over 1,000 items likewise"), on the embedded SQLite store through the local
//! control plane, as `imx workflow run` and an agent use it.
//!
//! `cargo bench --bench fanout` runs both; `cargo bench --bench fanout -- matrix` (or
//! `foreach`) one. `IMX_BENCH_RUNS` samples each (default 7), after one warm-up; min, median
//! and max are printed. "Expands and starts" is measured as:
//! - matrix: from `start_run` of a workflow whose one step has `matrix: {i: [0..999]}` until the
//!   run exists with its 1,000 instance rows (they are made with the run, in its transaction)
//!   **and** an agent's claim has leased the first 8 of them (the agent asks for 8, its slots).
//! - foreach: from the completion of the upstream step whose output `items` is a JSON list of
//!   1,000 numbers until the 1,000 instance rows exist (made in that completion's
//!   transaction) **and** an agent's claim has leased the first 8. The whole path from
//!   `start_run` (the upstream step claimed and completed first) is reported too.
//!
//! Each sample's run is cancelled afterwards (not timed), so the next claim sees only its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use imx::model::{
    AgentRegistration, FanOut, MatrixAxis, StepKind, StepResult, StepSpec, WorkflowSpec,
};

mod common;

use common::{env_or, ms, spread};

const N: usize = 1_000;
const SLOTS: u32 = 8;

fn open(path: &Path) -> Arc<LocalControlPlane> {
    Arc::new(LocalControlPlane::open(path, LocalOptions::default()).unwrap())
}

fn report(label: &str, samples: &mut [Duration]) {
    let (min, med, max) = spread(samples);
    println!(
        "{label:<64} min {:>8.2} ms  median {:>8.2} ms  max {:>8.2} ms  (n={})",
        ms(min),
        ms(med),
        ms(max),
        samples.len()
    );
}

fn matrix_workflow() -> WorkflowSpec {
    let mut step = StepSpec::new("test", StepKind::Noop);
    step.fan_out = Some(FanOut::matrix(vec![MatrixAxis {
        name: "i".into(),
        values: (0..N).map(|i| serde_json::Value::from(i as u64)).collect(),
    }]));
    WorkflowSpec::new("bench-matrix", vec![step])
}

fn foreach_workflow() -> WorkflowSpec {
    let mut each = StepSpec::new("each", StepKind::Noop).needing(&["list"]);
    each.fan_out = Some(FanOut::foreach("list", "items"));
    WorkflowSpec::new(
        "bench-foreach",
        vec![StepSpec::new("list", StepKind::Noop), each],
    )
}

async fn agent(plane: &LocalControlPlane, who: &Principal) -> String {
    plane
        .register_agent(
            who,
            AgentRegistration {
                name: "bench".into(),
                labels: BTreeMap::new(),
                slots: SLOTS,
                hostname: "bench".into(),
                pid: std::process::id(),
                version: "bench".into(),
                instance: None,
                pid_scope: None,
                replaces_pid: None,
            },
        )
        .await
        .unwrap()
        .id
}

fn start(workflow: &str) -> StartRun {
    StartRun {
        workflow: workflow.into(),
        params: BTreeMap::new(),
        timeout_ms: None,
        labels: BTreeMap::new(),
    }
}

async fn bench_matrix(plane: &LocalControlPlane, who: &Principal, agent: &str, runs: usize) {
    plane
        .apply_workflow(who, matrix_workflow(), false)
        .await
        .unwrap();
    let mut samples = Vec::new();
    let mut created = Vec::new();
    for i in 0..=runs {
        let t0 = Instant::now();
        let run = plane.start_run(who, start("bench-matrix")).await.unwrap();
        let t1 = Instant::now();
        let tasks = plane
            .claim(who, agent, SLOTS, Duration::ZERO)
            .await
            .unwrap();
        let t2 = Instant::now();
        assert_eq!(run.steps_total as usize, N);
        assert_eq!(tasks.len(), SLOTS as usize);
        assert!(tasks.iter().all(|t| t.lease.run_id == run.id));
        plane.cancel_run(who, &run.id).await.unwrap();
        if i > 0 {
            created.push(t1 - t0);
            samples.push(t2 - t0);
        }
    }
    report(
        "matrix 1,000: start_run (1,000 instance rows)",
        &mut created,
    );
    report(
        "matrix 1,000: start_run → first 8 instances leased",
        &mut samples,
    );
}

async fn bench_foreach(plane: &LocalControlPlane, who: &Principal, agent: &str, runs: usize) {
    plane
        .apply_workflow(who, foreach_workflow(), false)
        .await
        .unwrap();
    let items = serde_json::to_string(&(0..N).collect::<Vec<usize>>()).unwrap();
    let mut expand = Vec::new();
    let mut whole = Vec::new();
    for i in 0..=runs {
        let t0 = Instant::now();
        let run = plane.start_run(who, start("bench-foreach")).await.unwrap();
        let list = plane
            .claim(who, agent, 1, Duration::ZERO)
            .await
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(list.lease.step_id, "list");
        let t1 = Instant::now();
        let result = StepResult::ok(BTreeMap::from([("items".to_string(), items.clone())]));
        let ok = plane
            .complete_steps(who, &[(list.lease.clone(), result)])
            .await
            .unwrap();
        assert_eq!(ok, [true]);
        let tasks = plane
            .claim(who, agent, SLOTS, Duration::ZERO)
            .await
            .unwrap();
        let t2 = Instant::now();
        assert_eq!(tasks.len(), SLOTS as usize);
        assert_eq!(tasks[0].lease.step_id, "each[0]");
        let detail = plane.get_run(who, &run.id).await.unwrap();
        assert_eq!(detail.run.steps_total as usize, N + 2);
        plane.cancel_run(who, &run.id).await.unwrap();
        if i > 0 {
            expand.push(t2 - t1);
            whole.push(t2 - t0);
        }
    }
    report(
        "foreach 1,000: upstream completes → first 8 instances leased",
        &mut expand,
    );
    report(
        "foreach 1,000: start_run → upstream done → first 8 leased",
        &mut whole,
    );
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let runs = env_or("IMX_BENCH_RUNS", 7usize);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plane = open(&dir.path().join("imx.db"));
    let who = Principal::local_owner();
    rt.block_on(async {
        let agent = agent(&plane, &who).await;
        if wanted("matrix") {
            bench_matrix(&plane, &who, &agent, runs).await;
        }
        if wanted("foreach") {
            bench_foreach(&plane, &who, &agent, runs).await;
        }
    });
}
