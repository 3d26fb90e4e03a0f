//! One behaviour, every backend (tests only): each scenario here drives a store through the
//! backend-neutral traits (`store::api`) only, and runs against a SQLite store and a PostgreSQL
//! one (a fresh database from `postgres::testdb`; skipped when there is no PostgreSQL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Error;
use crate::auth::{Principal, Role};
use crate::engine::StepLimits;
use crate::model::{
    AgentRegistration, AgentState, CapturedLine, LeaseRef, LogStream, RunFilter, RunStatus,
    StepKind, StepResult, StepSpec, StepStatus, StepTask, WorkflowSpec,
};
use crate::store::api::Backend;

/// A fresh SQLite store (and the directory holding it).
fn sqlite() -> (tempfile::TempDir, Arc<dyn Backend>) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open(&dir.path().join("imx.db"), true).unwrap();
    (dir, Arc::new(store))
}

/// A fresh PostgreSQL store (and the database holding it), if there is a PostgreSQL.
fn postgres() -> Option<(crate::store::postgres::testdb::TestDb, Arc<dyn Backend>)> {
    let (db, store) = crate::store::postgres::store::tests::test_store()?;
    Some((db, Arc::new(store)))
}

/// `scenario` as two tests: `sqlite` and `postgres`.
macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn sqlite() {
                let (_dir, store) = super::sqlite();
                super::$scenario(&store);
            }
            #[test]
            fn postgres() {
                let Some((_db, store)) = super::postgres() else { return };
                super::$scenario(&store);
            }
        }
    )*};
}

mod approvals;
mod artifacts;
mod concurrency;
mod conditions;
mod eager;
mod fanout;
mod feeds;
mod notify;
mod notify_rules;
mod ranges;
mod retention;
mod run_labels;
mod schedules;
mod secrets;
mod tables;
mod tick_retention;
mod triggers;

on_both!(
    a_run_is_claimed_once_per_step_and_succeeds,
    a_cancelled_run_ends_with_its_steps,
    a_failed_run_retried_runs_its_step_again,
    an_expired_lease_is_reaped_and_the_step_claimed_again,
    heartbeats_logs_and_stale_reports,
    agents_register_drain_and_go,
    workflows_are_versioned_by_content,
    audit_appends_form_one_chain,
    users_tokens_and_throttles,
    settings_give_a_run_its_timeout,
    the_store_key_is_checked_against_the_store,
    counts_for_status_and_the_dashboard,
);

const LEASE: i64 = 30_000;

fn step(id: &str, needs: &[&str]) -> StepSpec {
    let mut s = StepSpec::new(id, StepKind::Noop);
    s.needs = needs.iter().map(|n| n.to_string()).collect();
    s
}

fn apply(store: &Arc<dyn Backend>, spec: &WorkflowSpec) {
    store.write(|tx| tx.apply_workflow(spec, false)).unwrap();
}

fn start_run(store: &Arc<dyn Backend>, workflow: &str) -> String {
    let cache = store.specs();
    store
        .write(|tx| tx.create_run(cache, workflow, &BTreeMap::new(), None, None, "tester"))
        .unwrap()
        .id
}

/// Start a run of `workflow` as the run of a recorded tick of `schedule` at `nominal`, as the
/// scheduler does: the run names its tick, and the tick its run.
fn start_tick_run(
    tx: &crate::store::Tx<'_>,
    cache: &crate::engine::SpecCache,
    workflow: &str,
    schedule: &str,
    nominal: i64,
) -> crate::Result<String> {
    let run = tx.create_run_with(
        cache,
        &crate::store::api::RunRequest {
            workflow,
            version: None,
            params: &BTreeMap::new(),
            timeout_ms: None,
            default_timeout_ms: None,
            created_by: "tester",
            labels: &BTreeMap::new(),
            rerun_of: None,
            schedule: Some((schedule, nominal)),
            id: None,
        },
    )?;
    tx.link_tick_runs(&[(schedule, nominal, &run.id)])?;
    Ok(run.id)
}

fn register(store: &Arc<dyn Backend>, name: &str) -> String {
    let cache = store.specs();
    let reg = AgentRegistration {
        name: name.into(),
        labels: BTreeMap::new(),
        slots: 4,
        hostname: "h".into(),
        pid: 1,
        version: "test".into(),
        instance: None,
        pid_scope: None,
        replaces_pid: None,
    };
    store
        .write(|tx| tx.register_agent(cache, &reg, "tester", LEASE))
        .unwrap()
        .id
}

