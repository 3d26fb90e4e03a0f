//! Unknown keys at every level (with "did you mean"), and missing required keys.

use super::problems;

#[test]
fn unknown_top_level_key_suggests_the_near_miss() {
    let (msg, hint) = problems("name: x\ntimout: 5m\nsteps: [{id: a, noop: true}]\n");
    assert_eq!(msg, "wf.yaml:2:1: workflow: unknown key `timout`");
    assert_eq!(hint.as_deref(), Some("did you mean \"timeout\"?"));
}

#[test]
fn unknown_key_without_near_miss_lists_the_known_ones() {
    let (_, hint) = problems("name: x\nzzz: 1\nsteps: [{id: a, noop: true}]\n");
    assert!(hint.is_some_and(|h| h.starts_with("known keys: name, description")));
}

#[test]
fn unknown_step_key() {
    let (msg, hint) = problems("name: x\nsteps:\n  - id: a\n    run: echo\n    neds: [b]\n");
    assert_eq!(msg, "wf.yaml:5:5: step #1: unknown key `neds`");
    assert_eq!(hint.as_deref(), Some("did you mean \"needs\"?"));
}

#[test]
fn unknown_http_key() {
    let (msg, hint) =
        problems("name: x\nsteps:\n  - id: a\n    http: {url: http://h, header: {}}\n");
    assert_eq!(msg, "wf.yaml:4:27: step \"a\" http: unknown key `header`");
    assert_eq!(hint.as_deref(), Some("did you mean \"headers\"?"));
}

#[test]
fn unknown_retry_key() {
    let (msg, hint) =
        problems("name: x\nsteps:\n  - id: a\n    run: echo\n    retry: {max: 2, backof: fixed}\n");
    assert_eq!(msg, "wf.yaml:5:21: step \"a\" retry: unknown key `backof`");
    assert_eq!(hint.as_deref(), Some("did you mean \"backoff\"?"));
}

#[test]
fn unknown_param_key() {
    let (msg, hint) = problems(
        "name: x\nparams:\n  v: {type: string, defualt: a}\nsteps: [{id: a, noop: true}]\n",
    );
    assert_eq!(msg, "wf.yaml:3:21: param v: unknown key `defualt`");
    assert_eq!(hint.as_deref(), Some("did you mean \"default\"?"));
}

#[test]
fn unknown_defaults_and_agent_keys() {
    let src = "name: x\ndefaults: {timeouts: 1m}\nsteps:\n  - id: a\n    run: echo\n    agent: {label: {os: linux}}\n";
    let (msg, _) = problems(src);
    assert_eq!(
        msg,
        "wf.yaml:2:12: defaults: unknown key `timeouts` (did you mean \"timeout\"?)\n\
         wf.yaml:6:13: step \"a\" agent: unknown key `label` (did you mean \"labels\"?)"
    );
}

#[test]
fn missing_name() {
    let (msg, _) = problems("steps: [{id: a, noop: true}]\n");
    assert_eq!(msg, "wf.yaml:1:1: workflow: missing required key `name`");
}

#[test]
fn missing_steps() {
    let (msg, _) = problems("name: x\n");
    assert_eq!(msg, "wf.yaml:1:1: workflow: missing required key `steps`");
}

#[test]
fn empty_steps() {
    let (msg, _) = problems("name: x\nsteps: []\n");
    assert_eq!(
        msg,
        "wf.yaml:2:8: steps: the list is empty; a workflow needs at least one step"
    );
}

#[test]
fn missing_step_id() {
    let (msg, _) = problems("name: x\nsteps:\n  - run: echo\n");
    assert_eq!(msg, "wf.yaml:3:5: step #1: missing required key `id`");
}

#[test]
fn a_step_with_nothing_to_do() {
    let (msg, hint) = problems("name: x\nsteps:\n  - id: a\n    timeout: 1m\n");
    assert_eq!(msg, "wf.yaml:3:5: step \"a\": says nothing to do");
    assert!(hint.is_some_and(|h| h.contains("noop: true")));
}

#[test]
fn a_step_with_two_kinds() {
    let (msg, _) = problems("name: x\nsteps:\n  - id: a\n    run: echo\n    noop: true\n");
    assert_eq!(
        msg,
        "wf.yaml:5:5: step \"a\": has `run` and `noop`; a step does exactly one of run, http, noop or approval"
    );
}

#[test]
fn bad_names_are_reported() {
    let (msg, _) = problems("name: My Workflow\nsteps:\n  - id: Build\n    noop: true\n");
    assert!(
        msg.contains("wf.yaml:1:7: workflow name: \"My Workflow\" is not a valid name"),
        "{msg}"
    );
    assert!(
        msg.contains("wf.yaml:3:9: step #1 id: \"Build\" is not a valid name"),
        "{msg}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let src = "name: x\ntimout: 1m\nsteps:\n  - id: a\n    run: echo\n    timeout: soon\n  - id: b\n    needs: [c]\n    noop: true\n";
    let (msg, hint) = problems(src);
    assert_eq!(msg.lines().count(), 3, "{msg}");
    assert!(hint.is_none());
}
