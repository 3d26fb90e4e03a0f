//! The schedules benchmark (issue 12's targets): 10,000 schedules `every: 1m` fired by the
//! scheduler loop itself ([`imx::control::run_scheduler`]), on SQLite and on PostgreSQL
//! (skipped without one; see `store::postgres::testdb`).
//!
//! ```text
//! cargo bench --bench schedules            # both
//! cargo bench --bench schedules -- sqlite  # one of sqlite, postgres
//! ```
//!
//! The schedules' first minute is fired before the measure and its runs cancelled (a leader's
//! steady minute is measured, not its first: compiled specs cached, a minute of ticks in the
//! table, no run of the minute before still going). The loop then runs on a clock set so that
//! the schedules' next minute comes two seconds after it starts: it must wake at that nominal
//! time, not poll late. It prints:
//! - **start lag**: when each run became visible to a reader (one watching the store's change
//!   feed and counting runs after each commit), less its nominal time: p50, p99, max. Target:
//!   p99 under 1 s.
//! - **the pass**: the process's CPU while the loop woke and fired the minute (less the
//!   watcher's own), and its wall time; of that CPU, the pass's own thread's (as the pass
//!   reports it: [`imx::store::schedules::PassCpu`]) and, within it, the CPU inside the pass's
//!   `start_runs` calls (making the 10,000 runs: their rows, events and indexes); the rest is
//!   other threads' (reading the store's own file events, the loop's wake).
//! - **making the runs alone**, measured after the pass: the same 10,000 scheduled runs made
//!   in the pass's batches, one `start_runs` and one commit each (each run with its schedule
//!   and nominal time, as any scheduled run is indexed; no schedules read or written): the
//!   process's CPU, of which the CPU inside `start_runs`; the rest is the runs' commits (their
//!   pages written to the log and checkpointed) and other threads' work meanwhile.
//! - **tick work**: the pass's process CPU less the runs' making — the CPU inside the pass's
//!   own `start_runs` calls, measured in the pass, and the runs' commits (with other threads'
//!   work) as measured alone — so due reads, plans, tick records, schedule updates, batching,
//!   the commits of the scheduler's own rows, and what that costs other threads. Also printed
//!   with the runs' commits counted (the pass less its `start_runs` only). Before, it was the
//!   pass less the runs made alone, two process figures taken at different times: printed too
//!   ("the pass less that"); it moves more from run to run.
//! - **idle wakes**: the process's CPU over ten seconds of a busy store (the change feed moved
//!   every 10 ms, as by other processes' commits; the loop looks at the store for those at
//!   most every five seconds), less the thread moving it, scaled to a minute.
//! - **CPU per minute**: the tick work plus a minute of idle wakes (target: under 50 ms), and
//!   the pass's whole CPU plus the idle wakes (with the runs' making).
//! - the decisions alone (compile + plan of every schedule, no store).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

// Its unit tests are not this bench's: their import goes unused here.
#[allow(unused_imports)]
#[path = "../src/store/postgres/testdb.rs"]
mod testdb;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use imx::control::{LocalControlPlane, LocalOptions, run_scheduler};
use imx::model::{RunFilter, StepKind, StepSpec, WorkflowSpec, now_ms};
use imx::schedule::{Clock, Schedule, ScheduleSpec, State, plan};
use imx::store::api::{Backend, RunRequest};
use imx::store::schedules::{PASS_BATCH, PassCpu, fire_due_batched, new_info};

const SCHEDULES: usize = 10_000;
const MINUTE: i64 = 60_000;
/// How long after the loop starts the schedules' minute comes.
const LEAD_MS: i64 = 2_000;
/// The busy store's idle period measured (scaled to a minute).
const IDLE: Duration = Duration::from_secs(10);

fn tv(t: nix::sys::time::TimeVal) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec()).unwrap())
        + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap())
}

/// CPU time (user + system) of this process, or of the calling thread.
fn cpu(who: nix::sys::resource::UsageWho) -> Duration {
    let u = nix::sys::resource::getrusage(who).unwrap();
    tv(u.user_time()) + tv(u.system_time())
}

