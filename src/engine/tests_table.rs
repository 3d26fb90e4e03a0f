//! DESIGN §3's transition table as a table-driven test of the engine's functions, with no
//! database: one row per line of the table (plus the rejections), each applied to a small run
//! — `up` → `s` → `down`, and an independent `other` — where `s` is the step under test. The
//! changeset is applied to the rows as a store would, checking every guard on the way.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use super::transitions::{claim, complete, end, lost, retry};
use super::*;
use super::{Need, expand};
use crate::model::{
    Backoff, LeaseRef, RetrySpec, RunStatus, StepKind, StepResult, StepSpec, StepStatus,
    WorkflowSpec,
};

const NOW: i64 = 1_000_000;
const LEASE_MS: i64 = 30_000;

fn spec(fail_fast: bool) -> SpecIndex {
    let step = |id: &str, needs: &[&str], retries: u32| {
        let mut s = StepSpec::new(id.to_string(), StepKind::Noop);
        s.needs = needs.iter().map(|n| n.to_string()).collect();
        s.retry = RetrySpec {
            max: retries,
            backoff: Backoff::Fixed,
            initial_ms: 5_000,
            max_delay_ms: 60_000,
            jitter: 0.0,
        };
        s
    };
    let mut wf = WorkflowSpec::new(
        "t",
        vec![
            step("up", &[], 0),
            step("s", &["up"], 1),
            step("down", &["s"], 0),
            step("other", &[], 0),
        ],
    );
    wf.fail_fast = fail_fast;
    SpecIndex::new(wf)
}

fn row(id: &str, idx: u32, status: StepStatus, attempt: u32) -> StepRow {
    let held = matches!(status, StepStatus::Leased | StepStatus::Running);
    StepRow {
        step_id: id.into(),
        idx,
        status,
        attempt,
        tries: 0,
        lost: 0,
        agent_id: held.then(|| "a1".to_string()),
        agent_name: held.then(|| "w1".to_string()),
        pending_needs: u32::from(status == StepStatus::Pending),
        not_before: 0,
        finished_at: status.is_terminal().then_some(NOW - 10),
        error: None,
    }
}

/// The run around `s` in `status`: `up` running while `s` is pending, else succeeded; `down`
/// pending on `s`; `other` running, so the run does not end unless the case ends it.
fn world(s: StepStatus) -> (RunRow, Vec<StepRow>) {
    let up = if s == StepStatus::Pending {
        row("up", 0, StepStatus::Running, 1)
    } else {
        row("up", 0, StepStatus::Succeeded, 1)
    };
    let attempt = u32::from(!matches!(s, StepStatus::Pending | StepStatus::Ready));
    let rows = vec![
        up,
        row("s", 1, s, attempt),
        row("down", 2, StepStatus::Pending, 0),
        row("other", 3, StepStatus::Running, 1),
    ];
    let mut run = RunRow {
        id: "R1".into(),
        workflow: "t".into(),
        version: 1,
        status: RunStatus::Running,
        steps_total: 4,
        steps_done: 0,
        steps_succeeded: 0,
        timeout_ms: Some(60_000),
        timeout_source: Some("run".into()),
        concurrency_key: None,
    };
    recount(&mut run, &rows);
    (run, rows)
}

/// The run's step counters from its rows.
fn recount(run: &mut RunRow, rows: &[StepRow]) {
    run.steps_done = rows.iter().filter(|r| r.status.is_terminal()).count() as u32;
    run.steps_succeeded = rows
        .iter()
        .filter(|r| r.status == StepStatus::Succeeded)
        .count() as u32;
}

fn lease(step: &str, attempt: u32) -> LeaseRef {
    LeaseRef {
        run_id: "R1".into(),
        step_id: step.into(),
        attempt,
        agent_id: "a1".into(),
    }
}

/// What happens to the run.
#[derive(Debug, Clone, Copy)]
enum Ev {
    /// `up` completes ok.
    NeedsSucceeded,
    /// `up` fails with no retries.
    NeedFailed,
    /// An agent claims `s`; `due`: its `not_before` has passed.
    Claim {
        due: bool,
    },
    Start {
        attempt: u32,
    },
    Heartbeat {
        attempt: u32,
    },
    Complete {
        ok: bool,
        attempt: u32,
        tries: u32,
    },
    LeaseLost {
        lost: u32,
    },
    Cancel,
    Timeout,
}

