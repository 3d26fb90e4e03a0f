//! Fan-out (issue 13) as a real agent runs it: a 2×3 `matrix:` runs six instances with their
//! `matrix.*` values and the step needing it after all of them; `max_parallel: 1` runs them
//! one at a time (checked from the recorded start and finish times); a `foreach:` over an
//! upstream JSON output runs one instance per item; an output over the cap fails the step
//! naming the cap; validation points at each fan-out mistake.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::{TestEnv, millis};

const MATRIX: &str = r#"
name: fan
steps:
  - id: build
    run: echo "tag=v1" >> "$IMX_OUTPUT"
  - id: test
    needs: [build]
    matrix: { region: [eu, us], shard: [1, 2, 3] }
    run: |
      echo "seen={{ matrix.region }}-{{ matrix.shard }}-{{ steps.build.outputs.tag }}" >> "$IMX_OUTPUT"
      echo "env=$IMX_MATRIX_REGION/$IMX_MATRIX_SHARD" >> "$IMX_OUTPUT"
  - id: report
    needs: [test]
    run: echo done
"#;

fn steps(run: &Value) -> &Vec<Value> {
    run["steps"].as_array().unwrap()
}

fn time(step: &Value, field: &str) -> i64 {
    millis(&step[field]).unwrap_or_else(|| panic!("no {field} in {step:#}"))
}

/// Six instances named in key order, each with its own values, the step needing the matrix
/// started only after every instance finished.
fn a_matrix_runs_every_combination_then_its_dependents(env: TestEnv) {
    env.apply("fan.yaml", MATRIX);
    let _agent = env.agent("worker", 4);
    let id = env.start("fan", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["steps_total"], 8, "{run:#}");
    let instances: Vec<&Value> = steps(&run)
        .iter()
        .filter(|s| s["step_id"].as_str().unwrap().starts_with("test["))
        .collect();
    let ids: Vec<&str> = instances
        .iter()
        .map(|s| s["step_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "test[region=eu,shard=1]",
            "test[region=eu,shard=2]",
            "test[region=eu,shard=3]",
            "test[region=us,shard=1]",
            "test[region=us,shard=2]",
            "test[region=us,shard=3]",
        ]
    );
    for (inst, (region, shard)) in instances.iter().zip([
        ("eu", 1),
        ("eu", 2),
        ("eu", 3),
        ("us", 1),
        ("us", 2),
        ("us", 3),
    ]) {
        assert_eq!(inst["outputs"]["seen"], format!("{region}-{shard}-v1"));
        assert_eq!(inst["outputs"]["env"], format!("{region}/{shard}"));
    }
    let report = TestEnv::step(&run, "report");
    let last = instances
        .iter()
        .map(|s| time(s, "finished_at"))
        .max()
        .unwrap();
    assert!(time(report, "started_at") >= last, "{run:#}");
}

/// `max_parallel: 1` with an agent of four slots: no two instances overlap.
fn max_parallel_one_runs_the_instances_one_at_a_time(env: TestEnv) {
    env.apply(
        "serial.yaml",
        r#"
name: serial
steps:
  - id: test
    matrix: { n: [1, 2, 3, 4] }
    max_parallel: 1
    run: sleep 0.2
"#,
    );
    let _agent = env.agent("worker", 4);
    let id = env.start("serial", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let mut spans: Vec<(i64, i64)> = steps(&run)
        .iter()
        .map(|s| (time(s, "started_at"), time(s, "finished_at")))
        .collect();
    assert_eq!(spans.len(), 4);
    spans.sort_unstable();
    for pair in spans.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "instances overlap: {spans:?}\n{run:#}"
        );
    }
}

