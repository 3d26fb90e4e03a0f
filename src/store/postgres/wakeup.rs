//! Wake-ups across replicas: LISTEN on a dedicated connection turns the database's NOTIFY into a
//! debounced hint ("something changed, look again"), with polling as the safety net. A hint may
//! be lost (the connection broke, the listener was not yet connected), so whoever waits still
//! looks every poll interval; after every (re)connection the listener wakes its waiters once,
//! because notifications sent meanwhile are gone. With `listen` off (PgBouncer in transaction
//! pooling mode, where LISTEN does not work) waiting is polling alone: a poller asks the
//! database every poll interval whether any write transaction began or ended since (its
//! snapshot moved) and whether tokens or users changed (the `auth_epoch` row of `meta`).
//!
//! Two kinds of hint travel on one channel, told apart by their payload: [`CHANGES`] (runs,
//! steps, events, log lines: waiters look again) and [`TOKENS`] (a token was revoked or a user
//! changed: token caches forget). Writers send them at commit ([`commit_sql`], from
//! `PgTx::commit`): PostgreSQL delivers them then, and folds identical ones of one transaction
//! into one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::{AsyncMessage, SimpleQueryMessage};

use super::config::PgConfig;
use super::errors::PgResult;
use super::hinter::Hinter;

/// The channel hints travel on.
pub const CHANNEL: &str = "imx_changes";
/// The payload of a hint that runs, steps, events or log lines changed.
pub const CHANGES: &str = "c";
/// The payload of a hint that tokens or users changed.
pub const TOKENS: &str = "t";
/// How often waiting polls with `listen` off (`imx server --no-listen`).
pub const POLL: Duration = Duration::from_millis(250);

/// What a write transaction sends just before it commits: a change hint, a tokens hint (and
/// the `auth_epoch` bump pollers see), both or neither (`None`).
pub fn commit_sql(changes: bool, tokens: bool) -> Option<String> {
    let mut sql = String::new();
    if tokens {
        sql.push_str(
            "INSERT INTO meta (key, value) VALUES ('auth_epoch', '1') ON CONFLICT (key) \
             DO UPDATE SET value = (meta.value::bigint + 1)::text; ",
        );
        sql.push_str(&format!("NOTIFY {CHANNEL}, '{TOKENS}'; "));
    }
    if changes {
        sql.push_str(&format!("NOTIFY {CHANNEL}, '{CHANGES}'; "));
    }
    (!sql.is_empty()).then_some(sql)
}

/// How the listener behaves.
#[derive(Debug, Clone)]
pub struct WakeOptions {
    /// The channel (lower-case letters, digits and `_`).
    pub channel: String,
    /// Hints closer together than this wake waiters once more at the end of the window, not once
    /// each: the first wakes them at once, so dispatch stays fast.
    pub debounce: Duration,
    /// Waiters look again this often whatever the hints; with `listen` off, the poller asks
    /// the database this often.
    pub poll: Duration,
    /// Listen at all (`--no-listen` turns it off).
    pub listen: bool,
}

impl Default for WakeOptions {
    fn default() -> Self {
        WakeOptions {
            channel: CHANNEL.into(),
            debounce: Duration::from_millis(5),
            poll: POLL,
            listen: true,
        }
    }
}

/// The listener (or, with `listen` off, the poller): a task holding its own connection,
/// reconnecting when it breaks.
pub struct Wakeups {
    hints: watch::Receiver<u64>,
    tokens: watch::Receiver<u64>,
    sessions: watch::Receiver<u64>,
    poll: Duration,
    task: Option<JoinHandle<()>>,
    /// A task passing the hints on (see `wake_feed`), stopped with the listener.
    pub(super) forward: Option<JoinHandle<()>>,
}

/// Where the listener's task sends what it learns.
struct Senders {
    hints: watch::Sender<u64>,
    tokens: watch::Sender<u64>,
    sessions: watch::Sender<u64>,
}

