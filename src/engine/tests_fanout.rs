//! Fan-out with conditions (issue 13), as a table of small runs with no database: a `matrix:`
//! step gated by `if:` (also over its own `matrix.*`), a matrix step after a gated step,
//! `when: failure`/`always` after a fan-out where one instance fails, an `if:` reading a
//! fanned-out step's status, and a `foreach:` step with an `if:`. A mini store loads what a
//! transition asks for (rows are all loaded; outputs and facts on demand) and applies its
//! changesets, checking every guard.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use super::transitions::{claim, complete, conditions as gate};
use super::*;
use crate::model::{
    FanOut, LeaseRef, MatrixAxis, RunStatus, StepKind, StepResult, StepSpec, StepStatus, When,
    WorkflowSpec,
};
use StepStatus::*;

const NOW: i64 = 1_000_000;

/// A run as a store holds it.
pub(super) struct Sim {
    pub ix: SpecIndex,
    pub run: RunRow,
    pub rows: Vec<StepRow>,
    /// `matrix.*` / `item` of each row, as JSON.
    pub vars: BTreeMap<String, String>,
    pub params: BTreeMap<String, serde_json::Value>,
    /// Stored outputs of the steps that succeeded.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    now: i64,
}

fn new_row(id: &str, idx: u32, status: StepStatus, pending_needs: u32) -> StepRow {
    StepRow {
        step_id: id.into(),
        idx,
        status,
        attempt: 0,
        tries: 0,
        lost: 0,
        agent_id: None,
        agent_name: None,
        pending_needs,
        not_before: 0,
        finished_at: None,
        error: None,
    }
}

impl Sim {
    /// A new run of `steps` with `env` as its param `env`, as `store::flow::runs::create`
    /// makes one: rows laid out, root steps without a gate ready, gated ones through `open`.
    pub fn new(steps: Vec<StepSpec>, env: &str) -> Sim {
        let ix = SpecIndex::new(WorkflowSpec::new("t", steps));
        let mut vars = BTreeMap::new();
        let rows: Vec<StepRow> = expand::initial_rows(&ix)
            .iter()
            .map(|r| {
                let ready = r.pending_needs == 0 && gate::starts_ready(&ix, &r.step.id);
                if let Some(v) = &r.vars {
                    vars.insert(r.step.id.clone(), v.clone());
                }
                let status = if ready { Ready } else { Pending };
                new_row(&r.step.id, r.idx, status, r.pending_needs)
            })
            .collect();
        let run = RunRow {
            id: "R1".into(),
            workflow: "t".into(),
            version: 1,
            status: RunStatus::Running,
            steps_total: rows.len() as u32,
            steps_done: 0,
            steps_succeeded: 0,
            timeout_ms: None,
            timeout_source: None,
            concurrency_key: None,
        };
        let mut sim = Sim {
            ix,
            run,
            rows,
            vars,
            params: [("env".to_string(), serde_json::Value::from(env))].into(),
            outputs: BTreeMap::new(),
            now: NOW,
        };
        if gate::gates_roots(&sim.ix) {
            sim.decide(|st| gate::open(st, true)).unwrap();
        }
        sim
    }