/// A `foreach:` over an upstream step's JSON list: one instance per item, in order, with its
/// item; the step itself succeeds with the number of instances.
fn foreach_runs_one_instance_per_item_of_an_upstream_output(env: TestEnv) {
    env.apply(
        "each.yaml",
        r#"
name: each
steps:
  - id: list
    run: |
      echo 'items=["a", {"name": "b"}, 3]' >> "$IMX_OUTPUT"
  - id: process
    needs: [list]
    foreach: "{{ steps.list.outputs.items }}"
    run: echo "got={{ item }}|$IMX_ITEM" >> "$IMX_OUTPUT"
  - id: after
    needs: [process]
    run: echo done
"#,
    );
    let _agent = env.agent("worker", 4);
    let id = env.start("each", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let ids: Vec<&str> = steps(&run)
        .iter()
        .map(|s| s["step_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "list",
            "process",
            "process[0]",
            "process[1]",
            "process[2]",
            "after"
        ]
    );
    assert_eq!(run["steps_total"], 6);
    assert_eq!(TestEnv::step(&run, "process")["outputs"]["instances"], "3");
    let got = |i: usize| {
        TestEnv::step(&run, &format!("process[{i}]"))["outputs"]["got"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(got(0), "a|a");
    assert_eq!(got(1), r#"{"name":"b"}|{"name":"b"}"#);
    assert_eq!(got(2), "3|3");
    let after = TestEnv::step(&run, "after");
    for i in 0..3 {
        let inst = TestEnv::step(&run, &format!("process[{i}]"));
        assert!(time(after, "started_at") >= time(inst, "finished_at"));
    }
}

/// More items than `max_instances`: the foreach step fails naming the cap, nothing runs after.
fn foreach_over_the_cap_fails_naming_it(env: TestEnv) {
    env.apply(
        "capped.yaml",
        r#"
name: capped
steps:
  - id: list
    run: echo 'items=[1, 2, 3]' >> "$IMX_OUTPUT"
  - id: process
    needs: [list]
    foreach: "{{ steps.list.outputs.items }}"
    max_instances: 2
    run: echo {{ item }}
  - id: after
    needs: [process]
    run: echo done
"#,
    );
    let _agent = env.agent("worker", 2);
    let id = env.start("capped", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    let process = TestEnv::step(&run, "process");
    assert_eq!(process["status"], "failed");
    let error = process["error"].as_str().unwrap();
    assert!(
        error.contains("has 3 items, over the cap of 2 instances"),
        "{error}"
    );
    assert_eq!(TestEnv::step(&run, "after")["status"], "skipped");
    assert!(run["error"].as_str().unwrap().contains("over the cap"));
}

both_modes!(
    a_matrix_runs_every_combination_then_its_dependents,
    max_parallel_one_runs_the_instances_one_at_a_time,
    foreach_runs_one_instance_per_item_of_an_upstream_output,
    foreach_over_the_cap_fails_naming_it,
);

/// Each fan-out mistake is named at its line and column.
#[test]
fn validation_names_each_fan_out_mistake_where_it_is() {
    let env = TestEnv::bare();
    let path = env.write(
        "bad.yaml",
        r#"name: bad
steps:
  - id: list
    run: echo
  - id: a
    matrix: { region: [eu], zone: [] }
    run: echo {{ matrix.region }}
  - id: b
    matrix: { region: [eu, us] }
    run: echo {{ matrix.zone }}
  - id: c
    foreach: "{{ steps.list.outputs.items }}"
    run: echo {{ item }}
  - id: d
    needs: [list]
    matrix: { x: [1] }
    foreach: "{{ steps.list.outputs.items }}"
    run: echo
  - id: e
    matrix: { x: [1, 2, 3], y: [1, 2] }
    max_instances: 5
    run: echo
  - id: f
    run: echo {{ item }}
"#,
    );
    let out = env.run(["workflow", "validate", "-f", path.to_str().unwrap()]);
    out.expect_code(2);
    let file = path.display().to_string();
    for part in [
        format!("{file}:6:35: step \"a\" matrix zone: the list is empty"),
        format!("{file}:10:10: step \"b\" run: unknown matrix variable \"zone\""),
        format!(
            "{file}:12:14: step \"c\" foreach: template uses outputs of step \"list\", which is not upstream of it"
        ),
        format!("{file}:17:5: step \"d\": has both `matrix` and `foreach`"),
        format!("{file}:20:5: step \"e\" matrix: 6 combinations, over the cap of 5 instances"),
        format!("{file}:24:10: step \"f\" run: `item` is defined only in a step with `foreach:`"),
    ] {
        assert!(
            out.stderr.contains(&part),
            "{part}\nnot in:\n{}",
            out.stderr
        );
    }
}