/// What the table says becomes of `s`.
#[derive(Debug, Clone, Copy)]
enum Then {
    To(StepStatus),
    Rejected(&'static str),
}

/// The changeset applied to the rows as a store applies it: every guard must hold.
fn apply(run: &mut RunRow, rows: &mut [StepRow], cs: &Changeset) {
    for u in &cs.steps {
        let r = rows.iter_mut().find(|r| r.step_id == u.step_id).unwrap();
        assert_eq!(
            (r.status, r.attempt),
            (u.expect.status, u.expect.attempt),
            "guard of {u:?}"
        );
        r.apply(&u.change);
    }
    for u in &cs.runs {
        let g = (run.status, run.steps_done, run.steps_succeeded);
        assert_eq!(
            g,
            (
                u.expect.status,
                u.expect.steps_done,
                u.expect.steps_succeeded
            ),
            "guard of {u:?}"
        );
        run.apply(&u.change);
    }
}

struct Outcome {
    run: RunRow,
    rows: Vec<StepRow>,
    cs: Changeset,
}

impl Outcome {
    fn status(&self, id: &str) -> StepStatus {
        self.rows.iter().find(|r| r.step_id == id).unwrap().status
    }
    fn row(&self, id: &str) -> &StepRow {
        self.rows.iter().find(|r| r.step_id == id).unwrap()
    }
    fn events(&self) -> Vec<String> {
        self.cs
            .events
            .iter()
            .map(|e| match &e.step_id {
                Some(s) => format!("{}:{s}", e.kind),
                None => e.kind.clone(),
            })
            .collect()
    }
}

/// Run `ev` against the world around `s` in `status` (every step loaded).
fn happen(
    ix: &SpecIndex,
    status: StepStatus,
    ev: Ev,
    tweak: impl Fn(&mut Vec<StepRow>),
) -> Result<Outcome, Rejection> {
    let (mut run, mut rows) = world(status);
    tweak(&mut rows);
    recount(&mut run, &rows);
    let mut st = Loaded::new(ix, run.clone(), NOW).with_steps(rows.clone());
    st.all_steps = true;
    let ok = StepResult::ok(BTreeMap::new());
    let failed = StepResult::failed("exit code 1", Some(1));
    let agent = Claimant {
        id: "a1".into(),
        name: "w1".into(),
    };
    let decided = match ev {
        Ev::NeedsSucceeded => complete::complete(&st, &lease("up", 1), &ok, u64::MAX),
        Ev::NeedFailed => complete::complete(&st, &lease("up", 1), &failed, u64::MAX),
        Ev::Claim { .. } => claim::claim(
            &st,
            "s",
            &agent,
            LEASE_MS,
            claim::Prepared::Ready { notes: &[] },
        ),
        Ev::Start { attempt } => claim::start("R1", &st.steps["s"], &lease("s", attempt))
            .map(|cs| cs.unwrap_or_default())
            .map_err(Refusal::from),
        Ev::Heartbeat { attempt } => claim::heartbeat(
            "R1",
            &st.steps["s"],
            &lease("s", attempt),
            "a1",
            NOW + LEASE_MS,
        )
        .map_err(Refusal::from),
        Ev::Complete {
            ok: true, attempt, ..
        } => complete::complete(&st, &lease("s", attempt), &ok, u64::MAX),
        Ev::Complete {
            ok: false, attempt, ..
        } => complete::complete(&st, &lease("s", attempt), &failed, u64::MAX),
        Ev::LeaseLost { .. } => lost::lose(&st, "s", &LostCause::Expired),
        Ev::Cancel => end::cancel(&st),
        Ev::Timeout => end::time_out(&st),
    };
    let cs = match decided {
        Ok(cs) => cs,
        Err(Refusal::Rejected(r)) => return Err(r),
        Err(Refusal::Need(n)) => panic!("every step was loaded, yet it needs {n:?}"),
    };
    apply(&mut run, &mut rows, &cs);
    Ok(Outcome { run, rows, cs })
}

#[test]
fn the_transition_table() {
    use StepStatus::*;
    let ix = spec(false);
    // from | event | to — DESIGN §3, line by line, then the reports that match no line.
    #[rustfmt::skip]
    let table: &[(StepStatus, Ev, Then)] = &[
        (Pending, Ev::NeedsSucceeded,                                   Then::To(Ready)),
        (Pending, Ev::NeedFailed,                                       Then::To(Skipped)),
        (Ready,   Ev::Claim { due: true },                              Then::To(Leased)),
        (Leased,  Ev::Start { attempt: 1 },                             Then::To(Running)),
        (Leased,  Ev::Complete { ok: true, attempt: 1, tries: 0 },      Then::To(Succeeded)),
        (Running, Ev::Complete { ok: true, attempt: 1, tries: 0 },      Then::To(Succeeded)),
        (Leased,  Ev::Complete { ok: false, attempt: 1, tries: 0 },     Then::To(Ready)),
        (Running, Ev::Complete { ok: false, attempt: 1, tries: 0 },     Then::To(Ready)),
        (Running, Ev::Complete { ok: false, attempt: 1, tries: 1 },     Then::To(Failed)),
        (Leased,  Ev::Complete { ok: false, attempt: 1, tries: 1 },     Then::To(Failed)),
        (Leased,  Ev::LeaseLost { lost: 0 },                            Then::To(Ready)),
        (Running, Ev::LeaseLost { lost: LOST_BUDGET - 1 },              Then::To(Ready)),
        (Running, Ev::LeaseLost { lost: LOST_BUDGET },                  Then::To(Failed)),
        (Pending, Ev::Cancel,                                           Then::To(Cancelled)),
        (Ready,   Ev::Cancel,                                           Then::To(Cancelled)),
        (Leased,  Ev::Cancel,                                           Then::To(Cancelled)),
        (Running, Ev::Cancel,                                           Then::To(Cancelled)),
        (Running, Ev::Timeout,                                          Then::To(Cancelled)),
        (Running, Ev::Heartbeat { attempt: 1 },                         Then::To(Running)),
        (Running, Ev::Start { attempt: 1 },                             Then::To(Running)),
        // Rejections: nothing changes.
        (Ready,   Ev::Claim { due: false },                             Then::Rejected("NotReady")),
        (Pending, Ev::Claim { due: true },                              Then::Rejected("NotReady")),
        (Running, Ev::Complete { ok: true, attempt: 2, tries: 0 },      Then::Rejected("Stale")),
        (Succeeded, Ev::Complete { ok: true, attempt: 1, tries: 0 },    Then::Rejected("Stale")),
        (Failed,  Ev::Complete { ok: false, attempt: 1, tries: 0 },     Then::Rejected("Stale")),
        (Ready,   Ev::Start { attempt: 1 },                             Then::Rejected("Stale")),
        (Leased,  Ev::Start { attempt: 0 },                             Then::Rejected("Stale")),
        (Running, Ev::Heartbeat { attempt: 2 },                         Then::Rejected("Stale")),
        (Cancelled, Ev::Heartbeat { attempt: 1 },                       Then::Rejected("Stale")),
        (Succeeded, Ev::LeaseLost { lost: 0 },                          Then::Rejected("Stale")),
    ];
    for &(from, ev, then) in table {
        let tweak = |rows: &mut Vec<StepRow>| {
            let s = rows.iter_mut().find(|r| r.step_id == "s").unwrap();
            match ev {
                Ev::Claim { due: false } => s.not_before = NOW + 1,
                Ev::Complete { tries, .. } => s.tries = tries,
                Ev::LeaseLost { lost } => s.lost = lost,
                _ => {}
            }
        };
        let got = happen(&ix, from, ev, tweak);
        match (then, got) {
            (Then::To(to), Ok(out)) => {
                assert_eq!(out.status("s"), to, "{from} + {ev:?}: {:?}", out.events());
                assert_ne!(out.run.status, RunStatus::Succeeded, "{from} + {ev:?}");
            }
            (Then::Rejected(kind), Err(r)) => {
                assert!(format!("{r:?}").starts_with(kind), "{from} + {ev:?}: {r:?}");
            }
            (then, Ok(out)) => panic!("{from} + {ev:?}: expected {then:?}, got {:?}", out.events()),
            (then, Err(r)) => panic!("{from} + {ev:?}: expected {then:?}, got {r:?}"),
        }
    }
}

/// Which transitions say they leave a step ready to claim (`Changeset::readies`): the hint on
/// which a completion leases the step it readied to a waiting claim in its own transaction.
#[test]
fn the_transitions_that_ready_a_step_say_so() {
    use StepStatus::*;
    let ix = spec(false);
    #[rustfmt::skip]
    let table: &[(StepStatus, Ev, bool)] = &[
        // `up` succeeds: `s` is ready.
        (Pending, Ev::NeedsSucceeded,                                   true),
        // `s` succeeds: `down` is ready.
        (Leased,  Ev::Complete { ok: true, attempt: 1, tries: 0 },      true),
        (Running, Ev::Complete { ok: true, attempt: 1, tries: 0 },      true),
        // A retry backs off 5 s: ready, but not due yet.
        (Running, Ev::Complete { ok: false, attempt: 1, tries: 0 },     false),
        // Failed: `down` is skipped, nothing readied.
        (Running, Ev::Complete { ok: false, attempt: 1, tries: 1 },     false),
        (Pending, Ev::NeedFailed,                                       false),
        // A lost lease puts the step back at once.
        (Leased,  Ev::LeaseLost { lost: 0 },                            true),
        (Running, Ev::LeaseLost { lost: LOST_BUDGET },                  false),
        (Ready,   Ev::Claim { due: true },                              false),
        (Leased,  Ev::Start { attempt: 1 },                             false),
        (Running, Ev::Heartbeat { attempt: 1 },                         false),
        (Running, Ev::Cancel,                                           false),
        (Running, Ev::Timeout,                                          false),
    ];
    for &(from, ev, readies) in table {
        let tweak = |rows: &mut Vec<StepRow>| {
            let s = rows.iter_mut().find(|r| r.step_id == "s").unwrap();
            match ev {
                Ev::Complete { tries, .. } => s.tries = tries,
                Ev::LeaseLost { lost } => s.lost = lost,
                _ => {}
            }
        };
        let out = happen(&ix, from, ev, tweak).unwrap();
        assert_eq!(
            out.cs.readies(NOW),
            readies,
            "{from} + {ev:?}: {:?}",
            out.events()
        );
        let due = out
            .rows
            .iter()
            .any(|r| r.status == Ready && r.not_before <= NOW);
        assert_eq!(due, readies, "{from} + {ev:?}: the rows agree");
    }
}

#[test]
fn a_claim_grants_a_new_attempt_with_a_lease_and_starts_a_queued_run() {
    let ix = spec(false);
    let (mut run, mut rows) = world(StepStatus::Ready);
    run.status = RunStatus::Queued;
    rows[1].attempt = 4;
    let st = Loaded::new(&ix, run.clone(), NOW).with_steps(rows.clone());
    let agent = Claimant {
        id: "a1".into(),
        name: "w1".into(),
    };
    let notes = ["export X left out".to_string()];
    let cs = claim::claim(
        &st,
        "s",
        &agent,
        LEASE_MS,
        claim::Prepared::Ready { notes: &notes },
    )
    .unwrap();
    apply(&mut run, &mut rows, &cs);
    assert_eq!(run.status, RunStatus::Running);
    let s = &rows[1];
    assert_eq!((s.status, s.attempt), (StepStatus::Leased, 5));
    assert!(matches!(
        cs.steps[0].change,
        StepChange::Lease { lease_until, .. } if lease_until == NOW + LEASE_MS
    ));
    assert_eq!(
        cs.events
            .iter()
            .map(|e| e.kind.as_str())
            .collect::<Vec<_>>(),
        ["run.started", "step.leased"]
    );
    assert_eq!(cs.logs[0].line, "imx: export X left out");
    assert_eq!(cs.logs[0].attempt, 5);
    // Inputs that cannot be prepared fail the step at once, after the lease (counted).
    let (mut run, mut rows) = world(StepStatus::Ready);
    let st = Loaded::new(&ix, run.clone(), NOW).with_steps(rows.clone());
    let cs = claim::claim(
        &st,
        "s",
        &agent,
        LEASE_MS,
        claim::Prepared::Failed("bad template"),
    )
    .unwrap();
    apply(&mut run, &mut rows, &cs);
    assert_eq!((rows[1].status, rows[1].attempt), (StepStatus::Failed, 1));
    assert_eq!(rows[1].error.as_deref(), Some("bad template"));
    assert_eq!(rows[2].status, StepStatus::Skipped);
    assert_eq!(
        cs.events
            .iter()
            .map(|e| e.kind.as_str())
            .collect::<Vec<_>>(),
        ["step.failed", "step.skipped"]
    );
}

#[test]
fn a_failure_with_retries_left_backs_off_and_logs_why() {
    let ix = spec(false);
    let out = happen(
        &ix,
        StepStatus::Running,
        Ev::Complete {
            ok: false,
            attempt: 1,
            tries: 0,
        },
        |_| {},
    )
    .unwrap();
    let s = out.row("s");
    assert_eq!(
        (s.status, s.tries, s.not_before),
        (StepStatus::Ready, 1, NOW + 5_000)
    );
    assert_eq!(out.events(), ["step.retrying:s"]);
    assert_eq!(
        out.cs.logs[0].line,
        "attempt 1 failed: exit code 1; retry 1 of 1 in 5s"
    );
}

#[test]
fn a_failure_skips_everything_downstream_and_the_run_fails_naming_it() {
    let ix = spec(false);
    let out = happen(&ix, StepStatus::Pending, Ev::NeedFailed, |rows| {
        rows[3].status = StepStatus::Succeeded;
    })
    .unwrap();
    assert_eq!(
        out.events(),
        [
            "step.failed:up",
            "step.skipped:s",
            "step.skipped:down",
            "run.failed"
        ]
    );
    assert_eq!(
        out.row("s").error.as_deref(),
        Some("needs \"up\", which failed")
    );
    assert_eq!(
        out.row("down").error.as_deref(),
        Some("needs \"s\", which skipped")
    );
    assert_eq!(out.run.status, RunStatus::Failed);
    assert_eq!(
        out.cs.runs.last().map(|u| &u.change),
        Some(&RunChange::End {
            status: RunStatus::Failed,
            at: NOW,
            error: Some("step \"up\" failed: exit code 1".into())
        })
    );
    assert_eq!((out.run.steps_done, out.run.steps_succeeded), (4, 1));
}

#[test]
fn the_run_succeeds_when_its_last_step_does() {
    let ix = spec(false);
    let out = happen(
        &ix,
        StepStatus::Running,
        Ev::Complete {
            ok: true,
            attempt: 1,
            tries: 0,
        },
        |rows| {
            rows[2].status = StepStatus::Succeeded;
            rows[3].status = StepStatus::Succeeded;
        },
    );
    // `down` succeeded before `s` here only to end the run; the counts are what matter.
    let out = out.unwrap();
    assert_eq!(out.run.status, RunStatus::Succeeded);
    assert_eq!(out.events(), ["step.succeeded:s", "run.succeeded"]);
}

#[test]
fn fail_fast_stops_every_other_step() {
    let ix = spec(true);
    let out = happen(
        &ix,
        StepStatus::Running,
        Ev::Complete {
            ok: false,
            attempt: 1,
            tries: 1,
        },
        |rows| rows[1].tries = 1,
    )
    .unwrap();
    assert_eq!(out.status("s"), StepStatus::Failed);
    assert_eq!(out.status("down"), StepStatus::Skipped);
    assert_eq!(out.status("other"), StepStatus::Cancelled);
    assert_eq!(out.run.status, RunStatus::Failed);
    assert_eq!(
        out.row("other").error.as_deref(),
        Some("fail_fast: another step failed")
    );
}

#[test]
fn cancelling_ends_the_run_first_and_cancels_every_open_step() {
    let ix = spec(false);
    let out = happen(&ix, StepStatus::Ready, Ev::Cancel, |_| {}).unwrap();
    assert_eq!(
        out.events(),
        [
            "run.cancelled",
            "step.cancelled:s",
            "step.cancelled:down",
            "step.cancelled:other"
        ]
    );
    assert_eq!(out.run.status, RunStatus::Cancelled);
    assert_eq!(out.run.steps_done, 4);
    let timed_out = happen(&ix, StepStatus::Running, Ev::Timeout, |_| {}).unwrap();
    assert_eq!(timed_out.run.status, RunStatus::TimedOut);
    assert_eq!(
        timed_out.row("s").error.as_deref(),
        Some("run timed out after 1m (its --timeout)")
    );
}

#[test]
fn ended_runs_cannot_be_cancelled_and_running_ones_not_retried() {
    let ix = spec(false);
    let (mut run, rows) = world(StepStatus::Running);
    let mut st = Loaded::new(&ix, run.clone(), NOW).with_steps(rows.clone());
    st.all_steps = true;
    assert!(matches!(
        retry::retry(&st, None),
        Err(Refusal::Rejected(Rejection::RunActive { .. }))
    ));
    run.status = RunStatus::Succeeded;
    st.run = run;
    assert!(matches!(
        end::cancel(&st),
        Err(Refusal::Rejected(Rejection::RunEnded { .. }))
    ));
}

#[test]
fn retry_resets_failed_and_skipped_steps_and_reopens_the_run() {
    let ix = spec(false);
    let failed = happen(&ix, StepStatus::Pending, Ev::NeedFailed, |rows| {
        rows[3].status = StepStatus::Succeeded;
    })
    .unwrap();
    let (mut run, mut rows) = (failed.run, failed.rows);
    let mut st = Loaded::new(&ix, run.clone(), NOW + 1).with_steps(rows.clone());
    st.all_steps = true;
    let cs = retry::retry(&st, None).unwrap();
    apply(&mut run, &mut rows, &cs);
    let status = |id: &str| rows.iter().find(|r| r.step_id == id).unwrap().status;
    assert_eq!(status("up"), StepStatus::Ready);
    assert_eq!(status("s"), StepStatus::Pending);
    assert_eq!(status("down"), StepStatus::Pending);
    assert_eq!(status("other"), StepStatus::Succeeded);
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!((run.steps_done, run.steps_succeeded), (1, 1));
    assert_eq!(
        rows[0].attempt, 1,
        "attempts keep growing from where they were"
    );
    // --from a step whose need did not succeed is refused, naming the retry that works.
    let Err(Refusal::Rejected(Rejection::Blocked(msg))) = retry::retry(&st, Some("down")) else {
        panic!("retry --from down must be refused");
    };
    assert!(msg.contains("retry from \"up\" instead"), "{msg}");
    assert!(matches!(
        retry::retry(&st, Some("dwn")),
        Err(Refusal::Rejected(Rejection::NoSuchStep { suggestion: Some(s), .. })) if s == "down"
    ));
}

#[test]
fn a_transition_asks_for_the_rows_it_was_not_given() {
    let ix = spec(false);
    let (run, rows) = world(StepStatus::Running);
    let only_s = Loaded::new(&ix, run.clone(), NOW).with_steps([rows[1].clone()]);
    // Success releases `down`: it asks for `down`.
    assert_eq!(
        complete::complete(
            &only_s,
            &lease("s", 1),
            &StepResult::ok(BTreeMap::new()),
            u64::MAX
        ),
        Err(Refusal::Need(Need::Steps(vec!["down".into()])))
    );
    // Cancelling touches every step.
    assert_eq!(end::cancel(&only_s), Err(Refusal::Need(Need::AllSteps)));
    // Given `down`, it decides; the run cannot end, so nothing else is needed.
    let with_down = only_s.clone().with_steps([rows[2].clone()]);
    let cs = complete::complete(
        &with_down,
        &lease("s", 1),
        &StepResult::ok(BTreeMap::new()),
        u64::MAX,
    )
    .unwrap();
    assert_eq!(cs.steps.len(), 2);
}

/// Approval steps (issue 13), in the same style: `up` → `gate` (an approval step, timeout 1h)
/// → `down`, and an independent `other` that keeps the run going.
mod approvals {
    use super::*;
    use crate::engine::transitions::approval::{self, Verdict};
    use crate::model::{ApprovalDecision, ApprovalSpec, Approvers};

