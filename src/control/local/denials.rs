//! Denied requests in the audit trail, coalesced: a client that keeps asking for what it may not
//! do must not write one record per request (a viewer polling a forbidden endpoint wrote ~3,600
//! rows in 3.5 minutes).
//!
//! Denials are grouped by principal (name, role, source), action and target in windows of
//! [`WINDOW_MS`]. The first denial of a window is appended at once, as before, with
//! `details: {"count": 1}`, so a denial is never hidden for a minute. Repeats within the window
//! only count, in memory; when the window is flushed they are appended as one more `denied`
//! record with `details: {"count": N, "repeated": true, "first": T, "last": T}` (RFC 3339 times). Every record is
//! an ordinary append, so the hash chain verifies as before, and the `count`s of a key's records
//! add up to its denials.
//!
//! Windows are flushed when a denial of the same key comes after the window ended, when the
//! control plane looks for due work (`maybe_reap`: the server does this several times a second),
//! before every read of the audit trail or backup through this control plane (so what is read is
//! complete), and when the control plane is dropped. A process killed with pending repeats loses
//! those counts (at most one window's worth per key); the first denial of each window is always
//! on record. At most [`MAX_OPEN`] windows are kept: past that, all are flushed at once.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::json;

use crate::audit;
use crate::auth::{Principal, Role};
use crate::model::{now_ms, time};
use crate::store::Backend;

/// How long one window of repeated denials lasts.
pub const WINDOW_MS: i64 = 60_000;

/// The most windows kept open at once (distinct principal × action × target).
pub const MAX_OPEN: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    actor: String,
    role: Role,
    source: String,
    action: String,
    target: String,
    /// Why, when the denial says (a webhook's bad signature, say): part of the key, so each
    /// reason has its own window, and in each record's details.
    reason: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: i64,
    /// Denials after the first, not yet on record.
    repeats: u64,
    first_repeat: i64,
    last_repeat: i64,
}

/// The open windows of one control plane.
#[derive(Debug, Default)]
pub struct Denials {
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    windows: HashMap<Key, Window>,
    /// No window ends before this (epoch ms), so most denials need not look at the others.
    next_end: i64,
}

impl Open {
    /// Remove the windows `ended` says are over; return those with repeats to put on record.
    fn take(&mut self, ended: impl Fn(&Window) -> bool) -> Vec<(Key, Window)> {
        let mut due = Vec::new();
        let mut next_end = i64::MAX;
        self.windows.retain(|k, w| {
            if !ended(w) {
                next_end = next_end.min(w.opened + WINDOW_MS);
                return true;
            }
            if w.repeats > 0 {
                due.push((k.clone(), *w));
            }
            false
        });
        self.next_end = next_end;
        due.sort_by_key(|(_, w)| w.first_repeat);
        due
    }
}

impl Denials {
    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Put one denial on record (best effort, like every denial record: the request is refused
    /// either way).
    pub fn record(&self, store: &dyn Backend, who: &Principal, action: &str, target: &str) {
        self.record_key(store, who, action, target, None);
    }

    /// [`record`](Self::record) a denial that says why (`details.reason`).
    pub fn record_because(
        &self,
        store: &dyn Backend,
        who: &Principal,
        action: &str,
        target: &str,
        reason: &str,
    ) {
        self.record_key(store, who, action, target, Some(reason.to_string()));
    }

    fn record_key(
        &self,
        store: &dyn Backend,
        who: &Principal,
        action: &str,
        target: &str,
        reason: Option<String>,
    ) {
        let now = now_ms();
        let key = Key {
            actor: who.name.clone(),
            role: who.role,
            source: who.source.clone(),
            action: action.into(),
            target: target.into(),
            reason,
        };
        let first_reason = key.reason.clone();
        let (due, first) = {
            let mut open = self.lock();
            let mut due = if now >= open.next_end {
                open.take(|w| now - w.opened >= WINDOW_MS)
            } else {
                Vec::new()
            };
            let first = match open.windows.get_mut(&key) {
                Some(w) => {
                    if w.repeats == 0 {
                        w.first_repeat = now;
                    }
                    w.repeats += 1;
                    w.last_repeat = now;
                    false
                }
                None => {
                    if open.windows.len() >= MAX_OPEN {
                        due.extend(open.take(|_| true));
                    }
                    if open.windows.is_empty() {
                        open.next_end = now + WINDOW_MS;
                    }
                    open.windows.insert(
                        key,
                        Window {
                            opened: now,
                            repeats: 0,
                            first_repeat: now,
                            last_repeat: now,
                        },
                    );
                    true
                }
            };
            (due, first)
        };
        if due.is_empty() && !first {
            return;
        }
        let _ = store.write(|tx| {
            append_repeats(tx, &due)?;
            if first {
                let mut details = json!({ "count": 1 });
                if let Some(r) = &first_reason {
                    details["reason"] = json!(r);
                }
                audit::append(tx, who, action, target, "denied", details)?;
            }
            Ok(())
        });
    }

    /// Put the repeats of windows that have ended on record.
    pub fn flush_ended(&self, store: &dyn Backend) {
        let now = now_ms();
        if now < self.lock().next_end {
            return;
        }
        self.flush_where(store, |w| now - w.opened >= WINDOW_MS);
    }

    /// Put every pending repeat on record and close every window.
    pub fn flush_all(&self, store: &dyn Backend) {
        self.flush_where(store, |_| true);
    }

    fn flush_where(&self, store: &dyn Backend, ended: impl Fn(&Window) -> bool) {
        let due = {
            let mut open = self.lock();
            if open.windows.is_empty() {
                return;
            }
            open.take(ended)
        };
        if due.is_empty() {
            return;
        }
        let _ = store.write(|tx| append_repeats(tx, &due));
    }
}

fn append_repeats(tx: &dyn audit::AuditStore, due: &[(Key, Window)]) -> crate::Result<()> {
    for (k, w) in due {
        let who = Principal {
            name: k.actor.clone(),
            role: k.role,
            source: k.source.clone(),
        };
        let mut details = json!({
            "count": w.repeats,
            "repeated": true,
            "first": time::json(w.first_repeat),
            "last": time::json(w.last_repeat),
        });
        if let Some(r) = &k.reason {
            details["reason"] = json!(r);
        }
        audit::append(tx, &who, &k.action, &k.target, "denied", details)?;
    }
    Ok(())
}
