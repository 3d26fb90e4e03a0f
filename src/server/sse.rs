//! `GET /api/v1/events/stream`: the event feed as server-sent events (DESIGN §9). Each SSE event
//! is one [`Event`] as JSON in `data:`, with the event id as its `id:`, so a client that drops
//! resumes where it left off with `Last-Event-ID` (or `?after=N`; the header wins) and gets
//! every later event once.
//!
//! Log lines are not events, but followers (`run logs -f`) must see them at once: when runs get
//! new output, the stream sends an SSE event named `logs` whose `data:` is a [`LogMark`] (the
//! run and its newest line id) and which has no `id:` (it is a hint, not part of the feed: a
//! client reads the lines with `GET /api/v1/runs/{id}/logs?after=`). Marks start from the
//! newest line when the stream opens; clients that only want events can ignore named events
//! (an `EventSource`'s `onmessage` does).
//!
//! An idle stream sends a comment line every [`KEEP_ALIVE`], so proxies keep the connection
//! open and clients can tell a quiet stream from a dead one. The caller is authenticated and authorized when the stream opens (an error is a normal
//! JSON error response); if a later read fails (e.g. the token was revoked), the stream ends.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::auth::Principal;
use crate::model::{Event, LogMark};

/// How often an idle stream sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One event of the stream as a client parses it: the OpenAPI schema of each event of
/// `text/event-stream` (the document describes the stream, never builds one).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StreamEvent {
    /// `message` (its `data` is an Event) or `logs` (its `data` is a LogMark).
    #[schema(pattern = "^(message|logs)$")]
    event: String,
    /// JSON: an Event, or a LogMark for `logs` events.
    data: String,
    /// The event's id (`message` events; a client resumes after it with `Last-Event-ID`).
    #[schema(pattern = "^[0-9]+$")]
    id: Option<String>,
}

/// Events (and log marks) read from the plane at a time.
const PAGE: u32 = 500;

/// An extension on the router that makes idle streams send keep-alive comments this often
/// instead of every [`KEEP_ALIVE`] (tests use a short one).
#[derive(Clone, Copy)]
pub struct KeepAliveEvery(pub Duration);

/// How long to wait for a change before reading again regardless.
const WAIT: Duration = Duration::from_secs(30);

/// `?after=N`: stream events with id greater than N (0, the default: from the start; negative:
/// from the newest event on).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    #[serde(default)]
    pub after: i64,
}

/// Where a stream is: the plane and caller, the last id sent, events read but not yet sent, and
/// the same for log marks.
struct Cursor {
    state: AppState,
    who: Principal,
    after: i64,
    pending: VecDeque<Event>,
    /// The newest log line told of; `None` when the plane has no log marks.
    logs_after: Option<i64>,
    marks: VecDeque<LogMark>,
}

/// When open streams end: when the server begins shutting down (so the graceful shutdown, which
/// waits for in-flight responses, can finish), and after `lifetime` if one is set (a client
/// resumes with `Last-Event-ID`, as after any drop).
#[derive(Clone)]
pub struct Closing {
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub lifetime: Option<Duration>,
}

pub async fn stream(
    State(state): State<AppState>,
    closing: Option<axum::Extension<Closing>>,
    keep_alive: Option<axum::Extension<KeepAliveEvery>>,
    Caller(who): Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let after = match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                crate::Error::invalid("Last-Event-ID must be an event id (an integer)")
            })?,
        None => q.after,
    };
    // The first read happens before the response, so a forbidden caller gets a 403, not a
    // stream that ends at once.
    let first = state.plane.events(&who, after, PAGE).await?;
    let logs_after = match state.plane.log_marks(&who, -1, 1).await {
        Ok(newest) => Some(newest.first().map_or(0, |m| m.last_id)),
        Err(_) => None,
    };
    let cursor = Cursor {
        state,
        who,
        after: first.last().map_or(after.max(0), |e| e.id),
        pending: first.into(),
        logs_after,
        marks: VecDeque::new(),
    };
    let events = futures_util::stream::unfold(cursor, next);
    let closed = async move {
        match closing {
            Some(axum::Extension(Closing {
                mut shutdown,
                lifetime,
            })) => {
                let aged = async {
                    match lifetime {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = shutdown.wait_for(|closing| *closing) => {}
                    () = aged => {}
                }
            }
            None => std::future::pending::<()>().await,
        }
    };
    let events = futures_util::StreamExt::take_until(events, Box::pin(closed));
    let every = keep_alive.map_or(KEEP_ALIVE, |axum::Extension(KeepAliveEvery(d))| d);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(every)))
}

/// The next SSE event: a pending event or log mark, else the next page of the feed, else of the
/// log marks, waiting for changes.
async fn next(mut c: Cursor) -> Option<(Result<SseEvent, Infallible>, Cursor)> {
    loop {
        if let Some(event) = c.pending.pop_front() {
            let sse = SseEvent::default()
                .id(event.id.to_string())
                .json_data(&event)
                .ok()?;
            return Some((Ok(sse), c));
        }
        if let Some(mark) = c.marks.pop_front() {
            let sse = SseEvent::default().event("logs").json_data(&mark).ok()?;
            return Some((Ok(sse), c));
        }
        // Where the feed is before reading: a change committed after this wakes the wait below
        // at once, even if another follower of the plane saw it first.
        let seen = c.state.plane.change_seq();
        let page = c.state.plane.events(&c.who, c.after, PAGE).await.ok()?;
        if let Some(last) = page.last() {
            c.after = last.id;
            c.pending = page.into();
            continue;
        }
        if let Some(after) = c.logs_after {
            let marks = c.state.plane.log_marks(&c.who, after, PAGE).await.ok()?;
            if let Some(last) = marks.last() {
                c.logs_after = Some(last.last_id);
                c.marks = marks.into();
                continue;
            }
        }
        c.state.plane.wait_for_change_since(seen, WAIT).await;
    }
}
