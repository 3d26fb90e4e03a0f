//! The server and the remote client together: the same operations as locally, over HTTP on
//! 127.0.0.1:0, with errors keeping their class.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use super::{AppState, Authenticator};
use crate::auth::{Principal, Role};
use crate::control::remote::RemoteControlPlane;
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions, Plane, StartRun};
use crate::error::ErrorKind;
use crate::model::{RunStatus, StepKind, StepSpec, WorkflowSpec};
use crate::{Error, Result};

/// One fixed token for the owner, for these tests only.
pub(super) struct OneToken;

impl Authenticator for OneToken {
    fn authenticate(&self, token: Option<&str>, source: &str) -> Result<Principal> {
        match token {
            Some("imx_test") => Ok(Principal {
                name: "token:test".into(),
                role: Role::Admin,
                source: source.into(),
            }),
            _ => Err(Error::Remote {
                kind: ErrorKind::Forbidden,
                message: "a valid token is required".into(),
            }),
        }
    }
}

struct Served {
    _dir: tempfile::TempDir,
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let local =
        LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap();
    let state = AppState {
        plane: Arc::new(local),
        auth: Arc::new(OneToken),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(super::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Served {
        _dir: dir,
        url,
        _stop: stop,
    }
}

fn spec() -> WorkflowSpec {
    WorkflowSpec::new(
        "remote",
        vec![
            StepSpec::new(
                "hello",
                StepKind::Run {
                    command: "echo hi; echo who=remote >> \"$IMX_OUTPUT\"".into(),
                },
            ),
            StepSpec::new("after", StepKind::Noop).needing(&["hello"]),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_goes_end_to_end_through_the_server_with_a_remote_agent() {
    let served = serve().await;
    let remote: Plane =
        Arc::new(RemoteControlPlane::new(&served.url, Some("imx_test".into()), None).unwrap());
    let who = Principal::local_owner();
    remote.apply_workflow(&who, spec(), false).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let agent = tokio::spawn(crate::agent::run(
        remote.clone(),
        who.clone(),
        crate::agent::AgentConfig::new("remote-agent"),
        stop_rx,
    ));
    let run = remote
        .start_run(
            &who,
            StartRun {
                workflow: "remote".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let detail = loop {
        let d = remote.get_run(&who, &run.id[..12]).await.unwrap();
        if d.run.status.is_terminal() {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "run did not finish");
        remote.wait_for_change(Duration::from_millis(500)).await;
    };
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    assert_eq!(
        detail.steps[0].outputs.get("who").map(String::as_str),
        Some("remote")
    );
    assert_eq!(detail.steps[0].agent.as_deref(), Some("remote-agent"));
    let logs = remote
        .run_logs(&who, &run.id, Some("hello"), 0, 100)
        .await
        .unwrap();
    assert_eq!(logs[0].line, "hi");
    let agents = remote.list_agents(&who).await.unwrap();
    assert_eq!(agents[0].name, "remote-agent");
    let _ = stop_tx.send(true);
    agent.await.unwrap().unwrap();
}

#[tokio::test]
async fn errors_keep_their_class_over_the_wire() {
    let served = serve().await;
    let who = Principal::local_owner();
    let remote = RemoteControlPlane::new(&served.url, Some("imx_test".into()), None).unwrap();
    let e = remote.get_run(&who, "01ZZZZZZZZZZ").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = remote.get_workflow(&who, "nope", None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = remote.get_run(&who, "not/an-id").await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Invalid | ErrorKind::NotFound),
        "{e}"
    );

    let anonymous = RemoteControlPlane::new(&served.url, None, None).unwrap();
    let e = anonymous.status(&who).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}");
}

#[tokio::test]
async fn an_unreachable_server_names_the_url_and_the_cause() {
    // A port nothing listens on: bind one, note it, close it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let remote = RemoteControlPlane::new(&url, None, None).unwrap();
    let e = remote.status(&Principal::local_owner()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let msg = e.to_string();
    assert!(
        msg.contains(&url) || msg.contains(url.trim_start_matches("http://")),
        "{msg}"
    );
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
}

/// A held agent name keeps its holder's host and pid over the wire: a replacement on that host
/// needs them to check whether the holder is gone (see `agent::takeover`).
#[tokio::test]
async fn a_held_agent_name_names_its_holder_over_the_wire() {
    let served = serve().await;
    let who = Principal::local_owner();
    let remote = RemoteControlPlane::new(&served.url, Some("imx_test".into()), None).unwrap();
    let reg = |pid| crate::model::AgentRegistration {
        name: "w".into(),
        labels: Default::default(),
        slots: 1,
        hostname: "h".into(),
        pid,
        version: "t".into(),
        instance: None,
        pid_scope: None,
        replaces_pid: None,
    };
    remote.register_agent(&who, reg(100)).await.unwrap();
    match remote.register_agent(&who, reg(200)).await {
        Err(Error::NameHeld {
            name,
            hostname,
            pid,
        }) => assert_eq!((name.as_str(), hostname.as_str(), pid), ("w", "h", 100)),
        other => panic!("{other:?}"),
    }
}

/// Over the wire, an agent's log lines keep the time the agent captured them (a body from an
/// older agent, without times, is stamped on receipt; times that do not match the lines are
/// refused), and an agent's steps are listed.
#[tokio::test]
async fn capture_times_and_an_agents_steps_go_over_the_wire() {
    use crate::model::{CapturedLine, LogStream, now_ms};

    let served = serve().await;
    let who = Principal::local_owner();
    let remote = RemoteControlPlane::new(&served.url, Some("imx_test".into()), None).unwrap();
    let one = WorkflowSpec::new("one", vec![StepSpec::new("s", StepKind::Noop)]);
    remote.apply_workflow(&who, one, false).await.unwrap();
    let run = remote
        .start_run(
            &who,
            StartRun {
                workflow: "one".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let reg = crate::model::AgentRegistration::for_test("w", 1);
    let agent = remote.register_agent(&who, reg).await.unwrap();
    let task = remote
        .claim(&who, &agent.id, 1, Duration::ZERO)
        .await
        .unwrap()
        .remove(0);
    let captured = now_ms() - 5_000;
    let before = now_ms();
    remote
        .append_logs(
            &who,
            &task.lease,
            &[CapturedLine::at(LogStream::Stdout, "early", captured)],
        )
        .await
        .unwrap();
    // An older agent's body: lines only.
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        http.post(format!("{}/api/v1/leases/logs", served.url))
            .bearer_auth("imx_test")
            .json(&body)
            .send()
    };
    let lease = serde_json::to_value(&task.lease).unwrap();
    let old = post(serde_json::json!({ "lease": lease, "lines": [["stdout", "old agent"]] }))
        .await
        .unwrap();
    assert_eq!(old.status(), 204);
    let after = now_ms();
    let wrong = post(serde_json::json!({
        "lease": lease, "lines": [["stdout", "x"]], "times": [1, 2]
    }))
    .await
    .unwrap();
    assert_eq!(wrong.status(), 400);
    let logs = remote.run_logs(&who, &run.id, None, 0, 10).await.unwrap();
    let got: Vec<(&str, i64)> = logs.iter().map(|l| (l.line.as_str(), l.time)).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], ("early", captured));
    assert_eq!(got[1].0, "old agent");
    assert!((before..=after).contains(&got[1].1), "{got:?}");

    let steps = remote.agent_steps(&who, "w", 10).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (steps[0].run_id.as_str(), steps[0].step_id.as_str()),
        (run.id.as_str(), "s")
    );
    let e = remote.agent_steps(&who, "nobody", 10).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

/// `GET /runs/{id}/logs?tail=true` gives the last lines and `?before=ID` the lines before one,
/// oldest first, as the local plane reads them backwards.
#[tokio::test]
async fn logs_are_read_backwards_over_the_wire() {
    let served = serve().await;
    let remote = RemoteControlPlane::new(&served.url, Some("imx_test".into()), None).unwrap();
    let who = Principal::local_owner();
    remote.apply_workflow(&who, spec(), false).await.unwrap();
    let run = remote
        .start_run(
            &who,
            StartRun {
                workflow: "remote".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let agent = remote
        .register_agent(&who, crate::model::AgentRegistration::for_test("w", 1))
        .await
        .unwrap();
    let tasks = remote
        .claim(&who, &agent.id, 1, Duration::from_secs(5))
        .await
        .unwrap();
    let lines: Vec<_> = (0..10)
        .map(|i| {
            crate::model::CapturedLine::new(crate::model::LogStream::Stdout, format!("line {i}"))
        })
        .collect();
    remote
        .append_logs(&who, &tasks[0].lease, &lines)
        .await
        .unwrap();
    let text =
        |l: &[crate::model::LogLine]| -> Vec<String> { l.iter().map(|l| l.line.clone()).collect() };
    let tail = remote
        .run_logs_before(&who, &run.id, Some("hello"), None, 3)
        .await
        .unwrap();
    assert_eq!(text(&tail), ["line 7", "line 8", "line 9"]);
    let before = remote
        .run_logs_before(&who, &run.id, None, Some(tail[0].id), 2)
        .await
        .unwrap();
    assert_eq!(text(&before), ["line 5", "line 6"]);
    let forward = remote.run_logs(&who, &run.id, None, 0, 100).await.unwrap();
    assert_eq!(forward.len(), 10, "without before or tail: forwards");
}
