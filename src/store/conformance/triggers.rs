//! Triggers on every backend: a fired key is taken once (what makes a webhook id or an
//! upstream run's end start one run, whichever replica sees it), a file's declared trigger
//! never takes over one made by command, deleting goes with the fired keys, and the run-end
//! cursor only moves forward.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{postgres, sqlite};
use crate::Error;
use crate::model::{RunStatus, Trigger, TriggerKind};
use crate::store::api::{Backend, TriggerRecord};

on_both!(
    a_fired_key_is_taken_once,
    declared_triggers_are_kept_in_line_with_their_file,
    the_run_end_cursor_only_moves_forward,
);

fn trigger(name: &str, kind: TriggerKind, managed_by: Option<&str>) -> Trigger {
    Trigger {
        name: name.into(),
        kind,
        workflow: "deploy".into(),
        upstream: (kind == TriggerKind::After).then(|| "build".into()),
        statuses: if kind == TriggerKind::After {
            vec![RunStatus::Succeeded, RunStatus::Failed]
        } else {
            Vec::new()
        },
        param_map: BTreeMap::from([("version".into(), "release.tag".into())]),
        // Kept and read back (a column of their own since SQLite 0026, PostgreSQL 0020).
        labels: BTreeMap::from([("team".into(), "web".into()), ("pr".into(), "42".into())]),
        managed_by: managed_by.map(str::to_string),
        created_by: "user:alice".into(),
        created_at: 1_700_000_000_000,
        fired: 0,
        last_fired_at: None,
        last_error: None,
    }
}

fn insert(store: &Arc<dyn Backend>, t: &Trigger, secret: Option<&[u8]>) -> crate::Result<()> {
    store.write(|tx| {
        tx.insert_trigger(&TriggerRecord {
            trigger: t,
            sealed_secret: secret,
        })
    })
}

fn a_fired_key_is_taken_once(store: &Arc<dyn Backend>) {
    let hook = trigger("hook", TriggerKind::Webhook, None);
    insert(store, &hook, Some(b"sealed bytes")).unwrap();
    assert!(matches!(
        insert(store, &hook, None),
        Err(Error::Conflict(_))
    ));
    let (read, secret) = store.read(|tx| tx.trigger("hook")).unwrap().unwrap();
    assert_eq!(read, hook);
    assert_eq!(secret.as_deref(), Some(&b"sealed bytes"[..]));

    assert!(
        store
            .write(|tx| tx.claim_trigger_fire("hook", "msg_1", 1_000))
            .unwrap()
    );
    assert!(
        !store
            .write(|tx| tx.claim_trigger_fire("hook", "msg_1", 2_000))
            .unwrap()
    );
    store
        .write(|tx| tx.finish_trigger_fire("hook", "msg_1", Some("run-1"), None, 1_000))
        .unwrap();
    assert_eq!(
        store
            .read(|tx| tx.trigger_fire_run("hook", "msg_1"))
            .unwrap()
            .as_deref(),
        Some("run-1")
    );
    // A firing that started nothing says why, and counts nothing.
    assert!(
        store
            .write(|tx| tx.claim_trigger_fire("hook", "msg_2", 1_500))
            .unwrap()
    );
    store
        .write(|tx| tx.finish_trigger_fire("hook", "msg_2", None, Some("bad params"), 1_500))
        .unwrap();
    let (read, _) = store.read(|tx| tx.trigger("hook")).unwrap().unwrap();
    assert_eq!((read.fired, read.last_fired_at), (1, Some(1_000)));
    assert_eq!(read.last_error.as_deref(), Some("bad params"));

    // Old webhook keys go; a pruned key could be taken again (its timestamp is refused first).
    assert_eq!(store.write(|tx| tx.prune_trigger_fires(1_200)).unwrap(), 1);
    assert!(
        store
            .write(|tx| tx.claim_trigger_fire("hook", "msg_1", 3_000))
            .unwrap()
    );
    assert!(
        !store
            .write(|tx| tx.claim_trigger_fire("hook", "msg_2", 3_000))
            .unwrap()
    );

    // Deleting a trigger deletes its keys: a new trigger of that name starts afresh.
    assert!(store.write(|tx| tx.delete_trigger("hook")).unwrap());
    assert!(!store.write(|tx| tx.delete_trigger("hook")).unwrap());
    insert(store, &hook, None).unwrap();
    assert!(
        store
            .write(|tx| tx.claim_trigger_fire("hook", "msg_2", 4_000))
            .unwrap()
    );
}

fn declared_triggers_are_kept_in_line_with_their_file(store: &Arc<dyn Backend>) {
    assert!(!store.read(|tx| tx.any_after_trigger()).unwrap());
    let mine = trigger("deploy-after-build", TriggerKind::After, Some("deploy"));
    let up = |t: &Trigger| {
        store.write(|tx| {
            tx.upsert_declared_trigger(&TriggerRecord {
                trigger: t,
                sealed_secret: None,
            })
        })
    };
    assert!(up(&mine).unwrap());
    assert!(store.read(|tx| tx.any_after_trigger()).unwrap());
    // Fired counts survive an update from the file.
    store
        .write(|tx| tx.finish_trigger_fire("deploy-after-build", "k", Some("r"), None, 5))
        .unwrap();
    let mut changed = mine.clone();
    changed.statuses = vec![RunStatus::TimedOut];
    assert!(up(&changed).unwrap());
    let (read, _) = store
        .read(|tx| tx.trigger("deploy-after-build"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.statuses.clone(), read.fired),
        (vec![RunStatus::TimedOut], 1)
    );
    assert_eq!(
        store.read(|tx| tx.triggers_after("build")).unwrap(),
        vec![read]
    );
    // A trigger made by command is never taken over by a file's.
    let by_hand = trigger("deploy-after-test", TriggerKind::After, None);
    insert(store, &by_hand, None).unwrap();
    let clash = trigger("deploy-after-test", TriggerKind::After, Some("deploy"));
    assert!(!up(&clash).unwrap());
    assert_eq!(
        store
            .read(|tx| tx.trigger("deploy-after-test"))
            .unwrap()
            .unwrap()
            .0
            .managed_by,
        None
    );
    // The file drops its entry: only its own triggers go.
    let gone = store
        .write(|tx| tx.delete_declared_triggers("deploy", &[]))
        .unwrap();
    assert_eq!(gone, ["deploy-after-build"]);
    let left: Vec<String> = store
        .read(|tx| tx.list_triggers())
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(left, ["deploy-after-test"]);
}

fn the_run_end_cursor_only_moves_forward(store: &Arc<dyn Backend>) {
    assert_eq!(store.read(|tx| tx.trigger_cursor()).unwrap(), None);
    store.write(|tx| tx.advance_trigger_cursor(10)).unwrap();
    store.write(|tx| tx.advance_trigger_cursor(7)).unwrap();
    assert_eq!(store.read(|tx| tx.trigger_cursor()).unwrap(), Some(10));
    store.write(|tx| tx.advance_trigger_cursor(12)).unwrap();
    assert_eq!(store.read(|tx| tx.trigger_cursor()).unwrap(), Some(12));
}
