//! Dashboard benchmark (issue 4): a local store with 1,000,000 runs (2,000,000 steps) and 10,000
//! agents, and the dashboard's own code (`tui/`, compiled in here) against it.
//!
//! `cargo bench --bench dashboard` seeds the store once (direct SQL; kept in
//! `$IMX_BENCH_DIR`, default the system temp dir) and then runs 5 measuring processes, each
//! fresh, and prints min/median/max of:
//! - first frame: open the store → first overview drawn with data (120×40 `TestBackend`);
//! - frame: one data refresh after a change (a run started) plus the redraw, p50 and p99 over
//!   400 frames across Overview, Runs, Agents and Run detail;
//! - RSS: the process's peak resident memory;
//! - idle CPU: the real event loop, idle for 10 s on the Overview.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, unused_imports)]
#[path = "../tui/mod.rs"]
mod tui;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, Plane, StartRun};
use imx::model::now_ms;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rusqlite::{Connection, params};

use tui::action::{Action, ViewId};
use tui::app::App;
use tui::loader::Loader;
use tui::theme::Theme;

const RUNS: usize = 1_000_000;
const AGENTS: usize = 10_000;
const PROCESSES: usize = 5;
const FRAMES_PER_VIEW: usize = 100;
const IDLE: Duration = Duration::from_secs(10);
const SEED_MARK: &str = "1000000 runs, 10000 agents, v1";

