//! `imx workflow run --wait` and `imx run list|show|logs|cancel|retry|wait|watch`.

use serde_json::Value;

use super::{NOOP, read_pid, short_leases, sleepy};
use crate::env::{SLOW, TestEnv, process_gone, wait_until};

fn status(env: &TestEnv, id: &str) -> String {
    env.show_run(id)["status"].as_str().unwrap().to_string()
}

fn step_status(env: &TestEnv, id: &str, step: &str) -> String {
    let run = env.show_run(id);
    TestEnv::step(&run, step)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

const TYPED: &str = r#"
name: typed
params:
  count: { type: int, required: true }
  ratio: { type: float, default: 0.5 }
  loud: { type: bool, default: false }
  who: { type: string, default: world, enum: [world, moon] }
steps:
  - id: greet
    run: echo "hello {{ params.who }} x{{ params.count }}"
"#;

const FAILING: &str = r#"
name: failing
steps:
  - id: boom
    retry: { max: 1, backoff: fixed, initial: 100ms }
    run: echo "attempt $IMX_ATTEMPT" && exit 3
"#;

fn workflow_run_wait_exits_0_on_success_and_10_on_failure_with_typed_params(env: TestEnv) {
    let env = short_leases(env);
    env.apply("typed.yaml", TYPED);
    env.apply("failing.yaml", FAILING);
    let _agent = env.agent("worker", 2);

    let out = env.run([
        "workflow",
        "run",
        "typed",
        "-p",
        "count=3",
        "-p",
        "loud=true",
        "-p",
        "who=moon",
        "--wait",
    ]);
    out.expect_code(0);
    let id = out.stdout.lines().next().unwrap().trim().to_string();
    assert_eq!(id.len(), 26, "{}", out.stdout);
    assert!(out.stderr.contains("succeeded"), "{}", out.stderr);
    let run = env.show_run(&id);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["params"]["count"], 3, "ints are typed: {run:#}");
    assert_eq!(run["params"]["loud"], true, "bools are typed: {run:#}");
    assert_eq!(
        run["params"]["ratio"], 0.5,
        "defaults are filled in: {run:#}"
    );
    assert_eq!(run["params"]["who"], "moon");
    let logs = env.run(["run", "logs", &id]);
    assert!(logs.stdout.contains("hello moon x3"), "{}", logs.stdout);

    let out = env.run(["workflow", "run", "failing", "--wait"]);
    out.expect_code(10);
    assert!(out.stderr.contains("error: run"), "{}", out.stderr);
    assert!(out.stderr.contains("failed"), "{}", out.stderr);
    let id = out.stdout.lines().next().unwrap().trim().to_string();
    let run = env.show_run(&id);
    assert_eq!(run["status"], "failed");
    let boom = TestEnv::step(&run, "boom");
    assert_eq!(boom["status"], "failed");
    assert_eq!(boom["attempt"], 2, "failed only after its retry: {run:#}");
    assert_eq!(boom["exit_code"], 3);

    // -o json with --wait prints the finished run.
    let out = env.run([
        "workflow", "run", "typed", "-p", "count=1", "--wait", "-o", "json",
    ]);
    out.expect_code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["steps"][0]["status"], "succeeded");
}

fn workflow_run_wait_exits_11_when_cancelled_and_12_on_timeout(env: TestEnv) {
    let env = short_leases(env);
    env.apply("slow.yaml", &sleepy("slow", 30.0));
    let _agent = env.agent("worker", 2);

    let mut waiter = env.spawn(["workflow", "run", "slow", "--wait"]);
    let mut id = String::new();
    wait_until("the run id on stdout", SLOW, || {
        id = waiter.stdout().trim().to_string();
        id.len() == 26
    });
    wait_until("the step to run", SLOW, || {
        step_status(&env, &id, "nap") == "running"
    });
    env.run(["run", "cancel", &id]).expect_code(0);
    let code = waiter.wait_exit(SLOW).code();
    assert_eq!(code, Some(11), "stderr:\n{}", waiter.stderr());
    assert!(waiter.stderr().contains("cancelled"), "{}", waiter.stderr());
    assert_eq!(status(&env, &id), "cancelled");

    // --timeout is the run's deadline: the run times out (12)...
    let out = env.run(["workflow", "run", "slow", "--timeout", "1s", "--wait"]);
    out.expect_code(12);
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    let id = out.stdout.lines().next().unwrap().trim().to_string();
    assert_eq!(status(&env, &id), "timed_out");
    // The timed-out run's running step was stopped, not left behind.
    wait_until("the step to end", SLOW, || {
        let run = env.show_run(&id);
        let nap = TestEnv::step(&run, "nap");
        nap["status"] != "running" && nap["status"] != "leased"
    });
}

