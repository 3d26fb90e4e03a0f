//! Dashboard benchmark (issues 4 and 14): a local store with 1,000,000 runs (2,000,000 steps),
//! 10,000 agents and one step whose log has 1,000,000 lines, and the dashboard's own code
//! (`tui/`, compiled in here) against it.
//!
//! `cargo bench --bench dashboard` seeds the store once (bulk inserts through
//! `imx::store::bench`; kept in `$IMX_BENCH_DIR`, default the system temp dir, and reused while
//! its seed mark matches) and then runs 5 measuring processes, each fresh, and prints
//! min/median/max of:
//! - first frame: open the store → first overview drawn with data (120×40 `TestBackend`);
//! - frame: one data refresh after a change (a run started) plus the redraw, p50 and p99 over
//!   500 frames across Overview, Runs, Agents, Run detail and scrolling the long log;
//! - the long log: opening it (its tail, read backwards), `g` (its first lines), `G` (its tail
//!   again), scrolling up past the loaded window (the chunk before it), each key → lines drawn;
//! - log search: `/` over the loaded window → the match drawn;
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
use imx::store::bench::{Seed, plans, seed_dashboard, seed_mark};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use tui::action::{Action, Edit, ViewId};
use tui::app::App;
use tui::loader::Loader;
use tui::theme::Theme;
use tui::views::logpane::{CHUNK, LOG_KEEP};

const RUNS: usize = 1_000_000;
const AGENTS: usize = 10_000;
const LOG_LINES: usize = 1_000_000;
const PROCESSES: usize = 5;
const FRAMES_PER_VIEW: usize = 100;
const IDLE: Duration = Duration::from_secs(10);
const SEED_MARK: &str = "1000000 runs, 10000 agents, 1000000 log lines, v2";

