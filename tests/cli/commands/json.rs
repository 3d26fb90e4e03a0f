//! The JSON contract scripts rely on (DESIGN §5): times are RFC 3339, durations are `*_ms`
//! numbers, counters are present when zero — the same through `imx server` as locally.

use serde_json::Value;

use super::{NOOP, short_leases};
use crate::env::TestEnv;

/// Whether `v` is an RFC 3339 time string.
fn is_time(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

#[track_caller]
fn assert_times(what: &str, v: &Value, keys: &[&str]) {
    for key in keys {
        assert!(is_time(&v[key]), "{what}: {key} is not RFC 3339: {v:#}");
    }
}

#[track_caller]
fn assert_times_or_null(what: &str, v: &Value, keys: &[&str]) {
    for key in keys {
        assert!(
            v[key].is_null() || is_time(&v[key]),
            "{what}: {key} is neither null nor RFC 3339: {v:#}"
        );
    }
}

fn json_times_are_rfc3339_and_durations_are_ms(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "two.yaml",
        "name: two\ntimeout: 1h\nsteps:\n  - id: a\n    run: echo a\n  - id: b\n    needs: [a]\n    run: echo b\n",
    );
    let _agent = env.agent("worker", 2);
    let id = env.start("two", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded");

    assert_times(
        "run show",
        &run,
        &["created_at", "started_at", "finished_at"],
    );
    assert_times_or_null("run show", &run, &["deadline"]);
    let started = chrono::DateTime::parse_from_rfc3339(run["started_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    let finished = chrono::DateTime::parse_from_rfc3339(run["finished_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        run["duration_ms"].as_i64(),
        Some(finished - started),
        "{run:#}"
    );
    for step in run["steps"].as_array().unwrap() {
        assert_times("step", step, &["started_at", "finished_at"]);
        assert_times_or_null("step", step, &["not_before"]);
        assert!(step["duration_ms"].as_i64().is_some(), "{step:#}");
    }

    let listed = env.json(["run", "list"]);
    assert_times(
        "run list",
        &listed[0],
        &["created_at", "started_at", "finished_at"],
    );
    assert!(listed[0]["duration_ms"].as_i64().is_some(), "{listed:#}");

    let agents = env.json(["agent", "list"]);
    assert_times(
        "agent list",
        &agents[0],
        &["registered_at", "last_heartbeat"],
    );
    let workflows = env.json(["workflow", "list"]);
    assert_times("workflow list", &workflows[0], &["created_at"]);
    let workflow = env.json(["workflow", "show", "two"]);
    assert_times("workflow show", &workflow, &["created_at"]);

    let logs = env.run(["run", "logs", &id, "-o", "json"]);
    logs.expect_code(0);
    // (One record per line — see `streams_of_records_are_ndjson` — or, before, an array.)
    let first: Value = match serde_json::from_str::<Value>(&logs.stdout) {
        Ok(Value::Array(items)) => items[0].clone(),
        _ => serde_json::from_str(logs.stdout.lines().next().unwrap()).unwrap(),
    };
    assert_times("run logs", &first, &["time"]);

    let audit = env.json(["audit", "list"]);
    assert_times("audit list", &audit[0], &["time"]);

    // A run still queued: no start, no finish, no duration yet (null, not absent).
    env.apply("noop.yaml", NOOP);
    env.run(["agent", "drain", "worker"]).expect_code(0);
    let queued = env.show_run(&env.start("noop", &[]));
    assert_eq!(queued["status"], "queued");
    for key in ["started_at", "finished_at", "duration_ms"] {
        assert!(queued[key].is_null(), "{key}: {queued:#}");
    }
    // YAML says the same.
    let yaml = env.run(["run", "show", &id, "-o", "yaml"]);
    yaml.expect_code(0);
    assert!(
        yaml.stdout.lines().any(
            |l| l.starts_with("created_at:") && l.contains(run["created_at"].as_str().unwrap())
        ),
        "{}",
        yaml.stdout
    );
}

fn users_and_tokens_times_are_rfc3339(env: TestEnv) {
    env.run(["user", "create", "alice", "--role", "viewer"])
        .expect_code(0);
    env.run([
        "token",
        "create",
        "--user",
        "alice",
        "--expires",
        "1d",
        "-q",
    ])
    .expect_code(0);
    let users = env.json(["user", "list"]);
    let alice = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "alice")
        .unwrap();
    assert_times("user", alice, &["created_at", "updated_at"]);
    assert_times_or_null("user", alice, &["locked_until"]);
    let tokens = env.json(["token", "list"]);
    let token = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["user"] == "alice")
        .unwrap();
    assert_times("token", token, &["created_at", "expires_at"]);
    assert_times_or_null("token", token, &["revoked_at", "last_used_at"]);
}

fn status_json_has_every_counter_even_when_zero(env: TestEnv) {
    let status = env.json(["status"]);
    for state in ["online", "busy", "draining", "offline"] {
        assert_eq!(status["agents"][state], 0, "agents.{state}: {status:#}");
    }
    for st in [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
        "timed_out",
    ] {
        assert_eq!(status["runs"][st], 0, "runs.{st}: {status:#}");
    }
    assert_eq!(status["steps_ready"], 0);
    assert_eq!(status["steps_running"], 0);
    assert_eq!(status["workflows"], 0);
}

crate::both_modes!(
    json_times_are_rfc3339_and_durations_are_ms,
    users_and_tokens_times_are_rfc3339,
    status_json_has_every_counter_even_when_zero,
);
