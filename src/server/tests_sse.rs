//! The event stream beyond events: keep-alive comments on an idle stream, `logs` marks when runs
//! get output (named SSE events without an id), and the remote plane's `wait_for_change` waking
//! on them at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::AppState;
use super::sse::KeepAliveEvery;
use super::tests::OneToken;
use crate::auth::Principal;
use crate::control::remote::RemoteControlPlane;
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions, StartRun};
use crate::model::{AgentRegistration, LeaseRef, LogStream, StepKind, StepSpec, WorkflowSpec};

struct Served {
    _dir: tempfile::TempDir,
    url: String,
    plane: Arc<LocalControlPlane>,
}

/// A server whose idle streams send a keep-alive comment every `keep_alive`.
async fn serve(keep_alive: Duration) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let plane = Arc::new(
        LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap(),
    );
    let state = AppState {
        plane: plane.clone(),
        auth: Arc::new(OneToken),
    };
    let app = super::router(state).layer(axum::Extension(KeepAliveEvery(keep_alive)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    Served {
        _dir: dir,
        url,
        plane,
    }
}

/// One SSE frame: its `event:`, `id:` and `data:` fields, and whether it is a comment.
#[derive(Debug, Default)]
struct Frame {
    event: Option<String>,
    id: Option<String>,
    data: Option<String>,
    comment: bool,
}

struct Stream {
    response: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn open(url: &str, query: &str) -> Stream {
        let response = reqwest::Client::new()
            .get(format!("{url}/api/v1/events/stream{query}"))
            .bearer_auth("imx_test")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        Stream {
            response,
            buf: String::new(),
        }
    }

    /// The next frame, waiting at most `within`.
    async fn next(&mut self, within: Duration) -> Option<Frame> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let text: String = self.buf.drain(..end + 2).collect();
                let mut frame = Frame::default();
                for line in text.lines() {
                    if line.starts_with(':') {
                        frame.comment = true;
                    } else if let Some((k, v)) = line.split_once(':') {
                        let v = v.trim().to_string();
                        match k {
                            "event" => frame.event = Some(v),
                            "id" => frame.id = Some(v),
                            "data" => frame.data = Some(v),
                            _ => {}
                        }
                    }
                }
                return Some(frame);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.response.chunk())
                .await
                .ok()?
                .unwrap()?;
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next frame that is not a comment, waiting at most `within`.
    async fn next_message(&mut self, within: Duration) -> Option<Frame> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = self.next(left).await?;
            if !frame.comment {
                return Some(frame);
            }
        }
    }
}

/// A run of a one-step workflow, claimed by an agent: the lease to report its output with.
async fn running_step(plane: &LocalControlPlane) -> LeaseRef {
    let who = Principal::local_owner();
    plane
        .apply_workflow(
            &who,
            WorkflowSpec::new("talk", vec![StepSpec::new("say", StepKind::Noop)]),
            false,
        )
        .await
        .unwrap();
    let agent = plane
        .register_agent(
            &who,
            AgentRegistration {
                name: "w".into(),
                labels: Default::default(),
                slots: 1,
                hostname: "test".into(),
                pid: 1,
                version: "test".into(),
                instance: None,
                pid_scope: None,
                replaces_pid: None,
            },
        )
        .await
        .unwrap();
    plane
        .start_run(
            &who,
            StartRun {
                workflow: "talk".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let tasks = plane
        .claim(&who, &agent.id, 1, Duration::ZERO)
        .await
        .unwrap();
    tasks[0].lease.clone()
}

async fn say(plane: &LocalControlPlane, lease: &LeaseRef, line: &str) {
    plane
        .append_logs(
            &Principal::local_owner(),
            lease,
            &[crate::model::CapturedLine::new(LogStream::Stdout, line)],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_sends_keep_alive_comments() {
    let s = serve(Duration::from_millis(100)).await;
    // Nothing in the feed: after the (empty) history, the stream is idle.
    let mut stream = Stream::open(&s.url, "?after=-1").await;
    let t = Instant::now();
    let mut comments = 0;
    while comments < 3 {
        let frame = stream
            .next(Duration::from_secs(10))
            .await
            .expect("a keep-alive comment within 10 s");
        assert!(
            frame.comment,
            "an idle stream sends only comments: {frame:?}"
        );
        assert!(frame.data.is_none() && frame.id.is_none(), "{frame:?}");
        comments += 1;
    }
    // Three comments at 100 ms intervals; far less than the default 15 s.
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_output_is_marked_on_the_stream_without_an_id() {
    let s = serve(Duration::from_secs(15)).await;
    let lease = running_step(&s.plane).await;
    say(&s.plane, &lease, "before the stream").await;
    let events = s
        .plane
        .events(&Principal::local_owner(), 0, 1_000)
        .await
        .unwrap();
    let newest = events.last().unwrap().id;
    let mut stream = Stream::open(&s.url, &format!("?after={newest}")).await;
    // Lines from before the stream opened are not marked again; new ones are, at once.
    say(&s.plane, &lease, "hello").await;
    let t = Instant::now();
    let frame = stream
        .next_message(Duration::from_secs(10))
        .await
        .expect("a logs mark");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(frame.event.as_deref(), Some("logs"), "{frame:?}");
    assert!(
        frame.id.is_none(),
        "a mark is not part of the feed: {frame:?}"
    );
    let mark: serde_json::Value = serde_json::from_str(frame.data.as_deref().unwrap()).unwrap();
    assert_eq!(mark["run_id"], lease.run_id.as_str());
    let lines = s
        .plane
        .run_logs(&Principal::local_owner(), &lease.run_id, None, 0, 100)
        .await
        .unwrap();
    assert_eq!(lines.last().unwrap().line, "hello");
    assert_eq!(mark["last_id"], lines.last().unwrap().id);
    // Events keep their ids and come as before.
    s.plane
        .cancel_run(&Principal::local_owner(), &lease.run_id)
        .await
        .unwrap();
    let frame = stream
        .next_message(Duration::from_secs(10))
        .await
        .expect("an event");
    assert_eq!(frame.event, None, "{frame:?}");
    assert!(frame.id.unwrap().parse::<i64>().unwrap() > newest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_wait_wakes_on_new_output_at_once() {
    let s = serve(Duration::from_secs(15)).await;
    let lease = running_step(&s.plane).await;
    let remote = RemoteControlPlane::new(&s.url, Some("imx_test".into()), None).unwrap();
    // The first waits connect the stream (a connection counts as a change); then, quiet, a
    // wait lasts its timeout.
    let mut quiet = false;
    for _ in 0..20 {
        let t = Instant::now();
        remote.wait_for_change(Duration::from_millis(300)).await;
        if t.elapsed() >= Duration::from_millis(250) {
            quiet = true;
            break;
        }
    }
    assert!(quiet, "waits never lasted their timeout");
    // A line is appended while the follower waits (up to 20 s): it wakes at once. A long poll
    // on the event feed would not wake at all (log lines are not events).
    let plane = s.plane.clone();
    let appender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        say(&plane, &lease, "now").await;
        Instant::now()
    });
    remote.wait_for_change(Duration::from_secs(20)).await;
    let woke = Instant::now();
    let said = appender.await.unwrap();
    let late = woke.saturating_duration_since(said);
    assert!(
        late < Duration::from_secs(2),
        "woke {late:?} after the line"
    );
}
