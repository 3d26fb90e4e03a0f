//! Wake-ups across replicas: LISTEN on a dedicated connection turns the database's NOTIFY into a
//! debounced hint ("something changed, look again"), with polling as the safety net. A hint may
//! be lost (the connection broke, the listener was not yet connected), so whoever waits still
//! looks every poll interval; after every (re)connection the listener wakes its waiters once,
//! because notifications sent meanwhile are gone. With `listen` off (PgBouncer in transaction
//! pooling mode, where LISTEN does not work) waiting is polling alone.
//!
//! Writers send hints in their transaction with [`notify`]: PostgreSQL delivers them at commit
//! (and folds identical ones of one transaction into one).

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::AsyncMessage;

use super::config::PgConfig;
use super::errors::PgResult;

/// How the listener behaves.
#[derive(Debug, Clone)]
pub struct WakeOptions {
    /// The channel (lower-case letters, digits and `_`).
    pub channel: String,
    /// Hints closer together than this wake waiters once more at the end of the window, not once
    /// each: the first wakes them at once, so dispatch stays fast.
    pub debounce: Duration,
    /// Waiters look again this often whatever the hints.
    pub poll: Duration,
    /// Listen at all (`--no-listen` turns it off).
    pub listen: bool,
}

impl Default for WakeOptions {
    fn default() -> Self {
        WakeOptions {
            channel: "imx_changes".into(),
            debounce: Duration::from_millis(5),
            poll: Duration::from_secs(1),
            listen: true,
        }
    }
}

/// The listener: a task holding its own connection, reconnecting when it breaks.
pub struct Wakeups {
    hints: watch::Receiver<u64>,
    sessions: watch::Receiver<u64>,
    poll: Duration,
    task: Option<JoinHandle<()>>,
}

/// Why [`Waiter::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A hint came (or the listener reconnected).
    Hint,
    /// The poll interval passed.
    Poll,
}

/// One waiter's view of the hints.
#[derive(Clone)]
pub struct Waiter {
    hints: watch::Receiver<u64>,
    poll: Duration,
}

impl Waiter {
    /// Wait for a hint newer than the last one this waiter saw, or the poll interval.
    pub async fn wait(&mut self) -> Wake {
        match tokio::time::timeout(self.poll, self.hints.changed()).await {
            Ok(Ok(())) => Wake::Hint,
            // The listener is gone (or was never started): polling alone.
            Ok(Err(_)) => {
                tokio::time::sleep(self.poll).await;
                Wake::Poll
            }
            Err(_) => Wake::Poll,
        }
    }
}

impl Wakeups {
    /// Start listening (unless `opts.listen` is off).
    pub fn start(cfg: PgConfig, opts: WakeOptions) -> Wakeups {
        let (hint_tx, hints) = watch::channel(0u64);
        let (session_tx, sessions) = watch::channel(0u64);
        let poll = opts.poll;
        let task = opts
            .listen
            .then(|| tokio::spawn(listen(cfg, opts, hint_tx, session_tx)));
        Wakeups {
            hints,
            sessions,
            poll,
            task,
        }
    }

    /// A waiter (each keeps its own place in the hints).
    pub fn waiter(&self) -> Waiter {
        let mut hints = self.hints.clone();
        hints.mark_unchanged();
        Waiter {
            hints,
            poll: self.poll,
        }
    }

    /// Hints delivered so far (each debounced burst counts once).
    pub fn hints(&self) -> u64 {
        *self.hints.borrow()
    }

    /// How many times the listener has connected and listened.
    pub fn sessions(&self) -> u64 {
        *self.sessions.borrow()
    }

