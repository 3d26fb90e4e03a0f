//! Eager dispatch: a completion that readies a step (or a run's start, its first steps)
//! leases it, in its own transaction, to an agent whose claim is waiting here, so a sequential
//! chain costs one commit per step (the completion) instead of two (the completion, then the
//! woken claim's own).
//!
//! A claim long poll *parks* for as long as it waits (see [`Waiting::park`]). A transaction
//! that completes steps and readies one takes the parks that are open (each at most once: it
//! marks them granting), claims for each with the store's ordinary claim (`ClaimsTx::claim`:
//! the same labels, slots, concurrency and inputs as any claim), and hands each park what it
//! was granted once the transaction has committed ([`Grants::deliver`]). Dropped undelivered
//! (the transaction failed or runs again) the parks reopen and nothing was granted.
//!
//! Exactly once: a step is leased by a committed transaction, to one park, once. A claim that
//! goes away while a grant to it commits (its agent hung up) never hands the lease on: the
//! lease expires and the step is reaped and retried like any lost lease. A claim that ends at
//! its deadline waits for a grant under way and returns it ([`Parked::close`]).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

use crate::Result;
use crate::error::ErrorKind;
use crate::model::StepTask;
use crate::store::api::Claimed;

/// Where one parked claim stands.
#[derive(Debug)]
enum State {
    /// Waiting: a completion may grant to it.
    Open,
    /// The claim is claiming by itself: no one else grants to it meanwhile.
    Busy,
    /// A transaction is granting to it.
    Granting,
    /// Granted by a committed transaction, not yet taken.
    Granted(Vec<StepTask>),
    /// The claim has ended.
    Closed,
}

#[derive(Debug)]
struct Park {
    agent_id: String,
    max: u32,
    /// The claim's deadline: past it the agent may have given up, and a lease would only be
    /// stranded until it expires.
    deadline: Instant,
    state: Mutex<State>,
    /// Told when a grant settles (the claim waits on it).
    settled: Notify,
}

impl Park {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Settle a grant: `Granting` becomes `to`; the claim is told.
    fn settle(&self, to: State) {
        {
            let mut st = self.state();
            if matches!(*st, State::Granting) {
                *st = to;
            }
        }
        self.settled.notify_one();
    }
}

/// The claims parked in this process, oldest first.
#[derive(Debug, Default)]
pub struct Waiting {
    parks: Mutex<Vec<Arc<Park>>>,
}

impl Waiting {
    fn parks(&self) -> MutexGuard<'_, Vec<Arc<Park>>> {
        self.parks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Park a claim of up to `max` steps for `agent_id`, open to grants until it is dropped
    /// or `deadline` passes.
    pub fn park(&self, agent_id: &str, max: u32, deadline: Instant) -> Parked<'_> {
        let park = Arc::new(Park {
            agent_id: agent_id.to_string(),
            max,
            deadline,
            state: Mutex::new(State::Open),
            settled: Notify::new(),
        });
        self.parks().push(park.clone());
        Parked {
            waiting: self,
            park,
        }
    }

    /// How many claims are parked (tests wait for theirs).
    #[cfg(test)]
    pub fn parked(&self) -> usize {
        self.parks().len()
    }

    /// Inside a transaction that readied steps: take every open park whose deadline has not
    /// passed, oldest first, and claim for each with `claim(agent_id, max)`. An agent that no longer exists is granted nothing
    /// (its claim learns so itself); any other error fails the transaction (the parks reopen).
    pub fn grant(&self, mut claim: impl FnMut(&str, u32) -> Result<Claimed>) -> Result<Grants> {
        let now = Instant::now();
        let taken: Vec<Arc<Park>> = self
            .parks()
            .iter()
            .filter(|p| {
                let mut st = p.state();
                let open = matches!(*st, State::Open) && now < p.deadline;
                if open {
                    *st = State::Granting;
                }
                open
            })
            .cloned()
            .collect();
        let mut grants = Grants {
            parks: taken.into_iter().map(|p| (p, Vec::new())).collect(),
        };
        for (park, tasks) in &mut grants.parks {
            match claim(&park.agent_id, park.max) {
                Ok(claimed) => *tasks = claimed.tasks,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(grants)
    }
}

/// What one transaction granted to parked claims: handed on by [`deliver`](Self::deliver)
/// once it has committed; dropped undelivered, the parks reopen.
#[derive(Debug, Default)]
pub struct Grants {
    parks: Vec<(Arc<Park>, Vec<StepTask>)>,
}

impl Grants {
    /// The transaction committed: hand each park its steps (a park granted none reopens).
    pub fn deliver(mut self) {
        for (park, tasks) in std::mem::take(&mut self.parks) {
            if tasks.is_empty() {
                park.settle(State::Open);
            } else {
                park.settle(State::Granted(tasks));
            }
        }
    }
}

impl Drop for Grants {
    fn drop(&mut self) {
        for (park, _) in self.parks.drain(..) {
            park.settle(State::Open);
        }
    }
}

/// A claim's place among the parked ones; leaves it when dropped.
pub struct Parked<'a> {
    waiting: &'a Waiting,
    park: Arc<Park>,
}

