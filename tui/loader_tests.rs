//! The loader and the log pane over a real store with a long log: the tail is read backwards
//! from the end, `g` and `G` read the window at either end, scrolling past the loaded window
//! reads the chunk next to it, and new lines are followed (more than a window of them: the
//! tail again).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imx::auth::Principal;
use imx::control::{ControlPlane, LocalControlPlane, LocalOptions, Plane};
use imx::model::now_ms;
use imx::store::bench::{Seed, append_long_log, seed_dashboard};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::Loader;
use crate::tui::action::{Action, ViewId};
use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::views::logpane::{CHUNK, LOG_KEEP};

/// Lines of the long log.
const LINES: usize = 50_000;

/// A store with a few runs, the newest with a `LINES`-line `build` log; its id.
async fn store(path: &Path) -> String {
    {
        let plane = LocalControlPlane::open(path, LocalOptions::default()).unwrap();
        let spec = imx::spec::parse_str(
            "name: deploy\nsteps:\n  - id: build\n    run: make\n  - id: test\n    needs: [build]\n    run: make test\n",
            "deploy.yaml",
        )
        .unwrap();
        plane
            .apply_workflow(&Principal::local_owner(), spec, false)
            .await
            .unwrap();
    }
    let seed = Seed {
        runs: 3,
        agents: 1,
        log_lines: LINES,
        audit: 0,
        mark: "loader test".into(),
    };
    seed_dashboard(path, &seed).unwrap()
}

struct Dash {
    app: App,
    loader: Loader,
    term: Terminal<TestBackend>,
}

impl Dash {
    /// One refresh and a draw, as the loop does.
    async fn frame(&mut self) -> String {
        let w = self.app.watch();
        for d in self.loader.refresh(&w).await {
            self.app.update(Action::Data(Box::new(d)));
        }
        self.term
            .draw(|f| crate::tui::views::draw(f, &self.app, Theme { color: false }))
            .unwrap();
        self.term.backend().to_string()
    }