    /// Wait until the listener has listened `n` times (tests; readiness).
    pub async fn listening(&self, n: u64) {
        let mut s = self.sessions.clone();
        let _ = s.wait_for(|v| *v >= n).await;
    }
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Send a hint on `channel` from inside a transaction (delivered at its commit).
pub async fn notify(
    client: &impl tokio_postgres::GenericClient,
    channel: &str,
    payload: &str,
) -> PgResult<()> {
    client
        .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .await?;
    Ok(())
}

async fn listen(
    cfg: PgConfig,
    opts: WakeOptions,
    hints: watch::Sender<u64>,
    sessions: watch::Sender<u64>,
) {
    let channel: String = opts
        .channel
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut pause = Duration::from_millis(50);
    loop {
        let (msg_tx, mut msgs) = mpsc::unbounded_channel();
        match cfg.connect(Some(msg_tx)).await {
            Ok(client) => match client.batch_execute(&format!("LISTEN \"{channel}\"")).await {
                Ok(()) => {
                    pause = Duration::from_millis(50);
                    sessions.send_modify(|n| *n += 1);
                    // Hints sent while we were not listening are lost: look again now.
                    hints.send_modify(|n| *n += 1);
                    pump(&mut msgs, &hints, opts.debounce).await;
                    tracing::debug!("wake-up listener lost its connection; reconnecting");
                    drop(client);
                }
                Err(e) => tracing::debug!("LISTEN failed: {e}"),
            },
            Err(e) => tracing::debug!("wake-up listener cannot connect: {e}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Turn notifications into hints until the connection ends: the first of a burst at once, the
/// rest folded into one at the end of the debounce window.
async fn pump(
    msgs: &mut mpsc::UnboundedReceiver<AsyncMessage>,
    hints: &watch::Sender<u64>,
    debounce: Duration,
) {
    let mut last = Instant::now()
        .checked_sub(debounce)
        .unwrap_or_else(Instant::now);
    let mut pending = false;
    loop {
        let flush = tokio::time::sleep_until(last + debounce);
        tokio::select! {
            msg = msgs.recv() => match msg {
                Some(AsyncMessage::Notification(_)) => {
                    if last.elapsed() >= debounce {
                        hints.send_modify(|n| *n += 1);
                        last = Instant::now();
                    } else {
                        pending = true;
                    }
                }
                Some(_) => {}
                None => return,
            },
            () = flush, if pending => {
                hints.send_modify(|n| *n += 1);
                last = Instant::now();
                pending = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::store::postgres::testdb::{TempPostgres, TestDb};

    const DEADLINE: Duration = Duration::from_secs(30);

    async fn send(cfg: &PgConfig, n: usize) {
        let c = cfg.connect(None).await.unwrap();
        for i in 0..n {
            notify(&c, "imx_changes", &i.to_string()).await.unwrap();
        }
    }

    fn opts() -> WakeOptions {
        WakeOptions {
            poll: Duration::from_secs(60),
            ..WakeOptions::default()
        }
    }

    #[tokio::test]
    async fn a_notify_wakes_a_waiter_and_a_burst_wakes_it_a_few_times_only() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let cfg = PgConfig::parse(&db.url()).unwrap();
        let w = Wakeups::start(cfg.clone(), opts());
        tokio::time::timeout(DEADLINE, w.listening(1))
            .await
            .unwrap();
        let mut waiter = w.waiter();
        send(&cfg, 1).await;
        let woke = tokio::time::timeout(DEADLINE, waiter.wait()).await.unwrap();
        assert_eq!(woke, Wake::Hint);
        let before = w.hints();
        send(&cfg, 200).await;
        // The burst's last hint arrives at most one debounce window after its last notify.
        tokio::time::timeout(DEADLINE, waiter.wait()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let burst = w.hints() - before;
        assert!(
            (1..200).contains(&burst),
            "200 notifications, {burst} hints"
        );
    }

    #[tokio::test]
    async fn without_listen_waiting_is_polling() {
        let cfg = PgConfig::parse("postgres://nobody@127.0.0.1:1/none").unwrap();
        let w = Wakeups::start(
            cfg,
            WakeOptions {
                listen: false,
                poll: Duration::from_millis(20),
                ..WakeOptions::default()
            },
        );
        let mut waiter = w.waiter();
        assert_eq!(waiter.wait().await, Wake::Poll);
        assert_eq!(w.sessions(), 0, "no connection was made");
    }

    /// The database restarts (as after a crash): the listener reconnects by itself, and a
    /// notify sent after the restart wakes the waiter.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_listener_reconnects_after_the_database_restarts() {
        let Some(pg) = tokio::task::spawn_blocking(TempPostgres::start)
            .await
            .unwrap()
        else {
            return;
        };
        let cfg = PgConfig::parse(&pg.url("postgres")).unwrap();
        let w = Wakeups::start(cfg.clone(), opts());
        tokio::time::timeout(DEADLINE, w.listening(1))
            .await
            .unwrap();
        let pg = std::sync::Arc::new(pg);
        let p = pg.clone();
        tokio::task::spawn_blocking(move || p.restart())
            .await
            .unwrap();
        tokio::time::timeout(DEADLINE, w.listening(2))
            .await
            .expect("the listener listens again");
        let mut waiter = w.waiter();
        send(&cfg, 1).await;
        assert_eq!(
            tokio::time::timeout(DEADLINE, waiter.wait()).await.unwrap(),
            Wake::Hint
        );
    }
}
