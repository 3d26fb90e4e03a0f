//! Connects the wake-up listener ([`super::wakeup`]) to a [`PgStore`](super::PgStore)'s
//! change feed: a hint from another replica moves the feed (dispatch, SSE and log follow look
//! again), a tokens hint moves its tokens-and-users counter (token caches forget).
//!
//! The listener holds a connection of its own, so it starts only when wanted: when the first
//! waiter waits on the feed, or at once for a server ([`FeedWakeups::start`]). A command that
//! opens the store briefly never makes that connection.

use std::sync::{Arc, Mutex, Weak};

use tokio::runtime::Handle;

use super::config::PgConfig;
use super::hinter::Hinter;
use super::wakeup::{WakeOptions, Wakeups};
use crate::store::feed::ChangeFeed;

/// The listener of one store, started on demand.
pub struct FeedWakeups {
    config: PgConfig,
    /// The store's bridge runtime, which the listener's tasks run on.
    handle: Handle,
    feed: Weak<ChangeFeed>,
    opts: Mutex<WakeOptions>,
    running: Mutex<Option<Wakeups>>,
    /// Sends this store's change hints on the listener's connection once it listens.
    hinter: Arc<Hinter>,
}

impl FeedWakeups {
    /// Wake-ups for `feed`; the feed starts them the first time someone waits on it.
    pub fn new(config: PgConfig, handle: Handle, feed: &Arc<ChangeFeed>) -> Arc<FeedWakeups> {
        let wake = Arc::new(FeedWakeups {
            config,
            handle,
            feed: Arc::downgrade(feed),
            opts: Mutex::new(WakeOptions::default()),
            running: Mutex::new(None),
            hinter: Arc::new(Hinter::new()),
        });
        let w = Arc::downgrade(&wake);
        feed.start_on_first_wait(move || {
            if let Some(w) = w.upgrade() {
                w.start();
            }
        });
        wake
    }

    /// How to wake (before they start; ignored after).
    pub fn configure(&self, opts: WakeOptions) {
        *self.opts.lock().unwrap_or_else(|p| p.into_inner()) = opts;
    }

    /// Start listening (or polling) now, if not yet started.
    pub fn start(&self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return;
        }
        let opts = self.opts.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let _ctx = self.handle.enter();
        let mut w = Wakeups::start_with(self.config.clone(), opts, self.hinter.clone());
        let mut hints = w.hint_receiver();
        let mut tokens = w.token_receiver();
        let feed = self.feed.clone();
        w.forward = Some(tokio::spawn(async move {
            loop {
                let tokens_changed = tokio::select! {
                    r = hints.changed() => match r {
                        Ok(()) => false,
                        Err(_) => return,
                    },
                    r = tokens.changed() => match r {
                        Ok(()) => true,
                        Err(_) => return,
                    },
                };
                let Some(feed) = feed.upgrade() else { return };
                if tokens_changed {
                    feed.notify_auth();
                } else {
                    feed.notify_local();
                }
            }
        }));
        *running = Some(w);
    }

    /// What sends this store's change hints after commit (see [`super::hinter`]).
    pub fn hinter(&self) -> &Hinter {
        &self.hinter
    }

    /// Wait until the listener has (re)connected `n` times (tests; readiness).
    pub async fn listening(&self, n: u64) {
        let sessions = {
            let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            running.as_ref().map(|w| w.session_receiver())
        };
        if let Some(mut s) = sessions {
            let _ = s.wait_for(|v| *v >= n).await;
        }
    }
}