fn claim(store: &Arc<dyn Backend>, agent: &str, max: u32, lease_ms: i64) -> Vec<StepTask> {
    let cache = store.specs();
    store
        .write(|tx| tx.claim(cache, agent, max, lease_ms, &StepLimits::default()))
        .unwrap()
        .tasks
}

fn complete(store: &Arc<dyn Backend>, lease: &LeaseRef, result: StepResult) -> bool {
    let cache = store.specs();
    let results = [(lease.clone(), result)];
    store
        .write(|tx| {
            tx.start_step(lease)?;
            tx.complete_steps(cache, &results, 1 << 20)
        })
        .unwrap()[0]
}

fn run_status(store: &Arc<dyn Backend>, run: &str) -> RunStatus {
    let cache = store.specs();
    store
        .read(|tx| tx.run_detail(cache, run))
        .unwrap()
        .run
        .status
}

fn step_statuses(store: &Arc<dyn Backend>, run: &str) -> Vec<(String, StepStatus)> {
    let cache = store.specs();
    store
        .read(|tx| tx.run_detail(cache, run))
        .unwrap()
        .steps
        .into_iter()
        .map(|s| (s.step_id, s.status))
        .collect()
}

/// Apply a workflow, start a run; two agents claim at once and each ready step is granted
/// once; the steps complete, the last one is released and claimed, and the run succeeds.
fn a_run_is_claimed_once_per_step_and_succeeds(store: &Arc<dyn Backend>) {
    let wf = WorkflowSpec::new(
        "fan",
        vec![
            step("a", &[]),
            step("b", &[]),
            step("c", &[]),
            step("d", &[]),
            step("end", &["a", "b", "c", "d"]),
        ],
    );
    apply(store, &wf);
    let run = start_run(store, "fan");
    assert_eq!(run_status(store, &run), RunStatus::Queued);
    let agents = [register(store, "w1"), register(store, "w2")];
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let claimers: Vec<_> = agents
        .iter()
        .map(|agent| {
            let (store, agent, barrier) = (store.clone(), agent.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut got = Vec::new();
                loop {
                    let tasks = claim(&store, &agent, 1, LEASE);
                    if tasks.is_empty() {
                        return got;
                    }
                    got.extend(tasks);
                }
            })
        })
        .collect();
    let tasks: Vec<StepTask> = claimers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let granted: Vec<&str> = tasks.iter().map(|t| t.lease.step_id.as_str()).collect();
    let distinct: HashSet<&str> = granted.iter().copied().collect();
    assert_eq!(granted.len(), 4, "granted: {granted:?}");
    assert_eq!(distinct, HashSet::from(["a", "b", "c", "d"]));
    assert!(tasks.iter().all(|t| t.lease.attempt == 1));
    assert_eq!(run_status(store, &run), RunStatus::Running);
    for t in &tasks {
        let mut out = BTreeMap::new();
        out.insert("k".to_string(), t.lease.step_id.clone());
        assert!(complete(store, &t.lease, StepResult::ok(out)));
    }
    let last = claim(store, &agents[0], 4, LEASE);
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].lease.step_id, "end");
    // The last step sees its upstream steps' outputs.
    assert_eq!(
        last[0].env.get("IMX_OUT_A_K").map(String::as_str),
        Some("a"),
        "{:?}",
        last[0].env
    );
    assert!(complete(
        store,
        &last[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);
    assert!(
        step_statuses(store, &run)
            .iter()
            .all(|(_, s)| *s == StepStatus::Succeeded)
    );
    // A completion repeated for an ended attempt is not accepted again.
    assert!(!complete_only(store, &last[0].lease));
    let page = store
        .read_quick(|tx| tx.list_runs(&RunFilter::default()))
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, run);
    assert_eq!(page.items[0].steps_succeeded, 5);
    let short = &run[..10];
    assert_eq!(store.read(|tx| tx.resolve_run_id(short)).unwrap(), run);
    assert!(
        !store
            .read(|tx| tx.any_ready(crate::model::now_ms()))
            .unwrap()
    );
}

