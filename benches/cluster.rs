//! Cluster-mode benchmarks (issue 11, "Performance"): `imx server --database postgres://…`
//! replicas over one PostgreSQL database.
//!
//! `cargo bench --bench cluster` runs every scenario; `cargo bench --bench cluster -- chain` one
//! of `fanout`, `chain`, `http`, `claims`, `size`. Every scenario gets a fresh database (on the
//! shared server, `IMX_TEST_PG_URL`, default `postgres://127.0.0.1:5432/test`; or a throwaway
//! server of its own when none answers), runs `imx init --database URL --admin bench` and real
//! `imx server --database URL` processes (`--listen 127.0.0.1:0`, rate limits off) and
//! `imx agent run --server A,B,…` processes, and reports min/median/max over `IMX_BENCH_RUNS`
//! runs (default 5; the slow scenarios fewer, as printed). `IMX_BENCH_BIN=PATH` runs another
//! build of `imx` (e.g. an older commit's) for the replicas and agents.
//! - fanout: one run of 10,000 independent noop steps, 2 replicas, 4 agents × 8 slots (each
//!   agent given every replica, starting at a different one): steps/s from start to the client
//!   seeing the run succeeded. Target ≥ 5,000 steps/s. Also the CPU each part used per 1,000
//!   steps (database backends of this database, replicas, agents; from /proc).
//! - chain:  a 40-step sequential noop chain through one replica, one agent: client wall time and
//!   the server's (created → finished). Target < 100 ms.
//! - http:   GET /api/v1/runs?limit=50 with 100,000 runs (seeded through the library, 8 at a
//!   time), one replica, `wrk` (else an in-process reqwest loop; `IMX_BENCH_LOADGEN` chooses) at 8 and 32 connections
//!   (`IMX_BENCH_CONC`), `IMX_BENCH_SECS` (default 3) each: req/s and p99. Target ≥ 10,000
//!   req/s, p99 < 10 ms. `IMX_BENCH_BASE=PATH` also starts a replica of that build of `imx`
//!   on the same seeded database, and the two take turns (base first), each run: their
//!   figures side by side (the database's schema must be one both builds know).
//! - claims: the fanout with 1, 2 and 4 replicas (`IMX_BENCH_STEPS`, default 10,000 steps; 3
//!   runs each): claimed-and-completed steps/s, and how busy the database was (cores).
//! - size:   bytes per step on disk after runs of 10,000 noop steps (pg_total_relation_size of
//!   each table, divided by the steps run), for docs/scaling.md.
//!
//! The machine's cores are shared by PostgreSQL, the replicas, the agents and the load
//! generator; the figures are for all of them on one box.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Its unit tests are not this bench's: their import goes unused here.
#[allow(unused_imports)]
#[path = "../src/store/postgres/testdb.rs"]
mod testdb;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::remote::RemoteControlPlane;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use imx::model::{RunFilter, RunStatus, StepKind, WorkflowSpec};
use imx::store::postgres::store::PgStore;

mod common;

use common::{LoadGen, Proc, chain, env_or, fan, ms, run_to_end, spread};

const BIN: &str = env!("CARGO_BIN_EXE_imx");

/// The longest a followed run is waited for between two looks (its change feed wakes it).
const FOLLOW: Duration = Duration::from_millis(200);

/// One row of the results table: min/median/max of `samples` in `unit`, and the target.
fn row(label: &str, unit: &str, mut samples: Vec<f64>, target: &str) {
    let n = samples.len();
    let (a, b, c) = spread(&mut samples);
    println!(
        "| {label:<46} | {a:>9.1} | {b:>9.1} | {c:>9.1} | {unit:<8} | {n:>2} | {target:<16} |"
    );
}

fn header(title: &str) {
    println!("\n{title}");
    println!(
        "| {:<46} | {:>9} | {:>9} | {:>9} | {:<8} | {:>2} | {:<16} |",
        "measure", "min", "median", "max", "unit", "n", "target"
    );
    println!(
        "|{:-<48}|{:->11}|{:->11}|{:->11}|{:-<10}|{:->4}|{:-<18}|",
        "", "", "", "", "", "", ""
    );
}

