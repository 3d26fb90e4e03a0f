//! Fixed data and a fixed clock for view snapshots and state-machine tests.

use std::collections::BTreeMap;

use imx::auth::{Principal, Role};
use imx::control::{Outcomes, Overview, WorkflowOutcomes};
use imx::model::{
    Agent, AgentState, AgentStep, AuditRecord, LogLine, LogStream, Page, ParamSpec, ParamType, Run,
    RunDetail, RunStatus, ScheduleInfo, StepState, StepStatus, StepWait, WaitReason,
};

use super::action::{Action, Data, ViewId};
use super::app::App;

/// 2025-01-02 03:04:05 UTC.
pub const NOW: i64 = 1_735_787_045_000;

pub fn principal(role: Role) -> Principal {
    Principal {
        name: "local:ops".into(),
        role,
        source: "local".into(),
    }
}

/// A fresh app on `view` at [`NOW`], already connected.
pub fn app(view: ViewId, role: Role) -> App {
    let mut app = App::new(
        principal(role),
        "local /home/ops/.local/share/imx/imx.db".into(),
        view,
        NOW,
        0,
    );
    app.update(Action::Data(Box::new(Data::Refreshed(NOW - 1_000))));
    app
}

/// A ULID-like id whose first characters vary with `n`.
pub fn id(n: usize) -> String {
    format!("01JG{n:04}ABCDEFGHJKMNPQRS")
}

pub fn run(n: usize, workflow: &str, status: RunStatus) -> Run {
    let created = NOW - (n as i64 + 1) * 90_000;
    Run {
        id: id(n),
        workflow: workflow.into(),
        workflow_version: 3,
        status,
        params: BTreeMap::new(),
        created_at: created,
        started_at: Some(created + 1_000),
        finished_at: (status.is_terminal()).then_some(created + 61_000),
        deadline: None,
        created_by: "local:ops".into(),
        steps_total: 4,
        steps_succeeded: if status == RunStatus::Succeeded { 4 } else { 2 },
        error: (status == RunStatus::Failed).then(|| "step \"test\" failed: exit code 1".into()),
        duration_ms: status.is_terminal().then_some(60_000),
        concurrency: None,
        schedule: None,
        nominal_time: None,
        labels: BTreeMap::new(),
        rerun_of: None,
        awaiting_approval: false,
    }
}

pub fn runs_page() -> Page<Run> {
    let statuses = [
        RunStatus::Running,
        RunStatus::Queued,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::TimedOut,
    ];
    Page {
        items: (0..12)
            .map(|i| {
                let wf = if i % 3 == 0 {
                    "deploy"
                } else {
                    "nightly-report"
                };
                run(i, wf, statuses[i % statuses.len()])
            })
            .collect(),
        next_cursor: Some(id(11)),
    }
}

fn step(
    id: &str,
    status: StepStatus,
    needs: &[&str],
    attempt: u32,
    agent: Option<&str>,
) -> StepState {
    StepState {
        step_id: id.into(),
        kind: "run".into(),
        status,
        attempt,
        needs: needs.iter().map(|s| s.to_string()).collect(),
        agent: agent.map(String::from),
        started_at: (attempt > 0).then_some(NOW - 42_000),
        finished_at: status.is_terminal().then_some(NOW - 30_000),
        not_before: None,
        exit_code: None,
        outputs: BTreeMap::new(),
        error: None,
        duration_ms: status.is_terminal().then_some(12_000),
        approval: None,
    }
}

pub fn run_detail() -> RunDetail {
    RunDetail {
        run: run(0, "deploy", RunStatus::Running),
        steps: vec![
            step("build", StepStatus::Succeeded, &[], 1, Some("worker-1")),
            step("test", StepStatus::Running, &["build"], 2, Some("worker-2")),
            step(
                "lint",
                StepStatus::Succeeded,
                &["build"],
                1,
                Some("worker-1"),
            ),
            step("deploy", StepStatus::Pending, &["test", "lint"], 0, None),
        ],
        waiting: Vec::new(),
    }
}

/// A step no online agent can take, as the control plane explains it.
pub fn step_wait(step: &str) -> StepWait {
    StepWait {
        step_id: step.into(),
        status: StepStatus::Pending,
        reason: WaitReason::NoMatch,
        labels: BTreeMap::from([("tier".to_string(), "etl".to_string())]),
        message: "no online agent matches labels tier=etl; 2 agents online: worker-1 {os=linux}, \
                  worker-2 {}"
            .into(),
    }
}

