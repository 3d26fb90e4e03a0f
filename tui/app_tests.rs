//! The input state machine without a terminal: key → action (`keys`) → state and effects
//! (`App::update`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use imx::auth::Role;
use imx::control::RunSort;
use imx::model::RunStatus;

use super::super::action::{Action, Data, Effect, Mutation, ViewId};
use super::super::fixtures;
use super::super::keys::{self, KEYS};
use super::super::views::detail::Pane;
use super::{App, Overlay};

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    match keys::key_action(app, key) {
        Some(a) => app.update(a),
        None => Vec::new(),
    }
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn runs_app(role: Role) -> App {
    let mut app = fixtures::app(ViewId::Runs, role);
    let q = app.runs.query();
    app.update(Action::Data(Box::new(Data::Runs(q, fixtures::runs_page()))));
    app
}

#[test]
fn number_keys_palette_and_tab_move_between_views() {
    let mut app = fixtures::app(ViewId::Overview, Role::Admin);
    press(&mut app, KeyCode::Char('2'));
    assert_eq!(app.view, ViewId::Agents);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.view, ViewId::Runs);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "au");
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.overlay,
        Some(Overlay::Palette(super::Input::with("audit")))
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!((app.view, app.overlay.clone()), (ViewId::Audit, None));
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "nope");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.flash.as_ref().is_some_and(|f| f.error),
        "unknown command is reported"
    );
    press(&mut app, KeyCode::Char('['));
    assert_eq!(app.view, ViewId::Workflows);
}

#[test]
fn q_quits_and_esc_backs_out() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, ViewId::RunDetail);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::Runs);
    press(&mut app, KeyCode::Char('?'));
    assert!(matches!(app.overlay, Some(Overlay::Help(0))));
    press(&mut app, KeyCode::Esc);
    assert_eq!((app.overlay.clone(), app.view), (None, ViewId::Runs));
    assert!(!app.quit);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn selection_moves_with_arrows_and_vim_keys_and_pages_at_the_edge() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Down);
    assert_eq!(app.runs.window.selected, 2);
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.runs.window.selected, 1);
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.runs.window.selected, 11);
    // The fixture page has a next cursor: moving past the end asks for the next window.
    let effects = press(&mut app, KeyCode::Down);
    let Some(Effect::Watch(w)) = effects.last() else {
        panic!("expected a new watch, got {effects:?}")
    };
    assert_eq!(w.runs.cursor.as_deref(), Some(fixtures::id(11).as_str()));
    assert_eq!(w.runs.limit, super::PAGE);
}

#[test]
fn filters_change_the_query_and_esc_clears_them() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "status:failed wf:deploy 01JG");
    let effects = press(&mut app, KeyCode::Enter);
    let q = app.runs.query();
    assert_eq!(q.status, Some(RunStatus::Failed));
    assert_eq!(q.workflow.as_deref(), Some("deploy"));
    assert_eq!(q.text.as_deref(), Some("01JG"));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Watch(w) if w.runs == q))
    );
    // An answer to the old query is dropped.
    app.update(Action::Data(Box::new(Data::Runs(
        Default::default(),
        fixtures::runs_page(),
    ))));
    assert!(app.runs.window.items.is_empty());
    press(&mut app, KeyCode::Esc);
    assert!(!app.runs.has_filter());
    assert_eq!(app.view, ViewId::Runs, "esc cleared the filter first");
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.runs.status, Some(RunStatus::Queued));
    press(&mut app, KeyCode::Char('o'));
    assert_eq!(app.runs.sort, RunSort::Oldest);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "status:bogus");
    press(&mut app, KeyCode::Enter);
    assert!(app.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn a_label_filter_and_status_waiting_change_the_query() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Char('/'));
    typed(
        &mut app,
        "pr=42 status:waiting label:team=web,env=prod deploy",
    );
    let effects = press(&mut app, KeyCode::Enter);
    let q = app.runs.query();
    let want: std::collections::BTreeMap<String, String> =
        [("env", "prod"), ("pr", "42"), ("team", "web")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(q.labels, want);
    assert!(q.waiting);
    assert_eq!(q.status, None);
    assert_eq!(q.text.as_deref(), Some("deploy"));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Watch(w) if w.runs == q))
    );
    // Edited again as typed (labels as K=V words).
    assert_eq!(
        app.runs.filter_text(),
        "status:waiting env=prod pr=42 team=web deploy"
    );
    // `s` steps from waiting to the first status.
    press(&mut app, KeyCode::Char('s'));
    assert!(!app.runs.query().waiting);
    assert_eq!(app.runs.status, Some(RunStatus::Queued));
    // A bad label, or two values of one key, changes nothing and says why.
    for bad in ["pr=a=b,x", "pr=1 pr=2", "l:-x=1"] {
        app.flash = None;
        press(&mut app, KeyCode::Char('/'));
        for _ in 0..80 {
            press(&mut app, KeyCode::Backspace);
        }
        typed(&mut app, bad);
        press(&mut app, KeyCode::Enter);
        assert!(app.flash.as_ref().is_some_and(|f| f.error), "{bad}");
        assert_eq!(app.runs.labels, want, "{bad}");
    }
    press(&mut app, KeyCode::Esc);
    assert!(!app.runs.has_filter());
    assert!(app.runs.query().labels.is_empty());
}

