//! The Schedules view's keys without a terminal: how it is reached, enter → the schedule's
//! runs, `p` `r` `t` asking first (and a viewer refused), filter, sort, describe and copy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use imx::auth::Role;

use super::super::super::action::{Action, Data, Effect, Mutation, ViewId};
use super::super::super::fixtures;
use super::super::super::keys::{self, KEYS, Scope};
use super::super::{App, Overlay};

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

/// The Schedules view with [`fixtures::schedules`] (backup, nightly paused, report) loaded.
fn schedules_app(role: Role) -> App {
    let mut app = fixtures::app(ViewId::Schedules, role);
    app.update(Action::Data(Box::new(Data::Schedules(
        fixtures::schedules(),
    ))));
    app.update(Action::Data(Box::new(Data::ScheduleRuns(
        fixtures::schedule_runs(),
    ))));
    app
}

fn flash(app: &App) -> (String, bool) {
    let f = app.flash.as_ref().expect("a message");
    (f.text.clone(), f.error)
}

#[test]
fn schedules_are_reached_by_6_the_palette_and_the_tabs() {
    let mut app = fixtures::app(ViewId::Overview, Role::Viewer);
    press(&mut app, KeyCode::Char('6'));
    assert_eq!(app.view, ViewId::Schedules);
    let effects = press(&mut app, KeyCode::Char('1'));
    assert_eq!(app.view, ViewId::Overview);
    assert!(!effects.is_empty());
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "sche");
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.overlay,
        Some(Overlay::Palette(super::super::Input::with("schedules")))
    );
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, ViewId::Schedules);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Watch(w) if w.view == ViewId::Schedules)),
        "the loader is told: {effects:?}"
    );
    // Schedules is the last tab: ] wraps to the first, [ comes back.
    press(&mut app, KeyCode::Char(']'));
    assert_eq!(app.view, ViewId::Overview);
    press(&mut app, KeyCode::Char('['));
    assert_eq!(app.view, ViewId::Schedules);
}

#[test]
fn enter_shows_the_schedules_runs_and_esc_returns() {
    let mut app = schedules_app(Role::Viewer);
    press(&mut app, KeyCode::Down);
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, ViewId::Runs);
    let q = app.runs.query();
    assert_eq!(q.schedule.as_deref(), Some("nightly"));
    assert_eq!((&q.workflow, q.status, &q.text), (&None, None, &None));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Watch(w) if w.runs == q && w.view == ViewId::Runs)),
        "{effects:?}"
    );
    assert_eq!(app.runs.filter_text(), "sched:nightly");
    // Esc clears the filter, then goes back to Schedules, on the same schedule.
    press(&mut app, KeyCode::Esc);
    assert_eq!((app.view, app.runs.query().schedule), (ViewId::Runs, None));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::Schedules);
    assert_eq!(app.schedules.selected_item().unwrap().name, "nightly");
    // The filter can be typed in Runs too.
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "schedule:backup status:failed");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.runs.query().schedule.as_deref(), Some("backup"));
    assert_eq!(app.runs.filter_text(), "status:failed sched:backup");
}

#[test]
fn pause_resume_and_trigger_ask_first_and_only_yes_mutates() {
    let mut app = schedules_app(Role::Operator);
    // backup (active): p asks; n declines; y pauses.
    press(&mut app, KeyCode::Char('p'));
    let want = Mutation::PauseSchedule("backup".into());
    assert_eq!(app.overlay, Some(Overlay::Confirm(want.clone())));
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    assert_eq!(app.overlay, None);
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Char('t')); // other keys do nothing while asking
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        vec![Effect::Mutate(want)]
    );
    // r on an active schedule: nothing to resume.
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(app.overlay, None);
    assert_eq!(
        flash(&app),
        ("Schedule backup is not paused.".into(), false)
    );
    // t triggers it.
    press(&mut app, KeyCode::Char('t'));
    let want = Mutation::TriggerSchedule("backup".into());
    assert_eq!(app.overlay, Some(Overlay::Confirm(want.clone())));
    assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Mutate(want)]);
    // nightly (paused): p says so; r resumes.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.overlay, None);
    assert_eq!(
        flash(&app),
        ("Schedule nightly is paused already.".into(), false)
    );
    press(&mut app, KeyCode::Char('r'));
    let want = Mutation::ResumeSchedule("nightly".into());
    assert_eq!(app.overlay, Some(Overlay::Confirm(want.clone())));
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        vec![Effect::Mutate(want)]
    );
    // The change comes back with the next read: nightly active now, still selected.
    let mut all = fixtures::schedules();
    all[1].paused = false;
    all[1].note = None;
    all.swap(0, 2);
    app.update(Action::Data(Box::new(Data::Schedules(all))));
    let s = app.schedules.selected_item().unwrap();
    assert_eq!((s.name.as_str(), s.paused), ("nightly", false));
}

