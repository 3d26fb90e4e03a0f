//! Approval steps (issue 13): `approval:` in a workflow file. A run waits at its approval step
//! (`run list --status waiting` lists it, its status stays `running`); `imx run approve` lets
//! it go on to success, and `run show` and the audit trail name the approver and comment;
//! `imx run reject` fails it with the comment; an approval past its `timeout` fails saying so;
//! only listed users, holders of listed roles and admins may decide (a token of another role is
//! refused and the denial audited); an `on: approval` rule sends a message when a step starts
//! waiting; an approval without approvers is named at its file:line:col.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::both_modes;
use crate::env::{SLOW, TestEnv, wait_until};

/// `imx ARGS...` against the test's server with `token` instead of the admin's.
fn remote(env: &TestEnv, token: &str, args: &[&str]) -> crate::env::Outcome {
    let out = env
        .cmd()
        .env("IMX_TOKEN", token)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    crate::env::Outcome::of(&out)
}

/// build → approve (alice, or any operator; 1 h) → ship.
const SHIP: &str = r#"name: ship
params:
  version: {type: string, default: "1.0"}
steps:
  - id: build
    run: echo building {{ params.version }}
  - id: approve
    needs: [build]
    approval:
      approvers: {users: [alice], roles: [operator]}
      timeout: 1h
      message: "Ship {{ params.version }}?"
  - id: ship
    needs: [approve]
    run: echo shipping, approved by {{ steps.approve.outputs.by }}
"#;

/// The ids of the runs `run list --status waiting` lists.
fn waiting(env: &TestEnv) -> Vec<String> {
    env.json(["run", "list", "--status", "waiting"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Start a run of `ship` and wait until it waits at `approve`.
fn started_and_waiting(env: &TestEnv) -> String {
    env.apply("ship.yaml", SHIP);
    let id = env.start("ship", &["version=2.1"]);
    wait_until("the run to wait for approval", SLOW, || {
        waiting(env).contains(&id)
    });
    id
}

/// The audit records of `action`.
fn audited(env: &TestEnv, action: &str) -> Vec<Value> {
    env.json(["audit", "list", "--action", action])
        .as_array()
        .unwrap()
        .clone()
}

fn a_run_waits_for_approval_then_goes_on(env: TestEnv) {
    let _agent = env.agent("w1", 2);
    let id = started_and_waiting(&env);
    let run = env.show_run(&id);
    assert_eq!(run["status"], "running", "{run:#}");
    let step = TestEnv::step(&run, "approve");
    assert_eq!(step["status"], "waiting", "{step:#}");
    assert_eq!(step["approval"]["message"], "Ship 2.1?");
    assert_eq!(step["approval"]["approvers"]["users"][0], "alice");
    assert!(step["approval"]["deadline"].is_string(), "{step:#}");
    assert_eq!(TestEnv::step(&run, "ship")["status"], "pending");
    // Other filters still work beside it: the run is `running`.
    let running = env.json(["run", "list", "--status", "running,waiting"]);
    assert_eq!(running.as_array().unwrap().len(), 1, "{running:#}");
    let shown = env.run(["run", "show", &id]);
    shown.expect_code(0);
    assert!(
        shown
            .stdout
            .contains("waiting for approval by users alice; roles operator"),
        "{}",
        shown.stdout
    );

    let out = env.run(["run", "approve", &id, "approve", "--comment", "looks good"]);
    out.expect_code(0);
    assert!(out.stderr.contains("Approved step \"approve\""), "{out:?}");
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert!(waiting(&env).is_empty());
    let step = TestEnv::step(&run, "approve");
    let by = step["approval"]["by"].as_str().unwrap().to_string();
    assert!(!by.is_empty());
    assert_eq!(step["approval"]["decision"], "approved");
    assert_eq!(step["approval"]["comment"], "looks good");
    assert!(step["approval"]["at"].is_string(), "{step:#}");
    // Downstream sees who approved.
    let logs = env.run(["run", "logs", &id, "--step", "ship"]);
    assert!(
        logs.stdout.contains(&format!("approved by {by}")),
        "{logs:?}"
    );
    // People see who, and why.
    let shown = env.run(["run", "show", &id]);
    assert!(
        shown.stdout.contains(&format!("approved by {by}")) && shown.stdout.contains("looks good"),
        "{}",
        shown.stdout
    );
    // One audit record, with the approver and the comment.
    let records = audited(&env, "run.approve");
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["actor"], by.as_str());
    assert_eq!(records[0]["details"]["comment"], "looks good");
    assert_eq!(records[0]["details"]["step"], "approve");
    assert_eq!(records[0]["target"], format!("{id}/approve"));
    // It is no longer waiting: a second decision is a conflict.
    env.run(["run", "approve", &id, "approve"]).expect_error(5);
}

fn a_rejection_fails_the_run_with_the_comment(env: TestEnv) {
    let _agent = env.agent("w1", 2);
    let id = started_and_waiting(&env);
    // Not an approval step, or no such step.
    env.run(["run", "approve", &id, "build"]).expect_error(5);
    env.run(["run", "reject", &id, "aprove"])
        .expect_error(3)
        .expect_stderr(&["did you mean \"approve\"?"]);
    env.run([
        "run",
        "reject",
        &id,
        "approve",
        "--comment",
        "not on a Friday",
    ])
    .expect_code(0);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("rejected by") && error.contains("not on a Friday"),
        "{error}"
    );
    let step = TestEnv::step(&run, "approve");
    assert_eq!(step["status"], "failed");
    assert_eq!(step["approval"]["decision"], "rejected");
    assert_eq!(step["approval"]["comment"], "not on a Friday");
    assert_eq!(TestEnv::step(&run, "ship")["status"], "skipped");
    let records = audited(&env, "run.reject");
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["details"]["comment"], "not on a Friday");
    // `run wait` reports the failure as such.
    env.run(["run", "wait", &id, "-q"]).expect_code(10);
}

