//! End-to-end benchmarks for the local control plane (issue: performance targets).
//!
//! `cargo bench --bench e2e` runs every scenario; `cargo bench --bench e2e -- chain` one of
//! `chain`, `fanout`, `list`, `logs`. Each reports min/median/max over several runs:
//! - chain:  a 40-step sequential chain, one agent, local store — `noop` steps and `run: "true"`.
//! - fanout: 10,000 independent noop steps, 4 `imx agent run` processes × 8 slots.
//! - list:   `imx run list` (the whole process) with 100,000 runs in the store.
//! - logs:   one step printing 500,000 lines of 100 bytes (50 MB), run by an `imx agent run`
//!   process on the local store and through an `imx server`: the lines kept, the run's time, and
//!   `imx run show` / `imx run logs` of it (whole processes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use imx::model::{StepKind, StepSpec, WorkflowSpec};

mod common;

use common::{chain, fan, run_to_end};

const BIN: &str = env!("CARGO_BIN_EXE_imx");

/// The longest a run is waited for between two looks (the store's change feed wakes it).
const POLL: Duration = Duration::from_millis(50);

fn open(path: &Path) -> Arc<LocalControlPlane> {
    Arc::new(LocalControlPlane::open(path, LocalOptions::default()).unwrap())
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
        // Steps start the way `imx agent run` starts them: through the step shim, contained
        // (IMX_CONTAINMENT=subreaper measures the fallback).
        cfg.launch.shim = Some(BIN.into());
        if let Ok(how) = std::env::var("IMX_CONTAINMENT") {
            cfg.launch.containment = how.parse().unwrap();
        }
        let agent = tokio::spawn(imx::agent::run(plane.clone(), who.clone(), cfg, stop_rx));
        for (wf, label) in [
            ("chain-noop", "chain: 40 sequential noop steps, 1 agent"),
            ("chain-true", "chain: 40 sequential `run: true` steps"),
        ] {
            run_to_end(&*plane, wf, POLL).await; // warm-up
            let mut samples = Vec::new();
            for _ in 0..runs {
                samples.push(run_to_end(&*plane, wf, POLL).await.0);
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
        run_to_end(&*plane, "chain-noop", POLL).await; // warm-up (and registration)
        let mut samples = Vec::new();
        for _ in 0..runs {
            samples.push(run_to_end(&*plane, "chain-noop", POLL).await.0);
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
            samples.push(run_to_end(&*plane, "fan", POLL).await.0);
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

/// The step of the `logs` scenario: 500,000 lines of 99 characters and a newline.
const LOUD_LINES: u64 = 500_000;

fn loud() -> WorkflowSpec {
    WorkflowSpec::new(
        "loud",
        vec![StepSpec::new(
            "talk",
            StepKind::Run {
                command: format!("seq -f 'line %094g' 1 {LOUD_LINES}"),
            },
        )],
    )
}

/// Run `imx ARGS` to success; its stdout and how long it took.
fn timed(args: &[&str], token: Option<&str>) -> (String, Duration) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("COLUMNS", "120");
    if let Some(t) = token {
        cmd.env("IMX_TOKEN", t);
    }
    let t = Instant::now();
    let out = cmd.output().unwrap();
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8_lossy(&out.stdout).into_owned(), took)
}

/// An `imx server` on the store, with its URL, an admin token and an agent token.
fn serve(db: &Path) -> (Agents, String, String, String) {
    let store = db.to_str().unwrap();
    let (out, _) = timed(&["--store", store, "init", "--admin", "bench"], None);
    let admin = out.trim().lines().last().unwrap().to_string();
    let url_file = db.with_extension("url");
    let server = Command::new(BIN)
        .args(["--store", store, "server", "--listen", "127.0.0.1:0"])
        .stdout(std::fs::File::create(&url_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Agents(vec![server]);
    let t0 = Instant::now();
    let url = loop {
        let url = std::fs::read_to_string(&url_file).unwrap_or_default();
        if url.trim().starts_with("http") {
            break url.trim().to_string();
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "no server URL");
        std::thread::sleep(Duration::from_millis(20));
    };
    let (agent, _) = timed(
        &[
            "--server", &url, "token", "create", "--name", "bench", "--role", "agent", "-q",
        ],
        Some(&admin),
    );
    let agent = agent.trim().lines().last().unwrap().to_string();
    (server, url, admin, agent)
}

fn bench_logs(rt: &tokio::runtime::Runtime, runs: usize) {
    for remote in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("imx.db");
        let store = db.to_str().unwrap().to_string();
        let (_server, target, token, agent_token) = if remote {
            let (server, url, admin, agent) = serve(&db);
            (
                Some(server),
                vec!["--server".to_string(), url],
                Some(admin),
                Some(agent),
            )
        } else {
            (None, vec!["--store".to_string(), store.clone()], None, None)
        };
        let plane = open(&db);
        let who = Principal::local_owner();
        rt.block_on(plane.apply_workflow(&who, loud(), false))
            .unwrap();
        let mut agent = Command::new(BIN);
        agent
            .args(&target)
            .args(["agent", "run", "--name", "bench-logs"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(t) = &agent_token {
            agent.env("IMX_TOKEN", t);
        }
        let _agents = Agents(vec![agent.spawn().unwrap()]);
        let mode = if remote { "remote" } else { "local" };
        let (mut step, mut show, mut logs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            step.push(rt.block_on(run_to_end(&*plane, "loud", POLL)).0);
            let run = rt
                .block_on(plane.list_runs(&who, Default::default()))
                .unwrap()
                .items
                .remove(0);
            let kept: u64 = rusqlite::Connection::open(&db)
                .unwrap()
                .query_row(
                    "SELECT count(*) FROM logs WHERE run_id = ?1 AND stream = 'stdout'",
                    [&run.id],
                    |r| r.get(0),
                )
                .unwrap();
            println!("logs ({mode}): {kept} of {LOUD_LINES} lines kept");
            assert_eq!(kept, LOUD_LINES, "lines were lost");
            let mut args: Vec<&str> = target.iter().map(String::as_str).collect();
            args.extend(["run", "show", &run.id]);
            show.push(timed(&args, token.as_deref()).1);
            args.truncate(target.len());
            args.extend(["run", "logs", &run.id]);
            let (out, took) = timed(&args, token.as_deref());
            assert_eq!(out.lines().count() as u64, LOUD_LINES);
            logs.push(took);
        }
        report(&format!("logs ({mode}): the 50 MB step's run"), step, None);
        report(&format!("logs ({mode}): imx run show"), show, None);
        report(
            &format!("logs ({mode}): imx run logs (all 50 MB)"),
            logs,
            None,
        );
    }
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
    if want("logs") {
        bench_logs(&rt, runs.min(3));
    }
}
