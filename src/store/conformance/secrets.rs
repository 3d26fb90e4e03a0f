//! Secrets on every backend: set, rotate (a secret that is not there is not made), list by
//! scope, the workflow's own secret winning over a global one, delete; and a rekey through the
//! local plane, which seals every sealed value again (secrets, webhook triggers' secrets)
//! under the new key in one transaction and replaces the check value — nothing in the clear.

use std::sync::Arc;

use super::{postgres, sqlite};
use crate::auth::{Principal, Role, Secret};
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions};
use crate::keys::{KeyOrigin, StoreKey, StoreKeySource};
use crate::model::{SecretValue, TriggerKind};
use crate::store::api::{Backend, SealedAt, SecretRecord};

on_both!(
    secrets_are_set_rotated_listed_and_deleted,
    a_workflows_own_secret_wins,
    a_rekey_seals_every_secret_again,
);

fn rec<'a>(scope: &'a str, name: &'a str, sealed: &'a [u8], at: i64) -> SecretRecord<'a> {
    SecretRecord {
        scope,
        name,
        sealed,
        by: "user:admin",
        at,
    }
}

fn secrets_are_set_rotated_listed_and_deleted(store: &Arc<dyn Backend>) {
    // A rotation of a secret that is not there makes nothing.
    let none = store
        .write(|tx| tx.put_secret(&rec("", "TOKEN", b"x", 1), true))
        .unwrap();
    assert_eq!(none, None);
    let set = store
        .write(|tx| tx.put_secret(&rec("", "TOKEN", b"one", 10), false))
        .unwrap()
        .unwrap();
    assert_eq!((set.version, set.workflow.as_deref()), (1, None));
    assert_eq!((set.created_at, set.updated_at), (10, 10));
    let rotated = store
        .write(|tx| tx.put_secret(&rec("", "TOKEN", b"two", 20), true))
        .unwrap()
        .unwrap();
    assert_eq!(
        (rotated.version, rotated.created_at, rotated.updated_at),
        (2, 10, 20)
    );
    let again = store
        .write(|tx| tx.put_secret(&rec("", "TOKEN", b"three", 30), false))
        .unwrap()
        .unwrap();
    assert_eq!(again.version, 3);
    store
        .write(|tx| tx.put_secret(&rec("etl", "DB", b"db", 40), false))
        .unwrap();
    let all = store.read(|tx| tx.list_secrets(None)).unwrap();
    let names: Vec<(Option<&str>, &str)> = all
        .iter()
        .map(|s| (s.workflow.as_deref(), s.name.as_str()))
        .collect();
    assert_eq!(names, [(None, "TOKEN"), (Some("etl"), "DB")]);
    let etl = store.read(|tx| tx.list_secrets(Some("etl"))).unwrap();
    assert_eq!(etl.len(), 1);
    assert_eq!(etl[0].name, "DB");
    assert!(store.write(|tx| tx.delete_secret("etl", "DB")).unwrap());
    assert!(!store.write(|tx| tx.delete_secret("etl", "DB")).unwrap());
    assert_eq!(store.read(|tx| tx.list_secrets(None)).unwrap().len(), 1);
}

fn a_workflows_own_secret_wins(store: &Arc<dyn Backend>) {
    store
        .write(|tx| {
            tx.put_secret(&rec("", "TOKEN", b"global", 1), false)?;
            tx.put_secret(&rec("deploy", "TOKEN", b"own", 1), false)?;
            tx.put_secret(&rec("", "OTHER", b"other", 1), false)?;
            tx.put_secret(&rec("build", "OTHER", b"not-mine", 1), false)
        })
        .unwrap();
    let names = vec!["TOKEN".to_string(), "OTHER".into(), "MISSING".into()];
    let mut got = store.read(|tx| tx.secrets_for("deploy", &names)).unwrap();
    got.sort();
    assert_eq!(
        got,
        [
            ("OTHER".to_string(), String::new(), b"other".to_vec()),
            ("TOKEN".to_string(), "deploy".to_string(), b"own".to_vec()),
        ]
    );
    let got = store.read(|tx| tx.secrets_for("other", &names)).unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|(_, scope, _)| scope.is_empty()));
}

fn a_rekey_seals_every_secret_again(store: &Arc<dyn Backend>) {
    let admin = Principal {
        name: "admin".into(),
        role: Role::Admin,
        source: "test".into(),
    };
    let old = StoreKey::generate();
    let plane = |key: &StoreKey| {
        LocalControlPlane::with_backend(store.clone(), LocalOptions::default())
            .with_store_key(StoreKeySource::given(key.clone(), KeyOrigin::Env))
    };
    let p = plane(&old);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let value = |v: &str| SecretValue {
            value: Secret::new(v),
            workflow: None,
            rotate: false,
        };
        p.set_secret(&admin, "CANARY", value("canary-value-1"))
            .await
            .unwrap();
        p.set_secret(
            &admin,
            "CANARY",
            SecretValue {
                workflow: Some("deploy".into()),
                ..value("canary-value-2")
            },
        )
        .await
        .unwrap();
        super::apply(
            store,
            &crate::model::WorkflowSpec::new("deploy", vec![super::step("a", &[])]),
        );
        p.create_trigger(
            &admin,
            crate::model::NewTrigger {
                name: "hook".into(),
                kind: TriggerKind::Webhook,
                workflow: "deploy".into(),
                upstream: None,
                statuses: Vec::new(),
                param_map: Default::default(),
                labels: Default::default(),
                secret: Some(Secret::new("whsec-canary-value")),
            },
        )
        .await
        .unwrap();
    });
    let before = store.read(|tx| tx.sealed_values()).unwrap();
    assert_eq!(before.len(), 3);
    for v in &before {
        assert!(!v.sealed.windows(6).any(|w| w == b"canary"), "{:?}", v.at);
    }
    let new = StoreKey::generate();
    let done = p.do_rekey(&admin, &new).unwrap();
    assert_eq!((done.secrets, done.triggers, done.channels), (2, 1, 0));
    assert_eq!(
        store.read(|tx| tx.store_key_check()).unwrap(),
        Some(new.check())
    );
    let after = store.read(|tx| tx.sealed_values()).unwrap();
    for v in &after {
        let was = before.iter().find(|b| b.at == v.at).unwrap();
        assert_ne!(was.sealed, v.sealed);
        let aad = match &v.at {
            SealedAt::Secret { scope, name } => format!("imx secret {scope}/{name}"),
            SealedAt::Trigger { name } => format!("imx trigger secret {name}"),
            SealedAt::Channel { id } => format!("notify.channel:{id}:secret"),
        };
        assert!(old.open(&v.sealed, aad.as_bytes()).is_err());
        let plain = new.open(&v.sealed, aad.as_bytes()).unwrap();
        assert!(plain.starts_with(b"canary") || plain.starts_with(b"whsec-canary"));
    }
    // A process still holding the old key is refused; the new key works.
    let stale = plane(&old).store_key().unwrap_err();
    assert!(stale.to_string().contains("wrong store key"), "{stale}");
    assert_eq!(plane(&new).store_key().unwrap(), new);
}
