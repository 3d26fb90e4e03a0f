//! Every view rendered into ratatui's `TestBackend` with fixed data and a fixed clock, and
//! snapshot-tested (insta), at the smallest supported size (80×24) and a wider one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imx::auth::Role;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::super::action::{Action, Data, ViewId};
use super::super::app::App;
use super::super::fixtures::{self, NOW};
use super::super::theme::Theme;

fn render(app: &App, width: u16, height: u16, theme: Theme) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| super::draw(f, app, theme)).unwrap();
    t
}

fn screen(app: &App, width: u16, height: u16) -> String {
    render(app, width, height, Theme { color: false })
        .backend()
        .to_string()
}

fn feed(app: &mut App, data: Data) {
    app.update(Action::Data(Box::new(data)));
}

fn with_data(view: ViewId, role: Role) -> App {
    let mut app = fixtures::app(view, role);
    feed(&mut app, Data::Overview(fixtures::overview()));
    let (rq, aq, af) = (
        app.runs.query(),
        app.agents.query(),
        app.audit.filter.clone(),
    );
    feed(&mut app, Data::Runs(rq, fixtures::runs_page()));
    feed(&mut app, Data::Agents(aq, fixtures::agents_page()));
    feed(&mut app, Data::Workflows(fixtures::workflows()));
    feed(&mut app, Data::Audit(af, fixtures::audit()));
    app
}

#[test]
fn overview() {
    let app = with_data(ViewId::Overview, Role::Admin);
    insta::assert_snapshot!("overview_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("overview_120x30", screen(&app, 120, 30));
    let small = screen(&app, 80, 24);
    assert!(
        small.contains("busy 5") && small.contains("idle 6") && small.contains("Agents · 13"),
        "{small}"
    );
    // The throughput ends at the right edge, over a time axis that ends at "now".
    let large = screen(&app, 160, 45);
    insta::assert_snapshot!("overview_160x45", large);
    let axis = large
        .lines()
        .find(|l| l.contains("now"))
        .unwrap_or_default();
    assert!(axis.contains("-50m") && axis.contains("-10m"), "{large}");
}

#[test]
fn overview_before_data_arrives() {
    let app = App::new(
        fixtures::principal(Role::Admin),
        "local /tmp/imx.db".into(),
        ViewId::Overview,
        NOW,
        0,
    );
    insta::assert_snapshot!("overview_loading", screen(&app, 80, 24));
}

#[test]
fn agents() {
    let app = with_data(ViewId::Agents, Role::Admin);
    insta::assert_snapshot!("agents_80x24", screen(&app, 80, 24));
}

#[test]
fn agents_for_a_viewer_hide_what_it_may_not_do() {
    let app = with_data(ViewId::Agents, Role::Viewer);
    let s = screen(&app, 100, 24);
    assert!(!s.contains(" D drain") && !s.contains(" x remove"), "{s}");
    insta::assert_snapshot!("agents_viewer", s);
}

#[test]
fn agent_steps_list_what_an_agent_holds_and_ran() {
    let mut app = with_data(ViewId::Agents, Role::Admin);
    app.update(Action::Enter);
    let (s80, _) = snap_both("agent_steps_loading", &app);
    assert!(
        s80.contains("Agent worker-1") && s80.contains("Loading"),
        "{s80}"
    );
    app.update(Action::Data(Box::new(Data::AgentSteps(
        "worker-1".into(),
        fixtures::agent_steps(),
    ))));
    app.update(Action::Down);
    let (s80, s160) = snap_both("agent_steps", &app);
    for s in [&s80, &s160] {
        assert!(s.contains("holds 1 · last 4 steps"), "{s}");
        assert!(s.contains("nightly-backup") && s.contains("upload"), "{s}");
        assert!(s.contains("enter log"), "{s}");
        assert!(!s.contains("/ filter"), "no filter here: {s}");
    }
    // The Agents tab stays lit.
    assert!(s160.contains("2 Agents"), "{s160}");
    app.update(Action::Data(Box::new(Data::AgentSteps(
        "worker-1".into(),
        Vec::new(),
    ))));
    let s = screen(&app, 80, 24);
    assert!(s.contains("This agent has run no steps"), "{s}");
}

#[test]
fn runs() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Down);
    insta::assert_snapshot!("runs_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("runs_120x30", screen(&app, 120, 30));
}