fn complete_only(store: &Arc<dyn Backend>, lease: &LeaseRef) -> bool {
    let cache = store.specs();
    let results = [(lease.clone(), StepResult::ok(BTreeMap::new()))];
    store
        .write(|tx| tx.complete_steps(cache, &results, 1 << 20))
        .unwrap()[0]
}

/// Cancelling a run ends it and its open steps; a held step's completion is then refused.
fn a_cancelled_run_ends_with_its_steps(store: &Arc<dyn Backend>) {
    apply(
        store,
        &WorkflowSpec::new("two", vec![step("a", &[]), step("b", &["a"])]),
    );
    let run = start_run(store, "two");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 2, LEASE);
    assert_eq!(tasks.len(), 1);
    let cache = store.specs();
    let cancelled = store.write(|tx| tx.cancel_run(cache, &run)).unwrap();
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert!(
        step_statuses(store, &run)
            .iter()
            .all(|(_, s)| *s == StepStatus::Cancelled),
        "{:?}",
        step_statuses(store, &run)
    );
    assert!(!complete_only(store, &tasks[0].lease));
    // Cancelling again is refused: the run has ended.
    let again = store.write(|tx| tx.cancel_run(cache, &run)).unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again:?}");
}

/// A run whose step failed is retried: the step is ready again, claimed as a new attempt, and
/// the run can still succeed.
fn a_failed_run_retried_runs_its_step_again(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let run = start_run(store, "one");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 1, LEASE);
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::failed("boom", Some(1))
    ));
    assert_eq!(run_status(store, &run), RunStatus::Failed);
    let cache = store.specs();
    let retried = store.write(|tx| tx.retry_run(cache, &run, None)).unwrap();
    assert_eq!(retried.status, RunStatus::Running);
    assert_eq!(
        step_statuses(store, &run),
        [("a".into(), StepStatus::Ready)]
    );
    let again = claim(store, &agent, 1, LEASE);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].lease.attempt, 2);
    assert!(complete(
        store,
        &again[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);
}

/// Wait (with a deadline) until `f` holds.
fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A lease that is not renewed expires: the reaper gives the step back to the queue, and the
/// next claim takes it as a new attempt; the old attempt's reports are refused.
fn an_expired_lease_is_reaped_and_the_step_claimed_again(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let run = start_run(store, "one");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 1, 1);
    assert_eq!(tasks.len(), 1);
    wait_for("the lease to expire", || {
        store.read(|tx| tx.reap_due()).unwrap()
    });
    let cache = store.specs();
    assert_eq!(store.write(|tx| tx.reap(cache)).unwrap(), 1);
    assert_eq!(
        step_statuses(store, &run),
        [("a".into(), StepStatus::Ready)]
    );
    assert!(!complete_only(store, &tasks[0].lease));
    let again = claim(store, &agent, 1, LEASE);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].lease.attempt, 2);
    assert!(complete(
        store,
        &again[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    assert_eq!(run_status(store, &run), RunStatus::Succeeded);
}

/// Heartbeats renew held leases and revoke the rest; logs are taken for a held attempt only.
fn heartbeats_logs_and_stale_reports(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    start_run(store, "one");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 1, LEASE);
    let lease = tasks[0].lease.clone();
    let mut stale = lease.clone();
    stale.attempt += 1;
    let leases = [lease.clone(), stale.clone()];
    let reply = store
        .write(|tx| tx.heartbeat(&agent, &leases, LEASE))
        .unwrap();
    assert_eq!(reply.renewed, std::slice::from_ref(&lease));
    assert_eq!(reply.revoked, [stale.clone()]);
    assert!(!reply.draining && !reply.removed);
    let checked = store.read(|tx| tx.check_leases(&agent, &leases)).unwrap();
    assert_eq!(checked.renewed, std::slice::from_ref(&lease));
    // Checked at once (one query on PostgreSQL): each lease answered, a missing step's too.
    let mut missing = lease.clone();
    missing.step_id = "no-such-step".into();
    let three = [missing.clone(), lease.clone(), stale.clone()];
    let checked = store.read(|tx| tx.check_leases(&agent, &three)).unwrap();
    assert_eq!(checked.renewed, std::slice::from_ref(&lease));
    assert_eq!(checked.revoked, [missing, stale.clone()]);
    let lines = [CapturedLine::new(LogStream::Stdout, "hello")];
    store
        .write(|tx| tx.append_logs(&lease, &lines, 1 << 20))
        .unwrap();
    let e = store
        .write(|tx| tx.append_logs(&stale, &lines, 1 << 20))
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let unknown = store
        .write(|tx| tx.heartbeat("no-such-agent", &leases, LEASE))
        .unwrap();
    assert!(unknown.removed);
    assert_eq!(unknown.revoked.len(), 2);
}

/// Agents register, are listed, drain (and get nothing while draining), resume, deregister
/// (what they held is lost) and are removed.
fn agents_register_drain_and_go(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let run = start_run(store, "one");
    let w1 = register(store, "w1");
    let w2 = register(store, "w2");
    let names: Vec<String> = store
        .read(|tx| tx.list_agents())
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["w1", "w2"]);
    assert_eq!(store.read(|tx| tx.live_agents()).unwrap().len(), 2);
    let drained = store.write(|tx| tx.set_agent_draining("w1", true)).unwrap();
    assert_eq!(drained.state, AgentState::Draining);
    assert!(claim(store, &w1, 1, LEASE).is_empty());
    store
        .write(|tx| tx.set_agent_draining("w1", false))
        .unwrap();
    let tasks = claim(store, &w1, 1, LEASE);
    assert_eq!(tasks.len(), 1);
    let got = store.read(|tx| tx.get_agent("w1")).unwrap();
    assert_eq!((got.id.as_str(), got.running), (w1.as_str(), 1));
    // Another principal may not act for it.
    assert!(
        store
            .read(|tx| tx.check_agent_bound(&w1, "tester"))
            .unwrap()
    );
    assert!(
        !store
            .read(|tx| tx.check_agent_bound("no-such-agent", "tester"))
            .unwrap(),
        "an unknown agent passes, but is not bound"
    );
    assert!(matches!(
        store.read(|tx| tx.check_agent_bound(&w1, "someone")),
        Err(Error::Forbidden { .. })
    ));
    // Removing an online agent that holds a step needs force.
    let cache = store.specs();
    assert!(matches!(
        store.write(|tx| tx.remove_agent(cache, "w1", false)),
        Err(Error::Conflict(_))
    ));
    store.write(|tx| tx.deregister_agent(cache, &w1)).unwrap();
    assert_eq!(
        step_statuses(store, &run),
        [("a".into(), StepStatus::Ready)]
    );
    let again = claim(store, &w2, 1, LEASE);
    assert_eq!(again.len(), 1);
    store
        .write(|tx| tx.remove_agent(cache, "w1", false))
        .unwrap();
    store.write(|tx| tx.remove_agent(cache, &w2, true)).unwrap();
    assert!(store.read(|tx| tx.list_agents()).unwrap().is_empty());
    assert!(matches!(
        store.read(|tx| tx.get_agent("w1")),
        Err(Error::NotFound { .. } | Error::NotFoundHint { .. })
    ));
}

