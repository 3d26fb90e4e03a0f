//! The palette through the state machine: keys → commands → state and effects.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use imx::auth::Role;
use imx::control::RunSort;

use super::super::super::action::{Action, Data, Effect, ViewId};
use super::super::super::fixtures::{self, NOW};
use super::super::super::keys;
use super::super::super::palette::Candidates;
use super::super::{App, Conn, Input, Overlay};

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let key = KeyEvent::new(code, KeyModifiers::NONE);
    match keys::key_action(app, key) {
        Some(a) => app.update(a),
        None => Vec::new(),
    }
}

/// `:` then `line`, without pressing Enter.
fn palette(app: &mut App, line: &str) -> Vec<Effect> {
    let mut effects = press(app, KeyCode::Char(':'));
    for c in line.chars() {
        effects.extend(press(app, KeyCode::Char(c)));
    }
    effects
}

fn command(app: &mut App, line: &str) -> Vec<Effect> {
    let mut effects = palette(app, line);
    effects.extend(press(app, KeyCode::Enter));
    effects
}

fn loaded(view: ViewId) -> App {
    let mut app = fixtures::app(view, Role::Admin);
    let (rq, aq, af) = (
        app.runs.query(),
        app.agents.query(),
        app.audit.filter.clone(),
    );
    for d in [
        Data::Overview(fixtures::overview()),
        Data::Runs(rq, fixtures::runs_page()),
        Data::Agents(aq, fixtures::agents_page()),
        Data::Workflows(fixtures::workflows()),
        Data::Audit(af, fixtures::audit()),
    ] {
        app.update(Action::Data(Box::new(d)));
    }
    app
}

fn flash(app: &App) -> (String, bool) {
    let f = app.flash.as_ref().expect("a message");
    (f.text.clone(), f.error)
}

#[test]
fn opening_the_palette_asks_for_candidates() {
    let mut app = loaded(ViewId::Overview);
    let effects = press(&mut app, KeyCode::Char(':'));
    assert!(effects.contains(&Effect::Candidates {
        tab: None,
        run_prefix: None
    }));
}

#[test]
fn run_opens_a_known_run_by_prefix_and_looks_up_an_unknown_one() {
    let mut app = loaded(ViewId::Overview);
    command(&mut app, "run 01jg0004");
    assert_eq!(app.view, ViewId::RunDetail);
    assert_eq!(app.detail.as_ref().unwrap().run_id, fixtures::id(4));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, ViewId::Overview);

    let effects = command(&mut app, "run 01ZZ");
    assert!(
        effects.contains(&Effect::ResolveRun("01ZZ".into())),
        "{effects:?}"
    );
    assert_eq!(app.view, ViewId::Overview, "not before it is found");
    app.update(Action::OpenRun("01ZZ0000000000000000000000".into()));
    assert_eq!(app.view, ViewId::RunDetail);
    assert_eq!(
        app.detail.as_ref().unwrap().run_id,
        "01ZZ0000000000000000000000"
    );
}

#[test]
fn tab_completes_a_run_id_from_the_page_or_from_the_control_plane() {
    let mut app = loaded(ViewId::Runs);
    palette(&mut app, "run 01JG0007");
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.overlay,
        Some(Overlay::Palette(Input::with(&format!(
            "run {}",
            fixtures::id(7)
        ))))
    );
    press(&mut app, KeyCode::Esc);
    // Not on the page: the control plane is asked, and the answer completes the line.
    palette(&mut app, "run 01K");
    let effects = press(&mut app, KeyCode::Tab);
    assert!(effects.contains(&Effect::Candidates {
        tab: Some("run 01K".into()),
        run_prefix: Some("01K".into())
    }));
    let candidates = Candidates {
        runs: vec!["01KAAAAAAAAAAAAAAAAAAAAAAA".into()],
        ..Candidates::default()
    };
    app.update(Action::Data(Box::new(Data::Candidates {
        tab: Some("run 01K".into()),
        candidates,
    })));
    assert_eq!(
        app.overlay,
        Some(Overlay::Palette(Input::with(
            "run 01KAAAAAAAAAAAAAAAAAAAAAAA"
        )))
    );
    // An answer with nothing says so.
    press(&mut app, KeyCode::Esc);
    palette(&mut app, "run 01Q");
    press(&mut app, KeyCode::Tab);
    app.update(Action::Data(Box::new(Data::Candidates {
        tab: Some("run 01Q".into()),
        candidates: Candidates::default(),
    })));
    assert_eq!(flash(&app), ("No run id starts with 01Q.".into(), true));
}

