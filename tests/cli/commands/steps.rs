//! What steps do when an agent runs them: dependency order, skips, retries, outputs, env and
//! workdir, timeouts, label selectors and `http` steps.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{read_pid, short_leases};
use crate::env::{SLOW, TestEnv, process_gone, wait_until};

/// A time field of `-o json` output (RFC 3339) as epoch milliseconds.
fn ms(v: &Value, key: &str) -> i64 {
    v[key]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| panic!("{key} missing or not RFC 3339 in {v:#}"))
}

const FAN: &str = r#"
name: fan
steps:
  - id: root
    run: sleep 0.2
  - id: left
    needs: [root]
    run: sleep 0.4
  - id: middle
    needs: [root]
    run: sleep 0.4
  - id: right
    needs: [root]
    run: sleep 0.4
  - id: join
    needs: [left, middle, right]
    run: echo joined
  - id: tail
    needs: [join]
    noop: true
"#;

fn a_fan_out_dag_runs_in_dependency_order(env: TestEnv) {
    let env = short_leases(env);
    env.apply("fan.yaml", FAN);
    let _agent = env.agent("worker", 4);
    let id = env.start("fan", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["steps_succeeded"], 6);
    for step in run["steps"].as_array().unwrap() {
        assert_eq!(step["status"], "succeeded");
        assert_eq!(step["agent"], "worker");
        let started = ms(step, "started_at");
        for need in step["needs"].as_array().unwrap() {
            let need = TestEnv::step(&run, need.as_str().unwrap());
            assert!(
                started >= ms(need, "finished_at"),
                "{} started before {} finished: {run:#}",
                step["step_id"],
                need["step_id"]
            );
        }
    }
    // The three branches ran side by side (4 slots): each started before the others finished.
    let branch = |s: &str| TestEnv::step(&run, s);
    let last_start = ["left", "middle", "right"]
        .iter()
        .map(|s| ms(branch(s), "started_at"))
        .max()
        .unwrap();
    let first_end = ["left", "middle", "right"]
        .iter()
        .map(|s| ms(branch(s), "finished_at"))
        .min()
        .unwrap();
    assert!(last_start < first_end, "branches did not overlap: {run:#}");
}