/// Applying the same spec twice keeps one version; a changed one is the next; deleted
/// workflows are gone from the list.
fn workflows_are_versioned_by_content(store: &Arc<dyn Backend>) {
    let mut wf = WorkflowSpec::new("wf", vec![step("a", &[])]);
    let first = store.write(|tx| tx.apply_workflow(&wf, false)).unwrap();
    let same = store.write(|tx| tx.apply_workflow(&wf, false)).unwrap();
    assert_eq!((first.version, same.version), (1, 1));
    wf.steps.push(step("b", &["a"]));
    let dry = store.write(|tx| tx.apply_workflow(&wf, true)).unwrap();
    assert_eq!(dry.version, 2);
    let second = store.write(|tx| tx.apply_workflow(&wf, false)).unwrap();
    assert_eq!(second.version, 2);
    let got = store.read(|tx| tx.get_workflow("wf", Some(1))).unwrap();
    assert_eq!(got.spec.steps.len(), 1);
    let latest = store.read(|tx| tx.get_workflow("wf", None)).unwrap();
    assert_eq!((latest.version, latest.spec.steps.len()), (2, 2));
    let cache = store.specs();
    let ix = store.read(|tx| tx.workflow_index(cache, "wf", 2)).unwrap();
    assert_eq!(ix.spec.steps.len(), 2);
    let list = store.read(|tx| tx.list_workflows()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].version, list[0].steps), (2, 2));
    let e = store.read(|tx| tx.get_workflow("wf2", None)).unwrap_err();
    assert!(matches!(e, Error::NotFoundHint { .. }), "{e:?}");
    let e = store.read(|tx| tx.get_workflow("zzz", None)).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    // The source text is kept beside the spec, not part of its digest: the same spec applied
    // from a file keeps its version and gains the file's text.
    assert_eq!(latest.spec.source, None);
    wf.source = Some("name: wf # as written\n".into());
    let again = store.write(|tx| tx.apply_workflow(&wf, false)).unwrap();
    assert_eq!(again.version, 2);
    let kept = store.read(|tx| tx.get_workflow("wf", None)).unwrap();
    assert_eq!(kept.spec.source.as_deref(), Some("name: wf # as written\n"));
    assert_eq!(kept.digest, latest.digest);
    store.write(|tx| tx.delete_workflow("wf")).unwrap();
    assert!(store.read(|tx| tx.list_workflows()).unwrap().is_empty());
}

