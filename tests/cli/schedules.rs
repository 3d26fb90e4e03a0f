//! `imx schedule ...` on a local store (agents fire the ticks) and through a server (the
//! server fires them): runs made per tick and tagged with their schedule and nominal time,
//! pause with a note and the missed ticks it leaves, trigger, backfill, delete; and three agent
//! processes on one SQLite store racing for the same ticks without a double run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::both_modes;
use crate::env::{SLOW, TestEnv, millis, wait_until};

const HELLO: &str = "name: hello\nsteps:\n  - id: a\n    run: echo hi\n";

fn scheduled_runs(env: &TestEnv, schedule: &str) -> Vec<Value> {
    match env.json(["run", "list", "--schedule", schedule, "--all"]) {
        Value::Array(runs) => runs,
        other => panic!("not a list: {other}"),
    }
}

/// Every tick of an every-second schedule makes one run, tagged with the tick and made within
/// a second of it; `schedule show` gives five fire times a second apart in both zones; a
/// paused schedule's ticks are listed as missed with the reason; trigger, backfill and delete
/// do what they say, and each change is audited.
fn a_schedule_fires_pauses_triggers_backfills_and_goes(env: TestEnv) {
    env.apply("hello.yaml", HELLO);
    env.run([
        "schedule",
        "create",
        "tick",
        "--workflow",
        "hello",
        "--every",
        "1s",
        "--overlap",
        "allow_all",
    ])
    .expect_code(0);
    // A second schedule of the same name is a conflict; an unknown workflow is not found.
    env.run([
        "schedule",
        "create",
        "tick",
        "--workflow",
        "hello",
        "--every",
        "1s",
    ])
    .expect_code(5);
    env.run([
        "schedule",
        "create",
        "nope",
        "--workflow",
        "absent",
        "--every",
        "1s",
    ])
    .expect_code(3);
    env.run([
        "schedule",
        "create",
        "bad",
        "--workflow",
        "hello",
        "--cron",
        "61 * * * *",
    ])
    .expect_code(2);

    let show = env.json(["schedule", "show", "tick"]);
    let upcoming = show["upcoming"].as_array().unwrap();
    assert_eq!(upcoming.len(), 5, "{show:#}");
    let times: Vec<i64> = upcoming
        .iter()
        .map(|u| millis(&u["nominal_time"]).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[1] - w[0] == 1_000), "{times:?}");
    assert!(upcoming[0]["local"].as_str().unwrap().ends_with("+00:00"));

    let _agent = env.agent("w1", 4);
    wait_until("three scheduled runs", SLOW, || {
        scheduled_runs(&env, "tick").len() >= 3
    });
    let runs = scheduled_runs(&env, "tick");
    let mut nominal = BTreeSet::new();
    for r in &runs {
        assert_eq!(r["schedule"], "tick", "{r:#}");
        let n = millis(&r["nominal_time"]).unwrap();
        let made = millis(&r["created_at"]).unwrap();
        assert!(nominal.insert(n), "two runs for one tick: {runs:#?}");
        assert_eq!(n % 1_000, 0);
        // Generous for a loaded machine; the benchmark measures the real lag.
        assert!((0..5_000).contains(&(made - n)), "made {made}, nominal {n}");
    }
    let shown = env.run(["run", "show", runs[0]["id"].as_str().unwrap()]);
    shown.expect_code(0);
    assert!(
        shown.stdout.contains("Schedule:     tick"),
        "{}",
        shown.stdout
    );

    env.run(["schedule", "pause", "tick", "--note", "db migration"])
        .expect_code(0);
    let info = env.json(["schedule", "show", "tick"]);
    assert_eq!(info["schedule"]["paused"], true);
    assert_eq!(info["schedule"]["note"], "db migration");
    wait_until("a tick missed while paused", SLOW, || {
        let missed = env.json(["schedule", "missed", "tick", "--since", "1m"]);
        missed
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["outcome"] == "missed" && m["reason"] == "the schedule was paused")
    });
    env.run(["schedule", "resume", "tick"]).expect_code(0);

    let run = env.json(["schedule", "trigger", "tick"]);
    assert_eq!(run["schedule"], "tick");
    assert!(millis(&run["nominal_time"]).is_some());

    let first = *nominal.iter().next().unwrap();
    let from = imx_time(first - 10_000);
    let to = imx_time(first - 8_000);
    // -o json of a backfill is its list of ticks.
    let dry = env.json([
        "schedule",
        "backfill",
        "tick",
        "--from",
        &from,
        "--to",
        &to,
        "--dry-run",
    ]);
    let ticks = dry.as_array().unwrap();
    assert_eq!(ticks.len(), 3, "{dry:#}");
    assert!(
        ticks.iter().all(|t| t["action"] == "would_create"),
        "{dry:#}"
    );
    let done = env.json(["schedule", "backfill", "tick", "--from", &from, "--to", &to]);
    assert!(
        done.as_array()
            .unwrap()
            .iter()
            .all(|t| t["action"] == "created"),
        "{done:#}"
    );
    let again = env.json(["schedule", "backfill", "tick", "--from", &from, "--to", &to]);
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["action"] == "exists"),
        "{again:#}"
    );

    let list = env.json(["schedule", "list"]);
    assert_eq!(list[0]["name"], "tick");
    env.run(["schedule", "delete", "tick"]).expect_code(0);
    env.run(["schedule", "show", "tick"]).expect_code(3);
    let audit = env.run(["audit", "list", "-o", "json"]);
    for action in [
        "schedule.create",
        "schedule.pause",
        "schedule.resume",
        "schedule.trigger",
        "schedule.backfill",
        "schedule.delete",
    ] {
        assert!(audit.stdout.contains(action), "{action} not audited");
    }
}