#[test]
fn cancel_asks_first_and_only_yes_mutates() {
    let mut app = runs_app(Role::Operator);
    let effects = press(&mut app, KeyCode::Char('c'));
    assert!(effects.iter().all(|e| !matches!(e, Effect::Mutate(_))));
    assert!(matches!(
        app.overlay,
        Some(Overlay::Confirm(Mutation::CancelRun(_)))
    ));
    let effects = press(&mut app, KeyCode::Char('n'));
    assert!(effects.is_empty() && app.overlay.is_none());
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('x')); // other keys do nothing while asking
    let effects = press(&mut app, KeyCode::Char('y'));
    assert_eq!(
        effects,
        vec![Effect::Mutate(Mutation::CancelRun(fixtures::id(0)))]
    );
    app.update(Action::Done {
        message: "Cancelled run 01JG0000ABCD.".into(),
        failed: false,
    });
    assert!(app.flash.as_ref().is_some_and(|f| !f.error));
}

#[test]
fn a_viewer_cannot_start_a_mutation() {
    let mut app = runs_app(Role::Viewer);
    press(&mut app, KeyCode::Char('c'));
    assert!(app.overlay.is_none());
    assert!(
        app.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("viewer"))
    );
    let mut app = fixtures::app(ViewId::Agents, Role::Viewer);
    let q = app.agents.query();
    app.update(Action::Data(Box::new(Data::Agents(
        q,
        fixtures::agents_page(),
    ))));
    press(&mut app, KeyCode::Char('D'));
    assert!(app.overlay.is_none());
    assert!(keys::hints(&app).iter().all(|(k, _)| *k != "D"));
}

#[test]
fn agents_drain_resume_remove_ask_for_the_selected_agent() {
    let mut app = fixtures::app(ViewId::Agents, Role::Admin);
    let q = app.agents.query();
    app.update(Action::Data(Box::new(Data::Agents(
        q,
        fixtures::agents_page(),
    ))));
    press(&mut app, KeyCode::Down);
    for (key, want) in [
        ('D', Mutation::DrainAgent("worker-2".into())),
        ('r', Mutation::ResumeAgent("worker-2".into())),
        ('x', Mutation::RemoveAgent("worker-2".into())),
    ] {
        press(&mut app, KeyCode::Char(key));
        assert_eq!(app.overlay, Some(Overlay::Confirm(want.clone())));
        assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Mutate(want)]);
    }
}