/// Appends inside write transactions form one chain that verifies.
fn audit_appends_form_one_chain(store: &Arc<dyn Backend>) {
    let who = Principal {
        name: "user:admin".into(),
        role: Role::Admin,
        source: "cli".into(),
    };
    for i in 0..3 {
        store
            .write(|tx| {
                crate::audit::append(
                    tx,
                    &who,
                    "run.start",
                    "r1",
                    "ok",
                    serde_json::json!({"i": i}),
                )
            })
            .unwrap();
    }
    let records = store.read(|tx| crate::audit::list(tx)).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(crate::audit::verify(&records), Ok(()));
    let head = store.write(|tx| tx.head()).unwrap().unwrap();
    assert_eq!(head.seq, 3);
    assert_eq!(head.hash, records[2].hash);
    assert!(store.read(|tx| tx.store_id()).unwrap().len() >= 16);
    // Pruning: cut at record 2; the chain goes on from there.
    let (boundary, n) = store
        .read(|tx| tx.last_before(records[2].time + 1))
        .unwrap()
        .unwrap();
    assert_eq!((boundary.seq, n), (3, 3));
    let at_two = crate::audit::Base {
        seq: 2,
        hash: records[1].hash.clone(),
    };
    store.write(|tx| tx.cut(&at_two)).unwrap();
    assert_eq!(store.read(|tx| tx.base()).unwrap(), at_two);
    let next = store
        .write(|tx| crate::audit::append(tx, &who, "run.start", "r2", "ok", serde_json::json!({})))
        .unwrap();
    assert_eq!(
        (next.seq, next.prev_hash.as_str()),
        (4, records[2].hash.as_str())
    );
    let kept: Vec<i64> = store
        .read(|tx| crate::audit::list(tx))
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(kept, [3, 4]);
    assert!(
        store
            .read(|tx| tx.run_outcomes(None, None))
            .unwrap()
            .is_empty()
    );
}

