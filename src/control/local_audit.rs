//! The local control plane's audit operations (issue 5): filtered reads, verification against
//! the archive boundary and the signed checkpoints, checkpoints (and repairing a checkpoint log
//! left damaged by an interrupted checkpoint of an older imx), reports and retention.

use std::path::PathBuf;
use std::time::Duration;

use super::local::LocalControlPlane;
use super::{CheckpointOutcome, RepairOutcome};
use crate::audit::canonical::RecordRef;
use crate::audit::chain::{self, ChainReport, Expectation, Problem, ProblemKind};
use crate::audit::interrupted::{self, Interrupted};
use crate::audit::prune::PruneOutcome;
use crate::audit::{
    self, AuditFilter, AuditKey, AuditReport, AuditStore, Checkpoint, CheckpointKind, Window,
    checkpoint, report,
};
use crate::auth::{Permission, Principal};
use crate::model::{AuditRecord, now_ms};
use crate::{Error, Result};

impl LocalControlPlane {
    /// Where this store's checkpoint log is: in the store (one for every replica and host, on
    /// PostgreSQL) or in this host's file (SQLite).
    fn log_place(&self, tx: &dyn AuditStore) -> PathBuf {
        if tx.keeps_checkpoint_log() {
            PathBuf::from(checkpoint::STORED_LOG)
        } else {
            self.audit_paths().checkpoints.clone()
        }
    }

    /// The signing key this process holds: the one supplied (`IMX_AUDIT_KEY`), else the key
    /// file's, if there is one.
    pub(super) fn held_key(&self) -> Result<Option<AuditKey>> {
        match self.supplied_audit_key() {
            Some(k) => Ok(Some(k.clone())),
            None => AuditKey::load(&self.audit_paths().key),
        }
    }

    /// On a store that keeps its checkpoint log: refuse a key other than the one recorded as
    /// signing it (or none, when one is recorded), rather than sign a second, unrelated log.
    fn check_cluster_key(&self, tx: &dyn AuditStore, key: Option<&AuditKey>) -> Result<()> {
        if !tx.keeps_checkpoint_log() {
            return Ok(());
        }
        let Some(recorded) = tx.checkpoint_key()? else {
            return Ok(());
        };
        let supply = format!(
            "give every replica and admin host the same key: IMX_AUDIT_KEY (64 hex digits) or \
             the key file {}",
            self.audit_paths().key.display()
        );
        match key {
            Some(k) if k.public_hex() == recorded => Ok(()),
            Some(k) => Err(Error::Conflict(format!(
                "this host's audit key (public key {}) is not the key that signs this store's \
                 checkpoints (public key {recorded}); {supply}",
                k.public_hex()
            ))),
            None => Err(Error::Conflict(format!(
                "this host has no audit key, and this store's checkpoints are signed by the key \
                 with public key {recorded}; {supply}"
            ))),
        }
    }

    /// This store's entries in the checkpoint log, and the trusted key (if there is one).
    fn log_entries(&self, tx: &dyn AuditStore) -> Result<(Vec<Checkpoint>, Option<AuditKey>)> {
        let store_id = audit::store_id(tx)?;
        let trusted = self.held_key()?;
        if tx.keeps_checkpoint_log() {
            if trusted.is_some() {
                self.check_cluster_key(tx, trusted.as_ref())?;
            }
            let lines = tx.checkpoint_lines(&store_id)?;
            let entries = checkpoint::parse(&lines, checkpoint::STORED_LOG, &store_id)?;
            return Ok((entries, trusted));
        }
        let entries = checkpoint::load(&self.audit_paths().checkpoints, &store_id)?;
        Ok((entries, trusted))
    }

