//! Group commit for the agents' hot path: claims, step starts, log appends and completions
//! that arrive together share one write transaction, on backends where a commit is costly
//! ([`Backend::combines_writes`]: PostgreSQL, where every commit is a round trip and a WAL
//! flush, and a run's steps all queue on its row lock for as long as a transaction holds it).
//!
//! The first caller to arrive leads: it takes every job waiting (up to [`MAX_BATCH`]), runs
//! them in order in one transaction, hands each caller its result, then passes the lead to the
//! oldest caller still waiting (so no request waits on others' work for long) or lets it go
//! when none is. While a batch commits the next one gathers, so under load a transaction
//! carries many jobs and alone (a quiet system) one job costs what it did before.
//!
//! One failing job must not fail the others: when a batch of several fails, nothing of it is
//! committed and every caller runs its own job again alone, getting its own result or error.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::Result;
use crate::model::{CapturedLine, LeaseRef, StepResult};
use crate::store::api::Claimed;
use crate::store::{Backend, StoreTx};

/// The most jobs one transaction carries: bounds how long it holds the rows it locks.
pub const MAX_BATCH: usize = 64;

/// One caller's work, owned (the leader may run it on its thread).
#[derive(Debug)]
pub enum Job {
    Claim {
        agent_id: String,
        max: u32,
    },
    Start(LeaseRef),
    Logs {
        lease: LeaseRef,
        lines: Vec<CapturedLine>,
    },
    Complete(Vec<(LeaseRef, StepResult)>),
    /// Results, then a claim for `agent_id` of what is ready once they are recorded.
    CompleteClaim {
        results: Vec<(LeaseRef, StepResult)>,
        agent_id: String,
        max: u32,
    },
}

/// What a job returned.
#[derive(Debug)]
pub enum Done {
    Claimed(Claimed),
    Unit,
    /// Whether each result was accepted, and what the transaction leased to parked claims
    /// (see [`super::eager`]): delivered once it has committed.
    Completed(Vec<bool>, super::eager::Grants),
    /// [`Done::Completed`], and what the job's own claim was granted.
    CompletedClaimed(Vec<bool>, super::eager::Grants, Claimed),
}

/// How a job is run inside a transaction (the control plane's settings: lease, limits).
pub type Exec<'a> = &'a (dyn Fn(&dyn StoreTx, &Job) -> Result<Done> + Sync);

/// Where a waiting caller stands.
enum Slot {
    Waiting,
    /// Take the lead: run the waiting jobs (this caller's among them).
    Lead,
    Done(Result<Done>),
    /// Its batch failed: run the job alone.
    Alone,
}

struct Waiter {
    job: Job,
    slot: Mutex<Slot>,
    cv: Condvar,
}

impl Waiter {
    fn set(&self, slot: Slot) {
        *lock(&self.slot) = slot;
        self.cv.notify_one();
    }
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Arc<Waiter>>,
    /// Someone is running a batch or about to.
    leading: bool,
}

/// Jobs waiting to share a transaction.
#[derive(Default)]
pub struct Combiner {
    queue: Mutex<Queue>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Combiner {
    /// Run `job` with `exec` in a write transaction of `store`, shared with the jobs of other
    /// callers arriving meanwhile. Blocks this thread (call it off the async workers).
    pub fn run(&self, store: &dyn Backend, exec: Exec<'_>, job: Job) -> Result<Done> {
        let me = Arc::new(Waiter {
            job,
            slot: Mutex::new(Slot::Waiting),
            cv: Condvar::new(),
        });
        let lead = {
            let mut q = lock(&self.queue);
            q.waiting.push_back(me.clone());
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            me.set(Slot::Lead);
        }
        loop {
            let slot = {
                let mut slot = lock(&me.slot);
                while matches!(*slot, Slot::Waiting) {
                    slot = me.cv.wait(slot).unwrap_or_else(PoisonError::into_inner);
                }
                std::mem::replace(&mut *slot, Slot::Waiting)
            };
            match slot {
                Slot::Waiting => {}
                Slot::Lead => self.lead(store, exec, &me),
                Slot::Done(out) => return out,
                Slot::Alone => return store.write(|tx| exec(tx, &me.job)),
            }
        }
    }

    /// Run batches until one holds `me`, then pass the lead on (or let it go).
    fn lead(&self, store: &dyn Backend, exec: Exec<'_>, me: &Arc<Waiter>) {
        loop {
            let batch: Vec<Arc<Waiter>> = {
                let mut q = lock(&self.queue);
                let n = q.waiting.len().min(MAX_BATCH);
                q.waiting.drain(..n).collect()
            };
            let mine = batch.iter().any(|w| Arc::ptr_eq(w, me));
            run_batch(store, exec, &batch);
            if mine {
                break;
            }
        }
        let mut q = lock(&self.queue);
        match q.waiting.front() {
            Some(next) => next.set(Slot::Lead),
            None => q.leading = false,
        }
    }
}

/// Run `batch` in one transaction and hand each caller its result.
fn run_batch(store: &dyn Backend, exec: Exec<'_>, batch: &[Arc<Waiter>]) {
    let mut outs = Vec::with_capacity(batch.len());
    // A job that panics must not leave the others waiting for ever: they run alone (and the
    // panic happens again on its own caller's thread).
    let ran = std::panic::catch_unwind(AssertUnwindSafe(|| {
        store.write(|tx| {
            // The body may run again (a retried transaction): start over.
            outs.clear();
            for w in batch {
                outs.push(exec(tx, &w.job)?);
            }
            Ok(())
        })
    }));
    let Ok(ran) = ran else {
        for w in batch {
            w.set(Slot::Alone);
        }
        return;
    };
    match ran {
        Ok(()) => {
            for (w, out) in batch.iter().zip(outs) {
                w.set(Slot::Done(Ok(out)));
            }
        }
        Err(e) if batch.len() == 1 => batch[0].set(Slot::Done(Err(e))),
        Err(_) => {
            for w in batch {
                w.set(Slot::Alone);
            }
        }
    }
}

impl super::LocalControlPlane {
    /// Run `job` in a write transaction: shared with other callers' jobs where the backend
    /// combines writes, else on its own.
    pub(super) fn hot_write(&self, job: Job) -> Result<Done> {
        let exec = |tx: &dyn StoreTx, job: &Job| self.exec_job(tx, job);
        if self.store.combines_writes() {
            crate::store::off_runtime(|| self.combiner.run(&*self.store, &exec, job))
        } else {
            self.store.write(|tx| exec(tx, &job))
        }
    }

