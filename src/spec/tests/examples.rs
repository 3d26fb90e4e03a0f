//! Every file under examples/workflows/ parses and validates, and the demo can run them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{StepKind, WorkflowSpec};
use crate::spec::{
    StepOutputs, TemplateContext, load_file, load_path, render_step, resolve_params,
};

fn example(name: &str) -> WorkflowSpec {
    load_file(&dir().join(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/workflows")
}

#[test]
fn every_example_workflow_is_valid() {
    let specs = load_path(&dir()).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<_> = specs.iter().map(|(_, s)| s.name.as_str()).collect();
    for expected in ["build-test-deploy", "flaky", "http-call"] {
        assert!(names.contains(&expected), "{names:?}");
    }
}

#[test]
fn build_test_deploy_fans_out_and_runs_without_params() {
    let spec = example("build-test-deploy.yaml");
    let needs = |id: &str| {
        let step = spec.steps.iter().find(|s| s.id == id).unwrap();
        step.needs.clone()
    };
    for t in ["unit-tests", "integration-tests", "lint"] {
        assert_eq!(needs(t), ["build"]);
    }
    assert_eq!(
        needs("package"),
        ["unit-tests", "integration-tests", "lint"]
    );
    assert_eq!(needs("deploy"), ["package"]);

    let params = resolve_params(&spec, &BTreeMap::new()).unwrap();
    let mut ctx = TemplateContext {
        params,
        ..TemplateContext::default()
    };
    ctx.run.id = "01RUN".into();
    ctx.steps.insert(
        "package".into(),
        StepOutputs {
            outputs: BTreeMap::from([("artifact".into(), "app-1.4.2.tar.gz".into())]),
        },
    );
    let deploy = spec.steps.iter().find(|s| s.id == "deploy").unwrap();
    let (kind, env, _) = render_step(deploy, &ctx).unwrap();
    let StepKind::Run { command } = kind else {
        panic!("{kind:?}")
    };
    assert!(
        command.contains("deploying app-1.4.2.tar.gz to staging (run 01RUN)"),
        "{command}"
    );
    assert_eq!(env["DEPLOY_ENV"], "staging");
    assert_eq!(env["APP_VERSION"], "1.4.2");
}

#[test]
fn http_call_needs_its_url() {
    let spec = example("http-call.yaml");
    assert!(resolve_params(&spec, &BTreeMap::new()).is_err());
    let raw = BTreeMap::from([("url".to_string(), "http://127.0.0.1:9/hook".to_string())]);
    let ctx = TemplateContext {
        params: resolve_params(&spec, &raw).unwrap(),
        ..TemplateContext::default()
    };
    let (kind, _, _) = render_step(&spec.steps[0], &ctx).unwrap();
    let StepKind::Http(h) = kind else {
        panic!("{kind:?}")
    };
    assert_eq!(
        (h.method.as_str(), h.url.as_str()),
        ("POST", "http://127.0.0.1:9/hook")
    );
    assert_eq!(h.expect_status, [200]);
}

#[test]
fn flaky_retries_with_a_fixed_backoff() {
    let spec = example("flaky.yaml");
    let fetch = &spec.steps[0];
    assert_eq!(fetch.retry.max, 2);
    assert_eq!(fetch.retry.initial_ms, 200);
    assert_eq!(spec.steps[1].needs, ["fetch"]);
}

#[test]
fn the_design_document_example_is_valid() {
    let src = r#"name: deploy
description: Build, test and roll out a release
params:
  version: { type: string, required: true }
  env:     { type: string, default: staging, enum: [staging, prod] }
defaults: { timeout: 10m, retry: { max: 2, backoff: exponential, initial: 2s } }
steps:
  - id: build
    run: ./build.sh {{ params.version }}
    agent: { labels: { os: linux } }
  - id: test
    needs: [build]
    run: ./test.sh
    timeout: 5m
  - id: announce
    needs: [test]
    http: { method: POST, url: "https://chat.example/hooks/x", json: { text: "{{ params.version }} ok" } }
"#;
    let spec = crate::spec::parse_str(src, "deploy.yaml").unwrap();
    assert_eq!(spec.steps[1].timeout_ms, Some(300_000));
    assert_eq!(spec.steps[2].timeout_ms, Some(600_000));
}
