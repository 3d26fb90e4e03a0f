//! Audit checkpoints on a store shared by replicas (tests only): planes over one database with
//! their own config folders, as replicas or admins on different hosts. The log is the
//! database's, so a checkpoint taken on one host is verified on another; the key is the secret
//! each is given, and a host with another key (or none) is refused rather than starting a
//! second log; what the database holds is checked against the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use crate::audit::{AuditKey, AuditPaths, ProblemKind, checkpoint};
use crate::auth::Principal;
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions};
use crate::store::postgres::PgStore;
use crate::store::postgres::store::tests::test_db;
use crate::{Error, Result};

/// A host: its own config folder (key file, host log), maybe a key supplied to it.
fn host(url: &str, dir: &Path, key: Option<&AuditKey>) -> (Arc<PgStore>, LocalControlPlane) {
    let store = Arc::new(PgStore::open(url, true).unwrap());
    let plane = LocalControlPlane::with_backend(store.clone(), LocalOptions::default())
        .with_audit_paths(AuditPaths {
            key: dir.join("audit-key"),
            checkpoints: dir.join("audit-checkpoints.jsonl"),
        });
    let plane = match key {
        Some(k) => plane.with_audit_key(k.clone()),
        None => plane,
    };
    (store, plane)
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn key(dir: &Path) -> AuditKey {
    AuditKey::load_or_create(&dir.join("made-key")).unwrap().0
}

fn exec(store: &PgStore, sql: &str) -> Result<u64> {
    store.write(|tx| tx.execute(sql, &[]))
}

#[test]
fn checkpoints_kept_in_the_database_verify_from_any_host_with_the_key() {
    let Some(db) = test_db() else {
        return;
    };
    let who = Principal::local_owner();
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let cluster_key = key(dirs[0].path());
    let (store, a) = host(&db.url(), dirs[0].path(), Some(&cluster_key));
    let (_, b) = host(&db.url(), dirs[1].path(), Some(&cluster_key));

    let out = block(a.audit_checkpoint(&who)).unwrap();
    assert_eq!(out.log_path, Path::new(checkpoint::STORED_LOG));
    assert!(!out.key_created, "the supplied key signs");
    assert!(
        !dirs[0].path().join("audit-checkpoints.jsonl").exists(),
        "no host log is written"
    );
    // Another host sees and checks that checkpoint, and adds its own to the same log.
    let report = block(b.audit_verify(&who)).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checkpoints, 1);
    block(b.audit_checkpoint(&who)).unwrap();
    let report = block(a.audit_verify(&who)).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checkpoints, 2);
    assert!(report.notes.is_empty(), "{:?}", report.notes);

    // A host with another key is refused, for checkpoints and for verification.
    let other = key(dirs[2].path());
    let (_, c) = host(&db.url(), dirs[2].path(), Some(&other));
    let e = block(c.audit_checkpoint(&who)).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&other.public_hex()), "{msg}");
    assert!(msg.contains(&cluster_key.public_hex()), "{msg}");
    assert!(block(c.audit_verify(&who)).is_err());

    // A host without a key makes none: it is told which key the cluster uses. It can still
    // verify, against the public key the entries name, and is told what that is worth.
    let (_, d) = host(&db.url(), dirs[3].path(), None);
    let e = block(d.audit_checkpoint(&who)).unwrap_err();
    assert!(e.to_string().contains("has no audit key"), "{e}");
    assert!(!dirs[3].path().join("audit-key").exists());
    let report = block(d.audit_verify(&who)).unwrap();
    assert!(report.ok, "{report:?}");
    assert!(
        report.notes.iter().any(|n| n.contains("no audit key")),
        "{:?}",
        report.notes
    );

    // Someone who can write the database re-signs the log with a key of their own and
    // records its public key: a host holding the cluster's key calls it tampering.
    let attacker = key(dirs[3].path());
    let entries: Vec<(i64, String)> = store
        .read(|tx| {
            Ok(tx
                .query("SELECT n, entry FROM audit_checkpoints ORDER BY n", &[])?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        })
        .unwrap();
    for (n, line) in entries {
        let cp: checkpoint::Checkpoint = serde_json::from_str(&line).unwrap();
        let resigned = attacker.sign(cp.kind, &cp.store_id, cp.seq, &cp.hash, cp.time);
        let line = resigned.stored_line().unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE audit_checkpoints SET entry = $2 WHERE n = $1",
                    &[&n, &line],
                )
            })
            .unwrap();
    }
    exec(
        &store,
        &format!(
            "UPDATE meta SET value = '{}' WHERE key = 'audit_checkpoint_key'",
            attacker.public_hex()
        ),
    )
    .unwrap();
    assert!(
        block(a.audit_verify(&who)).is_err(),
        "the recorded key is not this host's"
    );
    exec(
        &store,
        &format!(
            "UPDATE meta SET value = '{}' WHERE key = 'audit_checkpoint_key'",
            cluster_key.public_hex()
        ),
    )
    .unwrap();
    let report = block(b.audit_verify(&who)).unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.problem.unwrap().kind,
        ProblemKind::BadCheckpoint,
        "entries not signed by the cluster's key"
    );
}

