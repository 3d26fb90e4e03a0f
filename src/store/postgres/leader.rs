//! One maintenance leader among replicas (reaping, retention, later schedule ticks): a lease row
//! (`leader_lease`) per job name, held by one replica and renewed every third of its length;
//! when the holder dies or stalls it lapses and another replica takes it over (a new `term`)
//! within one lease. All times are the database's clock, so replicas' clocks need not agree.
//!
//! A lease row rather than a session advisory lock: a stalled holder (SIGSTOP, a long GC-like
//! pause, a partition) keeps its session, and so its advisory lock, open indefinitely; a lease
//! lapses whatever the holder is doing. A holder that wakes after its lease lapsed knows it by
//! its own clock (it stops acting a margin before the lease ends) and by [`fence`], which the
//! maintenance transaction runs first: it holds only while the term is still current.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::GenericClient;

use super::errors::PgResult;
use super::tx::PgTx;
use crate::Result;

/// Leadership held: its term and until when (by this process's clock) it may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub term: i64,
    pub until: Instant,
}

/// Competes for the lease named `name` in the background.
pub struct Elector {
    state: watch::Receiver<Option<Term>>,
    holder: String,
    name: String,
    /// Tests stall the elector as a SIGSTOP would.
    #[cfg_attr(not(test), allow(dead_code))]
    stalled: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// Take the lease if it is free or lapsed: the new term, or `None` if another holds it.
pub async fn acquire(
    c: &impl GenericClient,
    name: &str,
    holder: &str,
    lease: Duration,
) -> PgResult<Option<i64>> {
    let row = c
        .query_opt(
            "INSERT INTO leader_lease (name, holder, until, term)
             VALUES ($1, $2, clock_timestamp() + $3::float8 * interval '1 millisecond', 1)
             ON CONFLICT (name) DO UPDATE
             SET holder = EXCLUDED.holder, until = EXCLUDED.until, term = leader_lease.term + 1
             WHERE leader_lease.until < clock_timestamp()
             RETURNING term",
            &[&name, &holder, &ms(lease)],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// How long until the lease named `name` lapses, by the database's clock (zero when it has;
/// `None` when nobody ever held it).
pub async fn remaining(c: &impl GenericClient, name: &str) -> PgResult<Option<Duration>> {
    let row = c
        .query_opt(
            "SELECT GREATEST(0, EXTRACT(EPOCH FROM (until - clock_timestamp())) * 1000)::float8
             FROM leader_lease WHERE name = $1",
            &[&name],
        )
        .await?;
    Ok(row.map(|r| Duration::from_secs_f64(r.get::<_, f64>(0) / 1000.0)))
}

/// Extend a lease still held: false when it lapsed or another holds it now.
pub async fn renew(
    c: &impl GenericClient,
    name: &str,
    holder: &str,
    term: i64,
    lease: Duration,
) -> PgResult<bool> {
    let n = c
        .execute(
            "UPDATE leader_lease SET until = clock_timestamp() + $3::float8 * interval '1 millisecond'
             WHERE name = $1 AND holder = $2 AND term = $4 AND until >= clock_timestamp()",
            &[&name, &holder, &ms(lease), &term],
        )
        .await?;
    Ok(n == 1)
}

/// The fence's query: the row of a current, unlapsed term, locked until the transaction ends.
const FENCE: &str = "SELECT 1 FROM leader_lease
     WHERE name = $1 AND holder = $2 AND term = $3 AND until > clock_timestamp()
     FOR SHARE";

/// Inside the maintenance transaction, first: whether `term` is still the current, unlapsed
/// lease. It locks the row (FOR SHARE) so the lease cannot change hands before the transaction
/// ends; a transaction whose fence fails must do nothing.
pub async fn fence(c: &impl GenericClient, name: &str, holder: &str, term: i64) -> PgResult<bool> {
    Ok(c.query_opt(FENCE, &[&name, &holder, &term])
        .await?
        .is_some())
}

/// [`fence`] inside one of the store's own transactions.
pub fn fence_in(tx: &PgTx<'_>, name: &str, holder: &str, term: i64) -> Result<bool> {
    Ok(tx.query_opt(FENCE, &[&name, &holder, &term])?.is_some())
}

/// Give up a lease still held (a replica shutting down): another replica may take it at once
/// instead of a lease later.
pub async fn release(c: &impl GenericClient, name: &str, holder: &str, term: i64) -> PgResult<()> {
    c.execute(
        "UPDATE leader_lease SET until = clock_timestamp() - interval '1 millisecond'
         WHERE name = $1 AND holder = $2 AND term = $3",
        &[&name, &holder, &term],
    )
    .await?;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Elector {
    /// Compete for `name` as `holder` (unique per process) with leases of `lease`: the leader
    /// renews every third of it, the others look every tenth of it, and again the moment the
    /// holder's lease lapses.
    pub fn start(pool: Pool, name: &str, holder: &str, lease: Duration) -> Elector {
        let (tx, state) = watch::channel(None);
        let stalled = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(
            pool,
            name.to_string(),
            holder.to_string(),
            lease,
            tx,
            stalled.clone(),
        ));
        Elector {
            state,
            holder: holder.to_string(),
            name: name.to_string(),
            stalled,
            task,
        }
    }

    /// The term this process leads in, if it does now.
    pub fn leading(&self) -> Option<i64> {
        let t = (*self.state.borrow())?;
        (t.until > Instant::now()).then_some(t.term)
    }

    /// Wait until this process leads; its term.
    pub async fn until_leading(&self) -> i64 {
        let mut s = self.state.clone();
        loop {
            if let Some(term) = self.leading() {
                return term;
            }
            let wait = match *s.borrow_and_update() {
                Some(t) => t.until.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            let _ = tokio::time::timeout(wait.max(Duration::from_millis(1)), s.changed()).await;
        }
    }

    /// Stop competing (the lease, if held, lapses or is [`release`]d).
    pub fn stop(&self) {
        self.task.abort();
    }

    /// The holder name.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The lease's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Tests: stop doing anything (as a SIGSTOPped process), or go on.
    #[cfg(test)]
    pub(crate) fn stall(&self, on: bool) {
        self.stalled.store(on, Ordering::SeqCst);
    }
}

impl Drop for Elector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    pool: Pool,
    name: String,
    holder: String,
    lease: Duration,
    state: watch::Sender<Option<Term>>,
    stalled: Arc<AtomicBool>,
) {
    // Stop acting a little before the lease ends by our clock: the database's may run ahead.
    let margin = lease / 10;
    loop {
        if stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(lease / 20).await;
            continue;
        }
        let asked = Instant::now();
        let current = *state.borrow();
        // Another's lease lapses in `lapses`: look again right then rather than a look
        // interval later, so a takeover comes within one lease of the holder's last renewal.
        let mut lapses = None;
        let outcome: PgResult<Option<i64>> = async {
            let c = pool.get().await?;
            match current {
                Some(t) if renew(&**c, &name, &holder, t.term, lease).await? => Ok(Some(t.term)),
                _ => {
                    let got = acquire(&**c, &name, &holder, lease).await?;
                    if got.is_none() {
                        lapses = remaining(&**c, &name).await?;
                    }
                    Ok(got)
                }
            }
        }
        .await;
        let next = match outcome {
            Ok(Some(term)) => Some(Term {
                term,
                until: asked + lease - margin,
            }),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!("leader lease {name}: {e}");
                // Unknown whether the renewal landed: keep the local deadline, no further.
                current
            }
        };
        if next.is_some() != current.is_some() {
            match next {
                Some(t) => tracing::info!(
                    "maintenance leader {name}: this replica ({holder}) leads, term {}",
                    t.term
                ),
                None => tracing::info!(
                    "maintenance leader {name}: this replica ({holder}) no longer leads"
                ),
            }
        }
        state.send_replace(next);
        let pause = match (next, lapses) {
            (Some(_), _) => lease / 3,
            (None, Some(left)) if left < lease / 10 => left + Duration::from_millis(1),
            (None, _) => lease / 10,
        };
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::store::postgres::testdb::TestDb;
    use crate::store::postgres::{PgConfig, migrate};

    const LEASE: Duration = Duration::from_millis(1000);

    async fn pool(db: &TestDb) -> Pool {
        let cfg = PgConfig::parse(&db.url()).unwrap().with_pool_size(4);
        let mut c = cfg.connect(None).await.unwrap();
        migrate(&mut c, "db", true).await.unwrap();
        cfg.pool().unwrap()
    }

    async fn until(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !f() {
            assert!(std::time::Instant::now() < deadline, "timed out: {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The leader dies (its task and connections go): the other takes over within one lease
    /// (plus its look interval, on a loaded machine some slack).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_elector_takes_over_when_the_leader_dies() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let pool = pool(&db).await;
        let a = Elector::start(pool.clone(), "maintenance", "a", LEASE);
        let t1 = tokio::time::timeout(Duration::from_secs(30), a.until_leading())
            .await
            .unwrap();
        let b = Elector::start(pool.clone(), "maintenance", "b", LEASE);
        tokio::time::sleep(LEASE / 2).await;
        assert_eq!(b.leading(), None, "one leader at a time");
        drop(a);
        let died = std::time::Instant::now();
        let t2 = tokio::time::timeout(Duration::from_secs(30), b.until_leading())
            .await
            .unwrap();
        let took = died.elapsed();
        eprintln!("takeover after the leader died: {took:?} (lease {LEASE:?})");
        assert!(t2 > t1, "a new term");
        assert!(took < LEASE * 2, "took over in {took:?}");
    }

    /// The leader stalls (as under SIGSTOP): the other takes over; the stalled one, waking,
    /// knows it no longer leads (its own clock) and its fence fails, and it does not take the
    /// lease back while the new leader lives.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_leader_is_replaced_and_fenced_off() {
        let Some(db) = TestDb::get().await else {
            return;
        };
        let pool = pool(&db).await;
        let a = Elector::start(pool.clone(), "maintenance", "a", LEASE);
        let t1 = tokio::time::timeout(Duration::from_secs(30), a.until_leading())
            .await
            .unwrap();
        let b = Elector::start(pool.clone(), "maintenance", "b", LEASE);
        a.stall(true);
        let stalled = std::time::Instant::now();
        let t2 = tokio::time::timeout(Duration::from_secs(30), b.until_leading())
            .await
            .unwrap();
        let took = stalled.elapsed();
        eprintln!("takeover after the leader stalled: {took:?} (lease {LEASE:?})");
        assert!(took < LEASE * 2, "took over in {took:?}");
        assert_eq!(
            a.leading(),
            None,
            "the stalled leader's own deadline has passed"
        );
        let c = pool.get().await.unwrap();
        assert!(!fence(&**c, "maintenance", "a", t1).await.unwrap());
        assert!(fence(&**c, "maintenance", "b", t2).await.unwrap());
        a.stall(false);
        tokio::time::sleep(LEASE).await;
        assert_eq!(a.leading(), None);
        assert_eq!(b.leading(), Some(t2), "b keeps leading");
        until("a follows", || a.leading().is_none()).await;
    }
}
