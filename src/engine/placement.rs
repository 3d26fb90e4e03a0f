//! Why a step is not running: from a run's steps, their label selectors and the agents as they
//! are now, say which steps no agent can take and why (nobody online, nobody with the labels,
//! everyone matching busy, a retry backoff). A pure function, so `run show`, `--wait`, the
//! dashboard and the HTTP API all get the same answer from the control plane.

use std::collections::BTreeMap;

use crate::model::{Agent, AgentState, StepState, StepStatus, StepWait, WaitReason};

/// How many online agents a message names before it says "and N more".
const NAMED_AGENTS: usize = 5;

/// The waiting steps of a run: every `ready` step that cannot be claimed now, and every
/// `pending` step whose labels no online agent has. `selector` gives a step's labels (none:
/// any agent). `now` is epoch milliseconds.
pub fn waiting<'a>(
    steps: &[StepState],
    selector: impl Fn(&str) -> Option<&'a BTreeMap<String, String>>,
    agents: &[Agent],
    now: i64,
) -> Vec<StepWait> {
    let no_labels = BTreeMap::new();
    // Agents that claim steps: online or busy. Draining and offline agents take nothing.
    let takers: Vec<&Agent> = agents
        .iter()
        .filter(|a| matches!(a.state, AgentState::Online | AgentState::Busy))
        .collect();
    let draining = agents
        .iter()
        .filter(|a| a.state == AgentState::Draining)
        .count();
    let mut out = Vec::new();
    for step in steps {
        if !matches!(step.status, StepStatus::Ready | StepStatus::Pending) {
            continue;
        }
        let ready = step.status == StepStatus::Ready;
        let labels = selector(&step.step_id).unwrap_or(&no_labels);
        let matching: Vec<&Agent> = takers
            .iter()
            .copied()
            .filter(|a| labels.iter().all(|(k, v)| a.labels.get(k) == Some(v)))
            .collect();
        let (reason, message) = if takers.is_empty() {
            if !ready {
                // Said once, for the ready steps: every step waits for an agent.
                continue;
            }
            let message = match draining {
                0 => "no agent online".to_string(),
                n => format!("no agent online ({n} draining)"),
            };
            (WaitReason::NoAgent, message)
        } else if matching.is_empty() {
            (
                WaitReason::NoMatch,
                format!(
                    "no online agent matches labels {}; {} online: {}",
                    pairs(labels),
                    count(takers.len(), "agent"),
                    named(&takers)
                ),
            )
        } else if !ready {
            continue;
        } else if let Some(at) = step.not_before.filter(|t| *t > now) {
            (
                WaitReason::Backoff,
                format!(
                    "waiting for its retry backoff, until {}",
                    crate::model::time::to_rfc3339(at).unwrap_or_else(|| at.to_string())
                ),
            )
        } else if matching.iter().all(|a| a.state == AgentState::Busy) {
            let names = matching
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let message = match matching.len() {
                1 => format!("the one matching agent is busy: {names}"),
                n => format!("all {n} matching agents are busy: {names}"),
            };
            (WaitReason::Busy, message)
        } else {
            // A free agent matches: it takes the step within moments.
            continue;
        };
        out.push(StepWait {
            step_id: step.step_id.clone(),
            status: step.status,
            reason,
            labels: labels.clone(),
            message,
        });
    }
    out
}