#[test]
fn starting_a_run_goes_through_the_form_then_confirmation() {
    let mut app = fixtures::app(ViewId::Workflows, Role::Operator);
    app.update(Action::Data(Box::new(Data::Workflows(
        fixtures::workflows(),
    ))));
    press(&mut app, KeyCode::Char('s'));
    assert!(matches!(app.overlay, Some(Overlay::Form(_))));
    press(&mut app, KeyCode::Enter);
    let Some(Overlay::Form(form)) = &app.overlay else {
        panic!()
    };
    assert_eq!(form.error.as_deref(), Some("version is required"));
    typed(&mut app, "1.2.3");
    press(&mut app, KeyCode::Enter);
    let want = Mutation::StartRun {
        workflow: "deploy".into(),
        params: [("env", "staging"), ("version", "1.2.3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    assert_eq!(app.overlay, Some(Overlay::Confirm(want.clone())));
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        vec![Effect::Mutate(want)]
    );
}

#[test]
fn run_detail_follows_the_selected_steps_log() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Enter);
    app.update(Action::Data(Box::new(Data::Detail(Box::new(
        fixtures::run_detail(),
    )))));
    assert_eq!(
        app.watch().detail,
        Some((fixtures::id(0), Some("build".into())))
    );
    let effects = press(&mut app, KeyCode::Down);
    assert!(effects.iter().any(|e| matches!(e,
        Effect::Watch(w) if w.detail == Some((fixtures::id(0), Some("test".into()))))));
    let logs = |step: &str| Data::Logs {
        run: fixtures::id(0),
        step: Some(step.into()),
        lines: fixtures::logs(step),
        reset: false,
        older: false,
    };
    app.update(Action::Data(Box::new(logs("build")))); // stale: another step
    app.update(Action::Data(Box::new(logs("test"))));
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.log.lines.len(), 5);
    assert!(d.log.follow);
    // A pane 3 rows high (as last drawn): 5 lines scroll.
    app.detail.as_ref().unwrap().log.height.set(3);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Up);
    let d = app.detail.as_ref().unwrap();
    assert_eq!((d.log.scroll, d.log.follow), (1, false));
    press(&mut app, KeyCode::Char('f'));
    assert!(app.detail.as_ref().unwrap().log.follow);
}

#[test]
fn the_clock_and_data_messages_update_the_header_state() {
    let mut app = fixtures::app(ViewId::Overview, Role::Admin);
    app.update(Action::Data(Box::new(Data::Failed("locked".into()))));
    assert_eq!(app.conn, super::Conn::Failed("locked".into()));
    app.update(Action::Data(Box::new(Data::Refreshed(fixtures::NOW))));
    assert_eq!(
        (app.conn.clone(), app.last_update),
        (super::Conn::Connected, Some(fixtures::NOW))
    );
    app.update(Action::Tick(fixtures::NOW + 5_000));
    assert_eq!(app.now, fixtures::NOW + 5_000);
}

#[test]
fn every_view_key_is_in_the_help() {
    // Each view-specific key the keymap knows appears in the help table for that view.
    for (view, keys_) in [
        (ViewId::Runs, "socr/"),
        (ViewId::Agents, "Drx"),
        (ViewId::RunDetail, "fcr/wtFanN"),
        (ViewId::Workflows, "s"),
        (ViewId::Audit, "o"),
    ] {
        for k in keys_.chars() {
            let app = fixtures::app(view, Role::Admin);
            assert!(
                keys::key_action(&app, KeyEvent::new(KeyCode::Char(k), KeyModifiers::NONE))
                    .is_some()
            );
            let documented = KEYS.iter().any(|h| {
                (h.scope == keys::Scope::View(view) || h.scope == keys::Scope::Everywhere)
                    && h.keys.split_whitespace().any(|w| w == k.to_string())
            });
            assert!(documented, "{k} in {view:?} is not in the help");
        }
    }
}