#[test]
fn truncating_the_chain_after_a_checkpoint_is_detected_from_another_host() {
    let Some(db) = test_db() else {
        return;
    };
    let who = Principal::local_owner();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The first checkpoint with no key anywhere makes one on that host (as on SQLite) and
    // records its public key; the admin then gives it to the other hosts.
    let (store, a) = host(&db.url(), dir_a.path(), None);
    let out = block(a.audit_checkpoint(&who)).unwrap();
    assert!(out.key_created);
    let made = AuditKey::load(&dir_a.path().join("audit-key"))
        .unwrap()
        .unwrap();
    let (_, b) = host(&db.url(), dir_b.path(), Some(&made));
    assert!(block(b.audit_verify(&who)).unwrap().ok);
    exec(
        &store,
        "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)",
    )
    .unwrap();
    let report = block(b.audit_verify(&who)).unwrap();
    assert!(!report.ok, "{report:?}");
}

/// A restore over the store starts a new timeline in the store's own checkpoint log, where
/// every replica and host reads it — not in the restoring host's file, which no other host
/// sees (and which `audit verify` on a store keeping its log never reads).
#[test]
fn a_restore_notes_its_timeline_in_the_stored_log_not_the_hosts_file() {
    use crate::backup::{BackupFormat, CreateOptions, NoProgress};
    use crate::control::RestoreRequest;
    use crate::store::api::Backend;
    let Some(db) = test_db() else {
        return;
    };
    let who = Principal::local_owner();
    let dir = tempfile::tempdir().unwrap();
    // This host's key is its key file (the one the restore signs with).
    let (made, _) = AuditKey::load_or_create(&dir.path().join("audit-key")).unwrap();
    let (store, plane) = host(&db.url(), dir.path(), None);
    block(plane.audit_checkpoint(&who)).unwrap();
    let out = dir.path().join("backups");
    std::fs::create_dir_all(&out).unwrap();
    let info = block(plane.create_backup(
        &who,
        CreateOptions {
            out: Some(out.clone()),
            format: Some(BackupFormat::Logical),
            ..CreateOptions::default()
        },
        &NoProgress,
    ))
    .unwrap();
    let req = RestoreRequest {
        backup: info.manifest.id.clone(),
        dir: Some(out),
        to: None,
        force: true,
        key: None,
        integrity: Default::default(),
    };
    block(plane.restore_backup(&who, req, &NoProgress)).unwrap();

    let host_log = dir.path().join("audit-checkpoints.jsonl");
    assert!(
        !host_log.exists(),
        "the restore wrote the host's file: {}",
        std::fs::read_to_string(&host_log).unwrap_or_default()
    );
    let backend: &dyn Backend = &*store;
    let (store_id, head) = backend
        .read(|tx| Ok((crate::audit::store_id(tx)?, tx.head()?)))
        .unwrap();
    let lines = backend.read(|tx| tx.checkpoint_lines(&store_id)).unwrap();
    let entries = checkpoint::parse(&lines, checkpoint::STORED_LOG, &store_id).unwrap();
    let last = entries.last().expect("entries in the stored log");
    assert_eq!(
        last.kind,
        checkpoint::CheckpointKind::Restore,
        "{entries:?}"
    );
    assert_eq!(last.public_key, made.public_hex());
    assert_eq!(Some(last.seq), head.map(|h| h.seq), "the restore's record");
    let report = block(plane.audit_verify(&who)).unwrap();
    assert!(report.ok, "{report:?}");
}