    const HOUR: i64 = 3_600_000;

    fn spec() -> SpecIndex {
        let gate = StepKind::Approval(ApprovalSpec {
            approvers: Approvers {
                users: vec!["alice".into()],
                roles: Vec::new(),
            },
            timeout_ms: Some(3_600_000),
            message: None,
        });
        SpecIndex::new(WorkflowSpec::new(
            "t",
            vec![
                StepSpec::new("up", StepKind::Noop),
                StepSpec::new("gate", gate).needing(&["up"]),
                StepSpec::new("down", StepKind::Noop).needing(&["gate"]),
                StepSpec::new("other", StepKind::Noop),
            ],
        ))
    }

    /// The run with `gate` in `status` (since `since` when waiting).
    fn world(gate: StepStatus, since: i64) -> (RunRow, Vec<StepRow>) {
        let (mut run, _) = super::world(StepStatus::Pending);
        let up = if gate == StepStatus::Pending {
            row("up", 0, StepStatus::Running, 1)
        } else {
            row("up", 0, StepStatus::Succeeded, 1)
        };
        let mut g = row("gate", 1, gate, 0);
        g.not_before = since;
        let rows = vec![
            up,
            g,
            row("down", 2, StepStatus::Pending, 0),
            row("other", 3, StepStatus::Running, 1),
        ];
        recount(&mut run, &rows);
        (run, rows)
    }