#[test]
fn runs_filtered() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::OpenFilter);
    for c in "status:failed wf:deploy".chars() {
        app.update(Action::Edit(super::super::action::Edit::Char(c)));
    }
    app.update(Action::Enter);
    let q = app.runs.query();
    let page = imx::model::Page {
        items: vec![fixtures::run(3, "deploy", imx::model::RunStatus::Failed)],
        next_cursor: None,
    };
    feed(&mut app, Data::Runs(q, page));
    insta::assert_snapshot!("runs_filtered", screen(&app, 80, 24));
}

/// The LABELS column (`k=v,k=v`, cut to fit with `…`) and the marker of a run whose approval
/// step waits; the title says the label filter.
#[test]
fn runs_show_labels_and_mark_waiting_approvals() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.runs.set_filter("pr=42").unwrap();
    let q = app.runs.query();
    let mut page = fixtures::runs_page();
    let label = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    page.items[0].labels = label(&[("pr", "42"), ("sha", "3f2a9c1d"), ("team", "web")]);
    page.items[0].awaiting_approval = true;
    page.items[2].labels = label(&[("pr", "42")]);
    // Ended: its approval step no longer waits, whatever the flag says.
    page.items[3].awaiting_approval = true;
    feed(&mut app, Data::Runs(q, page));
    let small = screen(&app, 80, 24);
    let wide = screen(&app, 120, 30);
    insta::assert_snapshot!("runs_labels_waiting_80x24", small);
    insta::assert_snapshot!("runs_labels_waiting_120x30", wide);
    let row = |s: &str, id: &str| {
        s.lines()
            .find(|l| l.contains(id))
            .unwrap_or_default()
            .to_string()
    };
    let first = row(&wide, &fixtures::id(0)[..12]);
    assert!(first.contains("⏸"), "{first}");
    assert!(first.contains("waiting"), "{first}");
    assert!(first.contains("pr=42,sha=3f2a9c1d,team=web"), "{first}");
    let failed = row(&wide, &fixtures::id(3)[..12]);
    assert!(
        failed.contains("✗") && failed.contains("failed"),
        "{failed}"
    );
    assert!(!failed.contains("waiting"), "{failed}");
    // Narrow: the labels cut to what the workflow names leave, with an ellipsis.
    let first = row(&small, &fixtures::id(0)[..12]);
    assert!(first.contains("pr=42,") && first.contains('…'), "{first}");
    assert!(small.contains("LABELS"), "{small}");
    assert!(
        small.contains("/pr=42"),
        "the title says the filter: {small}"
    );
    // Hidden (`C`): the column goes, the workflow names get its width.
    app.runs.order.hidden.toggle(6, 7);
    let hidden = screen(&app, 80, 24);
    assert!(!hidden.contains("LABELS"), "{hidden}");
}

fn detail_app() -> App {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Enter);
    feed(&mut app, Data::Detail(Box::new(fixtures::run_detail())));
    app.update(Action::Down); // select "test"
    feed(
        &mut app,
        Data::Logs {
            run: fixtures::id(0),
            step: Some("test".into()),
            lines: fixtures::logs("test"),
            reset: true,
            older: false,
        },
    );
    app
}

#[test]
fn run_detail() {
    let app = detail_app();
    assert_eq!(app.view, ViewId::RunDetail);
    insta::assert_snapshot!("run_detail_80x24", screen(&app, 80, 24));
    insta::assert_snapshot!("run_detail_120x30", screen(&app, 120, 30));
}

#[test]
fn run_detail_says_why_a_step_waits() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Enter);
    let mut detail = fixtures::run_detail();
    detail.waiting = vec![fixtures::step_wait("deploy")];
    feed(&mut app, Data::Detail(Box::new(detail)));
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("deploy waits: no online agent matches labels tier=etl; 2 agents online"),
        "{s}"
    );
    // Selected, the waiting step's empty log says why too (the tree: build, test, deploy).
    for _ in 0..2 {
        app.update(Action::Down);
    }
    let s = screen(&app, 120, 30);
    assert!(s.contains("Log · deploy"), "{s}");
    assert!(s.contains("Not started: no online agent matches"), "{s}");
    insta::assert_snapshot!("run_detail_waiting", s);
}