    /// The numbers of the first and last loaded lines.
    fn ends(&self) -> (usize, usize) {
        let log = &self.app.detail.as_ref().unwrap().log;
        let n = |e: Option<&crate::tui::views::logpane::LogEntry>| {
            let text = &e.unwrap().line.line;
            let (num, _) = text["line ".len()..].split_once(':').unwrap();
            num.parse().unwrap()
        };
        (n(log.lines.front()), n(log.lines.back()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_log_is_read_a_window_at_a_time_from_either_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imx.db");
    let run = store(&path).await;
    let plane: Plane = Arc::new(LocalControlPlane::open(&path, LocalOptions::default()).unwrap());
    let who = Principal::local_owner();
    let mut d = Dash {
        app: App::new(who.clone(), plane.location(), ViewId::Overview, now_ms(), 0),
        loader: Loader::new(plane.clone(), who),
        term: Terminal::new(TestBackend::new(100, 30)).unwrap(),
    };
    d.frame().await;
    d.app.update(Action::OpenRun(run));
    let deadline = Instant::now() + Duration::from_secs(30);
    let screen = loop {
        let screen = d.frame().await;
        let det = d.app.detail.as_ref().unwrap();
        if det.log_step().as_deref() == Some("build") && !det.log.lines.is_empty() {
            break screen;
        }
        assert!(Instant::now() < deadline, "the log did not open:\n{screen}");
    };
    // Opened on its tail: one window of the last lines, and it says older ones exist.
    assert_eq!(d.ends(), (LINES - LOG_KEEP, LINES - 1));
    assert!(screen.contains(&format!("line {}:", LINES - 1)), "{screen}");
    assert!(screen.contains("older lines not loaded"), "{screen}");
    d.app.update(Action::NextPane);

    // g: the first lines.
    d.app.update(Action::Top);
    let screen = d.frame().await;
    assert_eq!(d.ends(), (0, LOG_KEEP - 1));
    assert!(screen.contains("line 0:"), "{screen}");
    assert!(screen.contains("newer lines not loaded"), "{screen}");
    // Down past the window: the next chunk, the oldest chunk going.
    let log = &mut d.app.detail.as_mut().unwrap().log;
    log.scroll = 0;
    d.app.update(Action::Down);
    d.frame().await;
    assert_eq!(d.ends(), (CHUNK, LOG_KEEP + CHUNK - 1));

    // G: the last lines again.
    d.app.update(Action::Bottom);
    let screen = d.frame().await;
    assert_eq!(d.ends(), (LINES - LOG_KEEP, LINES - 1));
    assert!(screen.contains(&format!("line {}:", LINES - 1)), "{screen}");
    // Up past the top of what is loaded: the chunk before it.
    while d.app.detail.as_ref().unwrap().log.window.is_none() {
        d.app.update(Action::PageUp);
    }
    let screen = d.frame().await;
    assert_eq!(d.ends(), (LINES - LOG_KEEP - CHUNK, LINES - CHUNK - 1));
    assert!(
        screen.contains(&format!("line {}:", LINES - LOG_KEEP - 1)),
        "the line above the old top is on screen now:\n{screen}"
    );

    // Back to the tail, following: new lines arrive; more than a window of them, the tail.
    d.app.update(Action::Bottom);
    d.frame().await;
    append_long_log(
        &path,
        &d.app.detail.as_ref().unwrap().run_id,
        "build",
        LINES..LINES + 5,
    )
    .unwrap();
    d.frame().await;
    assert_eq!(d.ends(), (LINES + 5 - LOG_KEEP, LINES + 4));
    let more = LINES + 5..LINES + 5 + LOG_KEEP + 10;
    append_long_log(
        &path,
        &d.app.detail.as_ref().unwrap().run_id,
        "build",
        more.clone(),
    )
    .unwrap();
    let screen = d.frame().await;
    assert_eq!(d.ends(), (more.end - LOG_KEEP, more.end - 1));
    assert!(
        screen.contains(&format!("line {}:", more.end - 1)),
        "{screen}"
    );
}

/// The Schedules view reads every schedule and each one's last run; a pause (not an event)
/// shows on the next wake-up, the last runs are read again when runs change. The dashboard's
/// pause, resume and trigger go through the control plane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_and_their_last_runs_are_loaded_and_kept_fresh() {
    use crate::tui::action::{Data, Mutation};
    use crate::tui::event_loop::mutate;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imx.db");
    let plane: Plane = Arc::new(LocalControlPlane::open(&path, LocalOptions::default()).unwrap());
    let who = Principal::local_owner();
    let spec = imx::spec::parse_str(
        "name: deploy\nsteps:\n  - id: build\n    run: make\n",
        "deploy.yaml",
    )
    .unwrap();
    plane.apply_workflow(&who, spec, false).await.unwrap();
    for name in ["hourly", "idle"] {
        let mut s = imx::schedule::ScheduleSpec::new(name, "deploy");
        s.every_ms = Some(3_600_000);
        plane.create_schedule(&who, s).await.unwrap();
    }
    let done = mutate(&plane, &who, Mutation::TriggerSchedule("hourly".into())).await;
    let Action::Done { message, failed } = done else {
        panic!("{done:?}")
    };
    assert!(
        !failed && message.starts_with("Triggered schedule hourly: run "),
        "{message}"
    );

    let mut app = App::new(
        who.clone(),
        plane.location(),
        ViewId::Schedules,
        now_ms(),
        0,
    );
    let mut loader = Loader::new(plane.clone(), who.clone());
    let got = loader.refresh(&app.watch()).await;
    for d in got.clone() {
        app.update(Action::Data(Box::new(d)));
    }
    let names: Vec<&str> = app.schedules.all.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["hourly", "idle"]);
    let last = &app.schedules.last;
    assert_eq!(last.len(), 1, "idle has no run: {last:?}");
    assert_eq!(last["hourly"].schedule.as_deref(), Some("hourly"));

    // Paused through the dashboard's mutation: the next refresh shows it, without reading the
    // last runs again (no run changed).
    let done = mutate(&plane, &who, Mutation::PauseSchedule("idle".into())).await;
    assert_eq!(
        done,
        Action::Done {
            message: "Paused schedule idle.".into(),
            failed: false
        }
    );
    let got = loader.refresh(&app.watch()).await;
    assert!(
        !got.iter().any(|d| matches!(d, Data::ScheduleRuns(_))),
        "{got:?}"
    );
    for d in got {
        app.update(Action::Data(Box::new(d)));
    }
    assert!(app.schedules.all[1].paused);
    let done = mutate(&plane, &who, Mutation::ResumeSchedule("idle".into())).await;
    assert!(
        matches!(done, Action::Done { failed: false, .. }),
        "{done:?}"
    );

    // A new run of idle: read again.
    mutate(&plane, &who, Mutation::TriggerSchedule("idle".into())).await;
    for d in loader.refresh(&app.watch()).await {
        app.update(Action::Data(Box::new(d)));
    }
    assert!(!app.schedules.all[1].paused);
    assert_eq!(app.schedules.last.len(), 2);
    // The Runs view filtered by schedule reads only its runs.
    app.update(Action::Down);
    app.update(Action::Enter);
    for d in loader.refresh(&app.watch()).await {
        app.update(Action::Data(Box::new(d)));
    }
    let runs = &app.runs.window.items;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].schedule.as_deref(), Some("idle"));
}