    fn exec_job(&self, tx: &dyn StoreTx, job: &Job) -> Result<Done> {
        let specs = self.store.specs();
        match job {
            Job::Claim { agent_id, max } => tx
                .claim(specs, agent_id, *max, self.lease_ms, &self.limits)
                .map(Done::Claimed),
            Job::Start(lease) => tx.start_step(lease).map(|()| Done::Unit),
            Job::Logs { lease, lines } => tx
                .append_logs(lease, lines, self.limits.max_log_bytes)
                .map(|()| Done::Unit),
            Job::Complete(results) => {
                let done =
                    tx.complete_steps_detailed(specs, results, self.limits.max_output_bytes)?;
                // A step readied: lease it now to a claim waiting here, in this transaction,
                // rather than wake the claim to take it in a transaction of its own.
                let grants = if done.readied {
                    self.grant_waiting(tx)?
                } else {
                    super::eager::Grants::default()
                };
                Ok(Done::Completed(done.accepted, grants))
            }
            Job::CompleteClaim {
                results,
                agent_id,
                max,
            } => {
                let done =
                    tx.complete_steps_detailed(specs, results, self.limits.max_output_bytes)?;
                // Only when the results readied a step: the reporting agent claims first
                // (what its results readied stays with it, as a chain's next step would),
                // then parked claims get what is left. Results that ready nothing (a fan-out's)
                // commit at once: a claim here would hold the run's row, locked to count
                // them, while it picks, and every other agent's results would queue behind it;
                // the agent claims apart, as it would have.
                let (grants, claimed) = if done.readied {
                    let claimed = tx.claim(specs, agent_id, *max, self.lease_ms, &self.limits)?;
                    (self.grant_waiting(tx)?, claimed)
                } else {
                    Default::default()
                };
                Ok(Done::CompletedClaimed(done.accepted, grants, claimed))
            }
        }
    }
}

impl Done {
    /// The result of a job of another kind: a defect of the caller.
    pub(super) fn mismatch(self) -> crate::Error {
        crate::Error::Internal(format!(
            "a combined write returned {self:?} for another job"
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::auth::Principal;
    use crate::engine::SpecCache;
    use crate::store::api::{Body, Site};
    use crate::store::feed::ChangeFeed;
    use crate::{Error, store::Store};

    /// A SQLite store that counts its write transactions.
    struct Counting {
        store: Store,
        writes: AtomicUsize,
    }

    impl Backend for Counting {
        fn write_tx(&self, body: Body<'_>) -> Result<()> {
            self.writes.fetch_add(1, Ordering::SeqCst);
            self.store.write_tx(body)
        }
        fn write_durable_tx(&self, body: Body<'_>) -> Result<()> {
            self.write_tx(body)
        }
        fn read_tx(&self, body: Body<'_>) -> Result<()> {
            self.store.read_tx(body)
        }
        fn read_quick_tx(&self, site: Site, body: Body<'_>) -> Result<()> {
            self.store.read_quick_tx(site, body)
        }
        fn feed(&self) -> &ChangeFeed {
            Backend::feed(&self.store)
        }
        fn specs(&self) -> &SpecCache {
            Backend::specs(&self.store)
        }
        fn location(&self) -> String {
            Backend::location(&self.store)
        }
        fn created(&self) -> bool {
            Backend::created(&self.store)
        }
        fn schema_version(&self) -> Result<i64> {
            Backend::schema_version(&self.store)
        }
    }

    fn job(name: &str) -> Job {
        Job::Start(LeaseRef {
            run_id: name.to_string(),
            step_id: "s".into(),
            attempt: 1,
            agent_id: "a".into(),
        })
    }

    fn name(job: &Job) -> &str {
        match job {
            Job::Start(l) => &l.run_id,
            _ => "",
        }
    }

    /// Each job writes an audit record named for it; "first" holds its transaction until
    /// `others` more jobs wait; "bad" fails after writing.
    fn exec<'a>(
        combiner: &'a Combiner,
        others: usize,
    ) -> impl Fn(&dyn StoreTx, &Job) -> Result<Done> + Sync + 'a {
        move |tx, job| {
            let who = Principal::local_owner();
            crate::audit::append(
                tx,
                &who,
                "test.job",
                name(job),
                "ok",
                serde_json::Value::Null,
            )?;
            match name(job) {
                "first" => {
                    let t0 = Instant::now();
                    while lock(&combiner.queue).waiting.len() < others {
                        assert!(t0.elapsed() < Duration::from_secs(30), "jobs never queued");
                        thread::sleep(Duration::from_millis(2));
                    }
                }
                "bad" => return Err(Error::invalid("bad job")),
                "boom" => panic!("boom"),
                _ => {}
            }
            Ok(Done::Unit)
        }
    }

    fn recorded(store: &Counting) -> Vec<String> {
        let all = (&store.store as &dyn Backend)
            .read(|tx| crate::audit::list(tx))
            .unwrap();
        let mut names: Vec<String> = all
            .into_iter()
            .filter(|r| r.action == "test.job")
            .map(|r| r.target)
            .collect();
        names.sort();
        names
    }

    fn setup() -> (tempfile::TempDir, Counting, Combiner) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("imx.db"), true).unwrap();
        let counting = Counting {
            store,
            writes: AtomicUsize::new(0),
        };
        (dir, counting, Combiner::default())
    }

