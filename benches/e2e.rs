//! End-to-end benchmarks for the local control plane (issue: performance targets).
//!
//! `cargo bench --bench e2e` runs every scenario; `cargo bench --bench e2e -- chain` one of
//! `chain`, `fanout`, `list`. Each reports min/median/max over several runs:
//! - chain:  a 40-step sequential chain, one agent, local store — `noop` steps and `run: "true"`.
//! - fanout: 10,000 independent noop steps, 4 `imx agent run` processes × 8 slots.
//! - list:   `imx run list` (the whole process) with 100,000 runs in the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use imx::model::{RunStatus, StepKind, StepSpec, WorkflowSpec};

const BIN: &str = env!("CARGO_BIN_EXE_imx");

fn step(id: String, needs: Vec<String>, kind: StepKind) -> StepSpec {
    let mut step = StepSpec::new(id, kind);
    step.needs = needs;
    step
}

fn chain(name: &str, n: usize, kind: StepKind) -> WorkflowSpec {
    let steps = (0..n)
        .map(|i| {
            let needs = if i == 0 {
                vec![]
            } else {
                vec![format!("s{}", i - 1)]
            };
            step(format!("s{i}"), needs, kind.clone())
        })
        .collect();
    WorkflowSpec::new(name, steps)
}

fn fan(name: &str, n: usize) -> WorkflowSpec {
    WorkflowSpec::new(
        name,
        (0..n)
            .map(|i| StepSpec::new(format!("s{i}"), StepKind::Noop))
            .collect(),
    )
}

fn open(path: &Path) -> Arc<LocalControlPlane> {
    Arc::new(LocalControlPlane::open(path, LocalOptions::default()).unwrap())
}

async fn run_to_end(plane: &LocalControlPlane, who: &Principal, workflow: &str) -> Duration {
    let t0 = Instant::now();
    let run = plane
        .start_run(
            who,
            StartRun {
                workflow: workflow.into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    loop {
        let d = plane.get_run(who, &run.id).await.unwrap();
        if d.run.status.is_terminal() {
            assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.error);
            return t0.elapsed();
        }
        plane.wait_for_change(Duration::from_millis(50)).await;
    }
}

fn report(label: &str, mut samples: Vec<Duration>, per: Option<(f64, &str)>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let min = samples[0];
    let med = samples[samples.len() / 2];
    let max = samples[samples.len() - 1];
    print!(
        "{label:<44} min {:>8.2} ms  median {:>8.2} ms  max {:>8.2} ms  (n={})",
        ms(min),
        ms(med),
        ms(max),
        samples.len()
    );
    if let Some((count, unit)) = per {
        if unit == "steps/s" {
            print!("  → median {:.0} {unit}", count / med.as_secs_f64());
        } else {
            print!("  → median {:.3} {unit}", ms(med) / count);
        }
    }
    println!();
}

fn bench_chain(rt: &tokio::runtime::Runtime, runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let plane = open(&dir.path().join("imx.db"));
    let who = Principal::local_owner();
    rt.block_on(async {
        plane
            .apply_workflow(&who, chain("chain-noop", 40, StepKind::Noop), false)
            .await
            .unwrap();
        plane
            .apply_workflow(
                &who,
                chain(
                    "chain-true",
                    40,
                    StepKind::Run {
                        command: "true".into(),
                    },
                ),
                false,
            )
            .await
            .unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut cfg = imx::agent::AgentConfig::new("bench");
        cfg.slots = 1;
        let agent = tokio::spawn(imx::agent::run(plane.clone(), who.clone(), cfg, stop_rx));
        for (wf, label) in [
            ("chain-noop", "chain: 40 sequential noop steps, 1 agent"),
            ("chain-true", "chain: 40 sequential `run: true` steps"),
        ] {
            run_to_end(&plane, &who, wf).await; // warm-up
            let mut samples = Vec::new();
            for _ in 0..runs {
                samples.push(run_to_end(&plane, &who, wf).await);
            }
            report(label, samples, Some((40.0, "ms/step")));
        }
        let _ = stop_tx.send(true);
        let _ = agent.await;

        // The same chain with the agent in its own `imx agent run` process: every hand-off
        // crosses processes (the store's change feed wakes the agent).
        let db = dir.path().join("imx.db");
        let _agent = Agents(vec![
            Command::new(BIN)
                .args(["agent", "run", "--name", "bench-proc", "--slots", "1"])
                .arg("--store")
                .arg(&db)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        ]);
        run_to_end(&plane, &who, "chain-noop").await; // warm-up (and registration)
        let mut samples = Vec::new();
        for _ in 0..runs {
            samples.push(run_to_end(&plane, &who, "chain-noop").await);
        }
        report(
            "chain: 40 noop steps, `imx agent run` process",
            samples,
            Some((40.0, "ms/step")),
        );
    });
}

struct Agents(Vec<Child>);

impl Drop for Agents {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn bench_fanout(rt: &tokio::runtime::Runtime, runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("imx.db");
    let plane = open(&db);
    let who = Principal::local_owner();
    rt.block_on(plane.apply_workflow(&who, fan("fan", 10_000), false))
        .unwrap();
    let agents = Agents(
        (0..4)
            .map(|i| {
                Command::new(BIN)
                    .args([
                        "agent",
                        "run",
                        "--name",
                        &format!("bench-{i}"),
                        "--slots",
                        "8",
                    ])
                    .arg("--store")
                    .arg(&db)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    rt.block_on(async {
        let t0 = Instant::now();
        while plane.list_agents(&who).await.unwrap().len() < 4 {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "agents did not register"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut samples = Vec::new();
        for _ in 0..runs {
            samples.push(run_to_end(&plane, &who, "fan").await);
        }
        report(
            "fanout: 10,000 noop steps, 4 agents x 8 slots",
            samples,
            Some((10_000.0, "steps/s")),
        );
    });
    drop(agents);
}

fn bench_list(rt: &tokio::runtime::Runtime, runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("imx.db");
    let plane = open(&db);
    let who = Principal::local_owner();
    let t0 = Instant::now();
    rt.block_on(async {
        plane
            .apply_workflow(&who, fan("tiny", 1), false)
            .await
            .unwrap();
        for _ in 0..100_000 {
            plane
                .start_run(
                    &who,
                    StartRun {
                        workflow: "tiny".into(),
                        ..StartRun::default()
                    },
                )
                .await
                .unwrap();
        }
    });
    eprintln!("seeded 100,000 runs in {:.1} s", t0.elapsed().as_secs_f64());
    drop(plane);
    let mut samples = Vec::new();
    for i in 0..runs + 1 {
        let t = Instant::now();
        let out = Command::new(BIN)
            .args(["run", "list"])
            .arg("--store")
            .arg(&db)
            .env("COLUMNS", "120")
            .output()
            .unwrap();
        let elapsed = t.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if i > 0 {
            samples.push(elapsed); // the first run warms the page cache
        }
    }
    report(
        "run list: default page, 100,000 runs (process)",
        samples,
        None,
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let runs: usize = std::env::var("IMX_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if want("chain") {
        bench_chain(&rt, runs);
    }
    if want("fanout") {
        bench_fanout(&rt, runs.min(5));
    }
    if want("list") {
        bench_list(&rt, runs);
    }
}