#[test]
fn run_detail_marks_a_waiting_approval_and_v_asks_to_approve_it() {
    let mut app = with_data(ViewId::Runs, Role::Viewer);
    app.update(Action::Enter);
    let mut detail = fixtures::run_detail();
    let deploy = &mut detail.steps[3];
    deploy.status = imx::model::StepStatus::Waiting;
    deploy.kind = "approval".into();
    deploy.approval = Some(imx::model::StepApproval {
        approvers: imx::model::Approvers {
            users: vec!["alice".into()],
            roles: vec![Role::Admin],
        },
        message: Some("Ship 1.4.2?".into()),
        deadline: None,
        decision: None,
        by: None,
        at: None,
        comment: None,
    });
    feed(&mut app, Data::Detail(Box::new(detail)));
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("⏸ deploy waits for approval by users alice; roles admin · v approves"),
        "{s}"
    );
    // Not an approval step: nothing to confirm.
    app.update(Action::ApproveStep);
    assert!(app.overlay.is_none());
    // The tree: build, test, deploy. A viewer may be a listed approver: the control plane
    // decides, so the key asks whatever the role.
    for _ in 0..2 {
        app.update(Action::Down);
    }
    let s = screen(&app, 120, 30);
    assert!(
        s.contains("Waiting for approval: Ship 1.4.2? (v approves)"),
        "{s}"
    );
    app.update(Action::ApproveStep);
    insta::assert_snapshot!("run_detail_confirm_approve", screen(&app, 80, 24));
}

#[test]
fn run_detail_shows_labels_and_the_run_it_reruns() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Enter);
    let mut detail = fixtures::run_detail();
    detail.run.labels = [("pr", "42"), ("sha", "3f2a9c1")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    detail.run.rerun_of = Some(fixtures::id(7));
    feed(&mut app, Data::Detail(Box::new(detail)));
    let s = screen(&app, 120, 30);
    assert!(
        s.contains(&format!("rerun of {}", &fixtures::id(7)[..12])),
        "{s}"
    );
    assert!(s.contains("pr=42,sha=3f2a9c1"), "{s}");
    insta::assert_snapshot!("run_detail_labels", s);
}

#[test]
fn run_detail_confirm_cancel() {
    let mut app = detail_app();
    app.update(Action::CancelRun);
    insta::assert_snapshot!("run_detail_confirm", screen(&app, 80, 24));
}

#[test]
fn workflows() {
    let app = with_data(ViewId::Workflows, Role::Admin);
    insta::assert_snapshot!("workflows_80x24", screen(&app, 80, 24));
    let large = screen(&app, 160, 45);
    insta::assert_snapshot!("workflows_160x45", large);
    assert!(large.contains("OK%"), "the success rate column: {large}");
    // deploy's runs took 95s, 31s and 64s: p50 64s, p95 95s.
    let deploy = large
        .lines()
        .find(|l| l.contains("deploy"))
        .unwrap_or_default();
    assert!(
        deploy.contains("1m04s") && deploy.contains("1m35s"),
        "{large}"
    );
}

#[test]
fn workflows_start_form() {
    let mut app = with_data(ViewId::Workflows, Role::Operator);
    app.update(Action::StartRun);
    insta::assert_snapshot!("workflows_form", screen(&app, 80, 24));
}

#[test]
fn audit() {
    let app = with_data(ViewId::Audit, Role::Admin);
    insta::assert_snapshot!("audit_80x24", screen(&app, 80, 24));
}

#[test]
fn help_overlay() {
    let mut app = with_data(ViewId::Runs, Role::Viewer);
    app.update(Action::ToggleHelp);
    insta::assert_snapshot!("help_runs_viewer", screen(&app, 80, 24));
    // Wide and tall: two columns, every key at once, long descriptions wrapped, not cut.
    let large = screen(&app, 160, 45);
    insta::assert_snapshot!("help_runs_viewer_160x45", large);
    assert!(!large.contains("↓ more"), "{large}");
    assert!(large.contains("Audit: next outcome filter"), "{large}");
    assert!(
        large
            .lines()
            .any(|l| l.contains("Runs view") && l.chars().skip(84).any(char::is_alphabetic)),
        "two columns: {large}"
    );
    // Between: one column as wide as the terminal allows.
    let mid = screen(&app, 120, 30);
    let long = "status:S|waiting wf:NAME sched:NAME K=V (label) text (id, workflow, user)";
    assert!(mid.contains(long), "{mid}");
}