impl Parked<'_> {
    /// Wait for a grant under way to this claim to settle, then take what it granted
    /// (closing the park to grants until [`reopen`](Self::reopen)), if anything.
    pub async fn take(&self) -> Option<Vec<StepTask>> {
        self.settle_then(false).await
    }

    /// Before the claim claims by itself: [`take`](Self::take), and when nothing was granted
    /// close the park to grants until [`reopen`](Self::reopen).
    pub async fn own(&self) -> Option<Vec<StepTask>> {
        self.settle_then(true).await
    }

    async fn settle_then(&self, busy: bool) -> Option<Vec<StepTask>> {
        loop {
            // Created before looking, so a settle between the look and the wait is not missed.
            let settled = self.park.settled.notified();
            {
                let mut st = self.park.state();
                match &*st {
                    State::Granting => {}
                    State::Granted(_) => {
                        return match std::mem::replace(&mut *st, State::Busy) {
                            State::Granted(tasks) => Some(tasks),
                            _ => None,
                        };
                    }
                    State::Open if busy => {
                        *st = State::Busy;
                        return None;
                    }
                    _ => return None,
                }
            }
            settled.await;
        }
    }

    /// The claim has claimed by itself, or found the steps it took failed: open to grants
    /// again.
    pub fn reopen(&self) {
        let mut st = self.park.state();
        if matches!(*st, State::Busy) {
            *st = State::Open;
        }
    }

    /// The claim ends: wait for a grant under way, then close; what was granted, if anything.
    pub async fn close(&self) -> Option<Vec<StepTask>> {
        let out = self.own().await;
        *self.park.state() = State::Closed;
        out
    }

    /// Wait until a grant to this claim settles (select it against the store's feed).
    pub async fn settled(&self) {
        self.park.settled.notified().await;
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        // A grant committing now finds the park closed: its lease expires unclaimed.
        *self.park.state() = State::Closed;
        self.waiting.parks().retain(|p| !Arc::ptr_eq(p, &self.park));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use super::*;
    use crate::Error;
    use crate::model::{LeaseRef, StepKind};

    fn task(step: &str) -> StepTask {
        let lease = LeaseRef {
            run_id: "r".into(),
            step_id: step.into(),
            attempt: 1,
            agent_id: "a".into(),
        };
        StepTask {
            lease,
            workflow: "w".into(),
            kind: StepKind::Noop,
            env: Default::default(),
            workdir: None,
            timeout_ms: None,
            idempotency_key: format!("r/{step}"),
            lease_until: 0,
            max_output_bytes: None,
            max_log_bytes: None,
            mask: Vec::new(),
            artifacts: Vec::new(),
            inputs: Vec::new(),
            max_artifact_bytes: None,
            secret_slots: None,
        }
    }

    fn claimed(steps: &[&str]) -> Claimed {
        Claimed {
            tasks: steps.iter().map(|s| task(s)).collect(),
            next_due: None,
        }
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn ids(tasks: Option<Vec<StepTask>>) -> Option<Vec<String>> {
        tasks.map(|t| t.into_iter().map(|t| t.lease.step_id).collect())
    }

    #[tokio::test]
    async fn a_park_is_granted_to_once_and_only_while_open() {
        let w = Waiting::default();
        let p = w.park("a1", 2, later());
        let mut asked = Vec::new();
        let first = w
            .grant(|agent, max| {
                asked.push((agent.to_string(), max));
                Ok(claimed(&["s1"]))
            })
            .unwrap();
        assert_eq!(asked, [("a1".to_string(), 2)]);
        // Granting: another transaction passes it over.
        let second = w.grant(|_, _| panic!("granted twice")).unwrap();
        drop(second);
        first.deliver();
        assert_eq!(ids(p.take().await), Some(vec!["s1".to_string()]));
        // Taken: closed to grants until reopened.
        drop(w.grant(|_, _| panic!("granted while busy")).unwrap());
        p.reopen();
        w.grant(|_, _| Ok(claimed(&[]))).unwrap().deliver();
        assert_eq!(ids(p.take().await), None, "granted nothing: still open");
        drop(p);
        assert_eq!(w.parked(), 0);
        drop(
            w.grant(|_, _| panic!("granted to a claim that left"))
                .unwrap(),
        );
    }

    #[tokio::test]
    async fn a_claim_claiming_by_itself_is_not_granted_to() {
        let w = Waiting::default();
        let p = w.park("a1", 1, later());
        assert!(p.own().await.is_none());
        drop(w.grant(|_, _| panic!("granted while it claims")).unwrap());
        p.reopen();
        let g = w.grant(|_, _| Ok(claimed(&["s1"]))).unwrap();
        g.deliver();
        assert_eq!(ids(p.own().await), Some(vec!["s1".to_string()]));
    }

    #[tokio::test]
    async fn an_undelivered_grant_reopens_its_parks() {
        let w = Waiting::default();
        let p = w.park("a1", 1, later());
        // The transaction ran again or failed: what it claimed was never committed.
        drop(w.grant(|_, _| Ok(claimed(&["s1"]))).unwrap());
        assert!(p.take().await.is_none());
        // A failing claim fails the transaction; an agent gone is granted nothing.
        let failed = w.grant(|_, _| Err(Error::Store("down".into())));
        assert!(failed.is_err());
        w.grant(|_, _| Err(Error::not_found("agent", "a1")))
            .unwrap()
            .deliver();
        let g = w.grant(|_, _| Ok(claimed(&["s2"]))).unwrap();
        g.deliver();
        assert_eq!(ids(p.take().await), Some(vec!["s2".to_string()]));
    }

    #[tokio::test]
    async fn closing_waits_for_a_grant_under_way() {
        let w = Arc::new(Waiting::default());
        let p = w.park("a1", 1, later());
        let g = w.grant(|_, _| Ok(claimed(&["s1"]))).unwrap();
        let delivering = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            g.deliver();
        });
        assert_eq!(ids(p.close().await), Some(vec!["s1".to_string()]));
        delivering.await.unwrap();
        // Closed: nothing more comes its way.
        drop(w.grant(|_, _| panic!("granted to a closed claim")).unwrap());
    }

    #[tokio::test]
    async fn a_claim_past_its_deadline_is_not_granted_to() {
        let w = Waiting::default();
        let p = w.park("a1", 1, Instant::now());
        drop(w.grant(|_, _| panic!("granted past the deadline")).unwrap());
        assert!(p.take().await.is_none());
    }

    #[tokio::test]
    async fn a_grant_to_a_claim_that_went_away_is_dropped() {
        let w = Waiting::default();
        let p = w.park("a1", 1, later());
        let g = w.grant(|_, _| Ok(claimed(&["s1"]))).unwrap();
        drop(p);
        // Its lease expires unclaimed; delivering harms no one.
        g.deliver();
        assert_eq!(w.parked(), 0);
    }
}