    /// Run "first", then `rest` once it holds its transaction; each job's result.
    fn race(store: &Counting, combiner: &Combiner, rest: &[&str]) -> Vec<(String, Result<Done>)> {
        let exec = exec(combiner, rest.len());
        thread::scope(|s| {
            let first = s.spawn(|| combiner.run(store, &exec, job("first")));
            // Until "first" holds its transaction.
            let t0 = Instant::now();
            while store.writes.load(Ordering::SeqCst) == 0 {
                assert!(t0.elapsed() < Duration::from_secs(30));
                thread::sleep(Duration::from_millis(1));
            }
            let rest: Vec<_> = rest
                .iter()
                .map(|n| {
                    let exec = &exec;
                    (
                        n.to_string(),
                        s.spawn(move || combiner.run(store, exec, job(n))),
                    )
                })
                .collect();
            let mut out = vec![("first".to_string(), first.join().unwrap())];
            for (n, h) in rest {
                match h.join() {
                    Ok(r) => out.push((n, r)),
                    Err(_) => out.push((n, Err(Error::Internal("panicked".into())))),
                }
            }
            out
        })
    }

    #[test]
    fn jobs_arriving_while_a_transaction_runs_share_the_next_one() {
        let (_dir, store, combiner) = setup();
        let rest = ["j1", "j2", "j3", "j4", "j5", "j6", "j7"];
        let out = race(&store, &combiner, &rest);
        assert!(out.iter().all(|(_, r)| matches!(r, Ok(Done::Unit))));
        assert_eq!(
            store.writes.load(Ordering::SeqCst),
            2,
            "the first alone, then the seven that waited together"
        );
        let mut want: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
        want.push("first".into());
        want.sort();
        assert_eq!(recorded(&store), want, "every job's write, once");
        assert!(!lock(&combiner.queue).leading, "the lead is let go");
    }

    #[test]
    fn a_failing_job_fails_alone_and_the_others_of_its_batch_still_commit() {
        let (_dir, store, combiner) = setup();
        let out = race(&store, &combiner, &["ok1", "bad", "ok2"]);
        for (n, r) in &out {
            match n.as_str() {
                "bad" => assert!(
                    matches!(r, Err(e) if e.to_string().contains("bad job")),
                    "{r:?}"
                ),
                _ => assert!(matches!(r, Ok(Done::Unit)), "{n}: {r:?}"),
            }
        }
        // first; the failed batch of three; then each of the three alone.
        assert_eq!(store.writes.load(Ordering::SeqCst), 5);
        assert_eq!(
            recorded(&store),
            ["first", "ok1", "ok2"],
            "nothing of 'bad'"
        );
    }

    #[test]
    fn a_job_that_panics_leaves_no_one_waiting() {
        let (_dir, store, combiner) = setup();
        let out = race(&store, &combiner, &["ok1", "boom", "ok2"]);
        for (n, r) in &out {
            match n.as_str() {
                "boom" => assert!(matches!(r, Err(Error::Internal(_))), "{r:?}"),
                _ => assert!(matches!(r, Ok(Done::Unit)), "{n}: {r:?}"),
            }
        }
        assert_eq!(recorded(&store), ["first", "ok1", "ok2"]);
        assert!(!lock(&combiner.queue).leading, "the lead is let go");
    }
}