#[test]
fn palette_and_failed_connection() {
    let mut app = with_data(ViewId::Overview, Role::Admin);
    feed(&mut app, Data::Failed("database is locked".into()));
    app.update(Action::OpenPalette);
    for c in "ru".chars() {
        app.update(Action::Edit(super::super::action::Edit::Char(c)));
    }
    insta::assert_snapshot!("palette", screen(&app, 80, 24));
}

#[test]
fn every_view_fits_a_tiny_terminal_without_panicking() {
    let mut app = detail_app();
    feed(&mut app, Data::Schedules(fixtures::schedules()));
    feed(&mut app, Data::ScheduleRuns(fixtures::schedule_runs()));
    for v in [
        ViewId::Overview,
        ViewId::Agents,
        ViewId::Runs,
        ViewId::Workflows,
        ViewId::Audit,
        ViewId::Schedules,
    ] {
        app.update(Action::Goto(v));
        for (w, h) in [(20, 5), (1, 1), (0, 0), (80, 24)] {
            render(&app, w, h, Theme { color: true });
        }
    }
    app.update(Action::ToggleHelp);
    render(&app, 10, 4, Theme { color: true });
}

#[test]
fn no_color_means_no_colour_at_all() {
    let app = with_data(ViewId::Runs, Role::Admin);
    let t = render(&app, 100, 30, Theme { color: false });
    assert!(
        t.backend()
            .buffer()
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    let t = render(&app, 100, 30, Theme { color: true });
    assert!(
        t.backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != Color::Reset)
    );
}

/// Log lines as programs write them: colours, `\r` progress, tabs, cursor moves, a long line.
fn messy_logs(step: &str, n: i64) -> Vec<imx::model::LogLine> {
    let texts = [
        "\x1b[1;32m   Compiling\x1b[0m imx v0.1.0",
        "downloading  10%\rdownloading  55%\rdownloading 100%",
        "name\tstatus\tduration",
        "api\tok\t1.2s",
        "\x1b[2J\x1b[Hscreen cleared? no: \x1b]0;title\x07only this text",
        "\x1b[31merror\x1b[0m: test suite 2 failed: assertion `left == right` failed, left: 41, right: 42, in tests/suite_2.rs at line 117 column 5",
        "warning: unused variable `x` in suite 2",
        "\x1b[33mdone\x1b[0m in 4.2s",
    ];
    (0..n)
        .map(|i| {
            let mut l = fixtures::logs(step)[0].clone();
            l.id = i + 1;
            l.time = NOW - 60_000 + i * 1_000;
            l.line = texts[(i as usize) % texts.len()].to_string();
            l
        })
        .collect()
}

fn log_app(n: i64) -> App {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Enter);
    feed(&mut app, Data::Detail(Box::new(fixtures::run_detail())));
    app.update(Action::Down); // select "test"
    feed(
        &mut app,
        Data::Logs {
            run: fixtures::id(0),
            step: Some("test".into()),
            lines: messy_logs("test", n),
            reset: true,
            older: false,
        },
    );
    app.update(Action::NextPane);
    app
}

/// Snapshots at the smallest supported size and a large one; each screen is drawn twice, as
/// the loop does, so the pane's remembered height is that of this size.
fn snap_both(name: &str, app: &App) -> (String, String) {
    let small = {
        screen(app, 80, 24);
        screen(app, 80, 24)
    };
    let large = {
        screen(app, 160, 45);
        screen(app, 160, 45)
    };
    insta::assert_snapshot!(format!("{name}_80x24"), small);
    insta::assert_snapshot!(format!("{name}_160x45"), large);
    (small, large)
}

#[test]
fn log_colours_progress_and_tabs() {
    let app = log_app(8);
    let (small, large) = snap_both("log_ansi", &app);
    for s in [&small, &large] {
        assert!(s.contains("downloading 100%") && !s.contains("10%"), "{s}");
        assert!(s.contains("api     ok      1.2s"), "{s}");
        assert!(s.contains("screen cleared? no: only this text"), "{s}");
        assert!(!s.contains('\x1b') && !s.contains("[31m"), "{s}");
    }
    // The colours reach the screen.
    let t = render(&app, 160, 45, Theme { color: true });
    let buf = t.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .any(|c| c.fg == Color::Red && c.symbol() == "e")
    );
}

