//! `if:` and `when:` on steps (issue 13) as a user meets them: a false condition skips a step
//! with the reason "condition false" (shown by `run show`, table and JSON), a cleanup step
//! with `when: always` runs after a failure while the run still fails, a `when: failure` step
//! runs only on failure, and conditions read upstream outputs and states. Validation points at
//! bad expressions and unknown variables.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::TestEnv;

fn status<'a>(run: &'a Value, step: &str) -> &'a str {
    TestEnv::step(run, step)["status"].as_str().unwrap_or("")
}

fn error<'a>(run: &'a Value, step: &str) -> &'a str {
    TestEnv::step(run, step)["error"].as_str().unwrap_or("")
}

const PIPELINE: &str = r#"
name: pipeline
params:
  env: { type: string, default: staging }
  fail: { type: bool, default: false }
steps:
  - id: build
    run: echo "version=1.2" >> "$IMX_OUTPUT"
  - id: test
    needs: [build]
    run: test "{{ params.fail }}" = false
  - id: deploy
    needs: [test]
    if: params.env == "prod" and steps.build.outputs.version is defined
    run: "true"
  - id: announce
    needs: [deploy]
    run: "true"
  - id: cleanup
    needs: [deploy]
    when: always
    run: "true"
  - id: page
    needs: [deploy]
    when: failure
    run: "true"
  - id: report
    needs: [test]
    when: always
    if: steps.test.status == "failed"
    run: "true"
  - id: tag
    needs: [build]
    if: steps.build.outputs.version == "1.2"
    run: "true"
"#;

/// A false `if:` skips the step with the reason "condition false", its `when: success`
/// dependents too (as after any skip), while `always` steps run; nothing failed, so the run
/// succeeded. `run show` says why, in the table and in JSON.
fn a_false_condition_skips_the_step_and_says_why(env: TestEnv) {
    env.apply("pipeline.yaml", PIPELINE);
    let _agent = env.agent("worker", 2);
    let id = env.start("pipeline", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(status(&run, "deploy"), "skipped", "{run:#}");
    assert_eq!(error(&run, "deploy"), "condition false", "{run:#}");
    assert_eq!(status(&run, "announce"), "skipped");
    assert_eq!(error(&run, "announce"), "needs \"deploy\", which skipped");
    assert_eq!(status(&run, "cleanup"), "succeeded", "{run:#}");
    assert_eq!(status(&run, "page"), "skipped");
    assert_eq!(
        error(&run, "page"),
        "when: failure, and no step upstream failed"
    );
    // Conditions over an upstream output and an upstream state.
    assert_eq!(status(&run, "tag"), "succeeded", "{run:#}");
    assert_eq!(status(&run, "report"), "skipped");
    let table = env.run(["run", "show", &id]);
    table.expect_code(0);
    assert!(
        table.stdout.contains("deploy: condition false"),
        "{}",
        table.stdout
    );
    // The same run with env=prod deploys.
    let prod = env.start("pipeline", &["env=prod"]);
    let prod = env.finish(&prod);
    assert_eq!(prod["status"], "succeeded", "{prod:#}");
    assert_eq!(status(&prod, "deploy"), "succeeded", "{prod:#}");
    assert_eq!(status(&prod, "announce"), "succeeded");
}

/// `test` fails: `deploy` is skipped by the cascade, `cleanup` (always) and `page` (failure)
/// run, `report` sees `steps.test.status == "failed"`; the run is `failed` for the real
/// failure, and `run wait` exits 10.
fn always_and_failure_steps_run_after_a_failure_and_the_run_fails(env: TestEnv) {
    env.apply("pipeline.yaml", PIPELINE);
    let _agent = env.agent("worker", 2);
    let id = env.start("pipeline", &["env=prod", "fail=true"]);
    let wait = env.run(["run", "wait", &id, "--wait-timeout", "90s", "-q"]);
    wait.expect_code(10);
    let run = env.json(["run", "show", &id]);
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(
        run["error"]
            .as_str()
            .unwrap_or("")
            .contains("step \"test\" failed"),
        "{run:#}"
    );
    assert_eq!(status(&run, "deploy"), "skipped");
    assert_eq!(error(&run, "deploy"), "needs \"test\", which failed");
    assert_eq!(status(&run, "cleanup"), "succeeded", "{run:#}");
    assert_eq!(status(&run, "page"), "succeeded", "{run:#}");
    assert_eq!(status(&run, "report"), "succeeded", "{run:#}");
    assert_eq!(status(&run, "tag"), "succeeded", "{run:#}");
}

/// A root step's `if:` is decided when the run starts; one that cannot be evaluated fails
/// the step, saying why.
fn a_root_condition_is_decided_at_once(env: TestEnv) {
    env.apply(
        "root.yaml",
        r#"
name: root
params:
  go: { type: bool, default: false }
  n: { type: string, default: "a" }
steps:
  - id: maybe
    if: params.go
    run: "true"
  - id: broken
    if: params.n + 1
    run: "true"
"#,
    );
    let id = env.start("root", &[]);
    // No agent: both were decided without one.
    let run = env.json(["run", "show", &id]);
    assert_eq!(status(&run, "maybe"), "skipped", "{run:#}");
    assert_eq!(error(&run, "maybe"), "condition false");
    assert_eq!(status(&run, "broken"), "failed", "{run:#}");
    assert!(
        error(&run, "broken").starts_with("cannot evaluate `if: params.n + 1`"),
        "{run:#}"
    );
    assert_eq!(run["status"], "failed", "{run:#}");
}

both_modes!(
    a_false_condition_skips_the_step_and_says_why,
    always_and_failure_steps_run_after_a_failure_and_the_run_fails,
    a_root_condition_is_decided_at_once,
);

/// Bad `if:` and `when:` are reported at their file:line:col.
#[test]
fn validation_points_at_bad_conditions() {
    let env = TestEnv::bare();
    env.write(
        "bad.yaml",
        r#"name: bad
params:
  env: { type: string }
steps:
  - id: build
    run: "true"
  - id: other
    run: "true"
  - id: deploy
    needs: [build]
    if: params.env == == "prod"
    run: "true"
  - id: a
    needs: [build]
    if: steps.other.status == "failed" or params.envv
    when: allways
    run: "true"
"#,
    );
    let out = env.run(["workflow", "validate", "-f", "bad.yaml"]);
    out.expect_code(2);
    for want in [
        "bad.yaml:11:23: step \"deploy\" if: bad expression: syntax error",
        "bad.yaml:15:9: step \"a\" if: uses step \"other\", which is not upstream of it",
        "bad.yaml:15:9: step \"a\" if: uses undeclared param \"envv\"",
        "bad.yaml:16:11: step \"a\" when: expected success, failure or always, got \"allways\"",
        "did you mean \"always\"?",
        "did you mean \"env\"?",
    ] {
        assert!(
            out.stderr.contains(want),
            "{want:?} not in:\n{}",
            out.stderr
        );
    }
}