#[test]
fn the_log_pane_searches_saves_and_esc_clears_the_search_first() {
    let mut app = runs_app(Role::Viewer);
    press(&mut app, KeyCode::Enter);
    app.update(Action::Data(Box::new(Data::Detail(Box::new(
        fixtures::run_detail(),
    )))));
    press(&mut app, KeyCode::Down);
    app.update(Action::Data(Box::new(Data::Logs {
        run: fixtures::id(0),
        step: Some("test".into()),
        lines: fixtures::logs("test"),
        reset: true,
        older: false,
    })));
    press(&mut app, KeyCode::Char('/'));
    assert!(matches!(app.overlay, Some(Overlay::Filter(_))));
    typed(&mut app, "suite 4");
    press(&mut app, KeyCode::Enter);
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.log.search.as_ref().unwrap().matches, [3]);
    assert_eq!(d.pane, crate::tui::views::detail::Pane::Logs);
    // n/N with one match stay on it; a search that finds nothing says so.
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(
        app.detail.as_ref().unwrap().log.search_status().unwrap(),
        "/suite 4 1/1 matching lines"
    );
    // Saving is allowed to any role (it only reads) and names the file.
    let key = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
    let effects = app.update(keys::key_action(&app, key).unwrap());
    assert_eq!(
        effects,
        vec![Effect::SaveLog {
            run: fixtures::id(0),
            step: Some("test".into()),
            file: format!("imx-{}-test.log", imx::model::short_id(&fixtures::id(0))),
        }]
    );
    assert!(app.flash.as_ref().unwrap().text.contains("-test.log"));
    press(&mut app, KeyCode::Esc);
    assert!(app.detail.as_ref().unwrap().log.search.is_none());
    assert_eq!(
        app.view,
        ViewId::RunDetail,
        "the first esc only clears the search"
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::Runs);
}

#[test]
fn log_toggles_change_only_the_log_pane() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Enter);
    app.update(Action::Data(Box::new(Data::Detail(Box::new(
        fixtures::run_detail(),
    )))));
    for c in ['w', 't', 'F'] {
        press(&mut app, KeyCode::Char(c));
    }
    let d = app.detail.as_ref().unwrap();
    assert!(d.log.wrap && !d.log.timestamps && d.log.fullscreen);
    assert_eq!(d.pane, crate::tui::views::detail::Pane::Logs);
    press(&mut app, KeyCode::Char('F'));
    assert!(!app.detail.as_ref().unwrap().log.fullscreen);
}

#[test]
fn a_tail_with_lines_before_it_says_older_lines_are_not_loaded_until_another_stream() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Enter);
    app.update(Action::Data(Box::new(Data::Detail(Box::new(
        fixtures::run_detail(),
    )))));
    press(&mut app, KeyCode::Down);
    for reset in [true, false] {
        app.update(Action::Data(Box::new(Data::Logs {
            run: fixtures::id(0),
            step: Some("test".into()),
            lines: fixtures::logs("test"),
            reset,
            older: reset,
        })));
    }
    let d = app.detail.as_ref().unwrap();
    assert_eq!((d.log.lines.len(), d.log.older), (10, true));
    // Another step starts a new stream: nothing is known of it yet.
    press(&mut app, KeyCode::Down);
    assert!(!app.detail.as_ref().unwrap().log.older);
}

#[test]
fn runs_sort_by_any_column_on_the_page_and_by_age_on_the_server() {
    let mut app = runs_app(Role::Admin);
    assert_eq!(app.runs.order, crate::tui::sort::Sort::new(4, false));
    // Select a run; sorting keeps it selected.
    press(&mut app, KeyCode::Down);
    let chosen = app.runs.window.selected_item().unwrap().id.clone();
    // AGE → STEPS → STATUS: the loaded page, no new query.
    press(&mut app, KeyCode::Char('<'));
    let effects = press(&mut app, KeyCode::Char('<'));
    assert!(effects.is_empty(), "client-side: {effects:?}");
    assert_eq!(app.runs.order, crate::tui::sort::Sort::new(2, false));
    let statuses: Vec<&str> = app
        .runs
        .window
        .items
        .iter()
        .map(|r| r.status.as_str())
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(statuses, sorted);
    assert_eq!(app.runs.window.selected_item().unwrap().id, chosen);
    press(&mut app, KeyCode::Char('R'));
    let first = app.runs.window.items[0].status.as_str();
    assert_eq!(first, *sorted.last().unwrap(), "reversed");
    assert_eq!(app.runs.window.selected_item().unwrap().id, chosen);
    // Back to AGE, reversed: the control plane is asked for the oldest first.
    press(&mut app, KeyCode::Char('>'));
    press(&mut app, KeyCode::Char('>'));
    let effects = press(&mut app, KeyCode::Char('R'));
    assert_eq!(app.runs.sort, RunSort::Oldest);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Watch(w) if w.runs.sort == RunSort::Oldest)),
        "{effects:?}"
    );
    // `o` flips it back and the header follows.
    press(&mut app, KeyCode::Char('o'));
    assert_eq!(
        (app.runs.sort, app.runs.order),
        (RunSort::Newest, crate::tui::sort::Sort::new(4, false))
    );
}

