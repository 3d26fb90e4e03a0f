//! Templates as a real agent sees them: typed params rendered as the CLI shows them, values in
//! `run:` quoted so that no upstream output can run commands, params and outputs as
//! environment variables, `| raw` warned about, and hyphenated step ids usable in references.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::TestEnv;

fn short_leases(env: TestEnv) -> TestEnv {
    env.with_var("IMX_LEASE", "2s")
}

fn outputs<'a>(run: &'a Value, step: &str) -> &'a Value {
    &TestEnv::step(run, step)["outputs"]
}

const TYPED: &str = r#"
name: typed
params:
  dry_run: { type: bool, default: true }
  ratio: { type: float, default: 1.0 }
  count: { type: int, default: 1 }
steps:
  - id: check
    run: |
      if [ "{{ params.dry_run }}" = "true" ]; then mode=dry; else mode=real; fi
      echo "mode=$mode" >> "$IMX_OUTPUT"
      echo "ratio={{ params.ratio }}" >> "$IMX_OUTPUT"
      echo "count={{ params.count }}" >> "$IMX_OUTPUT"
      echo "env=$IMX_PARAM_DRY_RUN/$IMX_PARAM_RATIO/$IMX_PARAM_COUNT" >> "$IMX_OUTPUT"
"#;

/// A bool param guards a branch the way the CLI shows it (`true`, not `True`), and numbers
/// render as `run show` shows them.
fn typed_params_render_as_the_cli_shows_them(env: TestEnv) {
    let env = short_leases(env);
    env.apply("typed.yaml", TYPED);
    let _agent = env.agent("worker", 2);
    let dry = env.start("typed", &[]);
    let real = env.start("typed", &["dry_run=false"]);
    let dry = env.finish(&dry);
    let real = env.finish(&real);
    assert_eq!(dry["status"], "succeeded", "{dry:#}");
    assert_eq!(outputs(&dry, "check")["mode"], "dry", "{dry:#}");
    assert_eq!(outputs(&real, "check")["mode"], "real", "{real:#}");
    // As `run show -o json` shows the params.
    assert_eq!(dry["params"]["ratio"].to_string(), "1.0");
    assert_eq!(outputs(&dry, "check")["ratio"], "1.0");
    assert_eq!(outputs(&dry, "check")["count"], "1");
    assert_eq!(outputs(&dry, "check")["env"], "true/1.0/1");
    assert_eq!(outputs(&real, "check")["env"], "false/1.0/1");
}