    #[derive(Debug, Clone, Copy)]
    enum Ev {
        /// `up` completes ok.
        NeedsSucceeded,
        /// The run's first steps were made ready outside the engine (start, admission).
        Hold,
        Approve,
        Reject,
        /// The reaper, `late` ms after the deadline (negative: before it).
        TimeOut {
            late: i64,
        },
        Claim,
        Cancel,
        RunTimeout,
    }

    fn verdict(decision: ApprovalDecision) -> Verdict {
        Verdict {
            decision,
            by: "user:alice".into(),
            comment: Some("not today".into()),
        }
    }

    fn happen(gate: StepStatus, ev: Ev) -> Result<Outcome, Rejection> {
        let ix = spec();
        let since = NOW - HOUR;
        let (mut run, mut rows) = world(gate, since);
        let now = match ev {
            Ev::TimeOut { late } => since + HOUR + late,
            _ => NOW,
        };
        let mut st = Loaded::new(&ix, run.clone(), now).with_steps(rows.clone());
        st.all_steps = true;
        let agent = Claimant {
            id: "a1".into(),
            name: "w1".into(),
        };
        let decided = match ev {
            Ev::NeedsSucceeded => complete::complete(
                &st,
                &lease("up", 1),
                &StepResult::ok(BTreeMap::new()),
                u64::MAX,
            ),
            Ev::Hold => approval::hold(&st),
            Ev::Approve => approval::decide(&st, "gate", &verdict(ApprovalDecision::Approved)),
            Ev::Reject => approval::decide(&st, "gate", &verdict(ApprovalDecision::Rejected)),
            Ev::TimeOut { .. } => approval::time_out(&st, "gate"),
            Ev::Claim => claim::claim(
                &st,
                "gate",
                &agent,
                LEASE_MS,
                claim::Prepared::Ready { notes: &[] },
            ),
            Ev::Cancel => end::cancel(&st),
            Ev::RunTimeout => end::time_out(&st),
        };
        let cs = match decided {
            Ok(cs) => cs,
            Err(Refusal::Rejected(r)) => return Err(r),
            Err(Refusal::Need(n)) => panic!("every step was loaded, yet it needs {n:?}"),
        };
        apply(&mut run, &mut rows, &cs);
        Ok(Outcome { run, rows, cs })
    }

    #[test]
    fn the_approval_transition_table() {
        use StepStatus::*;
        #[rustfmt::skip]
        let table: &[(StepStatus, Ev, Then)] = &[
            (Pending,   Ev::NeedsSucceeded,              Then::To(Waiting)),
            (Ready,     Ev::Hold,                        Then::To(Waiting)),
            (Waiting,   Ev::Approve,                     Then::To(Succeeded)),
            (Waiting,   Ev::Reject,                      Then::To(Failed)),
            (Waiting,   Ev::TimeOut { late: 0 },         Then::To(Failed)),
            (Waiting,   Ev::TimeOut { late: 5_000 },     Then::To(Failed)),
            (Waiting,   Ev::Cancel,                      Then::To(Cancelled)),
            (Waiting,   Ev::RunTimeout,                  Then::To(Cancelled)),
            // Rejections: nothing changes.
            (Waiting,   Ev::TimeOut { late: -1 },        Then::Rejected("NotDue")),
            (Waiting,   Ev::Claim,                       Then::Rejected("NotReady")),
            (Pending,   Ev::Approve,                     Then::Rejected("NotWaiting")),
            (Succeeded, Ev::Approve,                     Then::Rejected("NotWaiting")),
            (Failed,    Ev::Reject,                      Then::Rejected("NotWaiting")),
            (Succeeded, Ev::TimeOut { late: 0 },         Then::Rejected("NotWaiting")),
        ];
        for &(from, ev, then) in table {
            match (then, happen(from, ev)) {
                (Then::To(to), Ok(out)) => {
                    assert_eq!(
                        out.status("gate"),
                        to,
                        "{from} + {ev:?}: {:?}",
                        out.events()
                    );
                }
                (Then::Rejected(kind), Err(r)) => {
                    assert!(format!("{r:?}").starts_with(kind), "{from} + {ev:?}: {r:?}");
                }
                (then, Ok(out)) => {
                    panic!("{from} + {ev:?}: expected {then:?}, got {:?}", out.events())
                }
                (then, Err(r)) => panic!("{from} + {ev:?}: expected {then:?}, got {r:?}"),
            }
        }
    }