#[test]
fn agent_and_wf_jump_to_their_views() {
    let mut app = loaded(ViewId::Overview);
    press(&mut app, KeyCode::Char(':'));
    for c in "agent worker-".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    // Six agents share the prefix: Tab steps through them.
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::BackTab);
    let Some(Overlay::Palette(input)) = &app.overlay else {
        panic!("palette closed")
    };
    assert_eq!(input.text, "agent worker-1");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, ViewId::Agents);
    assert_eq!(app.agents.text.as_deref(), Some("worker-1"));

    command(&mut app, "wf deploy");
    assert_eq!(app.view, ViewId::Runs);
    assert_eq!(app.runs.query().workflow.as_deref(), Some("deploy"));

    command(&mut app, "wf deplyo");
    assert_eq!(
        flash(&app),
        (
            "No workflow \"deplyo\": did you mean \"deploy\"?".into(),
            true
        )
    );
    assert_eq!(app.runs.query().workflow.as_deref(), Some("deploy"));
}

#[test]
fn label_shows_the_runs_with_those_labels() {
    let mut app = loaded(ViewId::Overview);
    command(&mut app, "label pr=42,sha=abc");
    assert_eq!(app.view, ViewId::Runs);
    let q = app.runs.query();
    assert_eq!(q.labels.get("pr").map(String::as_str), Some("42"));
    assert_eq!(q.labels.get("sha").map(String::as_str), Some("abc"));
    assert_eq!(app.runs.filter_text(), "pr=42 sha=abc");
    command(&mut app, "label pr=a b");
    assert!(flash(&app).1, "two arguments are refused");
    command(&mut app, "label nope");
    assert!(flash(&app).0.contains("key=value"), "{:?}", flash(&app));
    assert_eq!(
        app.runs.query().labels.len(),
        2,
        "a bad selector changes nothing"
    );
    command(&mut app, "label");
    assert!(app.runs.query().labels.is_empty());
}

#[test]
fn unknown_verbs_get_a_did_you_mean() {
    let mut app = loaded(ViewId::Overview);
    command(&mut app, "agnet worker-1");
    assert_eq!(
        flash(&app),
        (
            "Unknown command \"agnet\": did you mean \"agent\"?".into(),
            true
        )
    );
    assert_eq!(app.view, ViewId::Overview);
}

#[test]
fn since_filters_runs_and_audit_and_moves_with_the_clock() {
    let mut app = loaded(ViewId::Runs);
    let effects = command(&mut app, "since 10m");
    assert_eq!(app.since.as_ref().unwrap().ms, 600_000);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Watch(_))),
        "runs are read again: {effects:?}"
    );
    // Runs are 1.5, 3, … 18 minutes old: the six within 10 minutes stay.
    let q = app.runs.query();
    app.update(Action::Data(Box::new(Data::Runs(q, fixtures::runs_page()))));
    assert_eq!(app.runs.window.items.len(), 6);
    assert!(
        app.runs.window.next.is_none(),
        "older pages are out of range"
    );
    assert_eq!(app.audit.records.len(), 4);
    app.update(Action::Tick(NOW + 8 * 60_000));
    assert_eq!(
        app.audit.records.len(),
        2,
        "records 1 and 2 minutes old, 8 minutes on"
    );

    // The control plane cuts both by the range, from its minute, in either order.
    app.runs.toggle_sort();
    assert_eq!(app.runs.sort, RunSort::Oldest);
    let q = app.runs.query();
    assert_eq!(q.cursor, None);
    let t = q.since.unwrap();
    assert!(t <= NOW + 8 * 60_000 - 600_000 && t > NOW - 600_000, "{t}");
    assert_eq!(
        t % 60_000,
        0,
        "to the minute: the query changes once a minute"
    );
    assert_eq!(app.audit.filter.since, Some(t));
    assert!(app.watch().audit.since.is_some());
    // Esc in Audit clears its own filters, not the range.
    app.audit.filter.outcome = Some("ok".into());
    app.view = ViewId::Audit;
    app.update(Action::Back);
    assert_eq!(app.audit.filter.outcome, None);
    assert_eq!(app.audit.filter.since, Some(t));

    command(&mut app, "since");
    assert!(app.since.is_none());
    assert!(app.runs.query().since.is_none());
    assert!(app.audit.filter.since.is_none());
    assert_eq!(app.audit.records.len(), 4);
    assert_eq!(flash(&app), ("Runs and Audit: all times.".into(), false));
}