#[test]
fn agents_workflows_and_audit_sort_their_rows() {
    let mut app = fixtures::app(ViewId::Agents, Role::Admin);
    let q = app.agents.query();
    app.update(Action::Data(Box::new(Data::Agents(
        q,
        fixtures::agents_page(),
    ))));
    press(&mut app, KeyCode::Char('R'));
    let names: Vec<&str> = app
        .agents
        .window
        .items
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    let mut desc = names.clone();
    desc.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(names, desc);
    // `R` does not resume in Agents: `r` does.
    assert!(app.overlay.is_none());

    press(&mut app, KeyCode::Char('4'));
    app.update(Action::Data(Box::new(Data::Workflows(
        fixtures::workflows(),
    ))));
    press(&mut app, KeyCode::Char('R'));
    let names: Vec<String> = app
        .workflows
        .visible()
        .iter()
        .map(|w| w.name.clone())
        .collect();
    let mut desc = names.clone();
    desc.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(names, desc);

    press(&mut app, KeyCode::Char('5'));
    let f = app.audit.filter.clone();
    app.update(Action::Data(Box::new(Data::Audit(f, fixtures::audit()))));
    let seqs: Vec<i64> = app.audit.records.iter().map(|r| r.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {seqs:?}"
    );
    press(&mut app, KeyCode::Char('>'));
    press(&mut app, KeyCode::Char('>'));
    let actors: Vec<&str> = app.audit.records.iter().map(|r| r.actor.as_str()).collect();
    assert!(actors.windows(2).all(|w| w[0] <= w[1]), "{actors:?}");
    // Overview has no table to sort.
    press(&mut app, KeyCode::Char('1'));
    assert_eq!(
        keys::key_action(&app, KeyEvent::new(KeyCode::Char('>'), KeyModifiers::NONE)),
        None
    );
}

#[test]
fn enter_on_a_workflow_shows_its_runs_and_esc_returns() {
    let mut app = fixtures::app(ViewId::Workflows, Role::Admin);
    app.update(Action::Data(Box::new(Data::Workflows(
        fixtures::workflows(),
    ))));
    let name = app.workflows.selected_item().unwrap().name.clone();
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, ViewId::Runs);
    assert_eq!(app.runs.workflow.as_deref(), Some(name.as_str()));
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::Watch(w) if w.runs.workflow.as_deref() == Some(name.as_str()))
        ),
        "{effects:?}"
    );
    assert!(app.overlay.is_none(), "enter no longer starts a run");
    press(&mut app, KeyCode::Esc); // clears the filter
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::Workflows);
    // `s` still starts a run.
    press(&mut app, KeyCode::Char('s'));
    assert!(app.overlay.is_some());
}

