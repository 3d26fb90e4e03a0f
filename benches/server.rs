//! End-to-end benchmarks for `imx server` (issue 3, "Performance": the server targets).
//!
//! `cargo bench --bench server` runs every scenario; `cargo bench --bench server -- http` one of
//! `http`, `list`, `dispatch`, `chain`, `logins`. Every scenario spawns real `imx server` processes
//! (`--listen 127.0.0.1:0`, plain HTTP on loopback, rate limits off (`--rate-limit 0
//! --ip-rate-limit 0 --ops-rate-limit 0`), request log to /dev/null)
//! with an admin token from `imx init --admin`, and reports min/median/max over several runs
//! (`IMX_BENCH_RUNS`, default 7). `IMX_BENCH_BIN=PATH` measures another build of `imx` (e.g. an
//! older commit's) with the same harness and store.
//! - http:     GET /api/v1/runs?limit=50 with a valid token and 100,000 runs stored (seeded
//!   through the library once into `$IMX_BENCH_DIR/imx-bench-server-100000`, default the system
//!   temp folder, and reused; delete it to reseed), load generator on the same machine:
//!   `IMX_BENCH_CONC` concurrent connections (default "8,32"), `IMX_BENCH_SECS` seconds per run
//!   (default 3): requests/s, p50 and p99 latency per run. Target: ≥ 20,000 req/s with p99 <
//!   10 ms. For reference (to split the cost), the same load on /healthz (HTTP stack + load
//!   generator) and /api/v1/whoami (token check + one trivial control-plane call).
//!   The load generator is `wrk` when installed (`apt-get install wrk`; `wrk -t2 -cN -dSs
//!   --latency -H 'Authorization: Bearer …'`, threads `IMX_BENCH_WRK_THREADS`, default 2;
//!   requests/s and the 50%/99% lines of its latency distribution; any non-2xx answer or socket
//!   error fails the bench). Without wrk it falls back to an in-process tokio + reqwest loop and
//!   says so; that loop takes much more CPU from the server than wrk does. `IMX_BENCH_LOADGEN=
//!   wrk|reqwest` forces one. On 2 cores the generator and the server share the machine: at
//!   ~20k req/s wrk used ~19 us of CPU per request and the server ~55-65 us.
//! - list:     `imx --server URL run list` (IMX_TOKEN), the whole process, same store.
//!   Target: < 60 ms.
//! - dispatch: single-step noop runs started through the server, one `imx agent run --server URL`
//!   process: `run.created` → `step.leased` (and → `step.running`, or `step.succeeded` for noop steps, which
//!   have no running event) from the events table (millisecond
//!   timestamps), p50 over `IMX_BENCH_DISPATCH` runs (default 50). Target: p50 < 5 ms.
//! - chain:    a 40-step sequential noop chain through the server, one remote agent process:
//!   client wall time (start → terminal seen over the API) and server time (first to last event).
//!   Target: < 200 ms.
//! - logins:   a flood of 200 concurrent bad logins (each on its own connection, unknown users,
//!   so every one that is checked costs an argon2id hash of 19 MiB) against a fresh server,
//!   first with the login rate limits off (`--login-rate-limit 0 --login-global-rate-limit 0`:
//!   only the bound on concurrent hashes holds), then with the defaults; meanwhile a token
//!   holder sends GET /api/v1/runs every 25 ms. Per run: the server's peak RSS (VmHWM), the
//!   token requests' p50/p99/max latency, and how the logins were answered (401 checked, 503
//!   busy, 429 rate limited). Targets: RSS < 300 MB, token requests within 100 ms. Runs:
//!   `IMX_BENCH_LOGIN_RUNS` (default 3).
//!
//! Figures on the 2-core development machine (other builds running beside it at times; wrk,
//! 7 runs of 3 s each, median [min–max]), `cargo bench --bench server -- http`:
//! - before the read pool, token cache and friends: 12,007 [11,581–12,627] req/s at 8
//!   connections (p99 1.17 ms), 11,359 [10,565–11,392] at 32 (p99 4.49 ms);
//! - after: 23,066 [22,112–23,912] req/s at 8 connections (p99 2.05 ms), 27,911
//!   [23,891–28,494] at 32 (p99 2.73 ms). With the reqwest fallback: 19,358 and 22,455.
//!
//! Where the server's time goes now (perf, GET /runs?limit=50): SQLite reading the 51 rows
//! (index scan + one table seek per row) about a third, turning rows into `Run`s (strings,
//! params JSON) and the JSON encoding about a quarter, the kernel's TCP send of the ~12 KB
//! page and the wake-ups between threads most of the rest; the HTTP stack, token check,
//! rate limiter, metrics and request log a few percent together.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::remote::RemoteControlPlane;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use imx::model::StepKind;

mod common;