pub fn logs(step: &str) -> Vec<LogLine> {
    (0..5)
        .map(|i| LogLine {
            id: i + 1,
            run_id: id(0),
            step_id: step.into(),
            attempt: 2,
            time: NOW - 10_000 + i * 1_000,
            stream: if i == 3 {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            },
            line: format!("running test suite {}/5", i + 1),
        })
        .collect()
}

pub fn agents_page() -> Page<Agent> {
    let states = [
        AgentState::Online,
        AgentState::Busy,
        AgentState::Draining,
        AgentState::Offline,
    ];
    Page {
        items: (0..6)
            .map(|i| Agent {
                id: format!("01JGAGENT{i:017}"),
                name: format!("worker-{}", i + 1),
                labels: BTreeMap::from([("os".to_string(), "linux".to_string())]),
                slots: 4,
                state: states[i % 4],
                draining: states[i % 4] == AgentState::Draining,
                running: if states[i % 4] == AgentState::Busy {
                    4
                } else {
                    1
                },
                registered_at: NOW - 3_600_000,
                last_heartbeat: NOW
                    - if states[i % 4] == AgentState::Offline {
                        600_000
                    } else {
                        2_000
                    },
                hostname: "node-a".into(),
                pid: 100 + i as u32,
                version: "0.1.0".into(),
                current: vec![format!("{}/test#2", &id(i)[..12])],
                lease_ms: Some(30_000),
                registered_by: Some("token:agents".into()),
            })
            .collect(),
        next_cursor: None,
    }
}

pub fn overview() -> Overview {
    Overview {
        at: NOW,
        event_id: 42,
        agents: BTreeMap::from([
            (AgentState::Online, 7),
            (AgentState::Busy, 3),
            (AgentState::Draining, 1),
            (AgentState::Offline, 2),
        ]),
        agents_holding: 5,
        runs_running: 4,
        runs_queued: 12,
        last_hour: Outcomes {
            succeeded: 120,
            failed: 3,
            cancelled: 1,
            timed_out: 0,
        },
        last_day: Outcomes {
            succeeded: 2_400,
            failed: 50,
            cancelled: 9,
            timed_out: 2,
        },
        throughput: (0..60).map(|i| (i * 7 % 23) as u64).collect(),
        step_p50_ms: Some(1_200),
        step_p95_ms: Some(8_400),
        latest_failures: vec![
            run(3, "deploy", RunStatus::Failed),
            run(9, "nightly-report", RunStatus::TimedOut),
        ],
    }
}

pub fn workflows() -> Vec<WorkflowOutcomes> {
    vec![
        WorkflowOutcomes {
            name: "deploy".into(),
            description: Some("Build, test and roll out a release".into()),
            version: 3,
            versions: vec![
                (3, NOW - 3_600_000),
                (2, NOW - 86_400_000),
                (1, NOW - 172_800_000),
            ],
            steps: 4,
            params: vec![
                ParamSpec {
                    name: "version".into(),
                    ty: ParamType::String,
                    required: true,
                    default: None,
                    allowed: None,
                    description: None,
                },
                ParamSpec {
                    name: "env".into(),
                    ty: ParamType::String,
                    required: false,
                    default: Some(serde_json::json!("staging")),
                    allowed: Some(vec![
                        serde_json::json!("staging"),
                        serde_json::json!("prod"),
                    ]),
                    description: None,
                },
            ],
            recent: vec![
                (id(0), RunStatus::Running),
                (id(1), RunStatus::Succeeded),
                (id(2), RunStatus::Failed),
                (id(3), RunStatus::Succeeded),
            ],
            recent_ms: vec![95_000, 31_000, 64_000],
        },
        WorkflowOutcomes {
            name: "hello".into(),
            description: None,
            version: 1,
            versions: vec![(1, NOW - 7_200_000)],
            steps: 1,
            params: vec![],
            recent: vec![(id(5), RunStatus::Succeeded)],
            recent_ms: vec![1_200],
        },
    ]
}