#[test]
fn log_wrapped_without_timestamps() {
    let mut app = log_app(8);
    app.update(Action::ToggleWrap);
    app.update(Action::ToggleTimestamps);
    let (small, _) = snap_both("log_wrap", &app);
    assert!(small.contains("wrap no times"), "{small}");
    assert!(
        small.contains("line 117 column 5"),
        "the wrapped tail shows: {small}"
    );
}

#[test]
fn log_fullscreen_at_the_top_of_a_long_log() {
    let mut app = log_app(1_000);
    app.update(Action::ToggleFullscreen);
    screen(&app, 80, 24);
    app.update(Action::Top);
    let (small, large) = snap_both("log_fullscreen_top", &app);
    for s in [&small, &large] {
        assert!(!s.contains("STEP"), "no step table: {s}");
        assert!(s.contains("Compiling"), "the first line: {s}");
    }
    app.update(Action::Bottom);
    let s = screen(&app, 80, 24);
    assert!(s.contains("done in 4.2s"), "the last line: {s}");
}

#[test]
fn log_search_highlights_and_counts() {
    let mut app = log_app(16);
    app.update(Action::OpenFilter);
    for c in "suite 2".chars() {
        app.update(Action::Edit(super::super::action::Edit::Char(c)));
    }
    app.update(Action::Enter);
    let (small, large) = snap_both("log_search", &app);
    for s in [&small, &large] {
        assert!(s.contains("/suite 2 4/4 matching lines"), "{s}");
    }
    let t = render(&app, 160, 45, Theme { color: true });
    let reversed = t
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .count();
    assert!(reversed >= "suite 2".len() * 4, "{reversed}");
    app.update(Action::NextMatch(false));
    let s = screen(&app, 160, 45);
    assert!(s.contains("/suite 2 3/4 matching lines"), "{s}");
}

#[test]
fn log_of_all_steps_and_a_failed_run() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Enter);
    let mut detail = fixtures::run_detail();
    detail.run.status = imx::model::RunStatus::Failed;
    detail.steps[1].status = imx::model::StepStatus::Failed;
    detail.steps[3].status = imx::model::StepStatus::Skipped;
    feed(&mut app, Data::Detail(Box::new(detail)));
    let d = app.detail.as_ref().unwrap();
    assert_eq!(
        d.selected_step().as_deref(),
        Some("test"),
        "opens on the failed step"
    );
    assert_eq!(app.watch().detail.unwrap().1.as_deref(), Some("test"));
    app.update(Action::ToggleAllSteps);
    assert_eq!(app.watch().detail.unwrap().1, None);
    let mut lines = fixtures::logs("build");
    lines.extend(fixtures::logs("test"));
    feed(
        &mut app,
        Data::Logs {
            run: fixtures::id(0),
            step: None,
            lines,
            reset: true,
            older: false,
        },
    );
    let (small, _) = snap_both("log_all_steps", &app);
    assert!(small.contains("Log · all steps"), "{small}");
    assert!(small.contains("build  │ running test suite"), "{small}");
    assert!(small.contains("test   │ running test suite"), "{small}");
    assert!(small.contains("finished"), "{small}");
}

#[test]
fn log_says_when_older_lines_are_not_loaded() {
    let mut app = log_app(2_500);
    app.update(Action::ToggleFullscreen);
    let (small, large) = snap_both("log_older_not_loaded", &app);
    for s in [&small, &large] {
        assert!(s.contains("older lines not loaded"), "{s}");
    }
    // Scrolled to the first loaded line: a row above it says the log goes back further.
    app.detail.as_mut().unwrap().log.scroll = 2_500;
    let (small, large) = snap_both("log_older_marker", &app);
    for s in [&small, &large] {
        assert!(
            s.contains("··· older lines not loaded: ↑ reads more, g the first lines"),
            "{s}"
        );
    }
}

/// Lines `from..to` of a long log of the fixture run's `test` step (line `i` has id `i + 1`).
fn long_log(from: i64, to: i64) -> Vec<imx::model::LogLine> {
    (from..to)
        .map(|i| {
            let mut l = fixtures::logs("test")[0].clone();
            l.id = i + 1;
            l.time = NOW - 60_000;
            l.line = format!("line {i}: cc -O2 -c src/module_{}.c", i % 977);
            l
        })
        .collect()
}