fn imx_time(ms: i64) -> String {
    let t = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).unwrap();
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Three `imx agent run` processes on one SQLite store all run the firing loop: one holds the
/// scheduler lease at a time, and the (schedule, nominal time) key makes one run per tick even
/// if two fire at once. Then the leader is killed and another takes over within the lease.
#[test]
fn three_agents_on_one_store_fire_each_tick_once() {
    let env = TestEnv::new();
    env.apply("hello.yaml", HELLO);
    env.run([
        "schedule",
        "create",
        "race",
        "--workflow",
        "hello",
        "--every",
        "1s",
        "--overlap",
        "allow_all",
    ])
    .expect_code(0);
    let mut agents: Vec<_> = ["a1", "a2", "a3"]
        .into_iter()
        .map(|n| env.agent(n, 4))
        .collect();
    wait_until("five scheduled runs", SLOW, || {
        scheduled_runs(&env, "race").len() >= 5
    });
    let check = |env: &TestEnv| {
        let runs = scheduled_runs(env, "race");
        let nominal: Vec<i64> = runs
            .iter()
            .map(|r| millis(&r["nominal_time"]).unwrap())
            .collect();
        let distinct: BTreeSet<i64> = nominal.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            nominal.len(),
            "a tick ran twice: {nominal:?}"
        );
        distinct
    };
    let before = check(&env);
    // Kill two of the three (whichever leads among them): the last one carries on.
    drop(agents.drain(..2));
    let last = *before.iter().next_back().unwrap();
    wait_until(
        "ticks after the kill",
        SLOW + Duration::from_secs(15),
        || check(&env).iter().filter(|&&n| n > last + 2_000).count() >= 3,
    );
    let after = check(&env);
    let info = env.json(["schedule", "show", "race"]);
    assert_eq!(info["schedule"]["missed"], 0, "{info:#}");
    assert!(after.len() >= before.len() + 3);
}

const FILE: &str = "name: nightly\nsteps:\n  - id: a\n    run: echo hi\nschedules:\n  - name: at-three\n    cron: \"0 3 * * *\"\n    timezone: Europe/Berlin\n    dst: { gap: skip, fold: last }\n    overlap: buffer_one\n    params: {}\n  - name: often\n    every: 15m\n";

/// A workflow file's `schedules:`: `apply` creates them, changes them when the file changes,
/// and removes those the file no longer has; a bad entry is reported at its line and column.
fn workflow_files_declare_schedules(env: TestEnv) {
    env.apply("nightly.yaml", FILE);
    let list = env.json(["schedule", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["at-three", "often"], "{list:#}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|s| s["origin"] == "file" && s["workflow"] == "nightly")
    );
    let show = env.json(["schedule", "show", "at-three"]);
    assert_eq!(show["fold"], "last");
    assert_eq!(show["schedule"]["spec"]["overlap"], "buffer_one");
    assert!(
        show["upcoming"][0]["local"]
            .as_str()
            .unwrap()
            .contains("T03:00:00+0"),
        "{show:#}"
    );

    env.apply("nightly.yaml", &FILE.replace("every: 15m", "every: 30m").replace("  - name: at-three\n    cron: \"0 3 * * *\"\n    timezone: Europe/Berlin\n    dst: { gap: skip, fold: last }\n    overlap: buffer_one\n    params: {}\n", ""));
    let list = env.json(["schedule", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    assert_eq!(list[0]["name"], "often");
    assert_eq!(list[0]["spec"]["every_ms"], 1_800_000);

    let bad = env.write(
        "bad.yaml",
        &FILE
            .replace("0 3 * * *", "0 25 * * *")
            .replace("Europe/Berlin", "Europe/Berlim"),
    );
    let out = env.run(["workflow", "apply", "-f", bad.to_str().unwrap()]);
    out.expect_code(2);
    assert!(out.stderr.contains("bad.yaml:7:11"), "{}", out.stderr);
}

both_modes!(
    a_schedule_fires_pauses_triggers_backfills_and_goes,
    workflow_files_declare_schedules
);