    #[test]
    fn an_approval_step_waits_instead_of_being_ready_with_its_deadline() {
        let out = happen(StepStatus::Pending, Ev::NeedsSucceeded).unwrap();
        assert_eq!(out.events(), ["step.succeeded:up", "step.waiting:gate"]);
        let wait = out
            .cs
            .steps
            .iter()
            .find(|u| u.step_id == "gate" && matches!(u.change, StepChange::Wait { .. }));
        assert_eq!(
            wait.map(|u| (&u.change, u.expect.status)),
            Some((
                &StepChange::Wait {
                    until: Some(NOW + HOUR)
                },
                StepStatus::Ready
            ))
        );
        let held = happen(StepStatus::Ready, Ev::Hold).unwrap();
        assert_eq!(held.events(), ["step.waiting:gate"]);
        // A run that starts at its approval step is running from then on.
        let ix = spec();
        let (mut run, mut rows) = world(StepStatus::Ready, NOW);
        run.status = RunStatus::Queued;
        let st = Loaded::new(&ix, run.clone(), NOW).with_steps(rows.clone());
        let cs = approval::hold(&st).unwrap();
        apply(&mut run, &mut rows, &cs);
        assert_eq!(run.status, RunStatus::Running);
        assert_eq!(cs.events[0].kind, "run.started");
        // Nothing to hold: an empty changeset.
        let none = happen(StepStatus::Waiting, Ev::Hold).unwrap();
        assert!(none.cs.steps.is_empty() && none.cs.events.is_empty());
    }

    #[test]
    fn approving_releases_downstream_and_records_who_and_why() {
        let out = happen(StepStatus::Waiting, Ev::Approve).unwrap();
        assert_eq!(out.status("down"), StepStatus::Ready);
        assert_eq!(out.events(), ["step.succeeded:gate", "step.ready:down"]);
        let Some(StepChange::Succeed {
            outputs: Some(o), ..
        }) = out.cs.steps.first().map(|u| &u.change)
        else {
            panic!("{:?}", out.cs.steps);
        };
        let o: serde_json::Value = serde_json::from_str(o).unwrap();
        assert_eq!(
            o,
            serde_json::json!({"decision": "approved", "by": "user:alice", "comment": "not today"})
        );
        assert_eq!(out.run.status, RunStatus::Running);
        assert_eq!((out.run.steps_done, out.run.steps_succeeded), (2, 2));
    }

    #[test]
    fn rejecting_fails_the_step_with_the_comment_and_skips_downstream() {
        let out = happen(StepStatus::Waiting, Ev::Reject).unwrap();
        assert_eq!(
            out.row("gate").error.as_deref(),
            Some("rejected by user:alice: not today")
        );
        assert_eq!(out.status("down"), StepStatus::Skipped);
        assert_eq!(
            out.events(),
            [
                "step.rejected:gate",
                "step.failed:gate",
                "step.skipped:down"
            ]
        );
        // With `other` done too, the run fails naming the rejection.
        let ix = spec();
        let (mut run, mut rows) = world(StepStatus::Waiting, NOW - HOUR);
        rows[3].status = StepStatus::Succeeded;
        recount(&mut run, &rows);
        let mut st = Loaded::new(&ix, run.clone(), NOW).with_steps(rows.clone());
        st.all_steps = true;
        let cs = approval::decide(&st, "gate", &verdict(ApprovalDecision::Rejected)).unwrap();
        apply(&mut run, &mut rows, &cs);
        assert_eq!(run.status, RunStatus::Failed);
        assert!(matches!(
            cs.runs.last().map(|u| &u.change),
            Some(RunChange::End { error: Some(e), .. })
                if e == "step \"gate\" failed: rejected by user:alice: not today"
        ));
    }

    #[test]
    fn a_timed_out_approval_fails_saying_so() {
        let out = happen(StepStatus::Waiting, Ev::TimeOut { late: 1 }).unwrap();
        assert_eq!(
            out.row("gate").error.as_deref(),
            Some(
                "approval timed out after 1h: nobody approved or rejected it (approvers: users alice)"
            )
        );
        assert_eq!(out.status("down"), StepStatus::Skipped);
    }

    #[test]
    fn approving_a_step_that_is_not_an_approval_step_or_not_there_is_refused() {
        let ix = spec();
        let (run, rows) = world(StepStatus::Waiting, NOW);
        let mut st = Loaded::new(&ix, run, NOW).with_steps(rows);
        st.all_steps = true;
        let v = verdict(ApprovalDecision::Approved);
        assert!(matches!(
            approval::decide(&st, "down", &v),
            Err(Refusal::Rejected(Rejection::NotWaiting {
                approval: false,
                ..
            }))
        ));
        assert!(matches!(
            approval::decide(&st, "gat", &v),
            Err(Refusal::Rejected(Rejection::NoSuchStep { suggestion: Some(s), .. })) if s == "gate"
        ));
    }