/// Users (names unique in any case), their tokens, and login throttling.
fn users_tokens_and_throttles(store: &Arc<dyn Backend>) {
    let alice = store
        .write(|tx| tx.create_user("alice", Role::Admin, Some("$argon2id$x")))
        .unwrap();
    assert!(alice.has_password && !alice.disabled);
    let e = store
        .write(|tx| tx.create_user("Alice", Role::Viewer, None))
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    store
        .write(|tx| tx.create_user("bob", Role::Viewer, None))
        .unwrap();
    let names: Vec<String> = store
        .read(|tx| tx.list_users())
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(store.read(|tx| tx.enabled_admins()).unwrap(), 1);
    let change = crate::model::UserUpdate {
        role: Some(Role::Operator),
        disabled: Some(true),
    };
    let bob = store.write(|tx| tx.update_user("bob", &change)).unwrap();
    assert_eq!((bob.role, bob.disabled), (Role::Operator, true));
    store
        .write(|tx| tx.set_password_hash("bob", "$argon2id$y"))
        .unwrap();
    let login = store.read(|tx| tx.login_row("bob")).unwrap().unwrap();
    assert_eq!(login.password_hash.as_deref(), Some("$argon2id$y"));
    assert!(login.disabled);
    assert!(store.read(|tx| tx.login_row("carol")).unwrap().is_none());
    assert!(matches!(
        store.read(|tx| tx.get_user("alic")),
        Err(Error::NotFoundHint { .. })
    ));

    let now = crate::model::now_ms();
    let t = crate::auth::throttle::Throttle {
        failures: 3,
        lockouts: 1,
        locked_until: Some(now + 60_000),
        last_failure: Some(now),
    };
    store.write(|tx| tx.save_throttle("alice", &t)).unwrap();
    store.write(|tx| tx.save_throttle("alice", &t)).unwrap();
    assert_eq!(store.read(|tx| tx.throttle("alice")).unwrap(), t);
    assert_eq!(
        store.read(|tx| tx.get_user("alice")).unwrap().locked_until,
        Some(now + 60_000)
    );
    store
        .write(|tx| tx.save_source_throttle("alice", "10.0.0.1", &t))
        .unwrap();
    assert_eq!(
        store
            .read(|tx| tx.source_throttle("alice", "10.0.0.1"))
            .unwrap(),
        t
    );
    assert_eq!(
        store
            .read(|tx| tx.failing_sources("alice", now - 1))
            .unwrap(),
        1
    );
    store
        .write(|tx| tx.clear_source_throttle("alice", "10.0.0.1"))
        .unwrap();
    assert_eq!(
        store
            .read(|tx| tx.failing_sources("alice", now - 1))
            .unwrap(),
        0
    );
    assert_eq!(
        store.write(|tx| tx.clear_throttle("alice")).unwrap(),
        (true, 0)
    );
    assert_eq!(
        store.read(|tx| tx.throttle("alice")).unwrap(),
        Default::default()
    );
    assert!(
        store
            .read(|tx| tx.unknown_name_key(false))
            .unwrap()
            .is_none()
    );
    let key = store.write(|tx| tx.unknown_name_key(true)).unwrap();
    assert!(key.is_some());
    assert_eq!(store.read(|tx| tx.unknown_name_key(false)).unwrap(), key);

    let insert =
        |id: &'static str, name: &'static str, hash: &'static str| crate::store::api::TokenInsert {
            id,
            name,
            user: Some("alice"),
            role: None,
            secret_hash: hash,
            last4: "abcd",
            created_by: "user:alice",
            expires_at: None,
        };
    let t1 = store
        .write(|tx| tx.insert_token(&insert("01TOKENAAAA", "laptop", "h1")))
        .unwrap();
    assert_eq!((t1.role, t1.user.as_deref()), (Role::Admin, Some("alice")));
    let e = store
        .write(|tx| tx.insert_token(&insert("01TOKENBBBB", "laptop", "h2")))
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    store
        .write(|tx| tx.insert_token(&insert("01TOKENCCCC", "ci", "h3")))
        .unwrap();
    let found = store.read(|tx| tx.token_by_hash("h1")).unwrap().unwrap();
    assert_eq!(found.token.id, "01TOKENAAAA");
    assert!(!found.user_disabled && !found.user_missing);
    assert!(store.read(|tx| tx.token_by_hash("nope")).unwrap().is_none());
    let ids: Vec<String> = store
        .read(|tx| tx.list_tokens(Some("alice")))
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["01TOKENCCCC", "01TOKENAAAA"]);
    assert_eq!(
        store.read(|tx| tx.get_token("ci")).unwrap().token.id,
        "01TOKENCCCC"
    );
    assert_eq!(
        store.read(|tx| tx.get_token("01tokena")).unwrap().token.id,
        "01TOKENAAAA"
    );
    assert!(matches!(
        store.read(|tx| tx.get_token("01TOKEN")),
        Err(Error::Ambiguous { .. })
    ));
    store
        .write(|tx| tx.touch_token("01TOKENAAAA", now))
        .unwrap();
    let revoked = store.write(|tx| tx.revoke_token("01TOKENAAAA")).unwrap();
    assert_eq!(revoked.state, crate::model::TokenState::Revoked);
    assert_eq!(revoked.last_used_at, Some(now));
    assert_eq!(
        store
            .write(|tx| tx.revoke_user_tokens("alice", Some("01TOKENCCCC")))
            .unwrap(),
        0
    );
    let (gone, n) = store.write(|tx| tx.delete_user("alice")).unwrap();
    assert_eq!((gone.name.as_str(), n), ("alice", 1));
    let orphan = store.read(|tx| tx.get_token("ci")).unwrap();
    assert!(orphan.user_missing);
}