fn workflow_run_wait_timeout_gives_up_with_13_and_the_run_goes_on(env: TestEnv) {
    let env = short_leases(env);
    env.apply("slow.yaml", &sleepy("slow", 30.0));
    // --wait-timeout bounds only the wait (and implies --wait): 13, the run keeps going.
    let out = env.run(["workflow", "run", "slow", "--wait-timeout", "300ms"]);
    out.expect_code(13);
    out.expect_stderr(&["gave up waiting", "the run goes on"]);
    let id = out.stdout.lines().next().unwrap().trim().to_string();
    assert_eq!(id.len(), 26, "{}", out.stdout);
    let run = env.show_run(&id);
    assert_eq!(run["status"], "queued");
    // The wait set no deadline: the run has the default one (24 h), not 300 ms.
    assert!(deadline_in(&run) > 23 * 3_600_000, "{run:#}");
    // Both: the deadline is the run's, the wait gives up first.
    let out = env.run([
        "workflow",
        "run",
        "slow",
        "--timeout",
        "1h",
        "--wait-timeout",
        "300ms",
    ]);
    out.expect_code(13);
    let id = out.stdout.lines().next().unwrap().trim().to_string();
    let run = env.show_run(&id);
    let left = deadline_in(&run);
    assert!(
        (3_500_000..=3_600_000).contains(&left),
        "--timeout 1h: {run:#}"
    );
    assert_eq!(status(&env, &id), "queued");
    // run watch takes the same bound.
    let out = env.run(["run", "watch", &id, "--wait-timeout", "300ms"]);
    out.expect_code(13);
}

/// How long after its creation a run's deadline is, in milliseconds (JSON times are RFC 3339).
fn deadline_in(run: &Value) -> i64 {
    let at = |key: &str| {
        run[key]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
            .unwrap_or_else(|| panic!("no {key} in {run:#}"))
    };
    at("deadline") - at("created_at")
}

fn run_list_filters_newest_first_and_pages_by_20(env: TestEnv) {
    env.apply("noop.yaml", NOOP);
    env.apply(
        "other.yaml",
        "name: other\nsteps:\n  - id: x\n    noop: true\n",
    );
    // No agent: the runs stay queued.
    let mut ids: Vec<String> = (0..21).map(|_| env.start("noop", &[])).collect();
    let other = env.start("other", &[]);
    ids.push(other.clone());

    let page = env.json(["run", "list"]);
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), 20, "the default page is 20");
    let listed: Vec<&str> = page.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let newest: Vec<&str> = ids.iter().rev().take(20).map(String::as_str).collect();
    assert_eq!(listed, newest, "newest first");
    let table = env.run(["run", "list"]);
    table.expect_code(0);
    assert!(table.stderr.contains("--limit"), "{}", table.stderr);

    let three = env.json(["run", "list", "--limit", "3"]);
    assert_eq!(three.as_array().unwrap().len(), 3);
    assert_eq!(three[0]["id"], other.as_str());

    let by_wf = env.json(["run", "list", "--workflow", "other"]);
    assert_eq!(by_wf.as_array().unwrap().len(), 1);
    assert_eq!(by_wf[0]["id"], other.as_str());
    let all_noop = env.json(["run", "list", "--workflow", "noop", "--limit", "100"]);
    assert_eq!(all_noop.as_array().unwrap().len(), 21);

    env.run(["run", "cancel", &ids[3]]).expect_code(0);
    let cancelled = env.json(["run", "list", "--status", "cancelled"]);
    assert_eq!(cancelled.as_array().unwrap().len(), 1);
    assert_eq!(cancelled[0]["id"], ids[3].as_str());
    let queued = env.json(["run", "list", "--status", "queued", "--limit", "100"]);
    assert_eq!(queued.as_array().unwrap().len(), 21);

    // --since: a duration ago, or an RFC 3339 time.
    let recent = env.json(["run", "list", "--since", "1h", "--limit", "100"]);
    assert_eq!(recent.as_array().unwrap().len(), 22);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let none = env.json(["run", "list", "--since", &future]);
    assert_eq!(none, serde_json::json!([]));
    let out = env.run(["run", "list", "--since", &future]);
    out.expect_code(0);
    assert!(out.stderr.contains("No runs match."), "{}", out.stderr);
    // JSON times are RFC 3339 with milliseconds: what --since takes.
    let pivot = env.show_run(&other)["created_at"]
        .as_str()
        .unwrap()
        .to_string();
    let since = env.json(["run", "list", "--since", &pivot]);
    assert!(
        since
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == other.as_str()),
        "--since includes runs created at that time: {since:#}"
    );
    assert!(
        !since
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == ids[0].as_str()),
        "--since excludes older runs: {since:#}"
    );
}

