//! The local control plane's approval steps (issue 13): approving and rejecting a waiting
//! step — after checking that the caller is one of its approvers (listed users, holders of
//! listed roles, and admins, who always may) and auditing a refusal — and describing each
//! approval step for `run show` ([`describe`]: who may decide, the message rendered with the
//! run's params, the deadline, and who decided when with what comment, from the step's
//! outputs).

use serde_json::json;

use super::local::LocalControlPlane;
use crate::auth::{Permission, Principal};
use crate::engine::SpecIndex;
use crate::engine::transitions::approval::Verdict;
use crate::model::{
    ApprovalDecision, Run, RunDetail, StepApproval, StepKind, StepState, StepStatus,
};
use crate::spec::{RunInfo, StepOutputs, TemplateContext, WorkflowInfo};
use crate::{Error, Result};

/// The longest comment an approval takes.
pub const MAX_COMMENT_BYTES: usize = 4096;

impl LocalControlPlane {
    pub(super) fn do_decide_approval(
        &self,
        who: &Principal,
        id: &str,
        step: &str,
        decision: ApprovalDecision,
        comment: Option<String>,
    ) -> Result<Run> {
        let action = match decision {
            ApprovalDecision::Approved => "run.approve",
            ApprovalDecision::Rejected => "run.reject",
        };
        // Reading the run is the least an approver needs; the approvers list does the rest.
        self.authorize(who, Permission::Read, action, id)?;
        let comment = comment
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if comment
            .as_ref()
            .is_some_and(|c| c.len() > MAX_COMMENT_BYTES)
        {
            return Err(Error::invalid(format!(
                "the comment is longer than {MAX_COMMENT_BYTES} bytes"
            )));
        }
        let specs = self.store().specs();
        let (run_id, approvers) = self.store().read_quick(|tx| {
            let run_id = tx.resolve_run_id(id)?;
            let detail = tx.run_detail(specs, &run_id)?;
            let ix = tx.workflow_index(specs, &detail.run.workflow, detail.run.workflow_version)?;
            let approvers = match ix.step(step).map(|s| &s.kind) {
                Some(StepKind::Approval(a)) => Some(a.approvers.clone()),
                _ => None,
            };
            Ok((run_id, approvers))
        })?;
        let target = format!("{run_id}/{step}");
        // A step that is not an approval step (or not there) is the transition's to refuse.
        if let Some(approvers) = &approvers
            && !approvers.allow(who)
        {
            self.denied(who, action, &target);
            return Err(Error::Forbidden {
                principal: who.name.clone(),
                action: format!(
                    "{} step {step:?} of run {} (its approvers: {})",
                    if decision == ApprovalDecision::Approved {
                        "approve"
                    } else {
                        "reject"
                    },
                    crate::model::short_id(&run_id),
                    approvers.describe()
                ),
            });
        }
        let verdict = Verdict {
            decision,
            by: who.name.clone(),
            comment,
        };
        self.mutate(
            who,
            action,
            |_: &Run| target.clone(),
            |r| {
                json!({
                    "workflow": r.workflow,
                    "step": step,
                    "decision": decision,
                    "comment": verdict.comment,
                })
            },
            |tx| tx.decide_approval(specs, &run_id, step, &verdict),
        )
    }
}

/// Fill in [`StepState::approval`] for the approval steps of `detail`.
pub fn describe(detail: &mut RunDetail, ix: &SpecIndex) {
    let ctx = TemplateContext {
        params: detail.run.params.clone(),
        steps: detail
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Succeeded)
            .map(|s| {
                let outputs = StepOutputs {
                    outputs: s.outputs.clone(),
                };
                (s.step_id.clone(), outputs)
            })
            .collect(),
        run: RunInfo {
            id: detail.run.id.clone(),
        },
        workflow: WorkflowInfo {
            name: detail.run.workflow.clone(),
            version: detail.run.workflow_version,
        },
        instance: crate::model::InstanceVars::default(),
    };
    for s in &mut detail.steps {
        let Some(StepKind::Approval(spec)) = ix.step(&s.step_id).map(|st| &st.kind) else {
            continue;
        };
        s.approval = Some(approval_of(s, spec, &ctx));
    }
}

fn approval_of(
    s: &StepState,
    spec: &crate::model::ApprovalSpec,
    ctx: &TemplateContext,
) -> StepApproval {
    // A message that does not render (an output not there yet, a secret) is shown as written.
    let message = spec
        .message
        .as_ref()
        .map(|m| crate::spec::render(m, ctx).unwrap_or_else(|_| m.clone()));
    let deadline = match (s.status, spec.timeout_ms, s.not_before) {
        (StepStatus::Waiting, Some(ms), Some(since)) => {
            Some(since.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)))
        }
        _ => None,
    };
    let decision = match s.outputs.get("decision").map(String::as_str) {
        Some("approved") => Some(ApprovalDecision::Approved),
        Some("rejected") => Some(ApprovalDecision::Rejected),
        _ => None,
    };
    StepApproval {
        approvers: spec.approvers.clone(),
        message,
        deadline,
        decision,
        by: decision.and_then(|_| s.outputs.get("by").cloned()),
        at: decision.and(s.finished_at),
        comment: decision.and_then(|_| s.outputs.get("comment").cloned()),
    }
}