use common::{LoadGen, Proc, chain, env_or, ms, percentile, run_to_end, spread};

const BIN: &str = env!("CARGO_BIN_EXE_imx");

/// The longest a remote run is waited for between two looks (it is woken by its event stream).
const POLL: Duration = Duration::from_millis(200);

fn report(label: &str, mut samples: Vec<Duration>) {
    let (min, med, max) = spread(&mut samples);
    println!(
        "{label:<52} min {:>8.2} ms  median {:>8.2} ms  max {:>8.2} ms  (n={})",
        ms(min),
        ms(med),
        ms(max),
        samples.len()
    );
}

/// A store directory with its own HOME, so no user config, context or keyring leaks in.
struct Store {
    dir: PathBuf,
    /// Removed on drop; `None` for the seeded store kept between runs.
    _tmp: Option<tempfile::TempDir>,
}

impl Store {
    fn new() -> Store {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir(dir.join("home")).unwrap();
        Store {
            dir,
            _tmp: Some(tmp),
        }
    }

    /// The store of the http and list scenarios, with `n` runs and an admin: seeded once into
    /// `$IMX_BENCH_DIR/imx-bench-server-N` (default: the system temp folder) and reused by
    /// later runs, with its admin token. A store is complete once its `token` file exists.
    fn seeded(rt: &tokio::runtime::Runtime, n: usize) -> (Store, String) {
        let base = std::env::var_os("IMX_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("imx-bench-server-{n}"));
        let token_file = dir.join("token");
        let store = Store {
            dir: dir.clone(),
            _tmp: None,
        };
        if let Ok(token) = std::fs::read_to_string(&token_file) {
            eprintln!("reusing the seeded store in {}", dir.display());
            return (store, token.trim().to_string());
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("home")).unwrap();
        seed_runs(rt, &store, n);
        let token = store.init_admin();
        std::fs::write(&token_file, &token).unwrap();
        (store, token)
    }

    fn db(&self) -> PathBuf {
        self.dir.join("imx.db")
    }

    fn imx(&self) -> Command {
        // IMX_BENCH_BIN: another build of imx to measure (e.g. an older commit's), same store.
        let bin = std::env::var_os("IMX_BENCH_BIN").unwrap_or_else(|| BIN.into());
        let mut c = Command::new(bin);
        c.env("HOME", self.dir.join("home"))
            .env("XDG_CONFIG_HOME", self.dir.join("home/.config"))
            .env("IMX_KEYRING", "off")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "120")
            .env_remove("IMX_SERVER")
            .env_remove("IMX_STORE")
            .env_remove("IMX_TOKEN");
        c
    }

    fn open(&self) -> Arc<LocalControlPlane> {
        Arc::new(LocalControlPlane::open(&self.db(), LocalOptions::default()).unwrap())
    }

