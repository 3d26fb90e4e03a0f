//! Eager dispatch through the local control plane (`local::eager`), on SQLite and on
//! PostgreSQL: a completion that readies a step (or a run's start) leases it, in its own
//! transaction, to a claim waiting for work, so a chain moves on one write per step; the grant follows the ordinary
//! claim's rules (labels, slots); and a lease whose claim never hands it on expires and the
//! step runs again, like any lost lease.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;
use crate::auth::Principal;
use crate::engine::SpecCache;
use crate::model::{
    AgentRegistration, AgentSelector, RunStatus, StepKind, StepResult, StepSpec, StepStatus,
    WorkflowSpec,
};
use crate::store::Store;
use crate::store::api::{Backend, Body, Site};
use crate::store::feed::ChangeFeed;

/// A store that counts its write transactions.
struct Counting {
    inner: Arc<dyn Backend>,
    writes: AtomicUsize,
}

impl Backend for Counting {
    fn write_tx(&self, body: Body<'_>) -> crate::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write_tx(body)
    }
    fn write_durable_tx(&self, body: Body<'_>) -> crate::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write_durable_tx(body)
    }
    fn read_tx(&self, body: Body<'_>) -> crate::Result<()> {
        self.inner.read_tx(body)
    }
    fn read_quick_tx(&self, site: Site, body: Body<'_>) -> crate::Result<()> {
        self.inner.read_quick_tx(site, body)
    }
    fn feed(&self) -> &ChangeFeed {
        self.inner.feed()
    }
    fn specs(&self) -> &SpecCache {
        self.inner.specs()
    }
    fn location(&self) -> String {
        self.inner.location()
    }
    fn created(&self) -> bool {
        self.inner.created()
    }
    fn schema_version(&self) -> crate::Result<i64> {
        self.inner.schema_version()
    }
    fn maintain_tx(&self, body: Body<'_>) -> crate::Result<bool> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.maintain_tx(body)
    }
    fn maintenance_leader(&self) -> Option<bool> {
        self.inner.maintenance_leader()
    }
    fn sync_feeds(&self) -> crate::Result<()> {
        self.inner.sync_feeds()
    }
    fn combines_writes(&self) -> bool {
        self.inner.combines_writes()
    }
}

struct Env {
    plane: Arc<LocalControlPlane>,
    store: Arc<Counting>,
    who: Principal,
    _dir: tempfile::TempDir,
    _db: Option<crate::store::postgres::testdb::TestDb>,
}

impl Env {
    fn writes(&self) -> usize {
        self.store.writes.load(Ordering::SeqCst)
    }
}

fn env_over(
    inner: Arc<dyn Backend>,
    dir: tempfile::TempDir,
    db: Option<crate::store::postgres::testdb::TestDb>,
    lease_ms: u64,
) -> Env {
    let store = Arc::new(Counting {
        inner,
        writes: AtomicUsize::new(0),
    });
    let paths = crate::audit::AuditPaths {
        key: dir.path().join("audit-key"),
        checkpoints: dir.path().join("audit-checkpoints.jsonl"),
    };
    let opts = LocalOptions {
        lease_ms,
        ..LocalOptions::default()
    };
    let plane = LocalControlPlane::with_backend(store.clone(), opts).with_audit_paths(paths);
    Env {
        plane: Arc::new(plane),
        store,
        who: Principal::local_owner(),
        _dir: dir,
        _db: db,
    }
}

fn sqlite(lease_ms: u64) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("imx.db"), true).unwrap();
    env_over(Arc::new(store), dir, None, lease_ms)
}

fn postgres(lease_ms: u64) -> Option<Env> {
    let (db, store) = crate::store::postgres::store::tests::test_store()?;
    let dir = tempfile::tempdir().unwrap();
    Some(env_over(Arc::new(store), dir, Some(db), lease_ms))
}

/// `scenario` as two tests, `sqlite` and `postgres` (skipped without PostgreSQL), each on a
/// current-thread runtime: a spawned claim runs only when the test awaits.
macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            fn run(e: super::Env) {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(super::$scenario(e));
            }
            #[test]
            fn sqlite() {
                run(super::sqlite(super::LEASE_MS));
            }
            #[test]
            fn postgres() {
                if let Some(e) = super::postgres(super::LEASE_MS) {
                    run(e);
                }
            }
        }
    )*};
}

/// Short, so a lease no one learned of expires within the test.
const LEASE_MS: u64 = 400;
/// How long a parked claim waits: far longer than any test.
const WAIT: Duration = Duration::from_secs(30);

on_both!(
    a_chain_moves_on_one_write_per_step,
    results_with_a_claim_lease_what_they_ready_in_their_own_write,
    a_removed_agents_claim_is_refused_at_its_first_look,
    a_grant_follows_the_claims_labels_and_slots,
    a_lease_its_claim_never_hands_on_expires_and_the_step_runs_again,
);