fn store_path() -> PathBuf {
    let dir = std::env::var_os("IMX_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("imx-dashboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("imx.db")
}

fn main() {
    let path = store_path();
    if std::env::var_os("IMX_BENCH_MEASURE").is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(measure(&path));
        return;
    }
    seed(&path);
    explain(&path);
    let exe = std::env::current_exe().unwrap();
    let mut samples: Vec<Vec<(String, f64)>> = Vec::new();
    for i in 0..PROCESSES {
        let out = Command::new(&exe)
            .env("IMX_BENCH_MEASURE", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "measure {i} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout.lines().find(|l| l.starts_with("RESULT")).unwrap();
        println!("run {}: {}", i + 1, &line[7..]);
        samples.push(
            line.split_whitespace()
                .skip(1)
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k.to_string(), v.parse().unwrap())
                })
                .collect(),
        );
    }
    println!("\nover {PROCESSES} processes (min / median / max):");
    for (k, _) in &samples[0] {
        let mut v: Vec<f64> = samples
            .iter()
            .map(|s| s.iter().find(|(kk, _)| kk == k).unwrap().1)
            .collect();
        v.sort_by(f64::total_cmp);
        println!(
            "  {k:<22} {:>9.2} / {:>9.2} / {:>9.2}",
            v[0],
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
    println!("\ntargets: first_frame_ms < 300, frame_p99_ms < 16, rss_mb < 100, idle_cpu_pct < 2");
}

/// Seed the store once: the schema via the real open, a workflow via the control plane, then
/// runs, steps, agents, events and audit records by direct SQL.
fn seed(path: &Path) {
    if path.exists() {
        let db = Connection::open(path).unwrap();
        let mark: Option<String> = db
            .query_row("SELECT value FROM meta WHERE key = 'bench_seed'", [], |r| {
                r.get(0)
            })
            .ok();
        if mark.as_deref() == Some(SEED_MARK) {
            println!("store: {} (seeded earlier)", path.display());
            return;
        }
        drop(db);
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
    }
    let t = Instant::now();
    {
        let plane = LocalControlPlane::open(path, LocalOptions::default()).unwrap();
        let spec = imx::spec::parse_str(
            "name: deploy\nparams:\n  version: { type: string, default: '1.0' }\nsteps:\n  - id: build\n    run: make\n  - id: test\n    needs: [build]\n    run: make test\n",
            "deploy.yaml",
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(plane.apply_workflow(&Principal::local_owner(), spec, false))
            .unwrap();
    }
    let mut db = Connection::open(path).unwrap();
    db.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = db.transaction().unwrap();
    let now = now_ms();
    let span = 30 * 86_400_000_i64;
    let agent_ids: Vec<String> = (0..AGENTS)
        .map(|i| ulid::Ulid::from_parts((now - span) as u64, i as u128).to_string())
        .collect();
    {
        let mut ins = tx
            .prepare(
                "INSERT INTO agents (id, name, labels, slots, draining, registered_at, last_heartbeat,
                                     stopped_at, hostname, pid, version)
                 VALUES (?1, ?2, ?3, 4, ?4, ?5, ?6, ?7, ?8, ?9, '0.1.0')",
            )
            .unwrap();
        for (i, id) in agent_ids.iter().enumerate() {
            let offline = i % 10 == 9;
            ins.execute(params![
                id,
                format!("agent-{i:05}"),
                format!("{{\"os\":\"linux\",\"zone\":\"z{}\"}}", i % 8),
                i % 50 == 7,
                now - span,
                if offline {
                    now - 3_600_000
                } else {
                    now + 600_000
                },
                Option::<i64>::None,
                format!("node-{}", i / 16),
                1000 + i
            ])
            .unwrap();
        }
        let mut run = tx
            .prepare(
                "INSERT INTO runs (id, workflow, workflow_version, status, params, created_at, started_at,
                                   finished_at, created_by, steps_total, steps_done, steps_succeeded, error)
                 VALUES (?1, 'deploy', 1, ?2, '{\"version\":\"1.0\"}', ?3, ?4, ?5, 'local:bench', 2, ?6, ?7, ?8)",
            )
            .unwrap();
        let mut step = tx
            .prepare(
                "INSERT INTO steps (run_id, step_id, idx, kind, status, pending_needs, attempt, tries,
                                    agent_id, agent_name, lease_until, not_before, started_at, finished_at)
                 VALUES (?1, ?2, ?3, 'run', ?4, 0, ?5, ?5, ?6, ?7, ?8, 0, ?9, ?10)",
            )
            .unwrap();
        let mut event = tx
            .prepare("INSERT INTO events (time, kind, run_id, step_id, data) VALUES (?1, ?2, ?3, NULL, '{}')")
            .unwrap();
        for i in 0..RUNS {
            let created = now - span + (i as i64 * span / RUNS as i64);
            let id = ulid::Ulid::from_parts(created as u64, (i as u128) << 16).to_string();
            let active = RUNS - i <= 200;
            let (status, error) = if active {
                (if i % 2 == 0 { "running" } else { "queued" }, None)
            } else {
                match i % 100 {
                    0..=3 => ("failed", Some("step \"test\" failed: exit code 1")),
                    4 => ("cancelled", Some("cancelled by an operator")),
                    _ => ("succeeded", None),
                }
            };
            let started = (status != "queued").then_some(created + 1_000);
            let finished = (!active).then_some(created + 60_000);
            let ok = if status == "succeeded" { 2 } else { 1 };
            run.execute(params![
                id,
                status,
                created,
                started,
                finished,
                if active { 0 } else { 2 },
                ok,
                error
            ])
            .unwrap();
            let agent = &agent_ids[i % AGENTS];
            let agent_name = format!("agent-{:05}", i % AGENTS);
            let (s1, s2) = match status {
                "running" => ("succeeded", "running"),
                "queued" => ("ready", "pending"),
                "succeeded" => ("succeeded", "succeeded"),
                "failed" => ("succeeded", "failed"),
                _ => ("succeeded", "cancelled"),
            };
            let held = s2 == "running";
            step.execute(params![
                id,
                "build",
                0,
                s1,
                i32::from(s1 != "ready"),
                (s1 != "ready").then_some(agent),
                (s1 != "ready").then_some(&agent_name),
                Option::<i64>::None,
                started,
                started.map(|s| s + 20_000)
            ])
            .unwrap();
            step.execute(params![
                id,
                "test",
                1,
                s2,
                i32::from(s2 != "pending"),
                (s2 != "pending").then_some(agent),
                (s2 != "pending").then_some(&agent_name),
                held.then_some(now + 30_000),
                started.map(|s| s + 20_000),
                finished
            ])
            .unwrap();
            if i % 10 == 0 {
                event.execute(params![created, "run.created", id]).unwrap();
            }
        }
    }
    let owner = Principal::local_owner();
    for i in 0..10_000 {
        imx::audit::append(
            &tx,
            &owner,
            "run.start",
            &format!("deploy #{i}"),
            "ok",
            serde_json::Value::Null,
        )
        .unwrap();
    }
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('bench_seed', ?1)",
        [SEED_MARK],
    )
    .unwrap();
    tx.commit().unwrap();
    db.execute_batch("ANALYZE").unwrap();
    println!("store: {} seeded in {:.1?}", path.display(), t.elapsed());
}