fn process_cpu() -> Duration {
    cpu(nix::sys::resource::UsageWho::RUSAGE_SELF)
}

fn thread_cpu() -> Duration {
    cpu(nix::sys::resource::UsageWho::RUSAGE_THREAD)
}

fn pct(sorted: &[i64], p: f64) -> i64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The system clock, `0` ms ahead.
struct Ahead(i64);

impl Clock for Ahead {
    fn now_ms(&self) -> i64 {
        now_ms() + self.0
    }
}

fn run_count(store: &Arc<dyn Backend>) -> u64 {
    store
        .read(|tx| tx.status_counts())
        .unwrap()
        .runs
        .values()
        .sum()
}

/// Counts runs after every commit (the feed moves) until `want` are seen or `stop`: each
/// (epoch ms, count) first seen, and the watcher's own CPU.
fn watch_runs(
    store: Arc<dyn Backend>,
    want: u64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(Vec<(i64, u64)>, Duration)> {
    std::thread::spawn(move || {
        let c0 = thread_cpu();
        let mut seen_at = Vec::new();
        let mut last = u64::MAX;
        let mut version = store.feed().version();
        loop {
            let v = store.feed().version();
            if v != version {
                version = v;
                let n = run_count(&store);
                if n != last {
                    seen_at.push((now_ms(), n));
                    last = n;
                }
                if n >= want {
                    break;
                }
            }
            if stop.load(Ordering::Acquire) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        (seen_at, thread_cpu() - c0)
    })
}

/// Fire the schedules' first minute, `at`, and cancel its runs: the measured minute is then a
/// leader's steady minute, not its first — the schedules' compiled specs are cached, as they
/// are from a leader's second minute on, the tick table holds a minute of ticks, and no run
/// of the minute before is still going (which would make the measured ticks overlap skips).
fn warm_up_minute(store: &Arc<dyn Backend>, at: i64) {
    let report = fire_due_batched(store.as_ref(), at, None, PASS_BATCH, |_| Ok(true))
        .unwrap()
        .unwrap();
    let fired: u64 = report.ticks.values().map(|c| c.fired).sum();
    assert_eq!(fired, SCHEDULES as u64, "the warm-up minute did not fire");
    let mut ids = Vec::with_capacity(SCHEDULES);
    let mut cursor = None;
    loop {
        let filter = RunFilter {
            limit: Some(1000),
            cursor: cursor.take(),
            ..RunFilter::default()
        };
        let page = store.read(|tx| tx.list_runs(&filter)).unwrap();
        ids.extend(page.items.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let cache = store.specs();
    for chunk in ids.chunks(500) {
        store
            .write(|tx| {
                for id in chunk {
                    tx.cancel_run(cache, id)?;
                }
                Ok(())
            })
            .unwrap();
    }
}

fn bench(store: &Arc<dyn Backend>, backend: &str) {
    store
        .write(|tx| {
            tx.apply_workflow(
                &WorkflowSpec::new("tick", vec![StepSpec::new("a", StepKind::Noop)]),
                false,
            )
        })
        .unwrap();
    // Schedules made just before minute `nominal` of the bench's clock: that is their first tick.
    let nominal = (now_ms() / MINUTE + 10) * MINUTE;
    // Their first minute, fired before the measure (see below).
    let warm_up = nominal - MINUTE;
    let specs: Vec<ScheduleSpec> = (0..SCHEDULES)
        .map(|i| {
            let mut s = ScheduleSpec::new(format!("s{i:05}"), "tick");
            s.every_ms = Some(60_000);
            s
        })
        .collect();
    store
        .write(|tx| {
            for s in &specs {
                tx.insert_schedule(&new_info(s.clone(), "command", warm_up - 1)?)?;
            }
            Ok(())
        })
        .unwrap();

    // The decisions alone: compile and plan every schedule (what a pass computes per row).
    let (c0, w0) = (process_cpu(), Instant::now());
    let mut fires = 0;
    for s in &specs {
        let compiled = Schedule::compile(s.clone()).unwrap();
        let state = State {
            last_nominal: nominal - 1,
            ..State::default()
        };
        fires += plan(&compiled, &state, nominal).decisions.len();
    }
    let (decide_cpu, decide_wall) = (process_cpu() - c0, w0.elapsed());
    assert_eq!(fires, SCHEDULES);

    let plane = Arc::new(LocalControlPlane::with_backend(
        store.clone(),
        LocalOptions::default(),
    ));
    // PostgreSQL: only the maintenance leader fires; be it before the clock starts.
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.maintenance_leader() == Some(false) {
        assert!(Instant::now() < deadline, "never led maintenance");
        std::thread::sleep(Duration::from_millis(50));
    }
    warm_up_minute(store, warm_up);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let before = run_count(store);
    let stop_watch = Arc::new(AtomicBool::new(false));
    let watcher = watch_runs(store.clone(), before + SCHEDULES as u64, stop_watch.clone());
    // The nominal minute comes LEAD_MS (real time) from now.
    let due_at = now_ms() + LEAD_MS;
    let clock: Arc<dyn Clock> = Arc::new(Ahead(nominal - due_at));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // What the loop's passes report of their CPU (one pass fires the minute).
    let reported = Arc::new(std::sync::Mutex::new(Vec::<PassCpu>::new()));
    let (c0, w0) = (process_cpu(), Instant::now());
    let looping = rt.spawn(run_scheduler(plane, clock, stop_rx, {
        let reported = reported.clone();
        move |r| match r {
            Err(e) => panic!("scheduler pass failed: {e}"),
            Ok(Some(report)) => reported.lock().unwrap().push(report.cpu),
            Ok(None) => {}
        }
    }));
    let give_up = std::thread::spawn({
        let stop = stop_watch.clone();
        move || {
            std::thread::sleep(Duration::from_secs(120));
            stop.store(true, Ordering::Release);
        }
    });
    let (seen_at, watch_cpu) = watcher.join().unwrap();
    drop(give_up);
    let (pass_cpu, pass_wall) = (process_cpu() - c0 - watch_cpu, w0.elapsed());
    assert_eq!(
        seen_at.last().map(|s| s.1),
        Some(before + SCHEDULES as u64),
        "not every run was made"
    );
    // Each run's start: when the count first covered it.
    let mut lag = Vec::with_capacity(SCHEDULES);
    let mut prev = before;
    for &(at, n) in &seen_at {
        for _ in prev..n {
            lag.push(at - due_at);
        }
        prev = n;
    }
    lag.sort_unstable();

    // Idle wakes on a busy store: another process's commit every 10 ms. Measured once the
    // pass's own aftermath is over: on SQLite the store empties its write-ahead log when it
    // has been idle for `store::wal::IDLE` (500 ms), a checkpoint of the pass's writes that is
    // not the scheduler's.
    std::thread::sleep(Duration::from_secs(2));
    let busy = {
        let store = store.clone();
        std::thread::spawn(move || {
            let (c0, w0) = (thread_cpu(), Instant::now());
            while w0.elapsed() < IDLE {
                store.feed().notify_local();
                std::thread::sleep(Duration::from_millis(10));
            }
            thread_cpu() - c0
        })
    };
    let c0 = process_cpu();
    let busy_cpu = busy.join().unwrap();
    let idle_cpu = process_cpu() - c0 - busy_cpu;
    let idle_per_minute = idle_cpu.mul_f64(60.0 / IDLE.as_secs_f64());
    let _ = stop_tx.send(true);
    rt.block_on(looping).unwrap();

    // The same 10,000 runs made alone, as the pass makes them: in its batches, one
    // `start_runs` each.
    let cache = store.specs();
    let batch = usize::try_from(PASS_BATCH).unwrap();
    let params = std::collections::BTreeMap::new();
    let labels = std::collections::BTreeMap::new();
    // Scheduled runs, as the pass's are (their schedule and nominal time indexed), at the
    // minute after the pass's.
    let c0 = process_cpu();
    // Of which inside `start_runs` (this thread's CPU); the rest is the transactions' own —
    // their commits, the runs' pages written — and other threads' meanwhile.
    let mut alone_start = Duration::ZERO;
    for chunk in specs.chunks(batch) {
        let reqs: Vec<RunRequest<'_>> = chunk
            .iter()
            .map(|s| RunRequest {
                workflow: "tick",
                version: None,
                params: &params,
                timeout_ms: None,
                default_timeout_ms: None,
                created_by: "bench",
                labels: &labels,
                rerun_of: None,
                schedule: Some((&s.name, nominal + MINUTE)),
                id: None,
            })
            .collect();
        store
            .write(|tx| {
                let t = thread_cpu();
                let ids = tx.start_runs(cache, &reqs);
                alone_start += thread_cpu() - t;
                ids
            })
            .unwrap();
    }
    let runs_alone_cpu = process_cpu() - c0;
    let alone_commits = runs_alone_cpu.saturating_sub(alone_start);
    let own = reported
        .lock()
        .unwrap()
        .iter()
        .fold(PassCpu::default(), |sum, p| PassCpu {
            total: sum.total + p.total,
            runs: sum.runs + p.runs,
        });
    // The runs' making: inside the pass's `start_runs`, and their commits as made alone.
    let tick_cpu = pass_cpu.saturating_sub(own.runs + alone_commits);

    println!("{SCHEDULES} schedules, every: 1m, {backend}, {PASS_BATCH} per transaction:");
    println!(
        "  start lag from nominal time (visible to a reader): p50 {} ms, p99 {} ms, max {} ms \
         (target p99 < 1000)",
        pct(&lag, 0.5),
        pct(&lag, 0.99),
        lag[lag.len() - 1]
    );
    println!(
        "  the pass: cpu {:.1} ms (wall {:.1} ms, from the loop's start {} ms before the minute): \
         its thread {:.1} ms, of which making the runs {:.1} ms; other threads {:.1} ms",
        ms(pass_cpu),
        ms(pass_wall),
        LEAD_MS,
        ms(own.total),
        ms(own.runs),
        ms(pass_cpu.saturating_sub(own.total)),
    );
    println!(
        "  making the runs alone, measured after: cpu {:.1} ms (start_runs {:.1} ms, the rest — \
         commits, other threads — {:.1} ms); the pass less that: {:.1} ms",
        ms(runs_alone_cpu),
        ms(alone_start),
        ms(alone_commits),
        ms(pass_cpu.saturating_sub(runs_alone_cpu)),
    );
    println!(
        "  tick work: cpu {:.1} ms (the pass less its runs' making and their commits; with those \
         commits: {:.1} ms)",
        ms(tick_cpu),
        ms(pass_cpu.saturating_sub(own.runs)),
    );
    println!(
        "  idle wakes, busy store: cpu {:.1} ms per {:?}, {:.1} ms per minute",
        ms(idle_cpu),
        IDLE,
        ms(idle_per_minute)
    );
    println!(
        "  cpu per minute: tick work + idle wakes {:.1} ms (target < 50); with the runs' making {:.1} ms",
        ms(tick_cpu + idle_per_minute),
        ms(pass_cpu + idle_per_minute)
    );
    println!(
        "  decisions alone (compile + plan): cpu {:.1} ms (wall {:.1} ms)",
        ms(decide_cpu),
        ms(decide_wall)
    );
}

fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Backend> =
        Arc::new(imx::store::Store::open(&dir.path().join("imx.db"), true).unwrap());
    bench(&store, "SQLite");
}

fn postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(testdb::TestDb::get()) else {
        println!("postgres: skipped (no PostgreSQL)");
        return;
    };
    let store: Arc<dyn Backend> =
        Arc::new(imx::store::postgres::store::PgStore::open(&db.url(), true).unwrap());
    bench(&store, "PostgreSQL");
    drop(store);
    drop(db);
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    if wanted("sqlite") {
        sqlite();
    }
    if wanted("postgres") {
        postgres();
    }
}
