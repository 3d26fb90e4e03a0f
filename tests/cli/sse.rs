//! `GET /api/v1/events/stream`: the event feed as server-sent events, read with reqwest from a
//! real `imx server`. Every event comes with its id; a client that disconnects and resumes with
//! `Last-Event-ID` (or `?after=`) gets every later event exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::env::{SLOW, TestEnv};

const NOOP: &str = "name: noop\nsteps:\n  - id: only\n    noop: true\n";

/// An open event stream and what it has delivered so far.
struct Stream {
    response: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn open(env: &TestEnv, query: &str, last_id: Option<i64>) -> Stream {
        let mut req = reqwest::Client::new()
            .get(format!("{}/api/v1/events/stream{query}", env.url()))
            .bearer_auth(env.admin_token());
        if let Some(id) = last_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Stream {
            response,
            buf: String::new(),
        }
    }

    /// The next `n` events (their `id:` and parsed `data:`), waiting at most [`SLOW`].
    async fn take(&mut self, n: usize) -> Vec<(i64, Value)> {
        let deadline = Instant::now() + SLOW;
        let mut out = Vec::new();
        while out.len() < n {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    frame
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(str::trim)
                };
                // Keep-alive comments have neither field.
                if let (Some(id), Some(data)) = (field("id:"), field("data:")) {
                    let event: Value = serde_json::from_str(data).unwrap();
                    let id: i64 = id.parse().unwrap();
                    assert_eq!(event["id"], id, "the SSE id is the event id");
                    out.push((id, event));
                }
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("timed out with {} of {n} events", out.len()))
                .unwrap()
                .expect("the stream ended");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        out
    }
}

/// Every event id in the feed, through the plain JSON endpoint.
async fn all_ids(env: &TestEnv) -> Vec<i64> {
    let events: Vec<Value> = reqwest::Client::new()
        .get(format!("{}/api/v1/events?after=0&limit=1000", env.url()))
        .bearer_auth(env.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    events.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_delivers_live_and_resumes_without_loss_or_duplicates() {
    let env = TestEnv::remote();
    env.apply("noop.yaml", NOOP);
    env.start("noop", &[]);
    let before = all_ids(&env).await;
    assert!(before.len() >= 2, "{before:?}");

    // From the start: the history first, in order.
    let mut stream = Stream::open(&env, "?after=0", None).await;
    let got = stream.take(before.len()).await;
    let mut seen: Vec<i64> = got.iter().map(|(id, _)| *id).collect();
    assert_eq!(seen, before);

    // Live: a new run's events arrive while the stream is open.
    let live = env.start("noop", &[]);
    let more = stream.take(1).await;
    assert_eq!(more[0].1["run_id"], live.as_str(), "{more:?}");
    seen.extend(more.iter().map(|(id, _)| *id));

    // Disconnect mid-way, let more happen, resume from the last id received.
    drop(stream);
    let missed = env.start("noop", &[]);
    let now = all_ids(&env).await;
    let last = *seen.last().unwrap();
    let expected: Vec<i64> = now.iter().copied().filter(|id| *id > last).collect();
    assert!(!expected.is_empty());
    let mut resumed = Stream::open(&env, "?after=0", Some(last)).await;
    let got = resumed.take(expected.len()).await;
    assert_eq!(
        got.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        expected,
        "Last-Event-ID wins over ?after and resumes right after it"
    );
    assert!(got.iter().any(|(_, e)| e["run_id"] == missed.as_str()));
    seen.extend(got.iter().map(|(id, _)| *id));
    assert_eq!(seen, now, "every event once, in order");

    // ?after= resumes too, and nothing more is sent until something happens.
    let mut again = Stream::open(&env, &format!("?after={last}"), None).await;
    assert_eq!(again.take(expected.len()).await.len(), expected.len());
    let quiet = tokio::time::timeout(Duration::from_millis(300), again.take(1)).await;
    assert!(quiet.is_err(), "no events beyond the feed: {quiet:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_needs_a_token_and_a_valid_last_event_id() {
    let env = TestEnv::remote();
    let url = format!("{}/api/v1/events/stream", env.url());
    let client = reqwest::Client::new();
    let none = client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let bad = client
        .get(&url)
        .bearer_auth(env.admin_token())
        .header("Last-Event-ID", "not-a-number")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Last-Event-ID"),
        "{body}"
    );
}