fn a_failing_step_skips_its_dependents_and_independent_branches_finish(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "broken.yaml",
        r#"
name: broken
steps:
  - id: bad
    run: echo "about to fail" >&2; exit 7
  - id: needs-bad
    needs: [bad]
    run: echo never
  - id: grandchild
    needs: [needs-bad]
    run: echo never
  - id: independent
    run: sleep 0.3; echo fine
  - id: after-independent
    needs: [independent]
    run: echo fine too
"#,
    );
    let _agent = env.agent("worker", 2);
    let id = env.start("broken", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed");
    let st = |s: &str| {
        TestEnv::step(&run, s)["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(st("bad"), "failed");
    assert_eq!(TestEnv::step(&run, "bad")["exit_code"], 7);
    assert!(
        TestEnv::step(&run, "bad")["error"]
            .as_str()
            .unwrap()
            .contains("exit code 7")
    );
    assert_eq!(st("needs-bad"), "skipped");
    assert_eq!(st("grandchild"), "skipped");
    assert_eq!(st("independent"), "succeeded");
    assert_eq!(st("after-independent"), "succeeded");
    assert_eq!(run["steps_succeeded"], 2);
    let show = env.run(["run", "show", &id]);
    assert!(show.stdout.contains("exit code 7"), "{}", show.stdout);
}

fn a_retried_step_gets_attempt_2_after_its_backoff(env: TestEnv) {
    let env = short_leases(env);
    // Each attempt notes when it started, as the step sees it: log lines are stamped when
    // the store receives them, which under load can be well after the step printed them.
    let starts = env.home().join("starts");
    env.apply(
        "flaky.yaml",
        &format!(
            r#"
name: flaky
steps:
  - id: fetch
    retry: {{ max: 3, backoff: fixed, initial: 400ms }}
    run: |
      date +%s%3N >> '{}'
      echo "attempt $IMX_ATTEMPT"
      if [ "$IMX_ATTEMPT" -lt 2 ]; then exit 1; fi
"#,
            starts.display()
        ),
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("flaky", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(TestEnv::step(&run, "fetch")["attempt"], 2);
    let logs = env.ndjson(["run", "logs", &id]);
    for (text, attempt) in [("attempt 1", 1), ("attempt 2", 2)] {
        let line = logs
            .iter()
            .find(|l| l["line"] == text)
            .unwrap_or_else(|| panic!("{text:?} not in {logs:?}"));
        assert_eq!(line["attempt"], attempt);
    }
    let starts: Vec<i64> = std::fs::read_to_string(&starts)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(starts.len(), 2, "{starts:?}");
    // Attempt 1 noted its start before it failed; the backoff counts from the failure.
    let gap = starts[1] - starts[0];
    assert!(gap >= 400, "attempt 2 started {gap} ms after attempt 1");
}

fn outputs_env_and_workdir_reach_the_step_and_downstream_templates(env: TestEnv) {
    let env = short_leases(env);
    let workdir = env.home().join("work dir");
    std::fs::create_dir_all(&workdir).unwrap();
    env.apply(
        "outputs.yaml",
        &format!(
            r#"
name: outputs
params:
  target: {{ type: string, default: staging }}
defaults:
  env:
    FROM_DEFAULTS: shared
steps:
  - id: make
    env:
      GREETING: "hi {{{{ params.target }}}}"
    workdir: "{workdir}"
    run: |
      echo "sha=abc123" >> "$IMX_OUTPUT"
      echo "where=$(pwd)" >> "$IMX_OUTPUT"
      echo "greeting=$GREETING/$FROM_DEFAULTS" >> "$IMX_OUTPUT"
  - id: use
    needs: [make]
    env:
      SHA: "{{{{ steps.make.outputs.sha }}}}"
    run: |
      echo "got {{{{ steps.make.outputs.sha }}}} from {{{{ steps.make.outputs.where }}}}"
      echo "seen=$SHA-{{{{ steps.make.outputs.greeting }}}}" >> "$IMX_OUTPUT"
"#,
            workdir = workdir.display()
        ),
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("outputs", &["target=prod"]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let make = &TestEnv::step(&run, "make")["outputs"];
    assert_eq!(make["sha"], "abc123");
    assert_eq!(make["where"], workdir.display().to_string());
    assert_eq!(make["greeting"], "hi prod/shared");
    let used = &TestEnv::step(&run, "use")["outputs"];
    assert_eq!(used["seen"], "abc123-hi prod/shared");
    let logs = env.run(["run", "logs", &id, "--step", "use"]);
    assert!(
        logs.stdout
            .contains(&format!("got abc123 from {}", workdir.display())),
        "{}",
        logs.stdout
    );
    let table = env.run(["run", "show", &id]);
    assert!(table.stdout.contains("sha=abc123"), "{}", table.stdout);
}

fn a_step_timeout_kills_the_step_and_the_processes_it_started(env: TestEnv) {
    let env = short_leases(env);
    let pid_file = env.home().join("grandchild.pid");
    env.apply(
        "stuck.yaml",
        &format!(
            "name: stuck\nsteps:\n  - id: stuck\n    timeout: 1s\n    run: |\n      sleep 30 &\n      echo $! > {}\n      wait\n",
            pid_file.display()
        ),
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("stuck", &[]);
    wait_until("the grandchild's pid", SLOW, || {
        read_pid(&pid_file).is_some()
    });
    let grandchild = read_pid(&pid_file).unwrap();
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed");
    let stuck = TestEnv::step(&run, "stuck");
    assert_eq!(stuck["status"], "failed");
    assert!(
        stuck["error"].as_str().unwrap().contains("timed out"),
        "{run:#}"
    );
    let took = ms(stuck, "finished_at") - ms(stuck, "started_at");
    assert!(took < 10_000, "the step ran {took} ms despite a 1s timeout");
    wait_until("the grandchild to be killed", SLOW, || {
        process_gone(grandchild)
    });
}

fn label_selectors_send_steps_only_to_matching_agents(env: TestEnv) {
    let env = short_leases(env);
    env.apply(
        "gpu.yaml",
        r#"
name: gpu
steps:
  - id: train-1
    agent: { labels: { gpu: "yes" } }
    run: sleep 0.1
  - id: train-2
    agent: { labels: { gpu: "yes" } }
    run: sleep 0.1
  - id: train-3
    agent: { labels: { gpu: "yes" } }
    run: sleep 0.1
  - id: anywhere
    run: echo ok
"#,
    );
    // Only the plain agent at first: the gpu steps wait for a matching agent.
    let _plain = env.agent_with("plain", 4, &["--labels", "os=linux"]);
    let id = env.start("gpu", &[]);
    wait_until("the unlabelled step to finish", SLOW, || {
        let run = env.show_run(&id);
        TestEnv::step(&run, "anywhere")["status"] == "succeeded"
    });
    let run = env.show_run(&id);
    assert_eq!(TestEnv::step(&run, "anywhere")["agent"], "plain");
    assert_eq!(TestEnv::step(&run, "train-1")["status"], "ready");

    let _gpu = env.agent_with("gpu-box", 4, &["--labels", "gpu=yes,os=linux"]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded");
    for s in ["train-1", "train-2", "train-3"] {
        assert_eq!(TestEnv::step(&run, s)["agent"], "gpu-box", "{run:#}");
    }
}

/// One request the test server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// A tiny HTTP/1.1 server on 127.0.0.1:0: records each request and answers `status` with
/// `body`. Runs in a thread for the rest of the test process.
fn http_server(status: u16, body: &'static str) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                    if k == "content-length" {
                        length = v.parse().unwrap_or(0);
                    }
                    headers.push((k, v));
                }
            }
            let mut buf = vec![0; length];
            let _ = reader.read_exact(&mut buf);
            log.lock().unwrap().push(Seen {
                method,
                path,
                headers,
                body: String::from_utf8_lossy(&buf).into_owned(),
            });
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{addr}"), seen)
}

fn http_steps_send_the_request_and_expose_status_and_body(env: TestEnv) {
    let env = short_leases(env);
    let (url, seen) = http_server(201, r#"{"accepted":true}"#);
    env.apply(
        "hook.yaml",
        r#"
name: hook
params:
  url: { type: string, required: true }
  version: { type: string, default: "1.0" }
steps:
  - id: notify
    http:
      method: POST
      url: "{{ params.url }}/hooks/deploy"
      headers:
        X-Imx-Run: "{{ run.id }}"
      json:
        version: "{{ params.version }}"
        workflow: "{{ workflow.name }}"
      expect_status: [201]
  - id: report
    needs: [notify]
    run: echo "answered {{ steps.notify.outputs.status }}"
"#,
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("hook", &[&format!("url={url}"), "version=2.5"]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let notify = &TestEnv::step(&run, "notify")["outputs"];
    assert_eq!(notify["status"], "201");
    assert_eq!(notify["body"], r#"{"accepted":true}"#);
    let logs = env.run(["run", "logs", &id, "--step", "report"]);
    assert!(logs.stdout.contains("answered 201"), "{}", logs.stdout);

    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let req = &requests[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hooks/deploy");
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"version": "2.5", "workflow": "hook"})
    );
    assert!(
        req.headers
            .iter()
            .any(|(k, v)| k == "x-imx-run" && v == &id),
        "{:?}",
        req.headers
    );
    assert!(
        req.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.contains("application/json")),
        "{:?}",
        req.headers
    );
}

fn an_http_step_with_an_unexpected_status_fails_with_its_outputs(env: TestEnv) {
    let env = short_leases(env);
    let (url, seen) = http_server(500, "oops");
    env.apply(
        "get.yaml",
        &format!("name: get\nsteps:\n  - id: ping\n    http: {{ url: \"{url}/health\" }}\n"),
    );
    let _agent = env.agent("worker", 1);
    let id = env.start("get", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "failed");
    let ping = TestEnv::step(&run, "ping");
    assert_eq!(ping["outputs"]["status"], "500");
    assert_eq!(ping["outputs"]["body"], "oops");
    assert!(
        ping["error"]
            .as_str()
            .unwrap()
            .contains("unexpected status 500"),
        "{run:#}"
    );
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/health");
}

const ENV_DUMP: &str = r#"
name: env-dump
steps:
  - id: dump
    env:
      STEP_VAR: from-the-step
    run: env
"#;

/// An agent with credentials and secrets in its environment: a step that prints its whole
/// environment shows none of them, only the documented variables and what --pass-env names.
fn a_step_gets_a_clean_environment_without_the_agents_credentials(env: TestEnv) {
    let env = short_leases(env)
        .with_var("IMX_TOKEN", "imx_local-agent-secret-token")
        .with_var("IMX_PASSWORD", "hunter3")
        .with_var("DB_PASSWORD", "hunter2")
        .with_var("PASSED_VAR", "passed-through");
    env.apply("env.yaml", ENV_DUMP);
    let _agent = env.agent_with("envy", 1, &["--pass-env", "PASSED_VAR"]);
    let id = env.start("env-dump", &[]);
    let run = env.finish(&id);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let logs = env.run(["run", "logs", &id]);
    logs.expect_code(0);
    let text = logs.stdout;
    let mut secrets = vec![
        "hunter2",
        "hunter3",
        "imx_local-agent-secret-token",
        "IMX_TOKEN",
    ];
    if env.mode() == crate::env::Mode::Remote {
        secrets.push(env.agent_token());
    }
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{secret:?} reached the step:\n{text}"
        );
    }
    let vars: std::collections::BTreeMap<&str, &str> =
        text.lines().filter_map(|l| l.split_once('=')).collect();
    let names: Vec<&str> = vars.keys().copied().collect();
    let mut want = vec![
        "HOME",
        "IMX_ATTEMPT",
        "IMX_IDEMPOTENCY_KEY",
        "IMX_OUTPUT",
        "IMX_RUN_ID",
        "IMX_STEP_ID",
        "IMX_WORKFLOW",
        "LANG",
        "PASSED_VAR",
        "PATH",
        "PWD", // the shell's own
        "STEP_VAR",
        "TZ",
    ];
    want.sort_unstable();
    assert_eq!(names, want, "{text}");
    assert_eq!(vars["PASSED_VAR"], "passed-through");
    assert_eq!(vars["STEP_VAR"], "from-the-step");
    assert_eq!(vars["IMX_RUN_ID"], id);
    assert_eq!(vars["IMX_STEP_ID"], "dump");
    assert_eq!(vars["IMX_WORKFLOW"], "env-dump");
    // The agent's own values (TestEnv sets these).
    assert_eq!(vars["TZ"], "UTC");
    assert_eq!(vars["LANG"], "C.UTF-8");
}

crate::both_modes!(
    a_step_gets_a_clean_environment_without_the_agents_credentials,
    a_fan_out_dag_runs_in_dependency_order,
    a_failing_step_skips_its_dependents_and_independent_branches_finish,
    a_retried_step_gets_attempt_2_after_its_backoff,
    outputs_env_and_workdir_reach_the_step_and_downstream_templates,
    a_step_timeout_kills_the_step_and_the_processes_it_started,
    label_selectors_send_steps_only_to_matching_agents,
    http_steps_send_the_request_and_expose_status_and_body,
    an_http_step_with_an_unexpected_status_fails_with_its_outputs,
);