    /// Verify inside `tx`, visiting every record. A log entry for a record the store never
    /// committed is named for what it is (see [`audit::interrupted`]); a committed checkpoint
    /// whose entry never reached the log is noted.
    fn verify_in(
        &self,
        tx: &dyn AuditStore,
        who: &Principal,
        visit: &mut chain::Visit<'_>,
    ) -> Result<ChainReport> {
        let (entries, trusted) = self.log_entries(tx)?;
        let exp = match checkpoint::expectations(&entries, trusted.as_ref()) {
            Ok(exp) => exp,
            Err(problem) => {
                let mut report = chain::verify(tx, &[], visit)?;
                if report.problem.is_none() {
                    report.ok = false;
                    report.problem = Some(problem);
                }
                return Ok(report);
            }
        };
        // This log's checkpoint records look exactly like this (see `record_details`).
        let log = self.log_place(tx);
        let ours = trusted
            .as_ref()
            .map(|k| checkpoint::record_details(&k.public_hex(), &log).to_string());
        let mut last_checkpoint: Option<(i64, i64)> = None;
        let mut report = chain::verify(tx, &exp, &mut |r: &RecordRef<'_>| {
            if r.action == "audit.checkpoint"
                && r.outcome == "ok"
                && ours.as_deref() == Some(r.details)
            {
                last_checkpoint = Some((r.seq, r.time));
            }
            visit(r);
        })?;
        self.explain_interrupted(tx, who, &entries, &exp, &mut report)?;
        if tx.keeps_checkpoint_log() && trusted.is_none() && !entries.is_empty() {
            report.notes.push(
                "this host has no audit key: the checkpoints were checked only against the \
                 public key they name, which anyone who can write the database could replace; \
                 give this host the key (IMX_AUDIT_KEY or the key file) to check them against it"
                    .into(),
            );
        }
        if let Some((seq, time)) = last_checkpoint
            && !entries.iter().any(|e| e.seq >= seq)
        {
            report.notes.push(format!(
                "record {seq}, the checkpoint taken at {}, was committed but its signature never \
                 reached the checkpoint log (the command was interrupted); truncation is detectable \
                 only up to the last signed checkpoint until the next `imx audit checkpoint`",
                audit::rfc3339(time)
            ));
        }
        Ok(report)
    }

    /// The log entries proven to sign a checkpoint record the store never committed (see
    /// [`audit::interrupted`]), and the chain verified with those entries left out (`None` when
    /// there are none).
    fn without_interrupted(
        &self,
        tx: &dyn AuditStore,
        who: &Principal,
        entries: &[Checkpoint],
        exp: &[Expectation],
    ) -> Result<(Vec<Interrupted>, Option<ChainReport>)> {
        let found = interrupted::find(tx, entries, &self.log_place(tx), who)?;
        if found.is_empty() {
            return Ok((found, None));
        }
        let rest: Vec<Expectation> = exp
            .iter()
            .filter(|e| !found.iter().any(|f| f.seq == e.seq && f.hash == e.hash))
            .cloned()
            .collect();
        let again = chain::verify(tx, &rest, &mut |_: &RecordRef<'_>| {})?;
        Ok((found, Some(again)))
    }

    /// If the chain fails a checkpoint only because an older imx signed a checkpoint record it
    /// never committed, say exactly that (the first problem becomes `interrupted_checkpoint`);
    /// if something else is wrong too, that stays the problem.
    fn explain_interrupted(
        &self,
        tx: &dyn AuditStore,
        who: &Principal,
        entries: &[Checkpoint],
        exp: &[Expectation],
        report: &mut ChainReport,
    ) -> Result<()> {
        let Some(p) = &report.problem else {
            return Ok(());
        };
        if !matches!(
            p.kind,
            ProblemKind::Truncated | ProblemKind::CheckpointMismatch
        ) {
            return Ok(());
        }
        let (found, Some(again)) = self.without_interrupted(tx, who, entries, exp)? else {
            return Ok(());
        };
        let what = found
            .iter()
            .map(Interrupted::describe)
            .collect::<Vec<_>>()
            .join(", ");
        match again.problem {
            None => {
                report.checkpoints = again.checkpoints;
                report.problem = Some(Problem {
                    seq: found[0].seq,
                    kind: ProblemKind::InterruptedCheckpoint,
                    message: format!(
                        "the checkpoint log signs {what}, which the store never committed: an \
                         older imx was interrupted (kill -9, full disk) between writing the log \
                         and committing. Every record before it still matches the signature; \
                         withdraw the entry with `imx audit checkpoint --repair`"
                    ),
                });
            }
            Some(real) => {
                report.problem = Some(real);
                report.notes.push(format!(
                    "the checkpoint log also signs {what}, which the store never committed (an \
                     interrupted checkpoint)"
                ));
            }
        }
        Ok(())
    }

    pub(super) fn do_audit_list(
        &self,
        who: &Principal,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRecord>> {
        self.authorize(who, Permission::Read, "audit.list", "")?;
        let mut records = self.store().read(|tx| audit::query::list(tx, &filter))?;
        if let Some(r) = self.redactor(who) {
            records.iter_mut().for_each(|rec| r.record(rec));
        }
        Ok(records)
    }

    pub(super) fn do_audit_get(&self, who: &Principal, seq: i64) -> Result<AuditRecord> {
        self.authorize(who, Permission::Read, "audit.get", &seq.to_string())?;
        let mut record = self.store().read(|tx| audit::query::get(tx, seq))?;
        if let Some(r) = self.redactor(who) {
            r.record(&mut record);
        }
        Ok(record)
    }

    pub(super) fn do_audit_verify(&self, who: &Principal) -> Result<ChainReport> {
        self.authorize(who, Permission::Read, "audit.verify", "")?;
        let mut report = self
            .store()
            .read(|tx| self.verify_in(tx, who, &mut |_: &RecordRef<'_>| {}))?;
        if let Some(r) = self.redactor(who) {
            hide_in_chain_report(&r, &mut report);
        }
        Ok(report)
    }

    pub(super) fn do_audit_checkpoint(&self, who: &Principal) -> Result<CheckpointOutcome> {
        self.authorize(who, Permission::Administer, "audit.checkpoint", "")?;
        let paths = self.audit_paths();
        let (shared, recorded) = self
            .store()
            .read_quick(|tx| Ok((tx.keeps_checkpoint_log(), tx.checkpoint_key()?)))?;
        let (key, key_created) = match self.held_key()? {
            Some(k) => (k, false),
            // One key signs a shared store's log: never make a second one.
            None if shared && recorded.is_some() => {
                return Err(self
                    .store()
                    .read_quick(|tx| self.check_cluster_key(tx, None))
                    .err()
                    .unwrap_or_else(|| Error::Conflict("this host has no audit key".into())));
            }
            None => AuditKey::load_or_create(&paths.key)?,
        };
        // The record is committed (and on disk) before its signature goes into the log, so an
        // interruption in between leaves an unsigned checkpoint record — which `verify` notes —
        // and never a signature for a record that does not exist. A store that keeps the log
        // itself gets the entry in the same transaction.
        let (cp, store_id, log) = self.store().write_durable(|tx| {
            self.check_cluster_key(tx, Some(&key))?;
            let log = self.log_place(tx);
            // Never sign a chain that does not verify.
            let report = self.verify_in(tx, who, &mut |_: &RecordRef<'_>| {})?;
            if let Some(p) = report.problem {
                return Err(Error::Conflict(format!(
                    "the audit chain does not verify (first bad record {}: {}); not signing it",
                    p.seq, p.message
                )));
            }
            let store_id = audit::store_id(tx)?;
            let rec = audit::append(
                tx,
                who,
                "audit.checkpoint",
                &store_id,
                "ok",
                checkpoint::record_details(&key.public_hex(), &log),
            )?;
            let cp = key.sign(
                CheckpointKind::Checkpoint,
                &store_id,
                rec.seq,
                &rec.hash,
                rec.time,
            );
            if tx.keeps_checkpoint_log() {
                if tx.checkpoint_key()?.is_none() {
                    tx.set_checkpoint_key(&key.public_hex())?;
                }
                tx.append_checkpoint_line(&store_id, &cp.stored_line()?)?;
            }
            Ok((cp, store_id, log))
        })?;
        if shared {
            return Ok(CheckpointOutcome {
                checkpoint: cp,
                key_path: paths.key.clone(),
                key_created,
                log_path: log,
            });
        }
        crate::faults::point("audit.checkpoint.between");
        if let Err(e) = checkpoint::append(&paths.checkpoints, &cp) {
            let message = e.to_string();
            // Best effort: the failure is on record beside the checkpoint record.
            let _ = self.store().write(|tx| {
                audit::append(
                    tx,
                    who,
                    "audit.checkpoint",
                    &store_id,
                    "error",
                    serde_json::json!({ "seq": cp.seq, "error": message }),
                )
            });
            let what = format!(
                "record {} (the checkpoint) was committed, but its signature could not be \
                 written to the checkpoint log {} (the chain still verifies; run `imx audit \
                 checkpoint` again once the log is writable)",
                cp.seq,
                paths.checkpoints.display()
            );
            return Err(match e {
                Error::Io { source, .. } => Error::io(what, source),
                _ => Error::Internal(format!("{what}: {message}")),
            });
        }
        Ok(CheckpointOutcome {
            checkpoint: cp,
            key_path: paths.key.clone(),
            key_created,
            log_path: paths.checkpoints.clone(),
        })
    }

    /// `audit checkpoint --repair`: withdraw the log entries that an interrupted checkpoint of
    /// an older imx left for records the store never committed — only those proven to be such
    /// (see [`audit::interrupted`]), and only if the chain then verifies — then take a fresh
    /// checkpoint. The repair is audited (`audit.checkpoint.repair`, with every withdrawn entry)
    /// before the withdrawals are signed into the log.
    pub(super) fn do_audit_repair(&self, who: &Principal) -> Result<RepairOutcome> {
        self.authorize(who, Permission::Administer, "audit.checkpoint.repair", "")?;
        let paths = self.audit_paths();
        let repaired = self.store().write_durable(|tx| {
            let (entries, trusted) = self.log_entries(tx)?;
            let refuse = |p: &Problem| {
                Error::Conflict(format!(
                    "the audit chain does not verify (first bad record {}: {}), and a repair \
                     cannot explain it: it only withdraws checkpoint-log entries proven to sign \
                     a checkpoint record that was never committed; nothing was changed",
                    p.seq, p.message
                ))
            };
            let exp =
                checkpoint::expectations(&entries, trusted.as_ref()).map_err(|p| refuse(&p))?;
            let report = chain::verify(tx, &exp, &mut |_: &RecordRef<'_>| {})?;
            let Some(problem) = report.problem else {
                return Ok(None);
            };
            let (found, again) = self.without_interrupted(tx, who, &entries, &exp)?;
            match again {
                None => return Err(refuse(&problem)),
                Some(ChainReport {
                    problem: Some(p), ..
                }) => return Err(refuse(&p)),
                Some(_) => {}
            }
            let Some(key) = trusted else {
                return Err(Error::Conflict(format!(
                    "the audit key {} is missing: the withdrawal cannot be signed",
                    paths.key.display()
                )));
            };
            let store_id = audit::store_id(tx)?;
            audit::append(
                tx,
                who,
                "audit.checkpoint.repair",
                &store_id,
                "ok",
                serde_json::json!({
                    "withdrawn": found,
                    "log": self.log_place(tx),
                    "rule": "each withdrawn entry signs an audit.checkpoint record that follows \
                             directly on the record the store holds before it (its hash was \
                             recomputed from that record); the store never committed it",
                }),
            )?;
            Ok(Some((store_id, found, key, tx.keeps_checkpoint_log())))
        })?;
        let mut withdrawn = Vec::new();
        if let Some((store_id, found, key, shared)) = repaired {
            for f in &found {
                let void = key.sign(CheckpointKind::Void, &store_id, f.seq, &f.hash, now_ms());
                if shared {
                    let line = void.stored_line()?;
                    self.store()
                        .write(|tx| tx.append_checkpoint_line(&store_id, &line))?;
                } else {
                    checkpoint::append(&paths.checkpoints, &void)?;
                }
            }
            withdrawn = found;
        }
        let checkpoint = self.do_audit_checkpoint(who)?;
        Ok(RepairOutcome {
            withdrawn,
            checkpoint,
        })
    }

    pub(super) fn do_audit_report(&self, who: &Principal, window: Window) -> Result<AuditReport> {
        self.authorize(who, Permission::Read, "audit.report", "")?;
        let location = self.store().location();
        self.store().read(|tx| {
            let (entries, trusted) = self.log_entries(tx)?;
            let mut report = match checkpoint::expectations(&entries, trusted.as_ref()) {
                Ok(exp) => {
                    let mut r = report::build(tx, &location, window, &exp, now_ms())?;
                    self.explain_interrupted(tx, who, &entries, &exp, &mut r.verification)?;
                    r
                }
                Err(problem) => {
                    let mut r = report::build(tx, &location, window, &[], now_ms())?;
                    if r.verification.problem.is_none() {
                        r.verification.ok = false;
                        r.verification.problem = Some(problem);
                    }
                    r
                }
            };
            report.location = format!("local {location}");
            self.hide_paths(who, &mut report);
            Ok(report)
        })
    }

    /// A report for a non-admin: neither the store's path nor the folders beside it (backups,
    /// archives), which its entries' targets and details name (issue 9).
    fn hide_paths(&self, who: &Principal, report: &mut AuditReport) {
        let Some(r) = self.redactor(who) else {
            return;
        };
        report.location = super::local::HIDDEN.into();
        for entries in [
            &mut report.auth_failures,
            &mut report.lockouts,
            &mut report.privilege_changes,
            &mut report.backups,
        ] {
            for e in &mut entries.recent {
                r.text(&mut e.target);
                // Details are JSON text here: scrub them as a value where they parse.
                match serde_json::from_str::<serde_json::Value>(&e.details) {
                    Ok(mut v) => {
                        r.value(&mut v);
                        e.details = v.to_string();
                    }
                    Err(_) => r.text(&mut e.details),
                }
            }
        }
        hide_in_chain_report(&r, &mut report.verification);
    }

    pub(super) fn do_audit_prune(
        &self,
        who: &Principal,
        keep: Duration,
        archive_dir: Option<PathBuf>,
        dry_run: bool,
    ) -> Result<PruneOutcome> {
        self.authorize(who, Permission::Administer, "audit.prune", "")?;
        let cutoff = now_ms().saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
        let dir = match archive_dir {
            Some(dir) => dir,
            None => crate::backup::default_dir(self.sqlite_path(
                "a default audit archive folder beside the store",
                "give an archive folder (--archive-dir)",
            )?)
            .with_file_name("audit-archive"),
        };
        let run = |tx: &dyn AuditStore| -> Result<PruneOutcome> {
            let report = self.verify_in(tx, who, &mut |_: &RecordRef<'_>| {})?;
            if let Some(p) = report.problem {
                return Err(Error::Conflict(format!(
                    "the audit chain does not verify (first bad record {}: {}); not archiving it",
                    p.seq, p.message
                )));
            }
            let store_id = audit::store_id(tx)?;
            audit::prune::prune(tx, &store_id, cutoff, &dir, dry_run)
        };
        if dry_run {
            return self.store().read(|tx| run(tx));
        }
        self.store().write(|tx| {
            let out = run(tx)?;
            audit::append(
                tx,
                who,
                "audit.prune",
                &out.boundary.seq.to_string(),
                "ok",
                serde_json::json!({
                    "archived": out.archived,
                    "archive": out.archive,
                    "archive_sha256": out.archive_sha256,
                    "boundary_hash": out.boundary.hash,
                    "cutoff": crate::model::time::json(out.cutoff),
                }),
            )?;
            Ok(out)
        })
    }
}

/// A chain report's messages without the server's paths (the checkpoint log is named in some).
pub(super) fn hide_in_chain_report(r: &super::local::redact::Redactor, report: &mut ChainReport) {
    if let Some(p) = &mut report.problem {
        r.text(&mut p.message);
    }
    report.notes.iter_mut().for_each(|n| r.text(n));
}