#[test]
fn capital_g_on_a_million_line_log_shows_its_last_lines_and_g_its_first() {
    let mut app = log_app(0);
    app.update(Action::ToggleFullscreen);
    // What the loader sends for the log: its last lines, read backwards from the end, and
    // that more come before them.
    feed(
        &mut app,
        Data::Logs {
            run: fixtures::id(0),
            step: Some("test".into()),
            lines: long_log(998_000, 1_000_000),
            reset: true,
            older: true,
        },
    );
    app.update(Action::Up);
    app.update(Action::Bottom);
    assert_eq!(app.watch().log_window, None, "G follows the tail");
    let (small, large) = snap_both("log_million_tail", &app);
    for s in [&small, &large] {
        assert!(s.contains("line 999999: cc"), "{s}");
        assert!(s.contains("older lines not loaded"), "{s}");
        assert!(!s.contains("line 998000:"), "{s}");
    }
    // g: the first lines are asked for (not the 998,000 between), and shown when they come
    // (at the top of the pane as last drawn: the small one first).
    screen(&app, 80, 24);
    app.update(Action::Top);
    assert_eq!(
        app.watch().log_window,
        Some(super::super::action::LogWindow::Head)
    );
    feed(
        &mut app,
        Data::LogWindow {
            run: fixtures::id(0),
            step: Some("test".into()),
            window: super::super::action::LogWindow::Head,
            lines: long_log(0, 2_000),
            more: true,
        },
    );
    let (small, large) = snap_both("log_million_head", &app);
    for s in [&small, &large] {
        assert!(s.contains("line 0: cc"), "{s}");
        assert!(s.contains("newer lines not loaded"), "{s}");
        assert!(s.contains("G for the tail"), "{s}");
    }
    app.update(Action::Bottom);
    assert_eq!(app.watch().log_window, None, "G: the tail again");
}

#[test]
fn log_save_says_where_and_the_help_lists_the_log_keys() {
    let mut app = log_app(8);
    let effects = app.update(Action::SaveLog);
    assert!(matches!(
        effects.as_slice(),
        [super::super::action::Effect::SaveLog { .. }]
    ));
    app.update(Action::Done {
        message: "Saved 8 lines to /home/ops/imx-01JG0000ABCD-test.log.".into(),
        failed: false,
    });
    let (small, _) = snap_both("log_saved", &app);
    assert!(
        small.contains("Saved 8 lines to /home/ops/imx-01JG0000ABCD-test.log."),
        "{small}"
    );
    app.update(Action::ToggleHelp);
    let (_, large) = snap_both("log_help", &app);
    for k in [
        "n  N",
        "wrap long lines",
        "timestamps on / off",
        "fullscreen log",
        "ctrl-s",
    ] {
        assert!(large.contains(k), "{k} in the help: {large}");
    }
}

#[test]
fn tables_mark_their_sort_column() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::SortColumn(false));
    app.update(Action::SortColumn(false));
    app.update(Action::SortReverse);
    let (small, _) = snap_both("runs_sorted_by_status", &app);
    assert!(small.contains("STATUS▼"), "{small}");
    let mut app = with_data(ViewId::Agents, Role::Admin);
    app.update(Action::SortColumn(true));
    let (small, _) = snap_both("agents_sorted_by_state", &app);
    assert!(small.contains("STATE▲"), "{small}");
    let mut app = with_data(ViewId::Workflows, Role::Admin);
    app.update(Action::SortColumn(true));
    app.update(Action::SortReverse);
    snap_both("workflows_sorted_by_version", &app);
    let mut app = with_data(ViewId::Audit, Role::Admin);
    app.update(Action::SortColumn(true));
    app.update(Action::SortColumn(true));
    snap_both("audit_sorted_by_actor", &app);
}

#[test]
fn a_workflows_runs_and_the_copied_footer() {
    let mut app = with_data(ViewId::Workflows, Role::Admin);
    app.update(Action::Enter);
    let q = app.runs.query();
    let page = imx::model::Page {
        items: vec![fixtures::run(0, "deploy", imx::model::RunStatus::Running)],
        next_cursor: None,
    };
    feed(&mut app, Data::Runs(q, page));
    app.update(Action::Copy);
    let (small, _) = snap_both("workflow_runs_copied", &app);
    assert!(
        small.contains("/wf:deploy") && small.contains("copied 01JG0000"),
        "{small}"
    );
}