/// `k=v,k=v`.
fn pairs(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `w1 {os=linux}, w2 {}` (at most [`NAMED_AGENTS`], then `and N more`).
fn named(agents: &[&Agent]) -> String {
    let mut text = agents
        .iter()
        .take(NAMED_AGENTS)
        .map(|a| format!("{} {{{}}}", a.name, pairs(&a.labels)))
        .collect::<Vec<_>>()
        .join(", ");
    if agents.len() > NAMED_AGENTS {
        text.push_str(&format!(" and {} more", agents.len() - NAMED_AGENTS));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn agent(name: &str, labels: &[(&str, &str)], state: AgentState) -> Agent {
        Agent {
            id: format!("id-{name}"),
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            slots: 1,
            state,
            draining: state == AgentState::Draining,
            running: u32::from(state == AgentState::Busy),
            registered_at: 0,
            last_heartbeat: 0,
            hostname: "h".into(),
            pid: 1,
            version: "0".into(),
            current: Vec::new(),
            lease_ms: None,
            registered_by: None,
        }
    }

    fn step(id: &str, status: StepStatus, not_before: Option<i64>) -> StepState {
        StepState {
            step_id: id.into(),
            kind: "run".into(),
            status,
            attempt: 0,
            needs: Vec::new(),
            agent: None,
            started_at: None,
            finished_at: None,
            not_before,
            exit_code: None,
            outputs: BTreeMap::new(),
            error: None,
            duration_ms: None,
            approval: None,
        }
    }

    fn etl() -> BTreeMap<String, String> {
        BTreeMap::from([("tier".to_string(), "etl".to_string())])
    }

    fn explain(steps: &[StepState], agents: &[Agent]) -> Vec<(String, WaitReason, String)> {
        let etl = etl();
        waiting(
            steps,
            |id| (id == "load" || id == "later").then_some(&etl),
            agents,
            1_000,
        )
        .into_iter()
        .map(|w| (w.step_id, w.reason, w.message))
        .collect()
    }

    #[test]
    fn nobody_online_is_said_once_for_the_ready_steps() {
        let steps = [
            step("load", StepStatus::Ready, None),
            step("later", StepStatus::Pending, None),
        ];
        let offline = agent("gone", &[], AgentState::Offline);
        assert_eq!(
            explain(&steps, &[offline]),
            [("load".into(), WaitReason::NoAgent, "no agent online".into())]
        );
        let draining = agent("w", &[("tier", "etl")], AgentState::Draining);
        assert_eq!(
            explain(&steps[..1], &[draining])[0].2,
            "no agent online (1 draining)"
        );
    }

    #[test]
    fn labels_nobody_has_name_the_labels_and_who_is_online() {
        let steps = [
            step("load", StepStatus::Ready, None),
            step("later", StepStatus::Pending, None),
            step("any", StepStatus::Ready, None),
            step("done", StepStatus::Succeeded, None),
        ];
        let agents = [
            agent("w1", &[("os", "linux")], AgentState::Online),
            agent("w2", &[], AgentState::Busy),
        ];
        let msg = "no online agent matches labels tier=etl; 2 agents online: w1 {os=linux}, w2 {}";
        assert_eq!(
            explain(&steps, &agents),
            [
                ("load".into(), WaitReason::NoMatch, msg.into()),
                ("later".into(), WaitReason::NoMatch, msg.into()),
            ],
            "`any` has a free agent; `done` is done"
        );
    }

    #[test]
    fn busy_agents_and_backoffs_hold_ready_steps_only() {
        let agents = [agent("w1", &[("tier", "etl")], AgentState::Busy)];
        let steps = [
            step("load", StepStatus::Ready, None),
            step("later", StepStatus::Pending, None),
        ];
        assert_eq!(
            explain(&steps, &agents),
            [(
                "load".into(),
                WaitReason::Busy,
                "the one matching agent is busy: w1".into()
            )]
        );
        let free = [agent("w1", &[("tier", "etl")], AgentState::Online)];
        let backoff = [step("load", StepStatus::Ready, Some(61_000))];
        assert_eq!(
            explain(&backoff, &free),
            [(
                "load".into(),
                WaitReason::Backoff,
                "waiting for its retry backoff, until 1970-01-01T00:01:01.000Z".into()
            )]
        );
        assert!(explain(&steps, &free).is_empty());
    }

    #[test]
    fn long_agent_lists_are_cut_short() {
        let agents: Vec<Agent> = (0..7)
            .map(|i| agent(&format!("w{i}"), &[], AgentState::Online))
            .collect();
        let out = explain(&[step("load", StepStatus::Ready, None)], &agents);
        assert!(out[0].2.ends_with("w4 {} and 2 more"), "{}", out[0].2);
        assert!(out[0].2.contains("7 agents online"), "{}", out[0].2);
    }
}
