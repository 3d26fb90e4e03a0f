//! Streams of records (`run logs`, `audit tail`) print one JSON object per line (NDJSON) with
//! `-o json`, whether they follow (`-f`) or not: a script reads them the same way either way.

use serde_json::Value;

use super::short_leases;
use crate::env::TestEnv;

/// Every line of `stdout` as a JSON object; panics on anything else (an array, pretty JSON).
#[track_caller]
fn ndjson(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {l:?}\n{stdout}"));
            assert!(v.is_object(), "not an object: {l}");
            v
        })
        .collect()
}

fn streams_of_records_are_ndjson_with_and_without_follow(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "talk.yaml",
        "name: talk\nsteps:\n  - id: a\n    run: echo one; echo two >&2\n  - id: b\n    needs: [a]\n    run: echo three\n",
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("talk", &[]);
    env.finish(&id);

    let once = env.run(["run", "logs", &id, "-o", "json"]);
    once.expect_code(0);
    let followed = env.run(["run", "logs", &id, "-f", "-o", "json"]);
    followed.expect_code(0);
    let lines = ndjson(&once.stdout);
    assert_eq!(
        lines,
        ndjson(&followed.stdout),
        "-f prints the same records"
    );
    // Step a writes to stdout and stderr: two pipes, read side by side, so their lines may
    // interleave either way; every line is there once, and b's come after a's.
    let mut text: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["stream"] != "system")
        .map(|l| (l["step_id"].as_str().unwrap(), l["line"].as_str().unwrap()))
        .collect();
    assert_eq!(text.last(), Some(&("b", "three")), "{text:?}");
    text.sort_unstable();
    assert_eq!(text, [("a", "one"), ("a", "two"), ("b", "three")]);

    // The same for the audit trail.
    let tail = env.run(["audit", "tail", "-n", "3", "-o", "json"]);
    tail.expect_code(0);
    let records = ndjson(&tail.stdout);
    assert_eq!(records.len(), 3, "{}", tail.stdout);
    assert!(
        records
            .iter()
            .all(|r| r["seq"].is_i64() && r["hash"].is_string())
    );

    // YAML: one document per record; CSV: one header, then a row per record.
    let yaml = env.run(["run", "logs", &id, "--step", "b", "-o", "yaml"]);
    yaml.expect_code(0);
    assert!(yaml.stdout.starts_with("---\n"), "{}", yaml.stdout);
    assert!(yaml.stdout.contains("line: three"), "{}", yaml.stdout);
    let csv = env.run(["run", "logs", &id, "-f", "-o", "csv"]);
    csv.expect_code(0);
    let mut rows = csv.stdout.lines();
    assert_eq!(rows.next(), Some("id,step,attempt,time,stream,line"));
    assert_eq!(rows.count(), lines.len(), "{}", csv.stdout);
}

crate::both_modes!(streams_of_records_are_ndjson_with_and_without_follow);