/// The store key's check value: recorded by the first key used, which every later key must
/// match; a process given no key (a replica without --store-key-file) never makes one up.
fn the_store_key_is_checked_against_the_store(store: &Arc<dyn Backend>) {
    use crate::control::LocalControlPlane;
    use crate::keys::{KeyOrigin, StoreKey, StoreKeySource};
    let plane = |source: StoreKeySource| {
        LocalControlPlane::with_backend(store.clone(), crate::control::LocalOptions::default())
            .with_store_key(source)
    };
    assert_eq!(store.read(|tx| tx.store_key_check()).unwrap(), None);
    let none = plane(StoreKeySource::missing("give --store-key-file"))
        .store_key()
        .unwrap_err();
    assert!(matches!(none, Error::StoreKey { .. }), "{none}");
    assert_eq!(store.read(|tx| tx.store_key_check()).unwrap(), None);
    let key = StoreKey::generate();
    let got = plane(StoreKeySource::given(key.clone(), KeyOrigin::Env))
        .store_key()
        .unwrap();
    assert_eq!(got, key);
    assert_eq!(
        store.read(|tx| tx.store_key_check()).unwrap(),
        Some(key.check())
    );
    // The first key wins; another one is refused, and the check stays.
    assert_eq!(
        store
            .write(|tx| tx.init_store_key_check("v1:other"))
            .unwrap(),
        key.check()
    );
    let wrong = plane(StoreKeySource::given(StoreKey::generate(), KeyOrigin::Env))
        .store_key()
        .unwrap_err();
    assert!(wrong.to_string().contains("wrong store key"), "{wrong}");
    let again = plane(StoreKeySource::given(key.clone(), KeyOrigin::Env));
    let sealed = again.store_key().unwrap().seal(b"s3cret", b"aad");
    assert_eq!(key.open(&sealed, b"aad").unwrap().as_slice(), b"s3cret");
}

/// The store's default run timeout, and which timeout a run gets.
fn settings_give_a_run_its_timeout(store: &Arc<dyn Backend>) {
    use crate::model::TimeoutSource;
    assert_eq!(store.read(|tx| tx.default_run_timeout()).unwrap(), None);
    let t = store.read(|tx| tx.run_timeout(None, None, None)).unwrap();
    assert_eq!(t.source, TimeoutSource::BuiltIn);
    store.write(|tx| tx.set_default_run_timeout(5_000)).unwrap();
    store.write(|tx| tx.set_default_run_timeout(6_000)).unwrap();
    assert_eq!(
        store.read(|tx| tx.default_run_timeout()).unwrap(),
        Some(6_000)
    );
    let t = store.read(|tx| tx.run_timeout(None, None, None)).unwrap();
    assert_eq!((t.ms, t.source), (6_000, TimeoutSource::Store));
    let t = store
        .read(|tx| tx.run_timeout(None, Some(7_000), Some(8_000)))
        .unwrap();
    assert_eq!((t.ms, t.source), (7_000, TimeoutSource::Workflow));
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let cache = store.specs();
    let run = store
        .write(|tx| tx.create_run(cache, "one", &BTreeMap::new(), Some(9_000), None, "me"))
        .unwrap();
    assert_eq!(
        run.deadline.map(|d| d - run.created_at),
        Some(9_000),
        "{run:?}"
    );
}

