//! Replicas sharing one database (tests only): several [`PgStore`]s on one database, as
//! `imx server` replicas, claim and complete the steps of one run at once. Each step is
//! granted once, every completion counts once on the run row, and the run succeeds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::engine::StepLimits;
use crate::model::{
    AgentRegistration, RunStatus, StepKind, StepResult, StepSpec, StepTask, WorkflowSpec,
};
use crate::store::api::Backend;
use crate::store::postgres::PgStore;
use crate::store::postgres::store::tests::test_db;

const STEPS: usize = 40;

fn claim_all(store: &dyn Backend, agent: &str) -> Vec<StepTask> {
    let cache = store.specs();
    let mut got = Vec::new();
    loop {
        let tasks = store
            .write(|tx| tx.claim(cache, agent, 3, 30_000, &StepLimits::default()))
            .unwrap()
            .tasks;
        if tasks.is_empty() {
            return got;
        }
        for t in &tasks {
            store.write(|tx| tx.start_step(&t.lease)).unwrap();
        }
        got.extend(tasks);
    }
}

#[test]
fn replicas_claim_each_step_once_and_count_each_completion_once() {
    let Some(db) = test_db() else {
        return;
    };
    let replicas: Vec<Arc<dyn Backend>> = (0..2)
        .map(|_| Arc::new(PgStore::open(&db.url(), true).unwrap()) as Arc<dyn Backend>)
        .collect();
    let steps: Vec<StepSpec> = (0..STEPS)
        .map(|i| StepSpec::new(format!("s{i}"), StepKind::Noop))
        .collect();
    let first = &replicas[0];
    first
        .write(|tx| tx.apply_workflow(&WorkflowSpec::new("wide", steps.clone()), false))
        .unwrap();
    let cache = first.specs();
    let run = first
        .write(|tx| tx.create_run(cache, "wide", &BTreeMap::new(), None, None, "me"))
        .unwrap();
    let mut agents = Vec::new();
    for (i, r) in replicas.iter().enumerate() {
        for j in 0..2 {
            let reg = AgentRegistration {
                name: format!("w{i}{j}"),
                labels: BTreeMap::new(),
                slots: 64,
                hostname: "h".into(),
                pid: 1,
                version: "test".into(),
                instance: None,
                pid_scope: None,
                replaces_pid: None,
            };
            let cache = r.specs();
            let id = r
                .write(|tx| tx.register_agent(cache, &reg, "me", 30_000))
                .unwrap()
                .id;
            agents.push((r.clone(), id));
        }
    }
    // Every agent claims through its replica at once, then completes what it got.
    let barrier = Arc::new(std::sync::Barrier::new(agents.len()));
    let workers: Vec<_> = agents
        .into_iter()
        .map(|(store, agent)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let tasks = claim_all(store.as_ref(), &agent);
                barrier.wait();
                let cache = store.specs();
                for t in &tasks {
                    let results = [(t.lease.clone(), StepResult::ok(BTreeMap::new()))];
                    let ok = store
                        .write(|tx| tx.complete_steps(cache, &results, 1 << 20))
                        .unwrap();
                    assert_eq!(ok, [true]);
                }
                tasks
            })
        })
        .collect();
    let granted: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .map(|t| t.lease.step_id)
        .collect();
    let distinct: HashSet<&String> = granted.iter().collect();
    assert_eq!(granted.len(), STEPS, "each step granted once");
    assert_eq!(distinct.len(), STEPS);
    let second = &replicas[1];
    let cache = second.specs();
    let detail = second.read(|tx| tx.run_detail(cache, &run.id)).unwrap();
    assert_eq!(detail.run.status, RunStatus::Succeeded);
    assert_eq!(detail.run.steps_succeeded as usize, STEPS);
}