#[test]
fn a_viewer_is_refused_pause_resume_and_trigger() {
    let mut app = schedules_app(Role::Viewer);
    for key in ['p', 'r', 't'] {
        app.flash = None;
        let effects = press(&mut app, KeyCode::Char(key));
        assert!(effects.iter().all(|e| !matches!(e, Effect::Mutate(_))));
        assert_eq!(app.overlay, None);
        let (text, error) = flash(&app);
        assert!(error && text.contains("viewer") && text.contains("may only read"));
    }
    let hints = keys::hints(&app);
    assert!(
        hints.iter().all(|(k, _)| !["p", "r", "t"].contains(k)),
        "{hints:?}"
    );
    // With nothing loaded, a viewer is still told why, not that nothing is selected.
    let mut app = fixtures::app(ViewId::Schedules, Role::Viewer);
    press(&mut app, KeyCode::Char('t'));
    assert!(flash(&app).0.contains("may only read"));
    let mut app = fixtures::app(ViewId::Schedules, Role::Admin);
    press(&mut app, KeyCode::Char('t'));
    assert_eq!(app.overlay, None);
    assert_eq!(flash(&app), ("No schedule selected.".into(), false));
}

#[test]
fn schedules_filter_sort_describe_and_copy() {
    let mut app = schedules_app(Role::Admin);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "state:bogus");
    press(&mut app, KeyCode::Enter);
    let (text, error) = flash(&app);
    assert!(error && text.contains("state:paused"), "{text}");
    assert_eq!(app.schedules.visible().len(), 3);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "report");
    press(&mut app, KeyCode::Enter);
    let names: Vec<&str> = app
        .schedules
        .visible()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["report"], "by name or workflow (nightly-report)");
    press(&mut app, KeyCode::Esc);
    assert!(!app.schedules.has_filter());
    assert_eq!(app.view, ViewId::Schedules);
    // MISSED, descending: nightly first.
    for _ in 0..7 {
        press(&mut app, KeyCode::Char('>'));
    }
    press(&mut app, KeyCode::Char('R'));
    assert_eq!(app.schedules.selected_item().unwrap().name, "backup");
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.schedules.selected_item().unwrap().name, "nightly");
    press(&mut app, KeyCode::Char('d'));
    let Some(Overlay::Describe(d)) = &app.overlay else {
        panic!("{:?}", app.overlay)
    };
    assert_eq!(d.value["note"], "db migration until 14:00");
    assert_eq!(d.value["spec"]["timezone"], "Europe/Paris");
    press(&mut app, KeyCode::Esc);
    let effects = press(&mut app, KeyCode::Char('y'));
    assert_eq!(effects, vec![Effect::Copy("nightly".into())]);
    // C picks its columns.
    press(&mut app, KeyCode::Char('C'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Esc);
    assert!(app.schedules.order.hidden.is(0));
}

#[test]
fn every_schedules_key_is_in_the_help() {
    for k in "prt/".chars() {
        let app = fixtures::app(ViewId::Schedules, Role::Admin);
        assert!(
            keys::key_action(&app, KeyEvent::new(KeyCode::Char(k), KeyModifiers::NONE)).is_some()
        );
        assert!(
            KEYS.iter()
                .any(|h| h.scope == Scope::View(ViewId::Schedules)
                    && h.keys.split_whitespace().any(|w| w == k.to_string())),
            "{k} is not in the Schedules help"
        );
    }
    assert!(
        KEYS.iter()
            .any(|h| h.scope == Scope::View(ViewId::Schedules) && h.keys == "enter")
    );
}