fn an_approval_nobody_decides_times_out(env: TestEnv) {
    env.apply(
        "gate.yaml",
        "name: gate\nsteps:\n  - id: approve\n    approval: {approvers: {users: [alice]}, timeout: 1s}\n  - id: after\n    needs: [approve]\n    noop: true\n",
    );
    let id = env.start("gate", &[]);
    // It waits from the start (no needs), with no agent at all.
    wait_until("the run to wait", SLOW, || waiting(&env).contains(&id));
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed", "{run:#}");
    let step = TestEnv::step(&run, "approve");
    assert!(
        step["error"]
            .as_str()
            .unwrap()
            .starts_with("approval timed out after 1s: nobody approved or rejected it"),
        "{step:#}"
    );
    assert!(step["approval"]["decision"].is_null());
    assert_eq!(TestEnv::step(&run, "after")["status"], "skipped");
    env.run(["run", "approve", &id, "approve"]).expect_error(5);
}

fn an_approval_rule_notifies_when_a_step_starts_waiting(env: TestEnv) {
    use crate::notify::{Receiver, STORE_KEY, add_channel};
    let env = env.with_var("IMX_STORE_KEY", STORE_KEY);
    let rx = Receiver::start();
    add_channel(&env, &rx);
    env.run([
        "notify",
        "rule",
        "add",
        "--on",
        "approval",
        "--channel",
        "ops",
    ])
    .expect_code(0);
    let _agent = env.agent("w1", 2);
    let id = started_and_waiting(&env);
    wait_until("the notification", SLOW, || !rx.hits().is_empty());
    let hits = rx.hits();
    assert_eq!(hits[0].body["type"], "step.waiting", "{hits:?}");
    let ev = &hits[0].body["data"]["events"][0];
    assert_eq!(ev["run_id"], id.as_str());
    assert_eq!(ev["data"]["step"], "approve");
}

both_modes!(
    a_run_waits_for_approval_then_goes_on,
    a_rejection_fails_the_run_with_the_comment,
    an_approval_nobody_decides_times_out,
    an_approval_rule_notifies_when_a_step_starts_waiting,
);

/// Remotely, who decides is the caller's token: a user listed by name may (even a viewer), a
/// holder of a listed role may, others are refused (exit 4) and the denial is audited.
#[test]
fn only_the_listed_approvers_and_admins_may_decide() {
    let env = TestEnv::remote();
    let token_for = |user: &str, role: &str| {
        env.run(["user", "create", user, "--role", role, "-q"])
            .expect_code(0);
        let out = env.run(["token", "create", "--user", user, "--name", user, "-q"]);
        out.expect_code(0);
        out.stdout.trim().to_string()
    };
    let alice = token_for("alice", "viewer");
    let bob = token_for("bob", "viewer");
    let carol = token_for("carol", "operator");
    let _agent = env.agent("w1", 2);

    let first = started_and_waiting(&env);
    // bob is a viewer and not listed: refused, and nothing changes.
    remote(&env, &bob, &["run", "approve", &first, "approve"])
        .expect_error(4)
        .expect_stderr(&["may not approve step \"approve\""]);
    remote(&env, &bob, &["run", "reject", &first, "approve"]).expect_error(4);
    assert_eq!(
        TestEnv::step(&env.show_run(&first), "approve")["status"],
        "waiting"
    );
    let denied = env.json(["audit", "list", "--outcome", "denied"]);
    assert!(
        denied
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["actor"] == "user:bob" && r["action"] == "run.approve"),
        "{denied:#}"
    );
    // alice is listed by name, though only a viewer.
    remote(
        &env,
        &alice,
        &["run", "approve", &first, "approve", "-m", "ok"],
    )
    .expect_code(0);
    let run = env.finish(&first);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(
        TestEnv::step(&run, "approve")["approval"]["by"],
        "user:alice"
    );

    // carol holds a listed role.
    let second = env.start("ship", &[]);
    wait_until("the second run to wait", SLOW, || {
        waiting(&env).contains(&second)
    });
    remote(&env, &carol, &["run", "reject", &second, "approve"]).expect_code(0);
    assert_eq!(env.finish(&second)["status"], "failed");
}

/// An approval that names nobody, an unknown role, and agent keys on an approval step are
/// named at their file:line:col.
#[test]
fn approval_problems_are_named_at_their_place() {
    let env = TestEnv::bare();
    let path = env.write(
        "bad.yaml",
        "name: bad\nsteps:\n  - id: a\n    approval: {timeout: 1h}\n  - id: b\n    approval: {approvers: {roles: [admn]}}\n  - id: c\n    retry: {max: 2}\n    approval: {approvers: {users: []}}\n",
    );
    let out = env.run(["workflow", "validate", "-f", path.to_str().unwrap()]);
    out.expect_error(2);
    for part in [
        "bad.yaml:4:15: step \"a\" approval: says nobody may approve it",
        "bad.yaml:6:36: step \"b\" approval approvers roles: unknown role \"admn\"",
        "bad.yaml:8:5: step \"c\": `retry` does not apply to an approval step",
        "bad.yaml:9:27: step \"c\" approval approvers: names nobody who may approve",
    ] {
        assert!(out.stderr.contains(part), "{part}\n{}", out.stderr);
    }
}
