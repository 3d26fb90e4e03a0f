//! A workflow file's `notify:` made real when the file is applied (`workflow apply`), in the
//! apply's transaction: the workflow's rules from files become what the file declares. Rules
//! made by `imx notify rule add` are never touched; a rule the file still declares keeps its
//! id (so its cooldown and grouping go on); a channel that does not exist refuses the apply.

use serde::Serialize;

use super::{NewRule, Rule, RuleSource};
use crate::model::{WorkflowSpec, new_id};
use crate::store::Tx;
use crate::{Error, Result};

/// What [`sync_file_rules`] changed: how many rules the file added and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RulesSynced {
    pub added: usize,
    pub removed: usize,
}

impl RulesSynced {
    pub fn any(&self) -> bool {
        self.added + self.removed > 0
    }
}

/// Refuse `spec` if a rule of its `notify:` names a channel that does not exist: an
/// [`Error::Invalid`] naming the channel and, when the spec has its source, where the rule's
/// `channel:` stands in it (`LINE:COL: notify[N]: …`).
pub fn check_channels(tx: &Tx<'_>, spec: &WorkflowSpec) -> Result<()> {
    for (i, rule) in spec.notify.iter().enumerate() {
        if tx.notify_channel(&rule.channel)?.is_none() {
            let at = spec
                .source
                .as_deref()
                .and_then(|s| crate::spec::notify_channel_pos(s, i))
                .map(|(line, col)| format!("{line}:{col}: "))
                .unwrap_or_default();
            return Err(Error::invalid_with_hint(
                format!("{at}notify[{}]: no channel named {:?}", i + 1, rule.channel),
                "add it first (imx notify channel add NAME …), or name one imx notify channel list shows",
            ));
        }
    }
    Ok(())
}

/// Make workflow `spec.name`'s rules from files (`source = workflow`) the ones `spec.notify`
/// declares, as `who` at `now`. Each declared rule's channel must exist ([`check_channels`]).
pub fn sync_file_rules(
    tx: &Tx<'_>,
    spec: &WorkflowSpec,
    who: &str,
    now: i64,
) -> Result<RulesSynced> {
    let all = tx.notify_rules()?;
    let mut old: Vec<Rule> = all
        .into_iter()
        .filter(|r| {
            r.source == RuleSource::Workflow && r.rule.workflow.as_deref() == Some(&spec.name)
        })
        .collect();
    let declared: Vec<NewRule> = spec
        .notify
        .iter()
        .map(|r| NewRule {
            workflow: Some(spec.name.clone()),
            ..r.clone()
        })
        .collect();
    let mut rules = Vec::with_capacity(declared.len());
    let mut kept = 0;
    for rule in declared {
        // A rule the file still declares keeps its id: its cooldown and grouping go on.
        let same = old.iter().position(|o| o.rule == rule);
        rules.push(match same {
            Some(j) => {
                kept += 1;
                old.swap_remove(j)
            }
            None => Rule {
                id: new_id(),
                rule,
                source: RuleSource::Workflow,
                created_at: now,
                created_by: who.to_string(),
            },
        });
    }
    let synced = RulesSynced {
        added: rules.len() - kept,
        removed: old.len(),
    };
    if !synced.any() {
        return Ok(synced);
    }
    if synced.added > 0 {
        check_channels(tx, spec)?;
    }
    tx.notify_replace_workflow_rules(&spec.name, &rules)?;
    Ok(synced)
}

/// The guard of `NotifyTx::notify_replace_workflow_rules`: every rule it is given must be
/// `workflow`'s, from a file (the store replaces only those, so it must insert only those).
pub fn check_workflow_rules(workflow: &str, rules: &[Rule]) -> Result<()> {
    match rules
        .iter()
        .find(|r| r.source != RuleSource::Workflow || r.rule.workflow.as_deref() != Some(workflow))
    {
        None => Ok(()),
        Some(r) => Err(Error::Internal(format!(
            "rule {} is not workflow {workflow:?}'s from its file",
            r.id
        ))),
    }
}