fn noop(id: &str, needs: &[&str]) -> StepSpec {
    StepSpec::new(id, StepKind::Noop).needing(needs)
}

/// Workflow "chain": `n` noop steps s0, s1, … each needing the one before; their ids.
fn chain(n: usize) -> (Vec<String>, WorkflowSpec) {
    let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let steps = (0..n)
        .map(|i| match i {
            0 => noop("s0", &[]),
            _ => noop(&ids[i], &[ids[i - 1].as_str()]),
        })
        .collect();
    (ids, WorkflowSpec::new("chain", steps))
}

async fn start(e: &Env, spec: WorkflowSpec) -> String {
    let name = spec.name.clone();
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    start_run(e, &name).await
}

async fn start_run(e: &Env, workflow: &str) -> String {
    e.plane
        .start_run(
            &e.who,
            StartRun {
                workflow: workflow.to_string(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap()
        .id
}

async fn agent(e: &Env, name: &str, slots: u32, labels: &[(&str, &str)]) -> String {
    let mut reg = AgentRegistration::for_test(name, slots);
    reg.labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    e.plane.register_agent(&e.who, reg).await.unwrap().id
}

/// One step claimed by `agent` at once (there must be one).
async fn claim_now(e: &Env, agent: &str) -> StepTask {
    e.plane
        .claim(&e.who, agent, 1, Duration::ZERO)
        .await
        .unwrap()
        .pop()
        .unwrap()
}

/// A claim of up to `max` for `agent`, waiting on its own task.
fn park(e: &Env, agent: &str, max: u32) -> tokio::task::JoinHandle<Vec<StepTask>> {
    let (plane, who, agent) = (e.plane.clone(), e.who.clone(), agent.to_string());
    tokio::spawn(async move { plane.claim(&who, &agent, max, WAIT).await.unwrap() })
}

/// Let the spawned claims run until `n` of them wait.
async fn parked(e: &Env, n: usize) {
    let t0 = Instant::now();
    while e.plane.parked_claims() != n {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "claims did not park"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn done(e: &Env, task: &StepTask) -> bool {
    let ok = StepResult::ok(BTreeMap::new());
    e.plane
        .complete_steps(&e.who, &[(task.lease.clone(), ok)])
        .await
        .unwrap()[0]
}

async fn step_state(e: &Env, run: &str, id: &str) -> crate::model::StepState {
    let detail = e.plane.get_run(&e.who, run).await.unwrap();
    detail.steps.into_iter().find(|s| s.step_id == id).unwrap()
}

async fn a_chain_moves_on_one_write_per_step(e: Env) {
    let (ids, spec) = chain(5);
    e.plane.apply_workflow(&e.who, spec, false).await.unwrap();
    let agent = agent(&e, "w", 1, &[]).await;
    // The run's start leases its first step to the claim waiting.
    let waiting = park(&e, &agent, 1);
    parked(&e, 1).await;
    let before = e.writes();
    let run = start_run(&e, "chain").await;
    let mut task = waiting.await.unwrap().pop().unwrap();
    assert_eq!(e.writes() - before, 1, "s0 leased by the run's start");
    assert_eq!((task.lease.step_id.as_str(), task.lease.attempt), ("s0", 1));
    for id in &ids[1..] {
        let waiting = park(&e, &agent, 1);
        parked(&e, 1).await;
        let before = e.writes();
        assert!(done(&e, &task).await);
        let mut got = waiting.await.unwrap();
        assert_eq!(
            e.writes() - before,
            1,
            "the completion leased {id} in its own transaction; the claim wrote nothing"
        );
        assert_eq!(got.len(), 1);
        task = got.pop().unwrap();
        assert_eq!(&task.lease.step_id, id);
        assert_eq!(task.lease.attempt, 1);
    }
    assert!(done(&e, &task).await);
    let detail = e.plane.get_run(&e.who, &run).await.unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    assert_eq!(e.plane.parked_claims(), 0, "no claim left parked");
}

/// An agent whose noop steps end at once sends each result with its next claim: the result
/// is recorded and the step it readies leased in one transaction, with no claim parked.
async fn results_with_a_claim_lease_what_they_ready_in_their_own_write(e: Env) {
    let (ids, spec) = chain(5);
    let run = start(&e, spec).await;
    let agent = agent(&e, "w", 1, &[]).await;
    let mut task = claim_now(&e, &agent).await;
    assert_eq!(task.lease.step_id, "s0");
    for id in &ids[1..] {
        let before = e.writes();
        let ok = StepResult::ok(BTreeMap::new());
        let (accepted, mut got) = e
            .plane
            .complete_and_claim(&e.who, &agent, &[(task.lease.clone(), ok)], 1)
            .await
            .unwrap();
        assert_eq!(accepted, vec![true]);
        assert_eq!(
            e.writes() - before,
            1,
            "the result and the claim of {id} went in one transaction"
        );
        assert_eq!(got.len(), 1, "{id} was leased with the result");
        task = got.pop().unwrap();
        assert_eq!(
            (task.lease.step_id.as_str(), task.lease.attempt),
            (id.as_str(), 1)
        );
    }
    // The last result readies nothing: accepted, nothing granted, the run ends.
    let ok = StepResult::ok(BTreeMap::new());
    let (accepted, got) = e
        .plane
        .complete_and_claim(&e.who, &agent, &[(task.lease.clone(), ok.clone())], 1)
        .await
        .unwrap();
    assert_eq!((accepted, got.len()), (vec![true], 0));
    let detail = e.plane.get_run(&e.who, &run).await.unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    // A stale result is refused, and the claim still made (nothing is ready).
    let (accepted, got) = e
        .plane
        .complete_and_claim(&e.who, &agent, &[(task.lease.clone(), ok)], 1)
        .await
        .unwrap();
    assert_eq!((accepted, got.len()), (vec![false], 0));
}

/// With nothing ready, a claim first makes sure its agent exists: a removed one learns it.
async fn a_removed_agents_claim_is_refused_at_its_first_look(e: Env) {
    let agent = agent(&e, "gone", 1, &[]).await;
    let idle = e
        .plane
        .claim(&e.who, &agent, 1, Duration::from_millis(20))
        .await
        .unwrap();
    assert!(idle.is_empty());
    e.plane.remove_agent(&e.who, &agent, true).await.unwrap();
    let err = e
        .plane
        .claim(&e.who, &agent, 1, Duration::from_millis(20))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), crate::error::ErrorKind::NotFound, "{err}");
}

async fn a_grant_follows_the_claims_labels_and_slots(e: Env) {
    let mut gpu = noop("gpu", &["a"]);
    gpu.agent = Some(AgentSelector {
        labels: BTreeMap::from([("gpu".to_string(), "yes".to_string())]),
    });
    let spec = WorkflowSpec::new(
        "fan",
        vec![noop("a", &[]), gpu, noop("b", &["a"]), noop("c", &["a"])],
    );
    let run = start(&e, spec).await;
    let plain = agent(&e, "plain", 4, &[]).await;
    let big = agent(&e, "big", 4, &[("gpu", "yes")]).await;
    let a = claim_now(&e, &plain).await;
    // The plain agent waits first, for one step; the gpu agent for up to four.
    let plain_claim = park(&e, &plain, 1);
    parked(&e, 1).await;
    let big_claim = park(&e, &big, 4);
    parked(&e, 2).await;
    let before = e.writes();
    assert!(done(&e, &a).await);
    let to_plain = plain_claim.await.unwrap();
    let to_big = big_claim.await.unwrap();
    assert_eq!(
        e.writes() - before,
        1,
        "granted in the completion's transaction"
    );
    let ids = |tasks: &[StepTask]| -> Vec<String> {
        let mut v: Vec<String> = tasks.iter().map(|t| t.lease.step_id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(
        to_plain.len(),
        1,
        "one slot asked for: {:?}",
        ids(&to_plain)
    );
    assert_ne!(to_plain[0].lease.step_id, "gpu", "its labels do not match");
    let mut all = ids(&to_plain);
    all.extend(ids(&to_big));
    all.sort();
    assert_eq!(all, ["b", "c", "gpu"], "each readied step granted once");
    for id in ["b", "c", "gpu"] {
        assert_eq!(step_state(&e, &run, id).await.status, StepStatus::Leased);
    }
}

async fn a_lease_its_claim_never_hands_on_expires_and_the_step_runs_again(e: Env) {
    let run = start(
        &e,
        WorkflowSpec::new("two", vec![noop("a", &[]), noop("b", &["a"])]),
    )
    .await;
    let agent = agent(&e, "w", 1, &[]).await;
    let a = claim_now(&e, &agent).await;
    let waiting = park(&e, &agent, 1);
    parked(&e, 1).await;
    assert!(done(&e, &a).await);
    // The agent hangs up before its claim answers: the grant reaches no one.
    waiting.abort();
    assert!(waiting.await.unwrap_err().is_cancelled());
    assert_eq!(e.plane.parked_claims(), 0);
    let b = step_state(&e, &run, "b").await;
    assert_eq!(
        (b.status, b.attempt),
        (StepStatus::Leased, 1),
        "leased by the completion"
    );
    // Its lease expires, the step is reaped and granted again: a new attempt.
    let t0 = Instant::now();
    let again = loop {
        let got = e
            .plane
            .claim(&e.who, &agent, 1, Duration::from_millis(100))
            .await
            .unwrap();
        if let Some(t) = got.into_iter().next() {
            break t;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "b was never reaped");
    };
    assert_eq!(
        (again.lease.step_id.as_str(), again.lease.attempt),
        ("b", 2)
    );
    assert!(done(&e, &again).await);
    let detail = e.plane.get_run(&e.who, &run).await.unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    let b = step_state(&e, &run, "b").await;
    assert_eq!((b.status, b.attempt), (StepStatus::Succeeded, 2));
}
