//! The messages a delivery sends: the webhook's JSON body (Standard Webhooks' `type`,
//! `timestamp`, `data`), the Slack incoming-webhook message, and the email's subject and text.
//! Each names the run, the workflow and the status, and for a failed run the failing step
//! and its last log lines (what the outbox processing gathered, see `store::*::notify`).

use serde_json::{Value, json};

use super::EventSummary;
use crate::model::short_id;

/// The `type` of a message: its events' kind, or `batch` when a grouping window collected
/// several kinds.
pub fn message_type(events: &[EventSummary]) -> String {
    match events.first() {
        Some(first) if events.iter().all(|e| e.kind == first.kind) => first.kind.clone(),
        Some(_) => "batch".into(),
        None => "test".into(),
    }
}

/// The webhook body.
pub fn webhook_body(delivery_id: &str, channel: &str, events: &[EventSummary], now: i64) -> Value {
    json!({
        "type": message_type(events),
        "timestamp": crate::model::time::json(now),
        "data": {
            "delivery": delivery_id,
            "channel": channel,
            "events": events,
        },
    })
}

/// One line about one event, for people.
pub fn headline(e: &EventSummary) -> String {
    let run = e
        .run_id
        .as_deref()
        .map(|r| format!(" run {}", short_id(r)))
        .unwrap_or_default();
    let what = match e.kind.as_str() {
        "run.failed" => "failed".to_string(),
        "run.succeeded" if e.data.get("recovered") == Some(&Value::Bool(true)) => {
            "recovered (succeeded after a failure)".to_string()
        }
        "run.succeeded" => "succeeded".to_string(),
        "run.timed_out" => "timed out".to_string(),
        "run.cancelled" => "was cancelled".to_string(),
        "run.duration_over" => "is taking too long".to_string(),
        "run.stuck" => "has made no progress".to_string(),
        "schedule.missed" => format!(
            "missed a scheduled run ({})",
            e.data
                .get("why")
                .and_then(Value::as_str)
                .unwrap_or("missed")
        ),
        "test" => "test message from imx".to_string(),
        "step.waiting" => format!(
            "waits for approval at step {:?} (imx run approve{run} {})",
            e.data.get("step").and_then(Value::as_str).unwrap_or("?"),
            e.data.get("step").and_then(Value::as_str).unwrap_or("STEP"),
        ),
        other => other.to_string(),
    };
    format!("{}{run} {what}", e.workflow)
}

/// The details under a headline: the error, the failing step and its last log lines.
pub fn details(e: &EventSummary) -> String {
    let mut out = String::new();
    if let Some(err) = e.data.get("error").and_then(Value::as_str) {
        out.push_str(err);
        out.push('\n');
    }
    if let Some(step) = e.data.get("failed_step").and_then(Value::as_str) {
        out.push_str(&format!("failing step: {step}\n"));
    }
    if let Some(lines) = e.data.get("log_tail").and_then(Value::as_array)
        && !lines.is_empty()
    {
        out.push_str("last log lines:\n");
        for l in lines.iter().filter_map(Value::as_str) {
            out.push_str("  ");
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// The Slack incoming-webhook message (`text` in Slack's mrkdwn).
pub fn slack_body(events: &[EventSummary]) -> Value {
    let mut text = String::new();
    for e in events {
        let icon = match e.kind.as_str() {
            "run.succeeded" | "test" => ":large_green_circle:",
            "run.cancelled" => ":white_circle:",
            "step.waiting" => ":large_yellow_circle:",
            _ => ":red_circle:",
        };
        text.push_str(&format!("{icon} *{}*\n", headline(e)));
        let more = details(e);
        if !more.is_empty() {
            text.push_str(&format!("```{}```\n", more.trim_end()));
        }
    }
    json!({ "text": text.trim_end() })
}

/// The email's subject and plain-text body.
pub fn email(events: &[EventSummary]) -> (String, String) {
    let subject = match events {
        [one] => format!("[imx] {}", headline(one)),
        many => format!("[imx] {} notifications", many.len()),
    };
    let mut body = String::new();
    for e in events {
        body.push_str(&headline(e));
        body.push('\n');
        body.push_str(&details(e));
        body.push('\n');
    }
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> EventSummary {
        EventSummary {
            kind: "run.failed".into(),
            workflow: "deploy".into(),
            run_id: Some("01HRUN0000000000000000000".into()),
            at: 1_700_000_000_000,
            data: json!({
                "status": "failed",
                "error": "step \"test\" failed: exit code 3",
                "failed_step": "test",
                "log_tail": ["running tests", "FAIL: widget"],
            }),
        }
    }

    #[test]
    fn slack_and_email_name_the_run_the_step_and_its_last_lines() {
        let slack = slack_body(&[failed()]);
        let text = slack["text"].as_str().unwrap_or_default();
        for want in [
            "deploy run 01HRUN000000 failed",
            "failing step: test",
            "FAIL: widget",
        ] {
            assert!(text.contains(want), "{want:?} in {text}");
        }
        let (subject, body) = email(&[failed()]);
        assert_eq!(subject, "[imx] deploy run 01HRUN000000 failed");
        assert!(body.contains("FAIL: widget"), "{body}");
        let (subject, _) = email(&[failed(), failed()]);
        assert_eq!(subject, "[imx] 2 notifications");
    }

    #[test]
    fn the_webhook_body_has_type_timestamp_and_data() {
        let body = webhook_body("d1", "ops", &[failed()], 1_700_000_000_000);
        assert_eq!(body["type"], "run.failed");
        assert_eq!(body["timestamp"], "2023-11-14T22:13:20.000Z");
        assert_eq!(body["data"]["events"][0]["data"]["failed_step"], "test");
        let mut other = failed();
        other.kind = "run.timed_out".into();
        assert_eq!(message_type(&[failed(), other]), "batch");
    }
}