/// `:since 1h` in Audit shows every record of the hour, read by the control plane: not only
/// those among the newest 200 that the tail holds without a range.
#[tokio::test]
async fn since_in_audit_reads_every_record_of_the_range() {
    use std::sync::Arc;

    use imx::auth::Principal;
    use imx::control::{LocalControlPlane, LocalOptions, Plane};
    use imx::model::{StepKind, StepSpec, WorkflowSpec, now_ms};

    use super::super::super::loader::Loader;

    let dir = tempfile::tempdir().unwrap();
    let opts = LocalOptions {
        create: true,
        ..LocalOptions::default()
    };
    let plane: Plane = Arc::new(LocalControlPlane::open(&dir.path().join("imx.db"), opts).unwrap());
    let who = Principal::local_owner();
    for i in 0..250 {
        let spec = WorkflowSpec::new(format!("w{i}"), vec![StepSpec::new("s", StepKind::Noop)]);
        plane.apply_workflow(&who, spec, false).await.unwrap();
    }
    let mut app = App::new(who.clone(), "local".into(), ViewId::Audit, now_ms(), 0);
    command(&mut app, "since 1h");
    let mut loader = Loader::new(plane, who);
    for data in loader.refresh(&app.watch()).await {
        app.update(Action::Data(Box::new(data)));
    }
    assert_eq!(app.audit.records.len(), 250, "every record of the hour");
    assert!(
        app.audit
            .records
            .iter()
            .all(|r| r.action == "workflow.apply")
    );
}

#[test]
fn ctx_asks_to_switch_and_a_switch_starts_afresh() {
    let mut app = loaded(ViewId::Runs);
    app.context_name = Some("a".into());
    app.known.contexts = vec!["a".into(), "b".into()];
    command(&mut app, "ctx");
    assert_eq!(
        flash(&app),
        (
            "Contexts: a, b (now on a). :ctx NAME switches.".into(),
            false
        )
    );
    command(&mut app, "ctx a");
    assert_eq!(flash(&app), ("Already on context a.".into(), false));
    let effects = command(&mut app, "ctx b");
    assert!(effects.contains(&Effect::SwitchContext("b".into())));
    assert_eq!(app.context_name.as_deref(), Some("a"), "not yet");

    press(&mut app, KeyCode::Enter); // Run detail of the selected run
    let effects = app.update(Action::Switched {
        name: Some("b".into()),
        who: fixtures::principal(Role::Viewer),
        location: "local /tmp/b.db".into(),
    });
    assert_eq!(app.context_name.as_deref(), Some("b"));
    assert_eq!(app.context, "local /tmp/b.db");
    assert_eq!(app.who.role, Role::Viewer);
    assert_eq!(app.view, ViewId::Runs, "the old context's run is not here");
    assert!(app.runs.window.items.is_empty() && app.audit.records.is_empty());
    assert!(app.workflows.all.is_empty() && app.overview.data.is_none());
    assert_eq!(app.conn, Conn::Connecting);
    assert_eq!(app.known.contexts, ["a", "b"]);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Watch(_))),
        "the new loader gets a watch: {effects:?}"
    );
    assert_eq!(
        flash(&app),
        ("Switched to context b (local /tmp/b.db).".into(), false)
    );
}

#[test]
fn a_tab_before_the_candidates_arrive_completes_when_they_do() {
    let mut app = loaded(ViewId::Overview);
    palette(&mut app, "ctx st");
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.overlay, Some(Overlay::Palette(Input::with("ctx st"))));
    let candidates = Candidates {
        contexts: vec!["prod".into(), "staging".into()],
        ..Candidates::default()
    };
    app.update(Action::Data(Box::new(Data::Candidates {
        tab: None,
        candidates,
    })));
    assert_eq!(
        app.overlay,
        Some(Overlay::Palette(Input::with("ctx staging")))
    );
    assert!(app.flash.is_none());
    // Several matches: the next Tab steps on to the next one.
    press(&mut app, KeyCode::Esc);
    app.known = Candidates::default();
    palette(&mut app, "ctx ");
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.overlay, Some(Overlay::Palette(Input::with("ctx "))));
    app.update(Action::Data(Box::new(Data::Candidates {
        tab: None,
        candidates: Candidates {
            contexts: vec!["prod".into(), "staging".into()],
            ..Candidates::default()
        },
    })));
    assert_eq!(app.overlay, Some(Overlay::Palette(Input::with("ctx prod"))));
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.overlay,
        Some(Overlay::Palette(Input::with("ctx staging")))
    );
}
