//! A sweep over the JSON of every list/show command (and the other commands that print records):
//! no field named like a point in time is a number — times are RFC 3339, and numbers are only
//! for durations (`*_ms`), counts and ids. Locally and through `imx server` alike.

use serde_json::Value;

use super::short_leases;
use crate::env::TestEnv;

/// Whether a key names a point in time (as opposed to a duration, `*_ms`, or an id).
fn names_a_time(key: &str) -> bool {
    if key.ends_with("_ms") || key.ends_with("_id") || key.ends_with("_seq") {
        return false;
    }
    matches!(
        key,
        "time"
            | "at"
            | "since"
            | "until"
            | "deadline"
            | "start"
            | "cutoff"
            | "not_before"
            | "first"
            | "last"
    ) || key.ends_with("_at")
        || key.ends_with("_time")
        || key.ends_with("_until")
        || key.ends_with("_since")
        || key.ends_with("_heartbeat")
        || key.ends_with("_failure")
        || key.ends_with("_deadline")
}

/// Every `path: value` under `v` where a time-named field holds a number.
fn numeric_times(path: &str, v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{path}.{k}");
                if names_a_time(k) && x.is_number() {
                    found.push(format!("{here} = {x}"));
                }
                numeric_times(&here, x, found);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                numeric_times(&format!("{path}[{i}]"), x, found);
            }
        }
        _ => {}
    }
}

/// The JSON documents `imx ARGS -o json` prints: one, or one per line (NDJSON).
fn documents(env: &TestEnv, args: &[&str]) -> Vec<Value> {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", "json"]);
    let out = env.run(&all);
    out.expect_code(0);
    match serde_json::from_str::<Value>(&out.stdout) {
        Ok(v) => vec![v],
        Err(_) => out
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{all:?}: not JSON ({e}):\n{}", out.stdout))
            })
            .collect(),
    }
}

fn no_json_output_prints_a_time_as_a_number(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "two.yaml",
        "name: two\ntimeout: 1h\nsteps:\n  - id: a\n    run: echo a\n  - id: b\n    needs: [a]\n    run: echo b\n",
    );
    let _agent = env.agent("worker", 2);
    let id = env.start("two", &[]);
    env.finish(&id);
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
    // Backups of a PostgreSQL store are not there yet ("not yet available on PostgreSQL:
    // logical backup"): the sweep leaves them out there.
    let backups = env.database().is_none();
    let backup = if backups {
        let out = env.run(["backup", "create", "--note", "sweep", "-o", "name"]);
        out.expect_code(0);
        out.stdout.trim().to_string()
    } else {
        String::new()
    };
    if env.mode() == crate::env::Mode::Remote {
        // Repeated denials: one record that counts them, with when the first and last were.
        let viewer = env.run(["token", "create", "--name", "v", "--role", "viewer", "-q"]);
        viewer.expect_code(0);
        for _ in 0..3 {
            let denied = env
                .cmd()
                .env("IMX_TOKEN", viewer.stdout.trim())
                .args(["user", "list"])
                .output()
                .unwrap();
            assert_eq!(denied.status.code(), Some(4), "{denied:?}");
        }
    }
    let seq = env.json(["audit", "list"])[0]["seq"].to_string();

    let mut commands: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["whoami"],
        vec!["agent", "list"],
        vec!["agent", "show", "worker"],
        vec!["workflow", "list"],
        vec!["workflow", "show", "two"],
        vec!["run", "list"],
        vec!["run", "show", &id],
        vec!["run", "logs", &id],
        vec!["run", "wait", &id],
        vec!["user", "list"],
        vec!["user", "show", "alice"],
        vec!["token", "list"],
        vec!["token", "create", "--user", "alice", "--expires", "1d"],
        vec!["audit", "list"],
        vec!["audit", "show", &seq],
        vec!["audit", "verify"],
        vec!["audit", "report", "--format", "json"],
    ];
    if backups {
        commands.extend([
            vec!["backup", "list"],
            vec!["backup", "show", &backup],
            vec!["backup", "verify", &backup],
            vec!["backup", "create"],
        ]);
    }
    let mut found = Vec::new();
    for args in &commands {
        for doc in documents(&env, args) {
            numeric_times(&args.join(" "), &doc, &mut found);
        }
    }
    if env.mode() == crate::env::Mode::Local {
        // Local-only commands.
        for args in [
            vec!["audit", "checkpoint"],
            vec!["audit", "prune", "--keep", "1d", "--dry-run"],
            vec!["backup", "prune", "--keep-last", "5", "--dry-run"],
        ] {
            for doc in documents(&env, &args) {
                numeric_times(&args.join(" "), &doc, &mut found);
            }
        }
    }
    assert!(
        found.is_empty(),
        "times printed as numbers:\n{}",
        found.join("\n")
    );
}

crate::both_modes!(no_json_output_prints_a_time_as_a_number);
