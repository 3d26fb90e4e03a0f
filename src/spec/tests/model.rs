//! What a valid file becomes: defaults applied, durations in milliseconds, kinds read.

use crate::model::{Backoff, StepKind};
use crate::spec::parse_str;

const SRC: &str = "name: deploy
description: Ship it
timeout: 1h30m
fail_fast: true
defaults:
  timeout: 10m
  retry: {max: 2, backoff: fixed, initial: 2s}
  agent: {labels: {os: linux}}
  env: {A: one, N: 3}
steps:
  - id: build
    run: make
  - id: test
    needs: [build]
    timeout: 500ms
    retry: {max: 5}
    agent: {labels: {gpu: 'yes'}}
    env: {A: two}
    workdir: /src
    run: make test
  - id: ping
    needs: [test]
    http: {url: 'http://h', expect_status: [200, 204]}
  - id: join
    needs: [ping]
    noop: {}
";

#[test]
fn a_valid_file_becomes_the_model() {
    let spec = parse_str(SRC, "wf.yaml").unwrap();
    assert_eq!(spec.name, "deploy");
    assert_eq!(spec.description.as_deref(), Some("Ship it"));
    assert_eq!(spec.timeout_ms, Some(5_400_000));
    assert!(spec.fail_fast);

    let build = &spec.steps[0];
    assert_eq!(build.timeout_ms, Some(600_000));
    assert_eq!(build.retry.max, 2);
    assert_eq!(build.retry.backoff, Backoff::Fixed);
    assert_eq!(build.retry.initial_ms, 2_000);
    assert_eq!(build.agent.as_ref().unwrap().labels["os"], "linux");
    assert_eq!(build.env["A"], "one");
    assert_eq!(build.env["N"], "3");

    let test = &spec.steps[1];
    assert_eq!(test.needs, ["build"]);
    assert_eq!(test.timeout_ms, Some(500));
    assert_eq!(test.retry.max, 5);
    assert_eq!(
        test.retry.backoff,
        Backoff::Exponential,
        "a step's retry replaces the default"
    );
    assert_eq!(test.agent.as_ref().unwrap().labels.get("os"), None);
    assert_eq!(test.env["A"], "two", "the step's env wins");
    assert_eq!(test.env["N"], "3", "default env keys are merged in");
    assert_eq!(test.workdir.as_deref(), Some("/src"));

    let StepKind::Http(h) = &spec.steps[2].kind else {
        panic!()
    };
    assert_eq!(h.method, "GET");
    assert_eq!(h.expect_status, [200, 204]);
    assert_eq!(spec.steps[3].kind, StepKind::Noop);
}
