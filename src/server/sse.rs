//! `GET /api/v1/events/stream`: the event feed as server-sent events (DESIGN §9). Each SSE event
//! is one [`Event`] as JSON in `data:`, with the event id as its `id:`, so a client that drops
//! resumes where it left off with `Last-Event-ID` (or `?after=N`; the header wins) and gets
//! every later event once. A comment line is sent every [`KEEP_ALIVE`] so proxies keep the
//! connection open. The caller is authenticated and authorized when the stream opens (an error
//! is a normal JSON error response); if a later read fails (e.g. the token was revoked), the
//! stream ends.

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
use crate::model::Event;

/// How often an idle stream sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Events read from the plane at a time.
const PAGE: u32 = 500;

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

/// Where a stream is: the plane and caller, the last id sent, events read but not yet sent.
struct Cursor {
    state: AppState,
    who: Principal,
    after: i64,
    pending: VecDeque<Event>,
}

/// Fires when the server begins shutting down, so open streams end and the graceful shutdown
/// (which waits for in-flight responses) can finish.
#[derive(Clone)]
pub struct Closing(pub tokio::sync::watch::Receiver<bool>);

pub async fn stream(
    State(state): State<AppState>,
    closing: Option<axum::Extension<Closing>>,
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
    let cursor = Cursor {
        state,
        who,
        after: first.last().map_or(after.max(0), |e| e.id),
        pending: first.into(),
    };
    let events = futures_util::stream::unfold(cursor, next);
    let closed = async move {
        match closing {
            Some(axum::Extension(Closing(mut rx))) => {
                let _ = rx.wait_for(|closing| *closing).await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let events = futures_util::StreamExt::take_until(events, Box::pin(closed));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The next SSE event: a pending one, else the next page of the feed, waiting for changes.
async fn next(mut c: Cursor) -> Option<(Result<SseEvent, Infallible>, Cursor)> {
    loop {
        if let Some(event) = c.pending.pop_front() {
            let sse = SseEvent::default()
                .id(event.id.to_string())
                .json_data(&event)
                .ok()?;
            return Some((Ok(sse), c));
        }
        let page = c.state.plane.events(&c.who, c.after, PAGE).await.ok()?;
        match page.last() {
            Some(last) => {
                c.after = last.id;
                c.pending = page.into();
            }
            None => c.state.plane.wait_for_change(WAIT).await,
        }
    }
}
