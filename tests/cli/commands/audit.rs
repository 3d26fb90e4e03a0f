//! Every mutation leaves one audit record by `local:<os-user>`, in a valid hash chain. Local-only:
//! it reads the store file and expects the local owner as the actor (through a server the actor
//! is the token's principal, which this test does not cover yet).

use std::collections::BTreeMap;

use super::{NOOP, env};
use crate::env::{SLOW, TestEnv, wait_until};

fn records(env: &TestEnv) -> Vec<imx::model::AuditRecord> {
    let mut conn = rusqlite::Connection::open(env.store()).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let tx = conn.transaction().unwrap();
    imx::audit::list(&tx).unwrap()
}

#[test]
fn every_mutation_is_audited_once_by_the_local_owner_in_a_valid_chain() {
    let env = env();
    env.apply("noop.yaml", NOOP);
    env.apply("noop.yaml", NOOP); // unchanged: not a mutation
    env.apply("slow.yaml", &super::sleepy("slow", 30.0));
    let mut agent = env.agent("worker", 1);
    let ok = env.start("noop", &[]);
    env.finish(&ok);
    let slow = env.start("slow", &[]);
    wait_until("the slow step to run", SLOW, || {
        env.show_run(&slow)["steps"][0]["status"] == "running"
    });
    env.run(["run", "cancel", &slow]).expect_code(0);
    env.finish(&slow);
    env.run(["run", "retry", &slow]).expect_code(0);
    env.run(["run", "cancel", &slow]).expect_code(0);
    env.run(["agent", "drain", "worker"]).expect_code(0);
    env.run(["agent", "resume", "worker"]).expect_code(0);
    env.run(["agent", "remove", "worker", "--yes"])
        .expect_code(0);
    agent.wait_exit(SLOW);
    env.run(["workflow", "delete", "slow", "--yes"])
        .expect_code(0);
    // Refused and failed commands change nothing and record nothing as done.
    env.run(["workflow", "delete", "noop"]).expect_code(2);
    env.run(["run", "cancel", &ok]).expect_code(5);

    let records = records(&env);
    assert_eq!(imx::audit::verify(&records), Ok(()), "{records:#?}");
    let actor = format!("local:{}", imx::config::os_user());
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &records {
        assert_eq!(r.actor, actor, "{r:?}");
        assert_eq!(r.source, "local");
        assert_eq!(r.hash, imx::audit::record_hash(r));
        if r.outcome == "ok" {
            *counts
                .entry((r.action.clone(), r.target.clone()))
                .or_default() += 1;
        }
    }
    let count = |action: &str, target: &str| {
        counts
            .get(&(action.to_string(), target.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let expected = [
        ("workflow.apply", "noop", 1),
        ("workflow.apply", "slow", 1),
        ("run.start", ok.as_str(), 1),
        ("run.start", slow.as_str(), 1),
        ("run.cancel", slow.as_str(), 2),
        ("run.retry", slow.as_str(), 1),
        ("agent.register", "worker", 1),
        ("agent.drain", "worker", 1),
        ("agent.resume", "worker", 1),
        ("agent.remove", "worker", 1),
        ("workflow.delete", "slow", 1),
        ("workflow.delete", "noop", 0),
        ("run.cancel", ok.as_str(), 0),
    ];
    for (action, target, n) in expected {
        assert_eq!(
            count(action, target),
            n,
            "{action} {target}: {:#?}",
            records
                .iter()
                .map(|r| format!("{} {} {} {}", r.seq, r.action, r.target, r.outcome))
                .collect::<Vec<_>>()
        );
    }
}
