//! Change hints sent after commit, not with it. A NOTIFY inside a transaction makes its commit
//! take a lock every notifying transaction of the database shares, and hold it through the
//! commit's WAL flush (PostgreSQL serializes notifying commits so that notifications queue in
//! commit order). Every claim and completion notifies, so with hints sent at commit the
//! replicas' commits went through that lock one flush at a time, whatever rows they touched.
//!
//! So while the wake-up listener ([`super::wakeup`]) is connected, a write transaction leaves
//! its change hint out of its commit and pokes the listener's connection instead, which sends
//! `NOTIFY` on its own (asynchronous commit: a hint needs no flush). Pokes that come while a
//! hint is being sent fold into one more hint. A poke that finds the connection gone (or whose
//! hint failed) waits for the next connection, which sends it first; the waiters' poll covers
//! what a crash loses.
//! Token hints stay in their transactions: they go with a row change (`auth_epoch`) pollers
//! read, and are rare.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use tokio_postgres::Client;

use super::wakeup::CHANGES;

/// How long a hint waits after the first poke, for the pokes after it (a replica's waiters
/// are woken at the poke; other replicas' hear this much later at most).
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// The listener connection's side of sending change hints (one per store).
pub struct Hinter {
    poke: Notify,
    live: AtomicBool,
    /// Tests: hints wait while this is set.
    #[cfg(test)]
    held: tokio::sync::watch::Sender<bool>,
}

impl Default for Hinter {
    fn default() -> Self {
        Hinter::new()
    }
}

impl Hinter {
    /// A hinter, not live until a listener serves it.
    pub fn new() -> Hinter {
        Hinter {
            poke: Notify::new(),
            live: AtomicBool::new(false),
            #[cfg(test)]
            held: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Whether a connection is ready to send hints: a committing transaction may leave its
    /// change hint to [`poke`](Self::poke).
    pub fn live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// A transaction committed changes: send a hint (soon, once for every poke meanwhile).
    /// This replica's own waiters are woken by the store as it returns from the write
    /// (`Backend::write_tx`); the listener passes over the hints this connection sends.
    pub fn poke(&self) {
        self.poke.notify_one();
    }

    /// Send hints on `channel` from `client` when poked, until the connection fails (a poke
    /// left from before, whose hint was not sent, first).
    pub(super) async fn serve(&self, client: &Client, channel: &str) {
        // A hint is no data: its transaction need not wait for the disk.
        if client
            .batch_execute("SET synchronous_commit = off")
            .await
            .is_err()
        {
            return;
        }
        let sql = format!("NOTIFY \"{channel}\", '{CHANGES}'");
        self.live.store(true, Ordering::Release);
        loop {
            self.poke.notified().await;
            // Not at once: the commit's reply and what follows it go first, and the commits
            // of the next moment share this hint.
            tokio::time::sleep(GATHER).await;
            let _ = futures_util::FutureExt::now_or_never(self.poke.notified());
            #[cfg(test)]
            let _ = self.held.subscribe().wait_for(|held| !held).await;
            if let Err(e) = client.batch_execute(&sql).await {
                tracing::debug!("a change hint was not sent: {e}");
                // For the next connection to send.
                self.poke.notify_one();
                break;
            }
        }
        self.live.store(false, Ordering::Release);
    }

    /// Tests: hold hints back (`true`) or let them go.
    #[cfg(test)]
    pub(super) fn hold(&self, held: bool) {
        self.held.send_replace(held);
    }

    /// The connection is gone (its task stopped or lost it).
    pub(super) fn down(&self) {
        self.live.store(false, Ordering::Release);
    }
}
