//! `imx run retry --from` over fan-out (issue 13), as a real agent runs it: retried from the
//! source of a `foreach:` step, the step expands again over the source's new output (the old
//! instances replaced, not doubled); retried from the `foreach:` step itself, it expands again
//! from the output the source has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::TestEnv;

fn ids(run: &Value) -> Vec<String> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step_id"].as_str().unwrap().to_string())
        .collect()
}

fn got(run: &Value, step: &str) -> String {
    TestEnv::step(run, step)["outputs"]["got"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn retry_from_a_fan_out_expands_it_anew(env: TestEnv) {
    let items = env.write("items.json", r#"["a", "b"]"#);
    env.apply(
        "again.yaml",
        &format!(
            r#"
name: again
steps:
  - id: list
    run: echo "items=$(cat '{}')" >> "$IMX_OUTPUT"
  - id: each
    needs: [list]
    foreach: "{{{{ steps.list.outputs.items }}}}"
    run: |
      echo "got={{{{ item }}}}" >> "$IMX_OUTPUT"
      test "{{{{ item }}}}" != b
  - id: after
    needs: [each]
    run: "true"
"#,
            items.display()
        ),
    );
    let _agent = env.agent("worker", 4);
    let id = env.start("again", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(TestEnv::step(&run, "each[1]")["status"], "failed");

    // From the source, over a new list: one instance now, not three.
    env.write("items.json", r#"["c"]"#);
    env.run(["run", "retry", &id, "--from", "list", "-q"])
        .expect_code(0);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(ids(&run), ["list", "each", "each[0]", "after"], "{run:#}");
    assert_eq!(run["steps_total"], 4);
    assert_eq!(got(&run, "each[0]"), "c");

    // From the foreach step: it expands again from the output `list` has (the file no
    // longer counts).
    env.write("items.json", r#"["d", "e"]"#);
    env.run(["run", "retry", &id, "--from", "each", "-q"])
        .expect_code(0);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(ids(&run), ["list", "each", "each[0]", "after"], "{run:#}");
    assert_eq!(got(&run, "each[0]"), "c");
    assert_eq!(TestEnv::step(&run, "each[0]")["attempt"], 1, "{run:#}");
}

both_modes!(retry_from_a_fan_out_expands_it_anew);