#[test]
fn help_scrolled_to_its_end_shows_the_last_line() {
    let mut app = with_data(ViewId::Agents, Role::Operator);
    app.update(Action::ToggleHelp);
    app.update(Action::Bottom);
    let small = screen(&app, 80, 24);
    assert!(small.contains("Audit: next outcome filter"), "{small}");
    insta::assert_snapshot!("help_end_80x24", small);
    (app.cols, app.rows) = (160, 45);
    app.update(Action::Bottom);
    let large = screen(&app, 160, 45);
    assert!(large.contains("Audit: next outcome filter"), "{large}");
    insta::assert_snapshot!("help_end_160x45", large);
}

#[test]
fn palette_completes_arguments_and_shows_the_context() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.context_name = Some("staging".into());
    app.known.contexts = vec!["prod".into(), "staging".into()];
    app.update(Action::OpenPalette);
    let (s80, s160) = snap_both("palette_usage", &app);
    assert!(
        s80.contains("imx · staging ("),
        "the header names the context:\n{s80}"
    );
    assert!(s160.contains("run ID · agent NAME"), "{s160}");
    for c in "run 01JG000".chars() {
        app.update(Action::Edit(super::super::action::Edit::Char(c)));
    }
    let (s80, _) = snap_both("palette_run_ids", &app);
    assert!(
        s80.contains("01JG0007ABCDEFGHJKMNPQRS") && s80.contains("… 2 more"),
        "{s80}"
    );
    app.update(Action::Back);
    app.update(Action::OpenPalette);
    for c in "ctx ".chars() {
        app.update(Action::Edit(super::super::action::Edit::Char(c)));
    }
    snap_both("palette_contexts", &app);
}

#[test]
fn since_narrows_runs_and_audit_and_titles_say_so() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::OpenPalette);
    for c in "since 5m".chars() {
        app.update(Action::Edit(super::super::action::Edit::Char(c)));
    }
    app.update(Action::Enter);
    let q = app.runs.query();
    feed(&mut app, Data::Runs(q, fixtures::runs_page()));
    let (s80, _) = snap_both("runs_since", &app);
    assert!(s80.contains("since 5m"), "{s80}");
    app.update(Action::Goto(ViewId::Audit));
    let (s80, _) = snap_both("audit_since", &app);
    assert!(s80.contains("since 5m"), "{s80}");
}

#[test]
fn describe_shows_every_field_and_yaml() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Down);
    app.update(Action::Describe(false));
    let (s80, s160) = snap_both("describe_run", &app);
    for field in [
        "id",
        "workflow_version",
        "created_by",
        "steps_total",
        "params",
    ] {
        assert!(s160.contains(field), "{field} missing:\n{s160}");
    }
    assert!(s80.contains("Run 01JG0001ABCDEFGHJKMNPQRS"), "{s80}");
    app.update(Action::Describe(true));
    let (_, s160) = snap_both("describe_run_yaml", &app);
    assert!(s160.contains("workflow: nightly-report"), "{s160}");
    app.update(Action::Back);
    app.update(Action::Goto(ViewId::Agents));
    app.update(Action::Describe(false));
    let (_, s160) = snap_both("describe_agent", &app);
    assert!(
        s160.contains("labels.os") && s160.contains("linux"),
        "{s160}"
    );
    app.update(Action::Back);
    app.update(Action::Goto(ViewId::Audit));
    app.update(Action::Describe(true));
    let (_, s160) = snap_both("describe_audit_yaml", &app);
    assert!(s160.contains("action: run.cancel"), "{s160}");
    app.update(Action::Back);
    app.update(Action::Goto(ViewId::Workflows));
    app.update(Action::Describe(false));
    snap_both("describe_workflow", &app);
}

#[test]
fn describe_in_run_detail_shows_the_selected_step() {
    let mut app = detail_app();
    app.update(Action::Describe(false));
    let (_, s160) = snap_both("describe_step", &app);
    assert!(
        s160.contains("Step 01JG0000ABCDEFGHJKMNPQRS/test"),
        "{s160}"
    );
}