/// CPU time (user + system) a process has used, from /proc; zero once it is gone.
fn cpu_of(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return Duration::ZERO;
    };
    // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    // Linux reports these in USER_HZ, 100 per second on every common configuration.
    Duration::from_millis(ticks * 10)
}

/// `imx` with a cleared environment and its own HOME (no user config, context or keyring).
fn imx_in(home: &Path) -> Command {
    // IMX_BENCH_BIN: another build of imx to measure (e.g. an older commit's).
    let bin = std::env::var_os("IMX_BENCH_BIN").unwrap_or_else(|| BIN.into());
    build_in(&bin, home)
}

/// The `imx` at `bin`, as [`imx_in`] runs it.
fn build_in(bin: &std::ffi::OsStr, home: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("IMX_KEYRING", "off")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120");
    c
}

/// One fresh database with `imx init` done, and what runs on it.
struct Cluster {
    /// Declared first: the processes go before the database is dropped.
    replicas: Vec<(Proc, String)>,
    agents: Vec<Proc>,
    home: tempfile::TempDir,
    url: String,
    admin: String,
    agent_token: Option<String>,
    store: PgStore,
    /// Dropped last (with its sessions).
    _db: testdb::TestDb,
}

impl Cluster {
    fn new(rt: &tokio::runtime::Runtime) -> Cluster {
        let db = rt
            .block_on(testdb::TestDb::get())
            .expect("the cluster bench needs PostgreSQL (a shared server or its binaries)");
        let url = db.url();
        let home = tempfile::tempdir().unwrap();
        let out = imx_in(home.path())
            .args(["init", "--database", &url, "--admin", "bench"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "imx init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let admin = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .find(|w| w.starts_with("imx_"))
            .expect("init --admin printed no token")
            .to_string();
        Cluster {
            replicas: Vec::new(),
            agents: Vec::new(),
            home,
            store: PgStore::open(&url, false).unwrap(),
            url,
            admin,
            agent_token: None,
            _db: db,
        }
    }

    fn imx(&self) -> Command {
        imx_in(self.home.path())
    }

    /// Start one more replica; its URL.
    fn replica(&mut self) -> String {
        let imx = self.imx();
        self.replica_of(imx)
    }

    /// Start one more replica with `imx` (a build's command, as [`imx_in`] makes it); its URL.
    fn replica_of(&mut self, mut imx: Command) -> String {
        let mut child = imx
            .args(["server", "--listen", "127.0.0.1:0", "--database", &self.url])
            .args(["--rate-limit", "0", "--ip-rate-limit", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http"))
            .unwrap_or_else(|| panic!("the replica printed no URL: {line:?}"))
            .trim_end_matches('/')
            .to_string();
        self.replicas.push((
            Proc {
                child,
                _stdout: Some(stdout),
            },
            url.clone(),
        ));
        url
    }

    fn plane(&self, i: usize) -> RemoteControlPlane {
        RemoteControlPlane::new(&self.replicas[i].1, Some(self.admin.clone()), None).unwrap()
    }

    /// Start `n` agents of `slots` slots, agent i given every replica starting at i mod R, and
    /// wait until they have registered.
    fn agents(&mut self, rt: &tokio::runtime::Runtime, n: usize, slots: u32) {
        if self.agent_token.is_none() {
            let out = self
                .imx()
                .env("IMX_TOKEN", &self.admin)
                .args(["--server", &self.replicas[0].1])
                .args([
                    "token", "create", "--name", "agents", "--role", "agent", "-q",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            self.agent_token = Some(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        let urls: Vec<String> = self.replicas.iter().map(|r| r.1.clone()).collect();
        let first = self.agents.len();
        for i in first..first + n {
            let mut list = urls.clone();
            list.rotate_left(i % urls.len());
            let child = self
                .imx()
                .env("IMX_TOKEN", self.agent_token.as_deref().unwrap())
                .args(["--server", &list.join(",")])
                .args(["agent", "run", "--name", &format!("bench-{i}")])
                .args(["--slots", &slots.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            self.agents.push(Proc {
                child,
                _stdout: None,
            });
        }
        let plane = self.plane(0);
        let who = Principal::local_owner();
        rt.block_on(async {
            let t0 = Instant::now();
            while plane.list_agents(&who).await.unwrap().len() < first + n {
                assert!(
                    t0.elapsed() < Duration::from_secs(60),
                    "agents did not register"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }

    fn apply(&self, rt: &tokio::runtime::Runtime, spec: WorkflowSpec) {
        let who = Principal::local_owner();
        rt.block_on(self.plane(0).apply_workflow(&who, spec, false))
            .unwrap();
    }

    /// CPU used so far by (database backends of this database, replicas, agents).
    fn cpu(&self) -> (BTreeMap<u32, Duration>, Duration, Duration) {
        let db = self
            .store
            .backend_pids()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| u32::try_from(p).ok())
            .map(|p| (p, cpu_of(p)))
            .collect();
        let sum = |ps: &mut dyn Iterator<Item = u32>| ps.map(cpu_of).sum();
        (
            db,
            sum(&mut self.replicas.iter().map(|r| r.0.child.id())),
            sum(&mut self.agents.iter().map(|a| a.child.id())),
        )
    }
}

/// CPU used between two [`Cluster::cpu`] snapshots: database, replicas, agents.
fn cpu_delta(
    before: &(BTreeMap<u32, Duration>, Duration, Duration),
    after: &(BTreeMap<u32, Duration>, Duration, Duration),
) -> (Duration, Duration, Duration) {
    let db = after
        .0
        .iter()
        .map(|(pid, t)| t.saturating_sub(before.0.get(pid).copied().unwrap_or_default()))
        .sum();
    (
        db,
        after.1.saturating_sub(before.1),
        after.2.saturating_sub(before.2),
    )
}

/// Start `workflow` through `plane` and wait until the client sees it succeeded (polling the
/// run list every 10 ms: reading a 10,000-step run's detail on every change would load the
/// replica more than the steps do). Client wall time.
async fn run_polled(plane: &RemoteControlPlane, workflow: &str) -> Duration {
    let who = Principal::local_owner();
    let t0 = Instant::now();
    let run = plane
        .start_run(
            &who,
            StartRun {
                workflow: workflow.into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    loop {
        let page = plane
            .list_runs(
                &who,
                RunFilter {
                    workflow: Some(workflow.into()),
                    limit: Some(1),
                    ..RunFilter::default()
                },
            )
            .await
            .unwrap();
        let r = page.items.iter().find(|r| r.id == run.id).expect("our run");
        if r.status.is_terminal() {
            assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.error);
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "the run never ended"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// What one fanout run measured.
struct Fan {
    wall: Duration,
    db: Duration,
    replicas: Duration,
    agents: Duration,
}

/// `runs` runs of one `steps`-step fan through `replicas` replicas, 4 agents × 8 slots.
fn fanout(
    rt: &tokio::runtime::Runtime,
    replicas: usize,
    steps: usize,
    runs: usize,
) -> (Cluster, Vec<Fan>) {
    let mut c = Cluster::new(rt);
    for _ in 0..replicas {
        c.replica();
    }
    c.apply(rt, fan("fan", steps));
    c.apply(rt, fan("warm", 200));
    c.agents(rt, 4, 8);
    let plane = c.plane(0);
    rt.block_on(run_polled(&plane, "warm"));
    let mut out = Vec::new();
    for _ in 0..runs {
        let before = c.cpu();
        let wall = rt.block_on(run_polled(&plane, "fan"));
        let (db, replicas, agents) = cpu_delta(&before, &c.cpu());
        out.push(Fan {
            wall,
            db,
            replicas,
            agents,
        });
    }
    (c, out)
}

fn report_fan(label: &str, steps: usize, samples: &[Fan], target: &str) {
    let per_k = |d: Duration| ms(d) * 1000.0 / steps as f64;
    row(
        &format!("{label}: steps/s"),
        "steps/s",
        samples
            .iter()
            .map(|s| steps as f64 / s.wall.as_secs_f64())
            .collect(),
        target,
    );
    row(
        &format!("{label}: database CPU per 1,000 steps"),
        "cpu-ms",
        samples.iter().map(|s| per_k(s.db)).collect(),
        "",
    );
    row(
        &format!("{label}: database cores busy"),
        "cores",
        samples
            .iter()
            .map(|s| s.db.as_secs_f64() / s.wall.as_secs_f64())
            .collect(),
        "",
    );
    row(
        &format!("{label}: replicas' CPU per 1,000 steps"),
        "cpu-ms",
        samples.iter().map(|s| per_k(s.replicas)).collect(),
        "",
    );
    row(
        &format!("{label}: agents' CPU per 1,000 steps"),
        "cpu-ms",
        samples.iter().map(|s| per_k(s.agents)).collect(),
        "",
    );
}

fn bench_fanout(rt: &tokio::runtime::Runtime, runs: usize) {
    let steps = 10_000;
    let (_c, samples) = fanout(rt, 2, steps, runs);
    header("fanout: 10,000 independent noop steps, 2 replicas, 4 agents x 8 slots");
    report_fan("fanout 2 replicas", steps, &samples, ">= 5,000 steps/s");
}

fn bench_claims(rt: &tokio::runtime::Runtime, runs: usize) {
    let steps: usize = env_or("IMX_BENCH_STEPS", 10_000);
    let mut all = Vec::new();
    for replicas in [1, 2, 4] {
        let (_c, samples) = fanout(rt, replicas, steps, runs);
        all.push((replicas, samples));
    }
    header(&format!(
        "claims: {steps} noop steps claimed and completed, 4 agents x 8 slots, by replicas"
    ));
    for (replicas, samples) in &all {
        report_fan(&format!("{replicas} replica(s)"), steps, samples, "");
    }
}

fn bench_chain(rt: &tokio::runtime::Runtime, runs: usize) {
    let mut c = Cluster::new(rt);
    c.replica();
    c.apply(rt, chain("chain", 40, StepKind::Noop));
    c.agents(rt, 1, 1);
    let plane = c.plane(0);
    let (mut wall, mut server) = (Vec::new(), Vec::new());
    rt.block_on(async {
        run_to_end(&plane, "chain", FOLLOW).await; // warm-up
        for _ in 0..runs {
            let (w, run) = run_to_end(&plane, "chain", FOLLOW).await;
            wall.push(ms(w));
            server.push((run.finished_at.unwrap_or(run.created_at) - run.created_at) as f64);
        }
    });
    header("chain: 40 sequential noop steps through one replica, one agent");
    row(
        "chain: client wall (start -> success seen)",
        "ms",
        wall,
        "< 100 ms",
    );
    row(
        "chain: server (run created -> finished)",
        "ms",
        server,
        "< 100 ms",
    );
}

/// Seed `n` runs of a one-step workflow through the library, 8 at a time (no agent runs them).
fn seed_runs(rt: &tokio::runtime::Runtime, url: &str, n: usize) {
    let store = PgStore::open(url, false).unwrap();
    let plane = Arc::new(LocalControlPlane::with_backend(
        Arc::new(store),
        LocalOptions::default(),
    ));
    let who = Principal::local_owner();
    let t0 = Instant::now();
    rt.block_on(async {
        plane
            .apply_workflow(&who, chain("tiny", 1, StepKind::Noop), false)
            .await
            .unwrap();
        let workers = 8;
        let tasks: Vec<_> = (0..workers)
            .map(|w| {
                let (plane, who) = (plane.clone(), who.clone());
                tokio::spawn(async move {
                    for _ in (w..n).step_by(workers) {
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
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    eprintln!("seeded {n} runs in {:.1} s", t0.elapsed().as_secs_f64());
}

fn bench_http(rt: &tokio::runtime::Runtime, runs: usize) {
    let n: usize = env_or("IMX_BENCH_SEED", 100_000);
    let mut c = Cluster::new(rt);
    seed_runs(rt, &c.url, n);
    // IMX_BENCH_BASE: a build to compare with, its replica taking turns with this one's.
    let mut builds = Vec::new();
    if let Some(base) = std::env::var_os("IMX_BENCH_BASE") {
        let imx = build_in(&base, c.home.path());
        builds.push(("base: ", c.replica_of(imx)));
    }
    let label = if builds.is_empty() { "" } else { "this: " };
    builds.push((label, c.replica()));
    let secs: u64 = env_or("IMX_BENCH_SECS", 3);
    let generator = LoadGen::pick();
    let load = |url: &str, conc: usize, secs: u64| {
        let target = format!("{url}/api/v1/runs?limit=50");
        let sample = rt.block_on(generator.run(&target, &c.admin, conc, Duration::from_secs(secs)));
        (sample.rps, sample.p99)
    };
    let levels: Vec<usize> = std::env::var("IMX_BENCH_CONC")
        .unwrap_or_else(|_| "8,32".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut results = Vec::new();
    for &conc in &levels {
        for (_, url) in &builds {
            load(url, conc, 1); // warm-up: connections, caches
        }
        let mut samples = vec![(Vec::new(), Vec::new()); builds.len()];
        for _ in 0..runs {
            for ((_, url), (rps, p99)) in builds.iter().zip(&mut samples) {
                let (r, p) = load(url, conc, secs);
                rps.push(r);
                p99.push(p);
            }
        }
        for ((label, _), (rps, p99)) in builds.iter().zip(samples) {
            results.push((*label, conc, rps, p99));
        }
    }
    header(&format!(
        "http: GET /api/v1/runs?limit=50, {n} runs, one replica ({}, {secs} s per run)",
        generator.name()
    ));
    for (label, conc, rps, p99) in results {
        row(
            &format!("{label}{conc} connections: requests/s"),
            "req/s",
            rps,
            ">= 10,000 req/s",
        );
        row(
            &format!("{label}{conc} connections: p99"),
            "ms",
            p99,
            "< 10 ms",
        );
    }
    c.replicas.clear();
}

/// Bytes per step on disk: runs of 10,000 noop steps, then each table's size.
fn bench_size(rt: &tokio::runtime::Runtime) {
    let steps = 10_000;
    let runs = env_or("IMX_BENCH_SIZE_RUNS", 5usize);
    // The sizes of a database just initialised, to subtract.
    let empty: BTreeMap<String, u64> = Cluster::new(rt)
        .store
        .table_bytes()
        .unwrap()
        .into_iter()
        .collect();
    let (c, _) = fanout(rt, 1, steps, runs);
    let total_steps = (steps * runs + 200) as f64; // and the warm-up's 200
    let sizes = c.store.table_bytes().unwrap();
    println!("\nsize: {total_steps} noop steps run ({runs} runs of {steps}, 1 warm-up of 200)");
    println!(
        "| {:<16} | {:>12} | {:>14} |",
        "table", "bytes", "bytes/step"
    );
    println!("|{:-<18}|{:->14}|{:->16}|", "", "", "");
    let mut sum = 0u64;
    for (table, bytes) in &sizes {
        let grown = bytes.saturating_sub(empty.get(table).copied().unwrap_or(0));
        sum += grown;
        if *bytes > 16 * 1024 {
            println!(
                "| {table:<16} | {bytes:>12} | {:>14.0} |",
                grown as f64 / total_steps
            );
        }
    }
    println!(
        "| {:<16} | {:>12} | {:>14.0} |  → {:.2} GB per million steps",
        "all tables",
        sum,
        sum as f64 / total_steps,
        sum as f64 / total_steps * 1e6 / 1e9
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let runs: usize = env_or("IMX_BENCH_RUNS", 5usize).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if want("chain") {
        bench_chain(&rt, runs);
    }
    if want("fanout") {
        bench_fanout(&rt, runs);
    }
    if want("http") {
        bench_http(&rt, runs);
    }
    if want("claims") {
        bench_claims(&rt, env_or("IMX_BENCH_CLAIM_RUNS", 3usize));
    }
    if want("size") {
        bench_size(&rt);
    }
}
