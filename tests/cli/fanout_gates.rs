//! Fan-out with conditions (issue 13) as a real agent runs it: a `matrix:` step gated by an
//! `if:` over params and its own `matrix.*` (decided per instance, one slot at a time, an
//! instance its gate skips handing the slot on), steps after it with `when: always` and
//! `when: failure` and an `if:` reading its status as all its instances together, and a
//! `foreach:` step with an `if:` (decided once, before it expands).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::TestEnv;

const GATES: &str = r#"
name: gates
params:
  env: { type: string, default: staging }
steps:
  - id: test
    matrix: { region: [eu, us], shard: [1, 2] }
    max_parallel: 1
    fail_fast: false
    if: params.env == "prod" and matrix.region == "eu"
    run: test "{{ matrix.shard }}" != 2
  - id: cleanup
    needs: [test]
    when: always
    run: "true"
  - id: page
    needs: [test]
    when: failure
    if: steps.test.status == "failed"
    run: "true"
  - id: list
    run: echo 'items=["a", "b"]' >> "$IMX_OUTPUT"
  - id: each
    needs: [list]
    foreach: "{{ steps.list.outputs.items }}"
    if: params.env == "prod"
    run: echo {{ item }}
"#;

fn status(run: &Value, step: &str) -> (String, String) {
    let s = TestEnv::step(run, step);
    (
        s["status"].as_str().unwrap_or("").to_string(),
        s["error"].as_str().unwrap_or("").to_string(),
    )
}

fn ids(run: &Value) -> Vec<String> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step_id"].as_str().unwrap().to_string())
        .collect()
}

fn gated_fan_outs_run_what_their_conditions_allow(env: TestEnv) {
    env.apply("gates.yaml", GATES);
    let _agent = env.agent("worker", 4);
    let ok = || ("succeeded".to_string(), String::new());
    let skipped = |why: &str| ("skipped".to_string(), why.to_string());
    let false_ = skipped("condition false");

    // prod: the eu instances run (shard 2 fails), the us ones are skipped by their gate;
    // cleanup and page run; the foreach step expands.
    let id = env.start("gates", &["env=prod"]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(status(&run, "test[region=eu,shard=1]"), ok(), "{run:#}");
    assert_eq!(status(&run, "test[region=eu,shard=2]").0, "failed");
    assert_eq!(status(&run, "test[region=us,shard=1]"), false_);
    assert_eq!(status(&run, "test[region=us,shard=2]"), false_);
    assert_eq!(status(&run, "cleanup"), ok());
    assert_eq!(status(&run, "page"), ok(), "{run:#}");
    assert_eq!(status(&run, "each"), ok());
    assert_eq!(status(&run, "each[0]"), ok());
    assert_eq!(status(&run, "each[1]"), ok());
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("test[region=eu,shard=2]"),
        "{run:#}"
    );

    // staging: every instance skipped by its gate, nothing failed; page skipped, the foreach
    // step skipped without instances; the run succeeded.
    let id = env.start("gates", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    for inst in [
        "test[region=eu,shard=1]",
        "test[region=eu,shard=2]",
        "test[region=us,shard=1]",
        "test[region=us,shard=2]",
    ] {
        assert_eq!(status(&run, inst), false_, "{inst}");
    }
    assert_eq!(status(&run, "cleanup"), ok());
    assert_eq!(
        status(&run, "page"),
        skipped("when: failure, and no step upstream failed")
    );
    assert_eq!(status(&run, "each"), false_);
    assert!(!ids(&run).iter().any(|i| i.starts_with("each[")), "{run:#}");
}

both_modes!(gated_fan_outs_run_what_their_conditions_allow);

/// `if:` in a fan-out is checked where it is: `matrix.NAME` must be a variable of the step's
/// matrix, `item` cannot be read (a foreach step's gate comes before its items), and a
/// fanned-out step's outputs cannot be read (only its status).
#[test]
fn validation_names_each_fan_out_condition_mistake() {
    let env = TestEnv::bare();
    let path = env.write(
        "bad.yaml",
        r#"name: bad
steps:
  - id: list
    run: echo
  - id: a
    matrix: { region: [eu] }
    if: matrix.zone == "x"
    run: echo
  - id: b
    needs: [list]
    foreach: "{{ steps.list.outputs.items }}"
    if: item == "x"
    run: echo
  - id: c
    needs: [a]
    if: steps.a.outputs.x == "1"
    run: echo
  - id: d
    if: matrix.region == "eu"
    run: echo
"#,
    );
    let out = env.run(["workflow", "validate", "-f", path.to_str().unwrap()]);
    out.expect_code(2);
    let file = path.display().to_string();
    for part in [
        format!("{file}:7:9: step \"a\" if: unknown matrix variable \"zone\""),
        format!("{file}:12:9: step \"b\" if: `item` cannot be used in `if:`"),
        "a foreach step's `if:` is decided once, before it expands".to_string(),
        format!("{file}:16:9: step \"c\" if: step \"a\" fans out (matrix or foreach)"),
        format!("{file}:19:9: step \"d\" if: `matrix.region`: the step has no `matrix:`"),
    ] {
        assert!(
            out.stderr.contains(&part),
            "{part}\nnot in:\n{}",
            out.stderr
        );
    }
}