fn run_show_accepts_any_unique_prefix(env: TestEnv) {
    env.apply("noop.yaml", NOOP);
    let id = env.start("noop", &[]);
    for len in [26, 12, 8] {
        let v = env.show_run(&id[..len]);
        assert_eq!(v["id"], id.as_str());
    }
    let out = env.run(["run", "show", &id[..12]]);
    out.expect_code(0);
    assert!(out.stdout.contains(&id[..12]), "{}", out.stdout);
    assert!(out.stdout.contains("noop v1"), "{}", out.stdout);
    assert!(out.stdout.contains("only"), "{}", out.stdout);
    env.run(["run", "show", "0000000000"]).expect_code(3);
}

const CHATTY: &str = r#"
name: chatty
steps:
  - id: talk
    run: |
      echo "out 1"
      sleep 0.1
      echo "err 1" >&2
      sleep 0.1
      echo "out 2"
      sleep 0.1
      echo "err 2" >&2
      sleep 0.1
      echo "out 3"
  - id: after
    needs: [talk]
    run: echo "after done"
"#;

fn run_logs_prints_captured_lines_in_order_per_step(env: TestEnv) {
    let env = short_leases(env);
    env.apply("chatty.yaml", CHATTY);
    let _agent = env.agent("worker", 1);
    let id = env.start("chatty", &[]);
    assert_eq!(env.finish(&id)["status"], "succeeded");

    let out = env.run(["run", "logs", &id, "--step", "talk"]);
    out.expect_code(0);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("out") || l.starts_with("err"))
        .collect();
    assert_eq!(
        lines,
        ["out 1", "err 1", "out 2", "err 2", "out 3"],
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("after done"), "{}", out.stdout);

    // Without --step: every step, prefixed with its id, in order.
    let out = env.run(["run", "logs", &id[..10]]);
    out.expect_code(0);
    let talk = out.stdout.find("talk  | out 1").expect(&out.stdout);
    let after = out.stdout.find("after | after done").expect(&out.stdout);
    assert!(talk < after, "{}", out.stdout);

    // JSON (one object per line) says which stream each line came from.
    let out = env.run(["run", "logs", &id, "--step", "talk", "-o", "json"]);
    out.expect_code(0);
    let json: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let streams: Vec<(&str, &str)> = json
        .iter()
        .filter(|l| l["stream"] != "system")
        .map(|l| (l["stream"].as_str().unwrap(), l["line"].as_str().unwrap()))
        .collect();
    assert_eq!(
        streams,
        [
            ("stdout", "out 1"),
            ("stderr", "err 1"),
            ("stdout", "out 2"),
            ("stderr", "err 2"),
            ("stdout", "out 3")
        ]
    );
    env.run(["run", "logs", &id, "--step", "nope"])
        .expect_code(3);
}