    /// `imx init --admin bench`: the admin token it prints.
    fn init_admin(&self) -> String {
        let out = self
            .imx()
            .arg("--store")
            .arg(self.db())
            .args(["init", "--admin", "bench"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .find(|w| w.starts_with("imx_"))
            .expect("init --admin printed no token")
            .to_string()
    }

    /// `imx server --listen 127.0.0.1:0`: the process and the URL it prints.
    fn server(&self) -> (Proc, String) {
        self.server_with(&[
            "--rate-limit",
            "0",
            "--ip-rate-limit",
            "0",
            "--ops-rate-limit",
            "0",
        ])
    }

    /// `imx server --listen 127.0.0.1:0 EXTRA...`: the process and the URL it prints.
    fn server_with(&self, extra: &[&str]) -> (Proc, String) {
        let mut child = self
            .imx()
            .arg("--store")
            .arg(self.db())
            .args(["server", "--listen", "127.0.0.1:0"])
            .args(extra)
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
            .unwrap_or_else(|| panic!("server printed no URL: {line:?}"))
            .trim_end_matches('/')
            .to_string();
        (
            Proc {
                child,
                _stdout: Some(stdout),
            },
            url,
        )
    }

    /// `imx agent run --server URL` with IMX_TOKEN.
    fn agent(&self, url: &str, token: &str) -> Proc {
        let child = self
            .imx()
            .env("IMX_TOKEN", token)
            .args([
                "--server", url, "agent", "run", "--name", "bench", "--slots",
            ])
            .arg("1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Proc {
            child,
            _stdout: None,
        }
    }
}

/// Seed `n` runs of a one-step workflow through the library (no agent ever runs them).
fn seed_runs(rt: &tokio::runtime::Runtime, store: &Store, n: usize) {
    let plane = store.open();
    let who = Principal::local_owner();
    let t0 = Instant::now();
    rt.block_on(async {
        plane
            .apply_workflow(&who, chain("tiny", 1, StepKind::Noop), false)
            .await
            .unwrap();
        for _ in 0..n {
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
    eprintln!("seeded {n} runs in {:.1} s", t0.elapsed().as_secs_f64());
}

fn bench_http(rt: &tokio::runtime::Runtime, url: &str, token: &str, runs: usize) {
    let secs: f64 = env_or("IMX_BENCH_SECS", 3.0);
    let levels: Vec<usize> = std::env::var("IMX_BENCH_CONC")
        .unwrap_or_else(|_| "8,32".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let loadgen = LoadGen::pick();
    println!("load generator: {}", loadgen.name());
    let target = format!("{url}/api/v1/runs?limit=50");
    let dur = Duration::from_secs_f64(secs);
    rt.block_on(async {
        // Check the page once.
        let page: serde_json::Value = reqwest::Client::new()
            .get(&target)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page
            .as_array()
            .or_else(|| page.get("items").and_then(|r| r.as_array()))
            .map_or(0, Vec::len);
        assert_eq!(items, 50, "a page of 50 runs");
        // References at the first level, to split the cost: the HTTP stack and the load
        // generator alone (/healthz), then the token check and one trivial plane call (/whoami).
        let conc = levels.first().copied().unwrap_or(8);
        for (path, label) in [
            ("/healthz", "reference GET /healthz"),
            ("/api/v1/whoami", "reference GET /whoami"),
        ] {
            let target = format!("{url}{path}");
            loadgen.run(&target, token, conc, Duration::from_secs(1)).await;
            let (mut rps, mut p99) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                let s = loadgen.run(&target, token, conc, dur).await;
                rps.push(s.rps);
                p99.push(s.p99);
            }
            let (_, b, _) = spread(&mut rps);
            let (_, q, _) = spread(&mut p99);
            println!("{label:<24} {conc:>2} conns: median {b:>8.0} req/s, median p99 {q:>6.2} ms");
        }
        for conc in levels {
            // Warm up (connections, page cache).
            loadgen.run(&target, token, conc, Duration::from_secs(1)).await;
            let (mut rps, mut p50, mut p99) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                let s = loadgen.run(&target, token, conc, dur).await;
                rps.push(s.rps);
                p50.push(s.p50);
                p99.push(s.p99);
            }
            let n = rps.len();
            let (a, b, c) = spread(&mut rps);
            println!(
                "GET /runs?limit=50, 100k runs, {conc:>2} conns: req/s    min {a:>8.0}     median {b:>8.0}     max {c:>8.0}     (n={n}, {secs} s each)"
            );
            let (a, b, c) = spread(&mut p50);
            println!(
                "GET /runs?limit=50, 100k runs, {conc:>2} conns: p50      min {a:>8.2} ms  median {b:>8.2} ms  max {c:>8.2} ms"
            );
            let (a, b, c) = spread(&mut p99);
            println!(
                "GET /runs?limit=50, 100k runs, {conc:>2} conns: p99      min {a:>8.2} ms  median {b:>8.2} ms  max {c:>8.2} ms"
            );
        }
    });
}

fn bench_list(store: &Store, url: &str, token: &str, runs: usize) {
    let mut samples = Vec::new();
    for i in 0..runs + 1 {
        let t = Instant::now();
        let out = store
            .imx()
            .env("IMX_TOKEN", token)
            .args(["--server", url, "run", "list"])
            .output()
            .unwrap();
        let elapsed = t.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if i > 0 {
            samples.push(elapsed); // the first one warms the page cache
        }
    }
    report("remote run list (process), 100,000 runs", samples);
}

/// Event times (ms) of one run, by kind (the first of each kind).
fn event_times(db: &Path, run_id: &str) -> BTreeMap<String, i64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT kind, MIN(time) FROM events WHERE run_id = ?1 GROUP BY kind")
        .unwrap();
    stmt.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn bench_remote_agent(rt: &tokio::runtime::Runtime, runs: usize, which: (bool, bool)) {
    let store = Store::new();
    let who = Principal::local_owner();
    {
        let plane = store.open();
        rt.block_on(async {
            plane
                .apply_workflow(&who, chain("one", 1, StepKind::Noop), false)
                .await
                .unwrap();
            plane
                .apply_workflow(&who, chain("chain-noop", 40, StepKind::Noop), false)
                .await
                .unwrap();
        });
    }
    let token = store.init_admin();
    let (_server, url) = store.server();
    let _agent = store.agent(&url, &token);
    let plane = RemoteControlPlane::new(&url, Some(token.clone()), None).unwrap();
    let db = store.db();
    rt.block_on(async {
        let t0 = Instant::now();
        while plane.list_agents(&who).await.unwrap().is_empty() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the agent did not register"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        run_to_end(&plane, "one", POLL).await; // warm-up
        if which.0 {
            let n: usize = env_or("IMX_BENCH_DISPATCH", 50).max(runs);
            let (mut leased, mut running, mut wall) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..n {
                // Let the agent go idle first: this measures an idle agent picking up new work.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let (d, run) = run_to_end(&plane, "one", POLL).await;
                let ev = event_times(&db, &run.id);
                let created = ev["run.created"];
                leased.push(Duration::from_millis((ev["step.leased"] - created) as u64));
                // Noop steps go leased → succeeded without a `step.running` event.
                let started = ev.get("step.running").or(ev.get("step.succeeded")).unwrap();
                running.push(Duration::from_millis((started - created) as u64));
                wall.push(d);
            }
            report("dispatch: run.created → step.leased (events, ms)", leased);
            report(
                "dispatch: run.created → step.running|succeeded (ev)",
                running,
            );
            report("dispatch: 1-step noop run, client start → done seen", wall);
        }
        if which.1 {
            run_to_end(&plane, "chain-noop", POLL).await; // warm-up
            let (mut wall, mut server) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                let (d, run) = run_to_end(&plane, "chain-noop", POLL).await;
                let ev = event_times(&db, &run.id);
                let first = ev.values().min().unwrap();
                let last = ev.values().max().unwrap();
                server.push(Duration::from_millis((last - first) as u64));
                wall.push(d);
            }
            report("chain: 40 noop steps, remote agent, client wall", wall);
            report("chain: 40 noop steps, remote agent, server events", server);
        }
    });
}

/// A line of `/proc/PID/status` in KiB (`VmHWM`: the peak resident set).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// 200 concurrent bad logins against the server at `url` (process `pid`), and token requests
/// meanwhile: (peak RSS in MiB, token request latencies, statuses of the logins; 0: no answer).
async fn login_flood(
    url: &str,
    token: &str,
    pid: u32,
) -> (u64, Vec<Duration>, BTreeMap<u16, usize>) {
    let flood = reqwest::Client::new();
    let logins: Vec<_> = (0..200)
        .map(|i| {
            let req = flood
                .post(format!("{url}/api/v1/login"))
                .json(&serde_json::json!({ "user": format!("nobody{i}"), "password": "not the password" }));
            tokio::spawn(async move { req.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = {
        let (done, url, token) = (done.clone(), url.to_string(), token.to_string());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut every = tokio::time::interval(Duration::from_millis(25));
            let mut took = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                every.tick().await;
                let started = Instant::now();
                let resp = http
                    .get(format!("{url}/api/v1/runs"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                resp.bytes().await.unwrap();
                took.push(started.elapsed());
            }
            took
        })
    };
    let mut statuses = BTreeMap::new();
    for login in logins {
        let status = login.await.unwrap().unwrap_or(0);
        *statuses.entry(status).or_insert(0) += 1;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let took = probe.await.unwrap();
    (status_kib(pid, "VmHWM") / 1024, took, statuses)
}

fn bench_logins(rt: &tokio::runtime::Runtime) {
    let runs: usize = env_or("IMX_BENCH_LOGIN_RUNS", 3usize).max(1);
    for (label, extra) in [
        (
            "login rate limits off",
            &["--login-rate-limit", "0", "--login-global-rate-limit", "0"][..],
        ),
        ("default limits", &[][..]),
    ] {
        let mut peaks = Vec::new();
        for run in 1..=runs {
            let store = Store::new();
            let token = store.init_admin();
            let (server, url) = store.server_with(extra);
            let (peak, mut took, statuses) =
                rt.block_on(login_flood(&url, &token, server.child.id()));
            took.sort();
            assert!(
                !took.is_empty(),
                "no token request finished during the flood"
            );
            let p = |q: f64| percentile(&took, q);
            println!(
                "logins ({label}) run {run}: peak RSS {peak} MiB; GET /api/v1/runs meanwhile: \
                 {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; logins answered {statuses:?}",
                took.len(),
                ms(p(0.5)),
                ms(p(0.99)),
                ms(took.last().copied().unwrap_or_default()),
            );
            peaks.push(peak);
        }
        peaks.sort_unstable();
        println!(
            "logins ({label}): peak RSS median {} MiB (max {} MiB)",
            peaks[peaks.len() / 2],
            peaks[peaks.len() - 1]
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let runs: usize = env_or("IMX_BENCH_RUNS", 7usize).max(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if want("http") || want("list") {
        let (store, token) = Store::seeded(&rt, env_or("IMX_BENCH_SEED", 100_000));
        let (_server, url) = store.server();
        if want("http") {
            bench_http(&rt, &url, &token, runs);
        }
        if want("list") {
            bench_list(&store, &url, &token, runs);
        }
    }
    if want("dispatch") || want("chain") {
        bench_remote_agent(&rt, runs, (want("dispatch"), want("chain")));
    }
    if want("logins") {
        bench_logins(&rt);
    }
}
