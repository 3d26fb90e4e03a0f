//! The `http` executor: one request with the agent's shared client. Success is a status in
//! `expect_status` (any 2xx when empty); outputs are `status` and `body` (first 64 KiB).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{ExecContext, human, stop_requested};
use crate::model::{HttpSpec, LogStream, StepResult, StepTask};

/// The most of a response body kept as the `body` output.
pub(crate) const MAX_BODY: usize = 64 * 1024;

pub(super) async fn run(task: &StepTask, spec: &HttpSpec, mut ctx: ExecContext) -> StepResult {
    let method = match reqwest::Method::from_bytes(spec.method.to_ascii_uppercase().as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            return StepResult::failed(format!("invalid HTTP method {:?}", spec.method), None);
        }
    };
    let what = format!("{method} {}", spec.url);
    let mut req = ctx.http.request(method, &spec.url);
    for (name, value) in &spec.headers {
        req = req.header(name, value);
    }
    if let Some(json) = &spec.json {
        req = req.json(json);
    } else if let Some(body) = &spec.body {
        req = req.body(body.clone());
    }
    let timeout = task.timeout_ms.map(Duration::from_millis);
    if let Some(t) = timeout {
        req = req.timeout(t);
    }

    let started = Instant::now();
    let exchange = async {
        let mut resp = req.send().await?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await? {
            let room = MAX_BODY - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<_, reqwest::Error>((status, body, truncated))
    };
    let outcome = tokio::select! {
        r = exchange => Some(r),
        reason = stop_requested(&mut ctx.stop) => {
            let _ = reason;
            None
        }
    };
    let ms = started.elapsed().as_millis();
    let (status, body, truncated) = match outcome {
        None => {
            ctx.logs
                .push(LogStream::System, format!("{what} cancelled ({ms} ms)"));
            return StepResult::failed("cancelled", None);
        }
        Some(Err(e)) => {
            let msg = if e.is_timeout() {
                format!("timed out after {}", human(timeout.unwrap_or_default()))
            } else {
                describe(&e)
            };
            ctx.logs
                .push(LogStream::System, format!("{what} failed: {msg} ({ms} ms)"));
            return StepResult::failed(format!("{what}: {msg}"), None);
        }
        Some(Ok(r)) => r,
    };
    ctx.logs
        .push(LogStream::System, format!("{what} → {status} ({ms} ms)"));

    let mut text = String::from_utf8_lossy(&body).into_owned();
    if truncated {
        // Cutting bytes may split a character; lossy decoding already replaced it.
        ctx.logs.push(
            LogStream::System,
            format!("imx: response body cut to {} KiB", MAX_BODY / 1024),
        );
    }
    truncate_at_char(&mut text, MAX_BODY);
    let ok = if spec.expect_status.is_empty() {
        (200..300).contains(&status)
    } else {
        spec.expect_status.contains(&status)
    };
    let outputs = BTreeMap::from([
        ("status".to_string(), status.to_string()),
        ("body".to_string(), text),
    ]);
    if ok {
        StepResult::ok(outputs)
    } else {
        let expected = if spec.expect_status.is_empty() {
            "2xx".to_string()
        } else {
            spec.expect_status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut r = StepResult::failed(
            format!("{what}: unexpected status {status} (expected {expected})"),
            None,
        );
        r.outputs = outputs;
        r
    }
}

/// Cut `text` to at most `max` bytes, on a character boundary.
fn truncate_at_char(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// A reqwest error with its causes ("error sending request: connection refused").
fn describe(err: &reqwest::Error) -> String {
    let mut msg = if err.is_connect() {
        "cannot connect".to_string()
    } else if err.is_builder() {
        "invalid request".to_string()
    } else {
        err.to_string()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = cause.source();
    }
    msg
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::test_support::{ctx, lines, task};
    use super::super::{StopReason, execute};
    use super::*;
    use crate::model::{StepKind, StepOutcome};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-connection-at-a-time HTTP server answering every request with `status` and `body`
    /// (after `delay`); each received request (head and body) is sent on the channel.
    async fn server(
        status: u16,
        body: String,
        delay: Duration,
    ) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let tx = tx.clone();
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let len = text[..end]
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + len {
                                let _ = tx.send(text);
                                break;
                            }
                        }
                    }
                    tokio::time::sleep(delay).await;
                    let resp = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        (format!("http://{addr}"), rx)
    }

    fn http(method: &str, url: String) -> HttpSpec {
        HttpSpec {
            method: method.into(),
            url,
            headers: BTreeMap::new(),
            json: None,
            body: None,
            expect_status: Vec::new(),
        }
    }

    #[tokio::test]
    async fn posts_json_and_reports_status_and_body() {
        let (base, mut seen) = server(201, "created".into(), Duration::ZERO).await;
        let mut spec = http("post", format!("{base}/hooks/x"));
        spec.headers.insert("x-trace".into(), "abc".into());
        spec.json = Some(serde_json::json!({"text": "v1 ok"}));
        let (c, _tx) = ctx();
        let logs = c.logs.clone();
        let r = execute(&task(StepKind::Http(spec)), c).await;
        assert_eq!(r.outcome, StepOutcome::Succeeded, "{r:?}");
        assert_eq!(r.outputs["status"], "201");
        assert_eq!(r.outputs["body"], "created");
        let req = seen.recv().await.unwrap();
        assert!(req.starts_with("POST /hooks/x HTTP/1.1"), "{req}");
        assert!(req.to_ascii_lowercase().contains("x-trace: abc"), "{req}");
        assert!(
            req.to_ascii_lowercase()
                .contains("content-type: application/json")
        );
        assert!(req.ends_with(r#"{"text":"v1 ok"}"#), "{req}");
        let log = lines(&logs).join("\n");
        assert!(
            log.starts_with(&format!("POST {base}/hooks/x → 201 (")),
            "{log}"
        );
    }

    #[tokio::test]
    async fn unexpected_status_fails_but_keeps_outputs() {
        let (base, _seen) = server(500, "boom".into(), Duration::ZERO).await;
        let mut spec = http("GET", base);
        spec.body = Some("raw".into());
        let (c, _tx) = ctx();
        let r = execute(&task(StepKind::Http(spec.clone())), c).await;
        assert_eq!(r.outcome, StepOutcome::Failed);
        assert!(
            r.error
                .as_deref()
                .unwrap()
                .ends_with("unexpected status 500 (expected 2xx)")
        );
        assert_eq!(r.outputs["body"], "boom");

        spec.expect_status = vec![500];
        let (c, _tx) = ctx();
        let r = execute(&task(StepKind::Http(spec)), c).await;
        assert_eq!(r.outcome, StepOutcome::Succeeded);
    }

    #[tokio::test]
    async fn long_bodies_are_truncated() {
        let (base, _seen) = server(200, "x".repeat(MAX_BODY + 10), Duration::ZERO).await;
        let (c, _tx) = ctx();
        let r = execute(&task(StepKind::Http(http("GET", base))), c).await;
        assert_eq!(r.outputs["body"].len(), MAX_BODY);
    }

    #[tokio::test]
    async fn connection_refused_is_a_clear_failure() {
        // Bind then drop a listener to get a port nobody listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (c, _tx) = ctx();
        let r = execute(
            &task(StepKind::Http(http(
                "GET",
                format!("http://127.0.0.1:{port}/"),
            ))),
            c,
        )
        .await;
        let err = r.error.unwrap();
        assert!(err.contains("cannot connect"), "{err}");
        assert!(err.to_lowercase().contains("refused"), "{err}");
    }

    #[tokio::test]
    async fn slow_server_times_out_and_stop_cancels() {
        let (base, _seen) = server(200, "late".into(), Duration::from_secs(30)).await;
        let mut t = task(StepKind::Http(http("GET", base.clone())));
        t.timeout_ms = Some(200);
        let (c, _tx) = ctx();
        let r = execute(&t, c).await;
        assert!(
            r.error
                .as_deref()
                .unwrap()
                .ends_with("timed out after 200ms"),
            "{r:?}"
        );

        let t = task(StepKind::Http(http("GET", base)));
        let (c, tx) = ctx();
        let run = tokio::spawn(async move { execute(&t, c).await });
        tx.send(Some(StopReason::Revoked)).unwrap();
        assert_eq!(run.await.unwrap().error.as_deref(), Some("cancelled"));
    }

    #[test]
    fn truncation_respects_characters() {
        let mut s = "aé".to_string();
        truncate_at_char(&mut s, 2);
        assert_eq!(s, "a");
    }

    #[tokio::test]
    async fn bad_method_fails() {
        let (c, _tx) = ctx();
        let r = execute(
            &task(StepKind::Http(http("GE T", "http://127.0.0.1:1".into()))),
            c,
        )
        .await;
        assert!(r.error.unwrap().contains("invalid HTTP method"));
    }
}