impl Senders {
    fn bump(tx: &watch::Sender<u64>) {
        tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A (re)connection: whatever was sent meanwhile is lost, so everyone looks again.
    fn connected(&self) {
        Self::bump(&self.sessions);
        Self::bump(&self.hints);
        Self::bump(&self.tokens);
    }
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
    /// Start listening (with `opts.listen` off: polling), on the current runtime.
    pub fn start(cfg: PgConfig, opts: WakeOptions) -> Wakeups {
        Self::start_with(cfg, opts, Arc::new(Hinter::new()))
    }

    /// [`start`](Self::start), the listener's connection also sending the change hints
    /// `hinter` is poked for (see [`super::hinter`]).
    pub fn start_with(cfg: PgConfig, opts: WakeOptions, hinter: Arc<Hinter>) -> Wakeups {
        let (hint_tx, hints) = watch::channel(0u64);
        let (token_tx, tokens) = watch::channel(0u64);
        let (session_tx, sessions) = watch::channel(0u64);
        let poll = opts.poll;
        let senders = Senders {
            hints: hint_tx,
            tokens: token_tx,
            sessions: session_tx,
        };
        let task = if opts.listen {
            tokio::spawn(listen(cfg, opts, senders, hinter))
        } else {
            tokio::spawn(poll_changes(cfg, opts.poll, senders))
        };
        Wakeups {
            hints,
            tokens,
            sessions,
            poll,
            task: Some(task),
            forward: None,
        }
    }

    /// The change hints, to follow with `changed()`.
    pub fn hint_receiver(&self) -> watch::Receiver<u64> {
        self.hints.clone()
    }

    /// The tokens hints, to follow with `changed()`.
    pub fn token_receiver(&self) -> watch::Receiver<u64> {
        self.tokens.clone()
    }

    /// Tokens hints delivered so far.
    pub fn token_hints(&self) -> u64 {
        *self.tokens.borrow()
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

    /// How many times the listener has connected and listened (the poller: connected).
    pub fn sessions(&self) -> u64 {
        *self.sessions.borrow()
    }

    /// The (re)connections, to follow.
    pub fn session_receiver(&self) -> watch::Receiver<u64> {
        self.sessions.clone()
    }

    /// Wait until the listener has listened `n` times (tests; readiness).
    pub async fn listening(&self, n: u64) {
        let mut s = self.sessions.clone();
        let _ = s.wait_for(|v| *v >= n).await;
    }
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        for t in [self.task.take(), self.forward.take()]
            .into_iter()
            .flatten()
        {
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

async fn listen(cfg: PgConfig, opts: WakeOptions, senders: Senders, hinter: Arc<Hinter>) {
    // Stopped (the task aborted), it sends no more hints.
    let _down = Down(&hinter);
    let channel: String = opts
        .channel
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut pause = Duration::from_millis(50);
    loop {
        let (msg_tx, mut msgs) = mpsc::unbounded_channel();
        match cfg.connect(Some(msg_tx)).await {
            Ok(client) => match listen_on(&client, &channel).await {
                Ok(own) => {
                    pause = Duration::from_millis(50);
                    // Hints sent while we were not listening are lost: look again now.
                    senders.connected();
                    tokio::select! {
                        () = pump(&mut msgs, &senders, opts.debounce, own) => {}
                        () = hinter.serve(&client, &channel) => {}
                    }
                    hinter.down();
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

/// LISTEN on `client`: its backend's process id, which the hints it sends itself come from.
async fn listen_on(client: &tokio_postgres::Client, channel: &str) -> PgResult<i32> {
    client
        .batch_execute(&format!("LISTEN \"{channel}\""))
        .await?;
    Ok(client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0))
}

/// Marks the hinter down when the listener's task ends.
struct Down<'a>(&'a Hinter);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        self.0.down();
    }
}

/// Turn notifications into hints until the connection ends: the first of a burst at once, the
/// rest folded into one at the end of the debounce window. Tokens hints are rare and pass at
/// once. Change hints from `own` (this connection's backend: the hints this replica sends
/// after its commits, see [`super::hinter`]) are its own commits, which woke its waiters
/// already.
async fn pump(
    msgs: &mut mpsc::UnboundedReceiver<AsyncMessage>,
    senders: &Senders,
    debounce: Duration,
    own: i32,
) {
    let hints = &senders.hints;
    let mut last = Instant::now()
        .checked_sub(debounce)
        .unwrap_or_else(Instant::now);
    let mut pending = false;
    loop {
        let flush = tokio::time::sleep_until(last + debounce);
        tokio::select! {
            msg = msgs.recv() => match msg {
                Some(AsyncMessage::Notification(n)) if n.payload() == TOKENS => {
                    Senders::bump(&senders.tokens);
                }
                Some(AsyncMessage::Notification(n)) if n.process_id() == own => {}
                Some(AsyncMessage::Notification(_)) => {
                    if last.elapsed() >= debounce {
                        Senders::bump(hints);
                        last = Instant::now();
                    } else {
                        pending = true;
                    }
                }
                Some(_) => {}
                None => return,
            },
            () = flush, if pending => {
                Senders::bump(hints);
                last = Instant::now();
                pending = false;
            }
        }
    }
}

/// What the poller asks: the current snapshot (it moves whenever a write transaction begins or
/// ends) and the tokens-and-users epoch. A simple query: no prepared statement, so it works
/// through PgBouncer's transaction pooling.
const POLL_SQL: &str =
    "SELECT pg_current_snapshot()::text, (SELECT value FROM meta WHERE key = 'auth_epoch')";

/// A column of the poller's row as text (NULL and a missing column read as empty).
fn column(row: &tokio_postgres::SimpleQueryRow, idx: usize) -> String {
    row.try_get(idx)
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string()
}

/// With `listen` off: ask the database every `every` whether anything changed.
async fn poll_changes(cfg: PgConfig, every: Duration, senders: Senders) {
    let mut pause = Duration::from_millis(50);
    loop {
        match cfg.connect(None).await {
            Ok(client) => {
                pause = Duration::from_millis(50);
                let mut last: Option<(String, String)> = None;
                let mut first = true;
                loop {
                    let now = match client.simple_query(POLL_SQL).await {
                        Ok(msgs) => msgs.iter().find_map(|m| match m {
                            SimpleQueryMessage::Row(r) => Some((column(r, 0), column(r, 1))),
                            _ => None,
                        }),
                        Err(e) => {
                            tracing::debug!("wake-up poll failed: {e}");
                            break;
                        }
                    };
                    if let (Some((snap, epoch)), Some((was_snap, was_epoch))) = (&now, &last) {
                        if snap != was_snap {
                            Senders::bump(&senders.hints);
                        }
                        if epoch != was_epoch {
                            Senders::bump(&senders.tokens);
                        }
                    }
                    last = now;
                    if first {
                        // Changes from here on are seen: now wake everyone for what came
                        // before.
                        senders.connected();
                        first = false;
                    }
                    tokio::time::sleep(every).await;
                }
            }
            Err(e) => tracing::debug!("wake-up poller cannot connect: {e}"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
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
        assert_eq!(w.sessions(), 0, "the poller could not connect");
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