/// An upstream step writes outputs made of shell syntax; the downstream step interpolates them
/// outside quotes, inside double and single quotes and in a here-document.
fn interpolated_outputs_cannot_run_commands(env: TestEnv) {
    let env = short_leases(env);
    let work = env.home().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let yaml = format!(
        r#"
name: hostile
steps:
  - id: up
    workdir: "{work}"
    run: |
      echo 'subst=$(touch pwned)' >> "$IMX_OUTPUT"
      echo 'semi=; touch pwned2' >> "$IMX_OUTPUT"
      echo 'tick=`touch pwned3`' >> "$IMX_OUTPUT"
      echo "quote=it's \"x\"; touch pwned4" >> "$IMX_OUTPUT"
  - id: down
    needs: [up]
    workdir: "{work}"
    run: |
      printf '%s' {{{{ steps.up.outputs.subst }}}} > seen-subst
      echo "{{{{ steps.up.outputs.semi }}}}" > seen-semi
      echo '{{{{ steps.up.outputs.tick }}}}' > seen-tick
      cat > seen-quote <<EOF
      {{{{ steps.up.outputs.quote }}}}
      EOF
      printf '%s' "$IMX_OUT_UP_SUBST" > env-subst
"#,
        work = work.display()
    );
    env.apply("hostile.yaml", &yaml);
    let _agent = env.agent("worker", 1);
    let id = env.start("hostile", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    for f in ["pwned", "pwned2", "pwned3", "pwned4"] {
        assert!(
            !work.join(f).exists(),
            "{f} was created: a value ran a command"
        );
        assert!(!env.home().join(f).exists(), "{f} was created in HOME");
    }
    let read = |f: &str| std::fs::read_to_string(work.join(f)).unwrap();
    assert_eq!(read("seen-subst"), "$(touch pwned)");
    assert_eq!(read("seen-semi"), "; touch pwned2\n");
    assert_eq!(read("seen-tick"), "`touch pwned3`\n");
    assert_eq!(read("seen-quote"), "it's \"x\"; touch pwned4\n");
    assert_eq!(read("env-subst"), "$(touch pwned)");
}

/// Params and every upstream step's outputs (not only the direct needs) reach the step as
/// `IMX_PARAM_*` / `IMX_OUT_*`; its own `env:` wins over an export of the same name.
fn params_and_outputs_reach_the_step_as_environment_variables(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "exports.yaml",
        r#"
name: exports
params:
  target: { type: string, default: "a b" }
steps:
  - id: unit-tests
    run: echo "pass.rate=99%" >> "$IMX_OUTPUT"
  - id: middle
    needs: [unit-tests]
    run: echo "n=2" >> "$IMX_OUTPUT"
  - id: last
    needs: [middle]
    env:
      IMX_OUT_MIDDLE_N: "mine"
    run: |
      echo "got=$IMX_PARAM_TARGET|$IMX_OUT_UNIT_TESTS_PASS_RATE|$IMX_OUT_MIDDLE_N" >> "$IMX_OUTPUT"
"#,
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("exports", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(outputs(&run, "last")["got"], "a b|99%|mine", "{run:#}");
}

/// `{{ steps.unit-tests.outputs.x }}` renders for a real agent.
fn hyphenated_step_ids_render(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "hyphens.yaml",
        r#"
name: hyphens
steps:
  - id: unit-tests
    run: echo "passed=214" >> "$IMX_OUTPUT"
  - id: report
    needs: [unit-tests]
    run: echo "line={{ steps.unit-tests.outputs.passed }} passed" >> "$IMX_OUTPUT"
"#,
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("hyphens", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(outputs(&run, "report")["line"], "214 passed");
}

/// `| raw` is applied, and warned about at apply time with where it is.
fn raw_is_warned_about_and_applied(env: TestEnv) {
    let path = env.write(
        "raw.yaml",
        "name: raw\nparams:\n  args: {type: string, default: \"a b\"}\nsteps:\n  - id: a\n    run: printf '[%s]' {{ params.args | raw }} >> out.txt; echo \"n=$(cat out.txt)\" >> \"$IMX_OUTPUT\"\n",
    );
    let out = env.run(["workflow", "apply", "-f", path.to_str().unwrap()]);
    out.expect_code(0);
    assert!(
        out.stderr.contains(&format!(
            "warning: {}:6:41: step \"a\" run: `| raw` puts the value into the command unquoted",
            path.display()
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("\"$IMX_PARAM_ARGS\""), "{}", out.stderr);
    let env = short_leases(env);
    let _agent = env.agent("worker", 1);
    let id = env.start("raw", &[]);
    let run = env.finish(&id);
    assert_eq!(outputs(&run, "a")["n"], "[a][b]", "{run:#}");
}

/// A step whose templates cannot be rendered when it is claimed (an upstream output that
/// never came) fails at once with why, and so does its run, which was already running (on
/// PostgreSQL the claim then locks the run's row to count the failure).
fn a_step_whose_templates_fail_at_claim_fails_its_running_run(env: TestEnv) {
    env.apply(
        "miss.yaml",
        "name: miss\nsteps:\n  - id: a\n    noop: true\n  - id: b\n    needs: [a]\n    run: echo {{ steps.a.outputs.missing }}\n",
    );
    let env = short_leases(env);
    let _agent = env.agent("worker", 1);
    let id = env.start("miss", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(TestEnv::step(&run, "a")["status"], "succeeded", "{run:#}");
    let b = TestEnv::step(&run, "b");
    assert_eq!(b["status"], "failed", "{run:#}");
    assert!(
        b["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot render the step's templates")),
        "{run:#}"
    );
}

both_modes!(
    a_step_whose_templates_fail_at_claim_fails_its_running_run,
    typed_params_render_as_the_cli_shows_them,
    interpolated_outputs_cannot_run_commands,
    params_and_outputs_reach_the_step_as_environment_variables,
    hyphenated_step_ids_render,
    raw_is_warned_about_and_applied,
);

#[test]
fn validate_warns_about_raw_and_names_hyphenated_steps_right() {
    let env = TestEnv::new();
    let ok = env.write(
        "ok.yaml",
        "name: ok\nsteps:\n  - id: a\n    run: echo {{ run.id | raw }}\n",
    );
    let out = env.run(["workflow", "validate", "-f", ok.to_str().unwrap()]);
    out.expect_code(0);
    assert!(
        out.stderr.contains(&format!(
            "warning: {}:4:27: step \"a\" run: `| raw` puts the value",
            ok.display()
        )),
        "{}",
        out.stderr
    );
    let bad = env.write(
        "bad.yaml",
        "name: bad\nsteps:\n  - id: unit-tests\n    run: t\n  - id: lint\n    run: l\n  - id: report\n    needs: [lint]\n    run: echo {{ steps.unit-tests.outputs.x }}\n",
    );
    let out = env.run(["workflow", "validate", "-f", bad.to_str().unwrap()]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "step \"report\" run: template uses outputs of step \"unit-tests\", which is not upstream of it"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: add \"unit-tests\" to its `needs` (directly or through another step)"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_templates_documents_the_rules() {
    let env = TestEnv::new();
    let out = env.run(["help", "templates"]);
    out.expect_code(0);
    for part in [
        "| raw",
        "IMX_PARAM_<NAME>",
        "IMX_OUT_<STEP>_<KEY>",
        "here-document",
    ] {
        assert!(out.stdout.contains(part), "{part}: {}", out.stdout);
    }
}