#[test]
fn enter_on_an_agent_lists_its_steps_and_enter_on_a_step_opens_its_log() {
    let mut app = fixtures::app(ViewId::Agents, Role::Admin);
    let q = app.agents.query();
    app.update(Action::Data(Box::new(Data::Agents(
        q,
        fixtures::agents_page(),
    ))));
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, ViewId::AgentSteps);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Watch(w) if w.agent.as_deref() == Some("worker-1"))),
        "the loader is asked for the agent's steps: {effects:?}"
    );
    // An answer for another agent is not this one's.
    app.update(Action::Data(Box::new(Data::AgentSteps(
        "worker-2".into(),
        fixtures::agent_steps(),
    ))));
    assert!(!app.agent_steps.as_ref().unwrap().loaded);
    app.update(Action::Data(Box::new(Data::AgentSteps(
        "worker-1".into(),
        fixtures::agent_steps(),
    ))));
    assert_eq!(app.agent_steps.as_ref().unwrap().steps.len(), 4);
    // `y` copies the step's run id; `/` has nothing to filter.
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(
        app.flash.as_ref().unwrap().text,
        format!("copied {}", fixtures::id(0))
    );
    press(&mut app, KeyCode::Down); // lint
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, ViewId::RunDetail);
    let d = app.detail.as_ref().unwrap();
    assert_eq!(d.run_id, fixtures::id(0));
    app.update(Action::Data(Box::new(Data::Detail(Box::new(
        fixtures::run_detail(),
    )))));
    let d = app.detail.as_ref().unwrap();
    assert_eq!(
        d.selected_step().as_deref(),
        Some("lint"),
        "it opens on that step"
    );
    assert_eq!(d.pane, Pane::Logs);
    assert!(
        app.watch().detail == Some((fixtures::id(0), Some("lint".into()))),
        "and follows that step's log"
    );
    // Fresh data later does not move the selection back.
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Up);
    app.update(Action::Data(Box::new(Data::Detail(Box::new(
        fixtures::run_detail(),
    )))));
    assert_ne!(
        app.detail.as_ref().unwrap().selected_step().as_deref(),
        Some("lint")
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::AgentSteps);
    assert_eq!(
        app.agent_steps.as_ref().unwrap().selected,
        1,
        "where it was"
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::Agents);
}

#[test]
fn run_detail_jumps_to_the_steps_agent() {
    let mut app = runs_app(Role::Admin);
    press(&mut app, KeyCode::Enter);
    app.update(Action::Data(Box::new(Data::Detail(Box::new(
        fixtures::run_detail(),
    )))));
    let d = app.detail.as_ref().unwrap();
    let step = d.selected_step().unwrap();
    let data = d.data.as_ref().unwrap();
    let agent = data
        .steps
        .iter()
        .find(|s| s.step_id == step)
        .unwrap()
        .agent
        .clone();
    press(&mut app, KeyCode::Char('A'));
    let name = agent.expect("the first step ran on an agent");
    assert_eq!(app.view, ViewId::Agents);
    assert_eq!(app.agents.text.as_deref(), Some(name.as_str()));
    assert!(
        app.watch().agents.text.as_deref() == Some(name.as_str()),
        "the loader is asked for that agent"
    );
    press(&mut app, KeyCode::Esc); // clears the filter
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::RunDetail);
}

#[test]
fn y_copies_the_full_id_and_a_view_change_clears_the_message() {
    let mut app = runs_app(Role::Viewer);
    let id = app.runs.window.selected_item().unwrap().id.clone();
    let effects = press(&mut app, KeyCode::Char('y'));
    assert!(effects.contains(&Effect::Copy(id.clone())), "{effects:?}");
    assert_eq!(app.flash.as_ref().unwrap().text, format!("copied {id}"));
    press(&mut app, KeyCode::Down);
    assert!(app.flash.is_some(), "moving within the view keeps it");
    press(&mut app, KeyCode::Char('2'));
    assert!(app.flash.is_none(), "another view clears it");
}

#[test]
fn help_scrolls_only_as_far_as_its_last_line() {
    let mut app = runs_app(Role::Admin);
    app.rows = 24;
    let max = crate::tui::views::help::max_scroll(&app, 80, 24);
    assert!(max > 0, "the help is taller than 24 rows");
    press(&mut app, KeyCode::Char('?'));
    for _ in 0..200 {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.overlay, Some(Overlay::Help(max)));
    // One step up shows (it used to take as many steps as went past the end).
    press(&mut app, KeyCode::Up);
    assert_eq!(app.overlay, Some(Overlay::Help(max - 1)));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.overlay, Some(Overlay::Help(max)));
    // A taller terminal needs less scrolling.
    app.rows = 45;
    assert!(crate::tui::views::help::max_scroll(&app, 80, 45) < max);
    // A wide one lays the keys out in two columns: all of them show at once.
    assert_eq!(crate::tui::views::help::max_scroll(&app, 160, 45), 0);
}
