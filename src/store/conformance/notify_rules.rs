//! `notify_replace_workflow_rules` on every backend: it replaces exactly the rules a workflow
//! file gave that workflow — never a rule made by command (for that workflow or any), never
//! another workflow's — and refuses rules that are not that workflow's from a file.

use std::sync::Arc;

use super::{postgres, sqlite};
use crate::model::now_ms;
use crate::notify::{NewRule, On, Rule, RuleSource};
use crate::store::api::Backend;

on_both!(replacing_a_workflows_rules_touches_only_those,);

fn rule(id: &str, on: On, workflow: Option<&str>, source: RuleSource) -> Rule {
    Rule {
        id: id.into(),
        rule: NewRule {
            on,
            channel: "ops".into(),
            workflow: workflow.map(str::to_string),
            labels: Default::default(),
            threshold_ms: None,
            after: 1,
            cooldown_ms: 0,
            group_ms: 0,
        },
        source,
        created_at: now_ms(),
        created_by: "tester".into(),
    }
}

fn ids(store: &Arc<dyn Backend>) -> Vec<String> {
    let mut ids: Vec<String> = store
        .read(|tx| tx.notify_rules())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

fn replacing_a_workflows_rules_touches_only_those(store: &Arc<dyn Backend>) {
    use RuleSource::{Command, Workflow};
    for r in [
        rule("c-any", On::Failed, None, Command),
        rule("c-build", On::Failed, Some("build"), Command),
        rule("f-build", On::Failed, Some("build"), Workflow),
        rule("f-other", On::Failed, Some("other"), Workflow),
    ] {
        store.write(|tx| tx.notify_insert_rule(&r)).unwrap();
    }
    let new = [
        rule("f-build-2", On::Succeeded, Some("build"), Workflow),
        rule("f-build-3", On::Cancelled, Some("build"), Workflow),
    ];
    store
        .write(|tx| tx.notify_replace_workflow_rules("build", &new))
        .unwrap();
    assert_eq!(
        ids(store),
        ["c-any", "c-build", "f-build-2", "f-build-3", "f-other"]
    );
    let got = store.read(|tx| tx.notify_rules()).unwrap();
    let kept = got.iter().find(|r| r.id == "f-build-2").unwrap();
    assert_eq!(*kept, new[0]);

    // Removing the key: none left from the file; the rest stay.
    store
        .write(|tx| tx.notify_replace_workflow_rules("build", &[]))
        .unwrap();
    assert_eq!(ids(store), ["c-any", "c-build", "f-other"]);

    // A rule that is not this workflow's from a file is refused, and nothing changes.
    for wrong in [
        rule("x", On::Failed, Some("build"), Command),
        rule("y", On::Failed, Some("other"), Workflow),
        rule("z", On::Failed, None, Workflow),
    ] {
        let err = store
            .write(|tx| tx.notify_replace_workflow_rules("build", std::slice::from_ref(&wrong)));
        assert!(err.is_err(), "{wrong:?} was taken");
    }
    assert_eq!(ids(store), ["c-any", "c-build", "f-other"]);
}