    /// Decide as `store::flow::decide` does (outputs and facts loaded when asked for) and
    /// apply the changeset as a store would, every guard checked.
    pub fn decide(&mut self, t: impl Fn(&Loaded<'_>) -> Decision) -> Result<Changeset, Rejection> {
        self.now += 1;
        let mut st =
            Loaded::new(&self.ix, self.run.clone(), self.now).with_steps(self.rows.clone());
        st.all_steps = true;
        let cs = loop {
            match t(&st) {
                Ok(cs) => break cs,
                Err(Refusal::Rejected(r)) => return Err(r),
                Err(Refusal::Need(Need::Outputs(ids))) => {
                    assert!(
                        !ids.iter().all(|i| st.outputs.contains_key(i)),
                        "asked twice for {ids:?}"
                    );
                    for id in ids {
                        let o = self.outputs.get(&id).cloned().unwrap_or_default();
                        st.outputs.insert(id, o);
                    }
                }
                Err(Refusal::Need(Need::Facts(ids))) if st.facts.is_none() => {
                    st.facts = Some(Facts {
                        params: self.params.clone(),
                        outputs: self
                            .outputs
                            .iter()
                            .filter(|(k, _)| ids.contains(k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    });
                }
                Err(Refusal::Need(n)) => panic!("every step was loaded, yet it needs {n:?}"),
            }
        };
        self.apply(&cs);
        Ok(cs)
    }

    fn apply(&mut self, cs: &Changeset) {
        for rm in &cs.removes {
            let i = self
                .rows
                .iter()
                .position(|r| r.step_id == rm.step_id)
                .unwrap_or_else(|| panic!("no row {} to remove", rm.step_id));
            let r = &self.rows[i];
            assert_eq!(
                (r.status, r.attempt),
                (rm.expect.status, rm.expect.attempt),
                "guard of {rm:?}"
            );
            self.rows.remove(i);
            self.vars.remove(&rm.step_id);
        }
        for ins in &cs.inserts {
            assert!(
                self.rows.iter().all(|r| r.step_id != ins.step_id),
                "{} inserted twice",
                ins.step_id
            );
            self.rows.push(new_row(
                &ins.step_id,
                ins.idx,
                ins.status,
                ins.pending_needs,
            ));
            self.vars.insert(ins.step_id.clone(), ins.vars.clone());
        }
        for u in &cs.steps {
            let r = self
                .rows
                .iter_mut()
                .find(|r| r.step_id == u.step_id)
                .unwrap_or_else(|| panic!("no row {}", u.step_id));
            assert_eq!(
                (r.status, r.attempt),
                (u.expect.status, u.expect.attempt),
                "guard of {u:?}"
            );
            r.apply(&u.change);
            if let StepChange::Succeed { outputs, .. } = &u.change {
                let map = outputs
                    .as_deref()
                    .map(|o| serde_json::from_str(o).unwrap())
                    .unwrap_or_default();
                self.outputs.insert(u.step_id.clone(), map);
            }
        }
        for u in &cs.runs {
            let g = (
                self.run.status,
                self.run.steps_done,
                self.run.steps_succeeded,
            );
            let want = (
                u.expect.status,
                u.expect.steps_done,
                u.expect.steps_succeeded,
            );
            assert_eq!(g, want, "guard of {u:?}");
            self.run.apply(&u.change);
        }
        self.rows.sort_by_key(|r| r.idx);
    }

    /// `id` (ready) is claimed and ends: ok with `outputs`, or failed (no retries).
    pub fn finish(&mut self, id: &str, ok: bool, outputs: &[(&str, &str)]) {
        assert_eq!(
            self.status(id),
            Ready,
            "{id} must be ready to run: {:?}",
            self.rows
        );
        let agent = Claimant {
            id: "a1".into(),
            name: "w1".into(),
        };
        self.decide(|st| {
            claim::claim(
                st,
                id,
                &agent,
                30_000,
                claim::Prepared::Ready { notes: &[] },
            )
        })
        .unwrap();
        let result = if ok {
            StepResult::ok(
                outputs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        } else {
            StepResult::failed("exit code 1", Some(1))
        };
        let lease = LeaseRef {
            run_id: "R1".into(),
            step_id: id.into(),
            attempt: self.row(id).attempt,
            agent_id: "a1".into(),
        };
        self.decide(|st| complete::complete(st, &lease, &result, u64::MAX))
            .unwrap();
    }

    /// Run every ready step (ok) until none is ready; `fail` fail instead. The order they
    /// ran in.
    pub fn drain(&mut self, fail: &[&str]) -> Vec<String> {
        let mut order = Vec::new();
        while let Some(next) = self.ids(Ready).first().cloned() {
            assert!(order.len() < 100, "runs for ever: {order:?}");
            let ok = !fail.contains(&next.as_str());
            self.finish(&next, ok, &[]);
            order.push(next);
        }
        order
    }

    pub fn row(&self, id: &str) -> &StepRow {
        self.rows
            .iter()
            .find(|r| r.step_id == id)
            .unwrap_or_else(|| panic!("no row {id}: {:?}", self.rows))
    }

    pub fn status(&self, id: &str) -> StepStatus {
        self.row(id).status
    }

    pub fn error(&self, id: &str) -> Option<&str> {
        self.row(id).error.as_deref()
    }

    /// The ids of the rows in `status`, in run order.
    pub fn ids(&self, status: StepStatus) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.step_id.clone())
            .collect()
    }

    /// Every row's id, in run order.
    pub fn all_ids(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.step_id.clone()).collect()
    }

    /// The run's counters agree with its rows.
    pub fn check_counts(&self) {
        let done = self.rows.iter().filter(|r| r.status.is_terminal()).count() as u32;
        let ok = self.rows.iter().filter(|r| r.status == Succeeded).count() as u32;
        assert_eq!(self.run.steps_total, self.rows.len() as u32, "steps_total");
        assert_eq!(
            (self.run.steps_done, self.run.steps_succeeded),
            (done, ok),
            "counters of {:?}",
            self.rows
        );
    }
}

pub(super) fn noop(id: &str, needs: &[&str]) -> StepSpec {
    StepSpec::new(id, StepKind::Noop).needing(needs)
}

/// `id` over region [eu, us] × shard [1, 2, 3] (six instances).
pub(super) fn matrix(id: &str, needs: &[&str], max_parallel: Option<u32>) -> StepSpec {
    let mut s = noop(id, needs);
    let mut fan = FanOut::matrix(vec![
        MatrixAxis {
            name: "region".into(),
            values: vec!["eu".into(), "us".into()],
        },
        MatrixAxis {
            name: "shard".into(),
            values: vec![1.into(), 2.into(), 3.into()],
        },
    ]);
    fan.max_parallel = max_parallel;
    s.fan_out = Some(fan);
    s
}

/// `id`: one instance per item of `over`'s output `items`.
pub(super) fn foreach(id: &str, over: &str, max_parallel: Option<u32>) -> StepSpec {
    let mut s = noop(id, &[over]);
    let mut fan = FanOut::foreach(over, "items");
    fan.max_parallel = max_parallel;
    s.fan_out = Some(fan);
    s
}

fn gated(mut s: StepSpec, cond: Option<&str>, when: When) -> StepSpec {
    s.condition = cond.map(str::to_string);
    s.when = when;
    s
}

pub(super) const INSTANCES: [&str; 6] = [
    "test[region=eu,shard=1]",
    "test[region=eu,shard=2]",
    "test[region=eu,shard=3]",
    "test[region=us,shard=1]",
    "test[region=us,shard=2]",
    "test[region=us,shard=3]",
];

/// A matrix root step gated by `if:` over params: each instance passes the gate when the run
/// opens (those waiting for a `max_parallel` slot when they get it); false skips them all.
#[test]
fn a_gated_matrix_root_step_passes_its_gate_for_each_instance() {
    for max_parallel in [None, Some(2)] {
        let steps = || {
            vec![
                gated(
                    matrix("test", &[], max_parallel),
                    Some("params.env == 'prod'"),
                    When::Success,
                ),
                noop("report", &["test"]),
            ]
        };
        let mut sim = Sim::new(steps(), "prod");
        let first = if max_parallel.is_some() { 2 } else { 6 };
        assert_eq!(sim.ids(Ready), INSTANCES[..first], "{max_parallel:?}");
        let order = sim.drain(&[]);
        assert_eq!(order.len(), 7, "{order:?}");
        assert_eq!(order[6], "report");
        assert_eq!(sim.run.status, RunStatus::Succeeded);
        sim.check_counts();

        let sim = Sim::new(steps(), "dev");
        for id in INSTANCES {
            assert_eq!(
                (sim.status(id), sim.error(id)),
                (Skipped, Some(gate::CONDITION_FALSE)),
                "{id}"
            );
        }
        assert_eq!(sim.status("report"), Skipped);
        assert_eq!(sim.run.status, RunStatus::Succeeded, "nothing failed");
        sim.check_counts();
    }
}

/// `if:` over the instance's own `matrix.*`: decided for each instance. With `max_parallel`,
/// an instance its gate skips hands its slot to the next one — as a root step and after a
/// need, so the run never waits for a slot nobody holds.
#[test]
fn an_if_over_matrix_values_is_decided_per_instance_and_skipped_ones_hand_their_slot_on() {
    let cond = Some("matrix.region == 'us' and matrix.shard != 2");
    let want_ran = [
        "test[region=us,shard=1]".to_string(),
        "test[region=us,shard=3]".to_string(),
    ];
    for (max_parallel, build) in [
        (None, false),
        (Some(1), false),
        (Some(2), true),
        (Some(1), true),
    ] {
        let needs: &[&str] = if build { &["build"] } else { &[] };
        let mut steps = vec![
            gated(matrix("test", needs, max_parallel), cond, When::Success),
            gated(noop("after", &["test"]), None, When::Always),
        ];
        if build {
            steps.insert(0, noop("build", &[]));
        }
        let mut sim = Sim::new(steps, "prod");
        let order = sim.drain(&[]);
        let ran: Vec<String> = order
            .into_iter()
            .filter(|i| i.starts_with("test["))
            .collect();
        let case = format!("max_parallel {max_parallel:?}, after build: {build}");
        assert_eq!(ran, want_ran, "{case}");
        for id in INSTANCES
            .iter()
            .filter(|i| !want_ran.contains(&i.to_string()))
        {
            assert_eq!(
                (sim.status(id), sim.error(id)),
                (Skipped, Some(gate::CONDITION_FALSE)),
                "{id}, {case}"
            );
        }
        assert_eq!(sim.status("after"), Succeeded, "{case}");
        assert_eq!(sim.run.status, RunStatus::Succeeded, "{case}");
        sim.check_counts();
    }
}

/// A matrix step after a gated step: open, its instances run; closed, they are skipped as
/// after any skip (and so is what needs them).
#[test]
fn a_matrix_step_after_a_gated_step_follows_its_gate() {
    let steps = || {
        vec![
            gated(
                noop("check", &[]),
                Some("params.env == 'prod'"),
                When::Success,
            ),
            matrix("test", &["check"], Some(2)),
            noop("report", &["test"]),
        ]
    };
    let mut sim = Sim::new(steps(), "prod");
    assert_eq!(sim.ids(Ready), ["check"]);
    sim.finish("check", true, &[]);
    assert_eq!(sim.ids(Ready), INSTANCES[..2]);
    assert_eq!(sim.drain(&[]).len(), 7);
    assert_eq!(sim.run.status, RunStatus::Succeeded);

    let sim = Sim::new(steps(), "dev");
    assert_eq!(sim.error("check"), Some(gate::CONDITION_FALSE));
    for id in INSTANCES {
        assert_eq!(
            (sim.status(id), sim.error(id)),
            (Skipped, Some("needs \"check\", which skipped")),
            "{id}"
        );
    }
    assert_eq!(sim.status("report"), Skipped);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    sim.check_counts();
}

/// After a fan-out where one instance fails: `when: failure` and `when: always` steps run
/// (with `fail_fast` skipping the waiting siblings, or without it once all ended), a
/// `when: success` one is skipped, and the run fails for the instance.
#[test]
fn failure_and_always_steps_after_a_fan_out_run_when_one_instance_fails() {
    let failing = "test[region=eu,shard=2]";
    for (fail_fast, max_parallel) in [(true, Some(2)), (false, None), (true, None)] {
        let mut test = matrix("test", &[], max_parallel);
        test.fan_out.as_mut().unwrap().fail_fast = fail_fast;
        let mut sim = Sim::new(
            vec![
                test,
                noop("report", &["test"]),
                gated(noop("cleanup", &["test"]), None, When::Always),
                gated(noop("notify", &["test"]), None, When::Failure),
            ],
            "prod",
        );
        sim.drain(&[failing]);
        let case = format!("fail_fast {fail_fast}, max_parallel {max_parallel:?}");
        assert_eq!(sim.status(failing), Failed, "{case}");
        assert_eq!(sim.status("report"), Skipped, "{case}");
        assert_eq!(sim.status("cleanup"), Succeeded, "{case}");
        assert_eq!(sim.status("notify"), Succeeded, "{case}");
        assert_eq!(sim.run.status, RunStatus::Failed, "{case}");
        sim.check_counts();
    }
    // Every instance succeeded: `notify` is skipped, saying so.
    let mut sim = Sim::new(
        vec![
            matrix("test", &[], None),
            gated(noop("notify", &["test"]), None, When::Failure),
        ],
        "prod",
    );
    sim.drain(&[]);
    assert_eq!(sim.error("notify"), Some(gate::NOTHING_FAILED));
    assert_eq!(sim.run.status, RunStatus::Succeeded);

    // The same after a `foreach:`: a failed item is a failure upstream.
    for fail in [true, false] {
        let mut sim = Sim::new(
            vec![
                noop("list", &[]),
                foreach("each", "list", None),
                gated(noop("notify", &["each"]), None, When::Failure),
            ],
            "prod",
        );
        sim.finish("list", true, &[("items", "[1, 2, 3]")]);
        let failing: &[&str] = if fail { &["each[1]"] } else { &[] };
        sim.drain(failing);
        let want = if fail { Succeeded } else { Skipped };
        assert_eq!(sim.status("notify"), want, "an item failed: {fail}");
        sim.check_counts();
    }
}

/// `steps.ID.status` of a fanned-out step is that of its instances together: `failed` when
/// one failed, `succeeded` when all did — for a matrix and a `foreach:` step alike.
#[test]
fn an_if_reads_the_status_of_a_fanned_out_step_as_all_its_instances() {
    for fail in [true, false] {
        let mut sim = Sim::new(
            vec![
                matrix("test", &[], None),
                gated(
                    noop("triage", &["test"]),
                    Some("steps.test.status == 'failed'"),
                    When::Always,
                ),
                gated(
                    noop("publish", &["test"]),
                    Some("steps.test.status == 'succeeded'"),
                    When::Always,
                ),
                noop("list", &[]),
                foreach("each", "list", None),
                gated(
                    noop("summary", &["each"]),
                    Some("steps.each.status == 'failed'"),
                    When::Always,
                ),
            ],
            "prod",
        );
        sim.finish("list", true, &[("items", "[\"a\", \"b\"]")]);
        let failing: &[&str] = if fail {
            &["test[region=us,shard=1]", "each[0]"]
        } else {
            &[]
        };
        sim.drain(failing);
        let (yes, no) = if fail {
            ("triage", "publish")
        } else {
            ("publish", "triage")
        };
        assert_eq!(sim.status(yes), Succeeded, "failed: {fail}: {:?}", sim.rows);
        assert_eq!(
            (sim.status(no), sim.error(no)),
            (Skipped, Some(gate::CONDITION_FALSE)),
            "failed: {fail}"
        );
        let summary = if fail { Succeeded } else { Skipped };
        assert_eq!(sim.status("summary"), summary, "failed: {fail}");
        sim.check_counts();
    }
}

/// A `foreach:` step with an `if:` passes it once, when its source has succeeded: open, it
/// expands (it does not become a step an agent would claim); closed, it is skipped with no
/// instances, and so is what needs it.
#[test]
fn a_foreach_step_with_an_if_expands_only_when_it_holds() {
    let steps = || {
        vec![
            noop("list", &[]),
            gated(
                foreach("each", "list", Some(1)),
                Some("params.env == 'prod'"),
                When::Success,
            ),
            noop("after", &["each"]),
        ]
    };
    let mut sim = Sim::new(steps(), "prod");
    sim.finish("list", true, &[("items", "[1, 2]")]);
    assert_eq!(sim.status("each"), Succeeded);
    assert_eq!(sim.ids(Ready), ["each[0]"]);
    assert_eq!(sim.drain(&[]), ["each[0]", "each[1]", "after"]);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    sim.check_counts();

    let mut sim = Sim::new(steps(), "dev");
    sim.finish("list", true, &[("items", "[1, 2]")]);
    assert_eq!(sim.error("each"), Some(gate::CONDITION_FALSE));
    assert_eq!(sim.all_ids(), ["list", "each", "after"]);
    assert_eq!(sim.status("after"), Skipped);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    sim.check_counts();
}