#[test]
fn hidden_columns_give_their_width_to_the_others() {
    let mut app = with_data(ViewId::Runs, Role::Admin);
    app.update(Action::Columns);
    app.update(Action::Down);
    app.update(Action::Down);
    app.update(Action::Toggle); // STATUS
    let (s80, _) = snap_both("columns_picker", &app);
    assert!(
        s80.contains("[ ] STATUS") && s80.contains("[x] ID"),
        "{s80}"
    );
    app.update(Action::Down);
    app.update(Action::Toggle); // STEPS
    app.update(Action::Back);
    let (s80, s160) = snap_both("runs_two_columns_hidden", &app);
    assert!(
        !s80.contains("STATUS") && s80.contains("2 columns hidden"),
        "{s80}"
    );
    assert!(s160.contains("DURATION"), "{s160}");
    app.update(Action::Goto(ViewId::Agents));
    app.update(Action::Columns);
    for _ in 0..4 {
        app.update(Action::Down);
    }
    app.update(Action::Toggle); // LABELS
    app.update(Action::Back);
    let (s80, _) = snap_both("agents_labels_hidden", &app);
    assert!(
        !s80.contains("LABELS") && s80.contains("CURRENT STEPS"),
        "{s80}"
    );
}

fn schedules_app(role: Role) -> App {
    let mut app = with_data(ViewId::Schedules, role);
    feed(&mut app, Data::Schedules(fixtures::schedules()));
    feed(&mut app, Data::ScheduleRuns(fixtures::schedule_runs()));
    app
}

#[test]
fn schedules_empty_and_loading() {
    let app = with_data(ViewId::Schedules, Role::Admin);
    let s = screen(&app, 80, 24);
    assert!(s.contains("Loading"), "{s}");
    let mut app = app;
    feed(&mut app, Data::Schedules(Vec::new()));
    let (s80, _) = snap_both("schedules_empty", &app);
    assert!(
        s80.contains("No schedules. Create one with `imx schedule create`."),
        "{s80}"
    );
    assert!(s80.contains("6 Schedules"), "the tab: {s80}");
}

#[test]
fn schedules_list_timing_state_next_and_last_run() {
    let mut app = schedules_app(Role::Admin);
    // The paused one, selected: its note is in the details.
    app.update(Action::Down);
    let (s80, s160) = snap_both("schedules", &app);
    for s in [&s80, &s160] {
        assert!(s.contains("Schedules · 3 · 1 paused"), "{s}");
        assert!(s.contains("every 15m") && s.contains("in 7m"), "{s}");
        assert!(s.contains("paused: db migration until 14:00"), "{s}");
        assert!(s.contains("01JG0003ABCD"), "nightly's last run: {s}");
        assert!(s.contains(" p pause"), "the footer offers the keys: {s}");
    }
    assert!(
        s160.contains("cron 0 2 * * * (Europe/Paris)") && s160.contains("last run ✗"),
        "{s160}"
    );
    // A viewer sees no pause, resume or trigger.
    let app = schedules_app(Role::Viewer);
    let s = screen(&app, 100, 24);
    assert!(
        !s.contains(" p pause") && !s.contains(" t trigger") && s.contains("enter runs"),
        "{s}"
    );
}

#[test]
fn schedules_filtered_to_the_paused_and_sorted() {
    let mut app = schedules_app(Role::Admin);
    app.update(Action::OpenFilter);
    for c in "state:paused".chars() {
        app.update(Action::Edit(super::super::action::Edit::Char(c)));
    }
    app.update(Action::Enter);
    let s = screen(&app, 80, 24);
    assert!(s.contains("/state:paused") && s.contains("nightly"), "{s}");
    assert!(!s.contains("backup"), "{s}");
    app.update(Action::Back);
    app.update(Action::SortColumn(true));
    app.update(Action::SortColumn(true));
    app.update(Action::SortColumn(true));
    app.update(Action::SortColumn(true));
    let (s80, _) = snap_both("schedules_sorted_by_next", &app);
    assert!(s80.contains("NEXT▲"), "{s80}");
    let names: Vec<&str> = s80
        .lines()
        .filter_map(|l| l.trim_start_matches(['"', '│']).split_whitespace().next())
        .filter(|w| ["backup", "nightly", "report"].contains(w))
        .collect();
    assert_eq!(
        names[..3],
        ["nightly", "backup", "report"],
        "soonest first, none last:\n{s80}"
    );
}

#[test]
fn schedules_trigger_asks_first() {
    let mut app = schedules_app(Role::Operator);
    app.update(Action::TriggerSchedule);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("Trigger schedule backup: run its workflow now"),
        "{s}"
    );
}