pub fn audit() -> Vec<AuditRecord> {
    let rows = [
        ("run.cancel", "01JG0003ABCD", "ok"),
        ("agent.drain", "worker-3", "ok"),
        ("run.start", "deploy", "denied"),
        ("workflow.apply", "deploy", "ok"),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (action, target, outcome))| AuditRecord {
            seq: 40 - i as i64,
            time: NOW - (i as i64 + 1) * 60_000,
            actor: "local:ops".into(),
            source: "local".into(),
            action: (*action).into(),
            target: (*target).into(),
            outcome: (*outcome).into(),
            details: serde_json::Value::Null,
            prev_hash: String::new(),
            hash: String::new(),
        })
        .collect()
}

/// The steps agent worker-1 holds and ran: the run of [`run_detail`] (its test step running,
/// its build and lint done) and an older failed deploy.
pub fn agent_steps() -> Vec<AgentStep> {
    let s =
        |run: usize, wf: &str, step: &str, status, attempt, started: i64, ended: Option<i64>| {
            AgentStep {
                run_id: id(run),
                workflow: wf.into(),
                step_id: step.into(),
                status,
                attempt,
                started_at: Some(NOW - started),
                finished_at: ended.map(|e| NOW - e),
            }
        };
    vec![
        s(0, "deploy", "test", StepStatus::Running, 2, 42_000, None),
        s(
            0,
            "deploy",
            "lint",
            StepStatus::Succeeded,
            1,
            50_000,
            Some(30_000),
        ),
        s(
            0,
            "deploy",
            "build",
            StepStatus::Succeeded,
            1,
            95_000,
            Some(60_000),
        ),
        s(
            3,
            "nightly-backup",
            "upload",
            StepStatus::Failed,
            3,
            3_700_000,
            Some(3_640_000),
        ),
    ]
}

/// A schedule of `workflow` created a day before [`NOW`]: `cron` with its zone, or every
/// `every_ms`.
pub fn schedule(
    name: &str,
    workflow: &str,
    cron: Option<(&str, &str)>,
    every_ms: u64,
) -> ScheduleInfo {
    let mut spec = imx::schedule::ScheduleSpec::new(name, workflow);
    match cron {
        Some((expr, zone)) => {
            spec.cron = Some(expr.into());
            spec.timezone = zone.into();
        }
        None => spec.every_ms = Some(every_ms),
    }
    ScheduleInfo {
        name: name.into(),
        workflow: workflow.into(),
        spec,
        origin: "command".into(),
        paused: false,
        note: None,
        created_at: NOW - 86_400_000,
        updated_at: NOW - 86_400_000,
        last_nominal: NOW - 600_000,
        next_fire: Some(NOW + 3_300_000),
        fired: 24,
        missed: 0,
        skipped: 0,
        dropped: 0,
        checked_at: 0,
    }
}

/// Three schedules by name: `backup` every 15 minutes, `nightly` (cron, Europe/Paris, paused
/// with a note, with missed ticks), `report` (cron, UTC, done: no next tick).
pub fn schedules() -> Vec<ScheduleInfo> {
    let backup = ScheduleInfo {
        next_fire: Some(NOW + 420_000),
        fired: 96,
        ..schedule("backup", "nightly-backup", None, 900_000)
    };
    let nightly = ScheduleInfo {
        paused: true,
        next_fire: Some(NOW + 120_000),
        note: Some("db migration until 14:00".into()),
        missed: 3,
        origin: "file".into(),
        ..schedule("nightly", "deploy", Some(("0 2 * * *", "Europe/Paris")), 0)
    };
    let report = ScheduleInfo {
        next_fire: None,
        fired: 5,
        ..schedule("report", "nightly-report", Some(("30 6 * * 1-5", "UTC")), 0)
    };
    vec![backup, nightly, report]
}

/// The last runs of [`schedules`]: `backup`'s succeeded, `nightly`'s failed; `report` has none.
pub fn schedule_runs() -> BTreeMap<String, Run> {
    let mut backup = run(1, "nightly-backup", RunStatus::Succeeded);
    backup.schedule = Some("backup".into());
    let mut nightly = run(3, "deploy", RunStatus::Failed);
    nightly.schedule = Some("nightly".into());
    BTreeMap::from([
        ("backup".to_string(), backup),
        ("nightly".to_string(), nightly),
    ])
}