/// Show that the overview's queries use indexes (no full scans of runs or steps).
fn explain(path: &Path) {
    let db = Connection::open(path).unwrap();
    let now = now_ms();
    for sql in [
        "SELECT count(*) FROM runs WHERE status = 'running'",
        "SELECT finished_at / 60000, status, count(*) FROM runs WHERE finished_at >= ?1 GROUP BY 1, 2",
        "SELECT finished_at / 60000, count(*) FROM steps WHERE finished_at >= ?1 GROUP BY 1",
        "SELECT finished_at - started_at FROM steps WHERE finished_at >= ?1 AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1000",
        "SELECT agent_id, count(*) FROM steps WHERE status IN ('leased', 'running') AND agent_id IS NOT NULL GROUP BY agent_id",
        "SELECT id FROM runs WHERE status = 'failed' ORDER BY id DESC LIMIT 5",
    ] {
        let mut stmt = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = sql.matches("?1").count();
        let plan: Vec<String> = if n > 0 {
            stmt.query_map([now - 86_400_000], |r| r.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        } else {
            stmt.query_map([], |r| r.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        println!("plan: {} → {}", &sql[..sql.len().min(60)], plan.join("; "));
    }
}

/// Peak resident memory of this process, in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time used by this process (user + system), from /proc (USER_HZ = 100 on Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    Duration::from_millis((f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) * 10)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

async fn frame(app: &mut App, loader: &mut Loader, term: &mut Terminal<TestBackend>, theme: Theme) {
    let w = app.watch();
    for d in loader.refresh(&w).await {
        app.update(Action::Data(Box::new(d)));
    }
    term.draw(|f| tui::views::draw(f, app, theme)).unwrap();
}

async fn measure(path: &Path) {
    let theme = Theme { color: true };
    let who = Principal::local_owner();
    let t0 = Instant::now();
    let local = LocalControlPlane::open(
        path,
        LocalOptions {
            create: false,
            ..LocalOptions::default()
        },
    )
    .unwrap();
    let plane: Plane = Arc::new(local);
    let mut app = App::new(who.clone(), plane.location(), ViewId::Overview, now_ms(), 0);
    let mut loader = Loader::new(plane.clone(), who.clone());
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    frame(&mut app, &mut loader, &mut term, theme).await;
    let first_frame = t0.elapsed();
    assert!(
        app.overview.data.is_some(),
        "the first frame has the overview"
    );

    // First frames of the paged views (switching to them).
    let mut firsts = Vec::new();
    for v in [ViewId::Runs, ViewId::Agents] {
        app.update(Action::Goto(v));
        let t = Instant::now();
        frame(&mut app, &mut loader, &mut term, theme).await;
        firsts.push(t.elapsed());
    }
    assert_eq!(app.runs.window.items.len(), tui::window::PAGE as usize);
    assert_eq!(app.agents.window.items.len(), tui::window::PAGE as usize);

    // Steady state: something changes (a run starts), then one refresh + redraw.
    let mut frames = Vec::new();
    let views = [
        ViewId::Overview,
        ViewId::Runs,
        ViewId::Agents,
        ViewId::RunDetail,
    ];
    for v in views {
        if v == ViewId::RunDetail {
            app.update(Action::Goto(ViewId::Runs));
            frame(&mut app, &mut loader, &mut term, theme).await;
            app.update(Action::Enter);
        } else {
            app.update(Action::Goto(v));
        }
        frame(&mut app, &mut loader, &mut term, theme).await;
        for _ in 0..FRAMES_PER_VIEW {
            plane
                .start_run(
                    &who,
                    StartRun {
                        workflow: "deploy".into(),
                        ..StartRun::default()
                    },
                )
                .await
                .unwrap();
            app.update(Action::Tick(now_ms()));
            let t = Instant::now();
            frame(&mut app, &mut loader, &mut term, theme).await;
            frames.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    frames.sort_by(f64::total_cmp);

    // Idle: the real loop, nothing changing, on the Overview.
    let app = App::new(who.clone(), plane.location(), ViewId::Overview, now_ms(), 0);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let quit = tx.clone();
    let mut idle_term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(IDLE).await;
        let _ = quit.send(tui::event_loop::Msg::Action(Action::Quit));
    });
    // Let the first refresh happen outside the idle window.
    let cpu0 = cpu_time();
    let wall0 = Instant::now();
    let app = tui::event_loop::run(&mut idle_term, app, plane.clone(), theme, tx, rx)
        .await
        .unwrap();
    let idle_cpu = (cpu_time() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64() * 100.0;
    assert!(app.overview.data.is_some());

    println!(
        "RESULT first_frame_ms={:.2} runs_first_ms={:.2} agents_first_ms={:.2} frame_p50_ms={:.3} frame_p99_ms={:.3} frame_max_ms={:.3} rss_mb={:.1} idle_cpu_pct={:.2}",
        first_frame.as_secs_f64() * 1000.0,
        firsts[0].as_secs_f64() * 1000.0,
        firsts[1].as_secs_f64() * 1000.0,
        percentile(&frames, 50.0),
        percentile(&frames, 99.0),
        frames[frames.len() - 1],
        rss_mb(),
        idle_cpu,
    );
}