/// `imx status` counts and the dashboard's overview, minutes, durations and workflows.
fn counts_for_status_and_the_dashboard(store: &Arc<dyn Backend>) {
    apply(store, &WorkflowSpec::new("one", vec![step("a", &[])]));
    let mut v2 = WorkflowSpec::new("two", vec![step("a", &[])]);
    apply(store, &v2);
    v2.steps.push(step("b", &["a"]));
    apply(store, &v2);
    let done = start_run(store, "one");
    // Ids order runs by the millisecond they were made in: the next is made in a later one.
    let made = crate::model::now_ms();
    wait_for("the clock to move on", || crate::model::now_ms() > made);
    let cancelled = start_run(store, "one");
    let agent = register(store, "w1");
    let tasks = claim(store, &agent, 1, LEASE);
    assert_eq!(tasks[0].lease.run_id, done);
    let o = store
        .read(|tx| tx.overview_counts(crate::model::now_ms(), 5))
        .unwrap();
    assert_eq!(o.agents_holding, 1, "an agent with a step is busy");
    assert!(complete(
        store,
        &tasks[0].lease,
        StepResult::ok(BTreeMap::new())
    ));
    let cache = store.specs();
    store.write(|tx| tx.cancel_run(cache, &cancelled)).unwrap();
    let counts = store.read(|tx| tx.status_counts()).unwrap();
    assert_eq!(counts.runs[&RunStatus::Succeeded], 1);
    assert_eq!(counts.runs[&RunStatus::Cancelled], 1);
    assert_eq!(counts.runs[&RunStatus::Running], 0);
    assert_eq!(counts.agents[&AgentState::Online], 1);
    assert_eq!(
        (counts.steps_ready, counts.steps_running, counts.workflows),
        (0, 0, 2)
    );
    let minutes = store.read(|tx| tx.run_minutes(0)).unwrap();
    let ended: u64 = minutes.iter().map(|(_, _, n)| n).sum();
    assert_eq!(ended, 2);
    let steps: u64 = store
        .read(|tx| tx.step_minutes(0))
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(steps, 2, "the succeeded step and the cancelled one");
    assert_eq!(store.read(|tx| tx.step_durations(0, 10)).unwrap().len(), 1);
    let now = crate::model::now_ms();
    let o = store.read_feeds(|tx| tx.overview_counts(now, 5)).unwrap();
    assert_eq!((o.runs_running, o.runs_queued), (0, 0));
    assert_eq!(o.agents[&AgentState::Online], 1);
    assert_eq!(o.agents_holding, 0, "its step ended: idle");
    assert!(o.event_id > 0);
    assert!(o.latest_failures.is_empty());
    let wfs = store.read(|tx| tx.dashboard_workflows(5)).unwrap();
    let names: Vec<&str> = wfs.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(wfs[0].recent.len(), 2);
    assert_eq!(wfs[0].recent[0], (cancelled.clone(), RunStatus::Cancelled));
    let ms = &wfs[0].recent_ms;
    assert!(
        !ms.is_empty() && ms.len() <= 2 && ms.iter().all(|d| *d >= 0),
        "the durations of the runs that started and ended: {ms:?}"
    );
    assert_eq!(
        wfs[1].versions.iter().map(|v| v.0).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(wfs[1].steps, 2);

    // The dashboard's pages.
    use crate::control::{AgentQuery, RunQuery, RunSort};
    let q = RunQuery {
        limit: 1,
        ..RunQuery::default()
    };
    let page = store.read(|tx| tx.dashboard_runs(&q)).unwrap();
    assert_eq!(page.items[0].id, cancelled);
    let q = RunQuery {
        limit: 5,
        cursor: page.next_cursor.clone(),
        ..RunQuery::default()
    };
    let rest = store.read(|tx| tx.dashboard_runs(&q)).unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].id, done);
    let q = RunQuery {
        text: Some("tes".into()),
        sort: RunSort::Oldest,
        limit: 5,
        ..RunQuery::default()
    };
    let found = store.read(|tx| tx.dashboard_runs(&q)).unwrap();
    assert_eq!(found.items.len(), 2, "created by tester");
    assert_eq!(found.items[0].id, done);
    let q = RunQuery {
        status: Some(RunStatus::Succeeded),
        workflow: Some("one".into()),
        limit: 5,
        ..RunQuery::default()
    };
    assert_eq!(
        store.read(|tx| tx.dashboard_runs(&q)).unwrap().items.len(),
        1
    );
    let q = AgentQuery {
        text: Some("w".into()),
        after: None,
        limit: 5,
    };
    let agents = store.read(|tx| tx.dashboard_agents(&q, now)).unwrap();
    assert_eq!(agents.items.len(), 1);
    assert_eq!(agents.items[0].state, AgentState::Online);
    let who = Principal {
        name: "user:admin".into(),
        role: Role::Admin,
        source: "cli".into(),
    };
    for target in ["r1", "r2"] {
        store
            .write(|tx| {
                crate::audit::append(tx, &who, "run.cancel", target, "ok", serde_json::json!({}))
            })
            .unwrap();
    }
    let f = crate::control::AuditFilter {
        text: Some("r2".into()),
        outcome: Some("ok".into()),
        ..crate::control::AuditFilter::default()
    };
    let tail = store.read(|tx| tx.audit_tail(&f, None, 10)).unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].target, "r2");
}
