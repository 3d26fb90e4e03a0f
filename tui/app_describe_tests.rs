//! Describe through the state machine: `d`, `Y`, scrolling, copying, following fresh data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use imx::auth::Role;
use imx::model::{Page, RunStatus};

use super::super::super::action::{Action, Data, Effect, ViewId};
use super::super::super::fixtures;
use super::super::super::keys;
use super::super::super::views::describe::Target;
use super::super::{App, Overlay};

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    match keys::key_action(app, key) {
        Some(a) => app.update(a),
        None => Vec::new(),
    }
}

fn runs_app() -> App {
    let mut app = fixtures::app(ViewId::Runs, Role::Viewer);
    let q = app.runs.query();
    app.update(Action::Data(Box::new(Data::Runs(q, fixtures::runs_page()))));
    app
}

fn described(app: &App) -> (Target, bool, usize) {
    match &app.overlay {
        Some(Overlay::Describe(d)) => (d.target.clone(), d.yaml, d.scroll),
        other => panic!("not describing: {other:?}"),
    }
}

#[test]
fn d_describes_y_copies_shift_y_switches_to_yaml_and_esc_closes() {
    let mut app = runs_app();
    press(&mut app, KeyCode::Char('d'));
    let run = Target::Run(fixtures::id(0));
    assert_eq!(described(&app), (run.clone(), false, 0));
    press(&mut app, KeyCode::Char('Y'));
    assert_eq!(described(&app), (run.clone(), true, 0));
    press(&mut app, KeyCode::Char('Y'));
    assert!(!described(&app).1);
    let effects = press(&mut app, KeyCode::Char('y'));
    assert!(
        effects.contains(&Effect::Copy(fixtures::id(0))),
        "{effects:?}"
    );
    assert_eq!(described(&app).0, run, "copying keeps it open");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, None);
    assert_eq!(app.view, ViewId::Runs, "esc closes only the overlay");
    // Y opens straight on YAML; d closes it again.
    press(&mut app, KeyCode::Char('Y'));
    assert!(described(&app).1);
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.overlay, None);
}

#[test]
fn describe_scrolls_within_the_text() {
    let mut app = runs_app();
    app.rows = 10; // room for 5 lines of the run's ~15 fields
    press(&mut app, KeyCode::Char('d'));
    for _ in 0..100 {
        press(&mut app, KeyCode::Down);
    }
    let max = described(&app).2;
    assert!(max > 0 && max < 100, "{max}");
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(described(&app).2, 0);
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(described(&app).2, max);
}

#[test]
fn the_described_object_follows_fresh_data() {
    let mut app = runs_app();
    press(&mut app, KeyCode::Char('d'));
    let mut page = fixtures::runs_page();
    page.items[0].status = RunStatus::Succeeded;
    let q = app.runs.query();
    app.update(Action::Data(Box::new(Data::Runs(q.clone(), page))));
    let Some(Overlay::Describe(d)) = &app.overlay else {
        panic!("closed")
    };
    assert_eq!(d.value["status"], "succeeded");
    // Gone from the page: it stays as last seen.
    let empty = Page {
        items: Vec::new(),
        next_cursor: None,
    };
    app.update(Action::Data(Box::new(Data::Runs(q, empty))));
    let Some(Overlay::Describe(d)) = &app.overlay else {
        panic!("closed")
    };
    assert_eq!(d.value["status"], "succeeded");
}

#[test]
fn every_view_describes_what_it_selects_and_agents_drain_with_shift_d() {
    let mut app = fixtures::app(ViewId::Agents, Role::Admin);
    let q = app.agents.query();
    app.update(Action::Data(Box::new(Data::Agents(
        q,
        fixtures::agents_page(),
    ))));
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(described(&app).0, Target::Agent("worker-1".into()));
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('D'));
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    press(&mut app, KeyCode::Char('n'));

    app.update(Action::Data(Box::new(Data::Workflows(
        fixtures::workflows(),
    ))));
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(described(&app).0, Target::Workflow("deploy".into()));
    press(&mut app, KeyCode::Esc);

    let f = app.audit.filter.clone();
    app.update(Action::Data(Box::new(Data::Audit(f, fixtures::audit()))));
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(described(&app).0, Target::Audit(40));
    press(&mut app, KeyCode::Esc);

    // Nothing loaded: says so.
    press(&mut app, KeyCode::Char('1'));
    press(&mut app, KeyCode::Char('d'));
    assert_eq!(app.overlay, None);
    assert_eq!(
        app.flash.as_ref().unwrap().text,
        "Nothing selected to describe."
    );
}

#[test]
fn the_column_picker_hides_columns_for_the_session_and_sorting_steps_over_them() {
    let mut app = runs_app();
    press(&mut app, KeyCode::Char('C'));
    assert!(matches!(app.overlay, Some(Overlay::Columns(_))));
    press(&mut app, KeyCode::Down); // WORKFLOW
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Down); // STATUS
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, None);
    assert_eq!(
        app.runs.order.header(&crate::tui::views::runs::COLUMNS),
        ["ID", "STEPS", "AGE▲", "DURATION", "LABELS"]
    );
    // `<` from AGE goes to STEPS, then ID: WORKFLOW and STATUS are skipped.
    press(&mut app, KeyCode::Char('<'));
    press(&mut app, KeyCode::Char('<'));
    assert_eq!(app.runs.order.column, 0);
    // Kept across views and a context switch (for the session).
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('3'));
    app.update(Action::Switched {
        name: Some("b".into()),
        who: fixtures::principal(Role::Viewer),
        location: "local /b".into(),
    });
    assert_eq!(app.runs.order.hidden.count(), 2);
    // Every column but one hidden: the last stays.
    press(&mut app, KeyCode::Char('C'));
    for row in 0..7 {
        if !app.runs.order.hidden.is(row) {
            press(&mut app, KeyCode::Char(' '));
        }
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.runs.order.hidden.count(), 6);
    assert_eq!(
        app.flash.as_ref().map(|f| f.text.as_str()),
        Some("At least one column stays.")
    );
    // Not a table: nothing to pick.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('1'));
    assert_eq!(
        keys::key_action(&app, KeyEvent::new(KeyCode::Char('C'), KeyModifiers::NONE)),
        None
    );
}