    #[test]
    fn retrying_a_rejected_approval_makes_it_wait_again() {
        let rejected = happen(StepStatus::Waiting, Ev::Reject).unwrap();
        let (mut run, mut rows) = (rejected.run, rejected.rows);
        // End the run first (`other` succeeds), as a retry needs.
        let ix = spec();
        rows[3].status = StepStatus::Succeeded;
        recount(&mut run, &rows);
        run.status = RunStatus::Failed;
        let mut st = Loaded::new(&ix, run.clone(), NOW + 1).with_steps(rows.clone());
        st.all_steps = true;
        let cs = retry::retry(&st, None).unwrap();
        apply(&mut run, &mut rows, &cs);
        let status = |id: &str| rows.iter().find(|r| r.step_id == id).unwrap().status;
        assert_eq!(status("gate"), StepStatus::Waiting);
        assert_eq!(status("down"), StepStatus::Pending);
        assert!(cs.events.iter().any(|e| e.kind == "step.waiting"));
    }
}

// Fan-out (issue 13): matrix instances with `max_parallel` and `fail_fast`, and a `foreach:`
// step expanding at run time, driven through a whole run held in memory.

/// A whole run in memory, laid out as a store creates it (`expand::initial_rows`), every
/// changeset applied as a store applies it (new rows included), every row loaded.
struct Sim {
    ix: SpecIndex,
    run: RunRow,
    rows: Vec<StepRow>,
    /// Outputs of the steps that succeeded.
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Vars of the rows added at run time.
    vars: BTreeMap<String, String>,
}

impl Sim {
    fn new(steps: Vec<StepSpec>) -> Sim {
        let ix = SpecIndex::new(WorkflowSpec::new("t", steps));
        let rows: Vec<StepRow> = expand::initial_rows(&ix)
            .iter()
            .map(|r| {
                let mut row = row(&r.step.id, r.idx, StepStatus::Pending, 0);
                row.pending_needs = r.pending_needs;
                if r.pending_needs == 0 {
                    row.status = StepStatus::Ready;
                }
                row
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
        Sim {
            ix,
            run,
            rows,
            outputs: BTreeMap::new(),
            vars: BTreeMap::new(),
        }
    }

    fn decide(&mut self, f: impl Fn(&Loaded<'_>) -> Decision) -> Changeset {
        let mut st = Loaded::new(&self.ix, self.run.clone(), NOW).with_steps(self.rows.clone());
        st.all_steps = true;
        let cs = loop {
            match f(&st) {
                Ok(cs) => break cs,
                Err(Refusal::Need(Need::Outputs(ids))) => {
                    assert!(
                        !ids.iter().all(|i| st.outputs.contains_key(i)),
                        "asked twice"
                    );
                    for id in ids {
                        let o = self.outputs.get(&id).cloned().unwrap_or_default();
                        st.outputs.insert(id, o);
                    }
                }
                Err(e) => panic!("{e:?}"),
            }
        };
        for ins in &cs.inserts {
            let mut r = row(&ins.step_id, ins.idx, ins.status, 0);
            r.pending_needs = ins.pending_needs;
            self.rows.push(r);
            self.vars.insert(ins.step_id.clone(), ins.vars.clone());
        }
        apply(&mut self.run, &mut self.rows, &cs);
        cs
    }

    fn status(&self, id: &str) -> StepStatus {
        self.rows.iter().find(|r| r.step_id == id).unwrap().status
    }

    fn ids(&self, status: StepStatus) -> Vec<String> {
        let mut rows: Vec<&StepRow> = self.rows.iter().filter(|r| r.status == status).collect();
        rows.sort_by_key(|r| r.idx);
        rows.iter().map(|r| r.step_id.clone()).collect()
    }

    /// Instances of `base` ready, leased or running.
    fn busy(&self, base: &str) -> usize {
        self.rows
            .iter()
            .filter(|r| r.step_id.starts_with(&format!("{base}[")))
            .filter(|r| {
                matches!(
                    r.status,
                    StepStatus::Ready | StepStatus::Leased | StepStatus::Running
                )
            })
            .count()
    }

    fn claim(&mut self, id: &str) {
        let agent = Claimant {
            id: "a1".into(),
            name: "w1".into(),
        };
        self.decide(|st| {
            claim::claim(
                st,
                id,
                &agent,
                LEASE_MS,
                claim::Prepared::Ready { notes: &[] },
            )
        });
    }

    fn finish(&mut self, id: &str, ok: bool, outputs: &[(&str, &str)]) {
        let attempt = self.rows.iter().find(|r| r.step_id == id).unwrap().attempt;
        let outputs: BTreeMap<String, String> = outputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let result = if ok {
            StepResult::ok(outputs.clone())
        } else {
            StepResult::failed("exit code 1", Some(1))
        };
        self.decide(|st| complete::complete(st, &lease(id, attempt), &result, u64::MAX));
        if ok {
            self.outputs.insert(id.to_string(), outputs);
        }
    }

    /// Claim and finish `id` successfully.
    fn run_ok(&mut self, id: &str, outputs: &[(&str, &str)]) {
        self.claim(id);
        self.finish(id, true, outputs);
    }
}

fn matrix_step(id: &str, needs: &[&str], max_parallel: Option<u32>) -> StepSpec {
    use crate::model::{FanOut, MatrixAxis};
    let mut s = StepSpec::new(id, StepKind::Noop).needing(needs);
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

fn foreach_step(id: &str, over: &str, max_parallel: Option<u32>, cap: u32) -> StepSpec {
    let mut s = StepSpec::new(id, StepKind::Noop).needing(&[over]);
    let mut fan = crate::model::FanOut::foreach(over, "items");
    fan.max_parallel = max_parallel;
    fan.max_instances = cap;
    s.fan_out = Some(fan);
    s
}

#[test]
fn max_parallel_keeps_at_most_n_instances_going_and_the_next_waits_for_a_slot() {
    let mut sim = Sim::new(vec![
        StepSpec::new("build", StepKind::Noop),
        matrix_step("test", &["build"], Some(2)),
        StepSpec::new("report", StepKind::Noop).needing(&["test"]),
    ]);
    assert_eq!(sim.ids(StepStatus::Ready), ["build"]);
    sim.run_ok("build", &[]);
    assert_eq!(
        sim.ids(StepStatus::Ready),
        ["test[region=eu,shard=1]", "test[region=eu,shard=2]"]
    );
    let mut order = Vec::new();
    while let Some(next) = sim.ids(StepStatus::Ready).first().cloned() {
        if next == "report" {
            break;
        }
        assert!(sim.busy("test") <= 2, "{:?}", sim.rows);
        sim.claim(&next);
        assert!(sim.busy("test") <= 2);
        sim.finish(&next, true, &[]);
        order.push(next);
        if order.len() == 6 {
            break;
        }
        assert_ne!(
            sim.status("report"),
            StepStatus::Ready,
            "report waits for every instance"
        );
    }
    assert_eq!(order.len(), 6, "{order:?}");
    assert_eq!(order[5], "test[region=us,shard=3]");
    assert_eq!(sim.ids(StepStatus::Ready), ["report"]);
    sim.run_ok("report", &[]);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    assert_eq!(sim.run.steps_succeeded, 8);
}

#[test]
fn a_failed_instance_skips_its_waiting_siblings_but_not_the_running_ones() {
    let mut sim = Sim::new(vec![
        matrix_step("test", &[], Some(3)),
        StepSpec::new("report", StepKind::Noop).needing(&["test"]),
    ]);
    sim.claim("test[region=eu,shard=1]");
    sim.claim("test[region=eu,shard=2]");
    sim.finish("test[region=eu,shard=1]", false, &[]);
    assert_eq!(sim.status("test[region=eu,shard=2]"), StepStatus::Leased);
    for id in [
        "test[region=eu,shard=3]",
        "test[region=us,shard=1]",
        "test[region=us,shard=3]",
    ] {
        assert_eq!(sim.status(id), StepStatus::Skipped, "{id}");
    }
    let skipped = sim
        .rows
        .iter()
        .find(|r| r.step_id == "test[region=us,shard=1]")
        .unwrap();
    assert_eq!(
        skipped.error.as_deref(),
        Some("fail_fast: \"test[region=eu,shard=1]\" failed")
    );
    assert_eq!(sim.status("report"), StepStatus::Skipped);
    assert_eq!(
        sim.run.status,
        RunStatus::Running,
        "one instance still runs"
    );
    sim.finish("test[region=eu,shard=2]", true, &[]);
    assert_eq!(sim.run.status, RunStatus::Failed);

    // Without fail_fast, the others go on.
    let mut step = matrix_step("test", &[], None);
    step.fan_out.as_mut().unwrap().fail_fast = false;
    let mut sim = Sim::new(vec![step]);
    sim.claim("test[region=eu,shard=1]");
    sim.finish("test[region=eu,shard=1]", false, &[]);
    assert_eq!(sim.ids(StepStatus::Ready).len(), 5);
}

#[test]
fn foreach_expands_when_its_source_succeeds_and_its_dependents_wait_for_every_item() {
    let mut sim = Sim::new(vec![
        StepSpec::new("list", StepKind::Noop),
        foreach_step("each", "list", None, 1_000),
        StepSpec::new("after", StepKind::Noop).needing(&["each"]),
    ]);
    assert_eq!(sim.run.steps_total, 3);
    sim.run_ok("list", &[("items", r#"["a", {"n": 2}, 3]"#)]);
    assert_eq!(sim.status("each"), StepStatus::Succeeded);
    assert_eq!(
        sim.ids(StepStatus::Ready),
        ["each[0]", "each[1]", "each[2]"]
    );
    assert_eq!(sim.vars["each[1]"], r#"{"item":{"n":2}}"#);
    assert_eq!(sim.run.steps_total, 6);
    let after = sim.rows.iter().find(|r| r.step_id == "after").unwrap();
    assert_eq!(after.pending_needs, 3);
    for id in ["each[0]", "each[1]", "each[2]"] {
        assert_ne!(sim.status("after"), StepStatus::Ready);
        sim.run_ok(id, &[]);
    }
    assert_eq!(sim.ids(StepStatus::Ready), ["after"]);
    sim.run_ok("after", &[]);
    assert_eq!(sim.run.status, RunStatus::Succeeded);
}

#[test]
fn foreach_with_max_parallel_one_hands_out_one_item_at_a_time() {
    let mut sim = Sim::new(vec![
        StepSpec::new("list", StepKind::Noop),
        foreach_step("each", "list", Some(1), 1_000),
    ]);
    sim.run_ok("list", &[("items", "[1, 2, 3, 4]")]);
    for i in 0..4 {
        assert_eq!(sim.ids(StepStatus::Ready), [format!("each[{i}]")]);
        sim.run_ok(&format!("each[{i}]"), &[]);
    }
    assert_eq!(sim.run.status, RunStatus::Succeeded);
}

#[test]
fn foreach_over_a_non_list_or_too_many_items_fails_saying_why_and_an_empty_list_runs_none() {
    let case = |items: &str, cap: u32| {
        let mut sim = Sim::new(vec![
            StepSpec::new("list", StepKind::Noop),
            foreach_step("each", "list", None, cap),
            StepSpec::new("after", StepKind::Noop).needing(&["each"]),
        ]);
        sim.run_ok("list", &[("items", items)]);
        sim
    };
    let sim = case(r#"{"a": 1}"#, 1_000);
    assert_eq!(sim.status("each"), StepStatus::Failed);
    let error = |sim: &Sim| {
        sim.rows
            .iter()
            .find(|r| r.step_id == "each")
            .unwrap()
            .error
            .clone()
            .unwrap()
    };
    assert!(
        error(&sim).contains("steps.list.outputs.items is not a JSON list"),
        "{}",
        error(&sim)
    );
    assert_eq!(sim.status("after"), StepStatus::Skipped);
    assert_eq!(sim.run.status, RunStatus::Failed);

    let sim = case("[1, 2, 3]", 2);
    assert_eq!(sim.status("each"), StepStatus::Failed);
    assert!(
        error(&sim).contains("has 3 items, over the cap of 2 instances"),
        "{}",
        error(&sim)
    );

    let sim = case("[]", 1_000);
    assert_eq!(sim.status("each"), StepStatus::Succeeded);
    assert_eq!(sim.ids(StepStatus::Ready), ["after"]);
}

#[test]
fn retry_from_a_matrix_step_reruns_every_instance_and_what_follows() {
    let mut sim = Sim::new(vec![
        matrix_step("test", &[], Some(2)),
        StepSpec::new("report", StepKind::Noop).needing(&["test"]),
    ]);
    while let Some(next) = sim.ids(StepStatus::Ready).first().cloned() {
        sim.run_ok(&next, &[]);
    }
    assert_eq!(sim.run.status, RunStatus::Succeeded);
    let cs = sim.decide(|st| retry::retry(st, Some("test")));
    assert_eq!(cs.steps.len(), 7, "six instances and report");
    assert_eq!(
        sim.ids(StepStatus::Ready),
        ["test[region=eu,shard=1]", "test[region=eu,shard=2]"],
        "max_parallel holds for a retry too"
    );
    assert_eq!(sim.run.status, RunStatus::Running);
}

// Conditions (issue 13): `if:` and `when:`, over a small pipeline run by a mini store that
// loads what a transition asks for (rows are all loaded; facts on demand) and applies its
// changesets:
//
//   build → test → deploy (if: …) → after (when: success)
//                              ├──→ cleanup (when: always)
//                              └──→ notify  (when: failure)

mod conditions {
    use super::*;
    use crate::engine::transitions::conditions::{self as gate, CONDITION_FALSE, NOTHING_FAILED};
    use crate::model::When;
    use StepStatus::*;

    const DEPLOY_IF: &str = "params.env == 'prod' and steps.build.outputs.v is defined";

    fn pipeline(fail_fast: bool, deploy_if: Option<&str>) -> SpecIndex {
        let noop = |id: &str, needs: &[&str]| StepSpec::new(id, StepKind::Noop).needing(needs);
        let mut deploy = noop("deploy", &["test"]);
        deploy.condition = deploy_if.map(str::to_string);
        let mut cleanup = noop("cleanup", &["deploy"]);
        cleanup.when = When::Always;
        let mut notify = noop("notify", &["deploy"]);
        notify.when = When::Failure;
        let mut wf = WorkflowSpec::new(
            "p",
            vec![
                noop("build", &[]),
                noop("test", &["build"]),
                deploy,
                noop("after", &["deploy"]),
                cleanup,
                notify,
            ],
        );
        wf.fail_fast = fail_fast;
        SpecIndex::new(wf)
    }

    /// A run as a store holds it: rows, params, stored outputs.
    struct Sim<'a> {
        ix: &'a SpecIndex,
        run: RunRow,
        rows: Vec<StepRow>,
        params: BTreeMap<String, serde_json::Value>,
        outputs: BTreeMap<String, BTreeMap<String, String>>,
        now: i64,
    }

    impl<'a> Sim<'a> {
        /// A new run, its root steps ready (as `starts_ready` says) or passed through their
        /// gate (`open`).
        fn new(ix: &'a SpecIndex, env: &str) -> Self {
            let rows = ix
                .spec
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut r = row(&s.id, i as u32, StepStatus::Pending, 0);
                    r.pending_needs = s.needs.len() as u32;
                    if gate::starts_ready(ix, &s.id) {
                        r.status = Ready;
                    }
                    r
                })
                .collect();
            let mut sim = Sim {
                ix,
                run: RunRow {
                    id: "R1".into(),
                    workflow: "p".into(),
                    version: 1,
                    status: RunStatus::Running,
                    steps_total: ix.spec.steps.len() as u32,
                    steps_done: 0,
                    steps_succeeded: 0,
                    timeout_ms: None,
                    timeout_source: None,
                    concurrency_key: None,
                },
                rows,
                params: [("env".to_string(), serde_json::Value::from(env))].into(),
                outputs: BTreeMap::new(),
                now: NOW,
            };
            if gate::gates_roots(ix) {
                sim.decide(|st| gate::open(st, true)).unwrap();
            }
            sim
        }

        /// Decide as `store::flow::decide` does (facts loaded when asked for) and apply.
        fn decide(&mut self, t: impl Fn(&Loaded<'_>) -> Decision) -> Result<Changeset, Rejection> {
            self.now += 1;
            let mut st =
                Loaded::new(self.ix, self.run.clone(), self.now).with_steps(self.rows.clone());
            st.all_steps = true;
            let cs = loop {
                match t(&st) {
                    Ok(cs) => break cs,
                    Err(Refusal::Rejected(r)) => return Err(r),
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
            apply(&mut self.run, &mut self.rows, &cs);
            for u in &cs.steps {
                if let StepChange::Succeed { outputs, .. } = &u.change {
                    let map = outputs
                        .as_deref()
                        .map(|o| serde_json::from_str(o).unwrap())
                        .unwrap_or_default();
                    self.outputs.insert(u.step_id.clone(), map);
                }
            }
            Ok(cs)
        }

        /// `id` (ready) is claimed and ends: ok with `outputs`, or failed (no retries).
        fn finish(&mut self, id: &str, ok: bool, outputs: &[(&str, &str)]) -> Changeset {
            assert_eq!(self.status(id), Ready, "{id} must be ready to run");
            let agent = Claimant {
                id: "a1".into(),
                name: "w1".into(),
            };
            let prepared = claim::Prepared::Ready { notes: &[] };
            self.decide(|st| claim::claim(st, id, &agent, LEASE_MS, prepared))
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
            let attempt = self.row(id).attempt;
            self.decide(|st| complete::complete(st, &lease(id, attempt), &result, u64::MAX))
                .unwrap()
        }

        fn row(&self, id: &str) -> &StepRow {
            self.rows.iter().find(|r| r.step_id == id).unwrap()
        }

        fn status(&self, id: &str) -> StepStatus {
            self.row(id).status
        }

        fn error(&self, id: &str) -> Option<&str> {
            self.row(id).error.as_deref()
        }
    }

    /// A step, the status it ends in, and its error.
    type Want = (&'static str, StepStatus, Option<&'static str>);

    /// What becomes of the gated steps after `build` and `test` end as given, then every
    /// step that is ready runs and succeeds.
    #[test]
    fn the_gate_table() {
        let needs = "needs \"deploy\", which skipped";
        let test_failed = "needs \"test\", which failed";
        #[rustfmt::skip]
        let table: &[(&str, bool, [Want; 4], RunStatus)] = &[
            // env, test ok | deploy, after, cleanup, notify | the run
            ("prod", true, [
                ("deploy", Succeeded, None), ("after", Succeeded, None),
                ("cleanup", Succeeded, None), ("notify", Skipped, Some(NOTHING_FAILED)),
            ], RunStatus::Succeeded),
            ("staging", true, [
                ("deploy", Skipped, Some(CONDITION_FALSE)), ("after", Skipped, Some(needs)),
                ("cleanup", Succeeded, None), ("notify", Skipped, Some(NOTHING_FAILED)),
            ], RunStatus::Succeeded),
            ("prod", false, [
                ("deploy", Skipped, Some(test_failed)), ("after", Skipped, Some(needs)),
                ("cleanup", Succeeded, None), ("notify", Succeeded, None),
            ], RunStatus::Failed),
        ];
        let ix = pipeline(false, Some(DEPLOY_IF));
        for (env, test_ok, want, run_status) in table {
            let mut sim = Sim::new(&ix, env);
            sim.finish("build", true, &[("v", "1.2")]);
            sim.finish("test", *test_ok, &[]);
            for _ in 0..ix.spec.steps.len() {
                let ready: Vec<String> = sim
                    .rows
                    .iter()
                    .filter(|r| r.status == Ready)
                    .map(|r| r.step_id.clone())
                    .collect();
                for id in ready {
                    sim.finish(&id, true, &[]);
                }
            }
            for (id, status, error) in want {
                assert_eq!(
                    (sim.status(id), sim.error(id)),
                    (*status, *error),
                    "{id} with env={env}, test ok={test_ok}"
                );
            }
            assert_eq!(sim.run.status, *run_status, "env={env}, test ok={test_ok}");
            assert_eq!(sim.run.steps_done, sim.run.steps_total);
        }
    }

    #[test]
    fn the_run_fails_for_its_real_failure_though_cleanup_succeeded() {
        let ix = pipeline(false, None);
        let mut sim = Sim::new(&ix, "prod");
        sim.finish("build", true, &[]);
        let cs = sim.finish("test", false, &[]);
        // The cascade skips `deploy` and `after`; `cleanup` and `notify` become ready.
        let events: Vec<String> = cs
            .events
            .iter()
            .map(|e| format!("{}:{}", e.kind, e.step_id.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            events,
            [
                "step.failed:test",
                "step.skipped:deploy",
                "step.skipped:after",
                "step.ready:cleanup",
                "step.ready:notify"
            ]
        );
        sim.finish("cleanup", true, &[]);
        assert_eq!(sim.run.status, RunStatus::Running);
        sim.finish("notify", true, &[]);
        assert_eq!(sim.run.status, RunStatus::Failed);
        let end = sim.decide(end::cancel).unwrap_err();
        assert!(matches!(end, Rejection::RunEnded { .. }));
    }

    #[test]
    fn an_if_reads_upstream_states_and_outputs_of_this_very_transition() {
        let noop = |id: &str, needs: &[&str]| StepSpec::new(id, StepKind::Noop).needing(needs);
        let mut report = noop("report", &["unit-tests"]);
        report.when = When::Always;
        report.condition = Some("steps.unit-tests.status == 'failed'".into());
        let mut tag = noop("tag", &["build"]);
        tag.condition = Some("steps.build.outputs.v == '2'".into());
        let ix = SpecIndex::new(WorkflowSpec::new(
            "p",
            vec![
                noop("build", &[]),
                noop("unit-tests", &["build"]),
                report,
                tag,
            ],
        ));
        for (tests_ok, v, report_status, tag_status) in
            [(false, "2", Ready, Ready), (true, "3", Skipped, Skipped)]
        {
            let mut sim = Sim::new(&ix, "prod");
            // `tag` is gated in the transition that stores `build`'s outputs.
            sim.finish("build", true, &[("v", v)]);
            assert_eq!(sim.status("tag"), tag_status, "v={v}");
            sim.finish("unit-tests", tests_ok, &[]);
            assert_eq!(sim.status("report"), report_status, "tests ok={tests_ok}");
        }
    }

    #[test]
    fn a_root_step_passes_its_gate_when_the_run_opens() {
        let mut root = StepSpec::new("maybe", StepKind::Noop);
        root.condition = Some("params.env == 'prod'".into());
        let mut on_failure = StepSpec::new("page", StepKind::Noop);
        on_failure.when = When::Failure;
        let ix = SpecIndex::new(WorkflowSpec::new("p", vec![root, on_failure]));
        assert!(!gate::starts_ready(&ix, "maybe"));
        let sim = Sim::new(&ix, "prod");
        assert_eq!(sim.status("maybe"), Ready);
        assert_eq!(sim.status("page"), Skipped);
        let sim = Sim::new(&ix, "dev");
        assert_eq!(sim.error("maybe"), Some(CONDITION_FALSE));
        // Every step skipped with nothing failed: the run succeeded.
        assert_eq!(sim.run.status, RunStatus::Succeeded);
        // A run waiting for its concurrency slot keeps an open root step pending.
        let mut waiting = Sim::new(&ix, "prod");
        waiting.rows[0].status = Pending;
        waiting.rows[1].status = Pending;
        waiting.rows[1].finished_at = None;
        waiting.run.steps_done = 0;
        waiting.decide(|st| gate::open(st, false)).unwrap();
        assert_eq!(waiting.status("maybe"), Pending);
    }

    #[test]
    fn an_if_that_cannot_be_evaluated_fails_the_step() {
        let ix = pipeline(false, Some("params.env + 1"));
        let mut sim = Sim::new(&ix, "prod");
        sim.finish("build", true, &[]);
        sim.finish("test", true, &[]);
        assert_eq!(sim.status("deploy"), Failed);
        let err = sim.error("deploy").unwrap();
        assert!(
            err.starts_with("cannot evaluate `if: params.env + 1`"),
            "{err}"
        );
        assert_eq!(sim.status("notify"), Ready);
    }

    #[test]
    fn fail_fast_spares_always_and_failure_steps_and_cancel_spares_none() {
        let ix = pipeline(true, None);
        let mut sim = Sim::new(&ix, "prod");
        sim.finish("build", true, &[]);
        sim.finish("test", false, &[]);
        assert_eq!(sim.status("after"), Skipped);
        assert_eq!(
            (sim.status("cleanup"), sim.status("notify")),
            (Ready, Ready)
        );
        // A cancel cancels them: a cancelled run starts nothing more.
        sim.decide(end::cancel).unwrap();
        assert_eq!(
            (sim.status("cleanup"), sim.status("notify")),
            (Cancelled, Cancelled)
        );
        assert_eq!(sim.run.status, RunStatus::Cancelled);
        // Cancelled while the needs of `cleanup` still run: it never becomes ready.
        let mut sim = Sim::new(&ix, "prod");
        sim.decide(end::cancel).unwrap();
        assert_eq!(sim.status("cleanup"), Cancelled);
    }

    #[test]
    fn a_retry_gates_reset_steps_again() {
        let ix = pipeline(false, Some(DEPLOY_IF));
        let mut sim = Sim::new(&ix, "prod");
        sim.finish("build", true, &[("v", "1")]);
        sim.finish("test", false, &[]);
        sim.finish("cleanup", true, &[]);
        sim.finish("notify", true, &[]);
        assert_eq!(sim.run.status, RunStatus::Failed);
        sim.decide(|st| retry::retry(st, None)).unwrap();
        assert_eq!(sim.status("test"), Ready);
        sim.finish("test", true, &[]);
        assert_eq!(sim.status("deploy"), Ready);
        sim.finish("deploy", true, &[]);
        sim.finish("after", true, &[]);
        // `cleanup` and `notify` ran in the first attempt and were not reset.
        assert_eq!(sim.run.status, RunStatus::Succeeded);
    }
}