fn store_path() -> PathBuf {
    let dir = std::env::var_os("IMX_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("imx-dashboard-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("imx.db")
}

/// The id of the run with the long log, from the store's seed mark (if it is this bench's).
fn log_run(path: &Path) -> Option<String> {
    let mark = seed_mark(path)?;
    let id = mark.strip_prefix(SEED_MARK)?.trim();
    (!id.is_empty()).then(|| id.to_string())
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
    let run = seed(&path);
    for (sql, plan) in plans(&path, &run).unwrap() {
        println!("plan: {} → {plan}", &sql[..sql.len().min(70)]);
    }
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
    println!(
        "\ntargets: first_frame_ms < 100, frame_p99_ms < 16, log_search_ms < 50, rss_mb < 100, idle_cpu_pct < 2"
    );
}

/// Seed the store once: the schema via the real open, the workflow via the control plane,
/// then the rows in bulk. Returns the id of the run with the long log.
fn seed(path: &Path) -> String {
    if path.exists() {
        if let Some(run) = log_run(path) {
            println!("store: {} (seeded earlier)", path.display());
            return run;
        }
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
    let run = seed_dashboard(
        path,
        &Seed {
            runs: RUNS,
            agents: AGENTS,
            log_lines: LOG_LINES,
            audit: 10_000,
            mark: SEED_MARK.into(),
        },
    )
    .unwrap();
    println!("store: {} seeded in {:.1?}", path.display(), t.elapsed());
    run
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The text of the log pane's first and last loaded lines.
fn log_ends(app: &App) -> (String, String) {
    let log = &app.detail.as_ref().unwrap().log;
    let text = |e: Option<&tui::views::logpane::LogEntry>| {
        e.map(|e| e.line.line.clone()).unwrap_or_default()
    };
    (text(log.lines.front()), text(log.lines.back()))
}

async fn measure(path: &Path) {
    let theme = Theme { color: true };
    let who = Principal::local_owner();
    let log_run = log_run(path).expect("a seeded store");
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

    // The long log: open the run (on its first step, `build`), until its tail is drawn.
    app.update(Action::OpenRun(log_run.clone()));
    let t = Instant::now();
    loop {
        frame(&mut app, &mut loader, &mut term, theme).await;
        let d = app.detail.as_ref().unwrap();
        if d.log_step().as_deref() == Some("build") && !d.log.lines.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the log did not open"
        );
    }
    let log_open = t.elapsed();
    let last = format!("line {}:", LOG_LINES - 1);
    assert!(log_ends(&app).1.starts_with(&last), "{:?}", log_ends(&app));
    assert_eq!(app.detail.as_ref().unwrap().log.lines.len(), LOG_KEEP);
    assert!(app.detail.as_ref().unwrap().log.older);
    app.update(Action::NextPane);
    // g: the first lines.
    app.update(Action::Top);
    let t = Instant::now();
    frame(&mut app, &mut loader, &mut term, theme).await;
    let log_head = t.elapsed();
    assert!(
        log_ends(&app).0.starts_with("line 0:"),
        "{:?}",
        log_ends(&app).0
    );
    // G: the last lines again.
    app.update(Action::Bottom);
    let t = Instant::now();
    frame(&mut app, &mut loader, &mut term, theme).await;
    let log_tail = t.elapsed();
    assert!(log_ends(&app).1.starts_with(&last), "{:?}", log_ends(&app));
    // Up past the top of the loaded lines: the chunk before them.
    while app.detail.as_ref().unwrap().log.window.is_none() {
        app.update(Action::PageUp);
    }
    let t = Instant::now();
    frame(&mut app, &mut loader, &mut term, theme).await;
    let log_up = t.elapsed();
    let first = format!("line {}:", LOG_LINES - LOG_KEEP - CHUNK);
    assert!(
        log_ends(&app).0.starts_with(&first),
        "{:?}",
        log_ends(&app).0
    );
    // `/` over the loaded window: from Enter to the match drawn.
    app.update(Action::OpenFilter);
    for c in "module_976.c".chars() {
        app.update(Action::Edit(Edit::Char(c)));
    }
    let t = Instant::now();
    app.update(Action::Enter);
    term.draw(|f| tui::views::draw(f, &app, theme)).unwrap();
    let log_search = t.elapsed();
    let found = app.detail.as_ref().unwrap().log.search.as_ref().unwrap();
    assert!(!found.matches.is_empty() && found.current.is_some());
    app.update(Action::Back);
    app.update(Action::Bottom);
    frame(&mut app, &mut loader, &mut term, theme).await;

    // Steady state: something changes (a run starts), then one refresh + redraw; in the long
    // log, a key scrolls it as well.
    let mut frames = Vec::new();
    let views = [
        ViewId::Overview,
        ViewId::Runs,
        ViewId::Agents,
        ViewId::RunDetail,
        ViewId::RunDetail,
    ];
    for (n, v) in views.into_iter().enumerate() {
        let scroll = n == 4;
        if v == ViewId::RunDetail {
            app.update(Action::OpenRun(log_run.clone()));
            frame(&mut app, &mut loader, &mut term, theme).await;
            frame(&mut app, &mut loader, &mut term, theme).await;
            if scroll {
                app.update(Action::NextPane);
            }
        } else {
            app.update(Action::Goto(v));
        }
        frame(&mut app, &mut loader, &mut term, theme).await;
        for i in 0..FRAMES_PER_VIEW {
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
            if scroll {
                app.update(if i % 10 == 9 {
                    Action::PageUp
                } else {
                    Action::Up
                });
            }
            frame(&mut app, &mut loader, &mut term, theme).await;
            frames.push(ms(t.elapsed()));
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
    let cpu0 = cpu_time();
    let wall0 = Instant::now();
    let app = tui::event_loop::run(&mut idle_term, app, plane.clone(), theme, tx, rx)
        .await
        .unwrap();
    let idle_cpu = (cpu_time() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64() * 100.0;
    assert!(app.overview.data.is_some());

    println!(
        "RESULT first_frame_ms={:.2} runs_first_ms={:.2} agents_first_ms={:.2} frame_p50_ms={:.3} frame_p99_ms={:.3} frame_max_ms={:.3} log_open_ms={:.2} log_head_ms={:.2} log_tail_ms={:.2} log_up_ms={:.2} log_search_ms={:.3} rss_mb={:.1} idle_cpu_pct={:.2}",
        ms(first_frame),
        ms(firsts[0]),
        ms(firsts[1]),
        percentile(&frames, 50.0),
        percentile(&frames, 99.0),
        frames[frames.len() - 1],
        ms(log_open),
        ms(log_head),
        ms(log_tail),
        ms(log_up),
        ms(log_search),
        rss_mb(),
        idle_cpu,
    );
}