fn run_logs_follow_prints_lines_as_they_come_and_exits_when_the_run_ends(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "ticker.yaml",
        "name: ticker\nsteps:\n  - id: tick\n    run: |\n      echo tick-1\n      sleep 0.5\n      echo tick-2\n      sleep 0.5\n      echo tick-3\n",
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("ticker", &[]);
    let mut follower = env.spawn(["run", "logs", &id, "-f"]);
    wait_until("the first line", SLOW, || {
        follower.stdout().contains("tick-1")
    });
    let status = follower.wait_exit(SLOW);
    assert!(status.success(), "{}", follower.stderr());
    let out = follower.stdout();
    let ticks: Vec<&str> = out.lines().filter(|l| l.starts_with("tick-")).collect();
    assert_eq!(ticks, ["tick-1", "tick-2", "tick-3"], "{out}");
    assert_eq!(status_of_ended(&env, &id), "succeeded");
}

fn status_of_ended(env: &TestEnv, id: &str) -> String {
    let s = status(env, id);
    assert!(
        !["queued", "running"].contains(&s.as_str()),
        "run still {s}"
    );
    s
}

fn run_cancel_kills_running_steps_and_cancels_pending_ones(env: TestEnv) {
    let env = short_leases(env);
    let pid_file = env.home().join("pid");
    env.apply(
        "hang.yaml",
        &format!(
            "name: hang\nsteps:\n  - id: hang\n    run: echo $$ > {}; exec sleep 30\n  - id: later\n    needs: [hang]\n    noop: true\n",
            pid_file.display()
        ),
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("hang", &[]);
    wait_until("the step's pid", SLOW, || read_pid(&pid_file).is_some());
    let pid = read_pid(&pid_file).unwrap();
    assert!(!process_gone(pid));

    let out = env.run(["run", "cancel", &id[..12]]);
    out.expect_code(0);
    assert!(out.stderr.contains("Cancelled run"), "{}", out.stderr);
    wait_until("the step's process to be killed", SLOW, || {
        process_gone(pid)
    });
    let run = env.show_run(&id);
    assert_eq!(run["status"], "cancelled");
    assert_eq!(TestEnv::step(&run, "later")["status"], "cancelled");
    wait_until("the running step to be cancelled", SLOW, || {
        step_status(&env, &id, "hang") == "cancelled"
    });
    // Cancelling an ended run is a conflict.
    env.run(["run", "cancel", &id]).expect_code(5);
}

fn run_retry_reruns_failed_steps_and_from_a_step_downstream_only(env: TestEnv) {
    let env = short_leases(env);
    let marker = env.home().join("fixed");
    env.apply(
        "chain.yaml",
        &format!(
            "name: chain\nsteps:\n  - id: a\n    run: echo a\n  - id: b\n    needs: [a]\n    run: test -f {}\n  - id: c\n    needs: [b]\n    run: echo c\n  - id: side\n    run: echo side\n",
            marker.display()
        ),
    );
    let _agent = env.agent("worker", 2);
    let id = env.start("chain", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed");
    let attempts = |run: &Value| -> Vec<(String, String, u64)> {
        ["a", "b", "c", "side"]
            .iter()
            .map(|s| {
                let st = TestEnv::step(run, s);
                (
                    s.to_string(),
                    st["status"].as_str().unwrap().to_string(),
                    st["attempt"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let t = |s: &str, st: &str, n: u64| (s.to_string(), st.to_string(), n);
    assert_eq!(
        attempts(&run),
        [
            t("a", "succeeded", 1),
            t("b", "failed", 1),
            t("c", "skipped", 0),
            t("side", "succeeded", 1)
        ]
    );

    // Still failing: the attempt keeps growing.
    env.run(["run", "retry", &id]).expect_code(0);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed");
    assert_eq!(TestEnv::step(&run, "b")["attempt"], 2);
    assert_eq!(
        TestEnv::step(&run, "a")["attempt"],
        1,
        "succeeded steps are kept"
    );

    std::fs::write(&marker, "").unwrap();
    let out = env.run(["run", "retry", &id[..12]]);
    out.expect_code(0);
    assert!(out.stderr.contains("Retrying run"), "{}", out.stderr);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(
        attempts(&run),
        [
            t("a", "succeeded", 1),
            t("b", "succeeded", 3),
            t("c", "succeeded", 1),
            t("side", "succeeded", 1)
        ]
    );

    // --from b: b and what depends on it run again; a and the independent branch do not.
    env.run(["run", "retry", &id, "--from", "b"]).expect_code(0);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(
        attempts(&run),
        [
            t("a", "succeeded", 1),
            t("b", "succeeded", 4),
            t("c", "succeeded", 2),
            t("side", "succeeded", 1)
        ]
    );
}

fn run_wait_exits_with_the_run_outcome(env: TestEnv) {
    let env = short_leases(env);
    env.apply("noop.yaml", NOOP);
    env.apply("failing.yaml", FAILING);
    env.apply("slow.yaml", &sleepy("slow", 30.0));
    let ok = env.start("noop", &[]);
    let bad = env.start("failing", &[]);
    let slow = env.start("slow", &[]);

    // Nothing runs without an agent: --wait-timeout gives up with 13, and the run goes on.
    let out = env.run(["run", "wait", &ok, "--wait-timeout", "300ms"]);
    out.expect_error(13);
    out.expect_stderr(&["gave up waiting", "the run goes on"]);
    assert_eq!(status(&env, &ok), "queued");
    // --timeout would be a run's deadline: `run wait` has none to set, and clap points to
    // --wait-timeout.
    let out = env.run(["run", "wait", &ok, "--timeout", "300ms"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--wait-timeout"), "{}", out.stderr);

    let _agent = env.agent("worker", 4);
    env.run(["run", "wait", &ok]).expect_code(0);
    env.run(["run", "wait", &bad]).expect_code(10);
    wait_until("the slow step to run", SLOW, || {
        step_status(&env, &slow, "nap") == "running"
    });
    env.run(["run", "cancel", &slow]).expect_code(0);
    env.run(["run", "wait", &slow]).expect_code(11);

    let out = env.run(["run", "wait", &ok, "-o", "json"]);
    out.expect_code(0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["id"], ok.as_str());
    env.run(["run", "wait", "0000000000"]).expect_code(3);
}

fn run_watch_prints_state_changes_and_the_final_status(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "two.yaml",
        "name: two\nsteps:\n  - id: first\n    run: sleep 0.3\n  - id: second\n    needs: [first]\n    run: sleep 0.2\n",
    );
    env.apply("failing.yaml", FAILING);
    let _agent = env.agent("worker", 1);
    let id = env.start("two", &[]);
    let out = env.run(["run", "watch", &id]);
    out.expect_code(0);
    let short = &id[..12];
    assert!(
        out.stderr.contains(&format!("run {short} (two): ")),
        "{}",
        out.stderr
    );
    for want in ["first", "second", "succeeded"] {
        assert!(out.stderr.contains(want), "{want} missing:\n{}", out.stderr);
    }
    assert!(
        out.stderr.contains(&format!("Run {short} (two) succeeded")),
        "{}",
        out.stderr
    );
    // Each change is printed once: the second step is shown as succeeded exactly once.
    let second_done = out
        .stderr
        .lines()
        .filter(|l| l.contains("second") && l.contains("succeeded"))
        .count();
    assert_eq!(second_done, 1, "{}", out.stderr);

    let bad = env.start("failing", &[]);
    let out = env.run(["run", "watch", &bad]);
    out.expect_code(10);
    assert!(out.stderr.contains("failed"), "{}", out.stderr);
    let quiet = env.run(["run", "watch", &bad, "-q"]);
    quiet.expect_code(10);
    assert!(!quiet.stderr.contains("boom "), "{}", quiet.stderr);
}

crate::both_modes!(
    workflow_run_wait_exits_0_on_success_and_10_on_failure_with_typed_params,
    workflow_run_wait_exits_11_when_cancelled_and_12_on_timeout,
    workflow_run_wait_timeout_gives_up_with_13_and_the_run_goes_on,
    run_list_filters_newest_first_and_pages_by_20,
    run_show_accepts_any_unique_prefix,
    run_logs_prints_captured_lines_in_order_per_step,
    run_logs_follow_prints_lines_as_they_come_and_exits_when_the_run_ends,
    run_cancel_kills_running_steps_and_cancels_pending_ones,
    run_retry_reruns_failed_steps_and_from_a_step_downstream_only,
    run_wait_exits_with_the_run_outcome,
    run_watch_prints_state_changes_and_the_final_status,
);
