//! The local control plane's workflow secrets (issue 13): setting, rotating, listing and
//! deleting them (admin manages, anyone reads the names), filling a claimed step's secret
//! placeholders with the values ([`LocalControlPlane::fill_secrets`], on the way out of a
//! claim), and `imx secret rekey` ([`LocalControlPlane::do_rekey`]): every sealed value the store
//! keeps opened with the old store key and sealed with the new one, and the check value
//! replaced, in one transaction.
//!
//! A value is sealed with the store key bound to its scope and name ([`secret_aad`]); it is
//! never returned, logged or audited (the audit trail has the name and scope only).

use std::collections::BTreeMap;

use serde_json::json;

use super::local::LocalControlPlane;
use crate::auth::{Permission, Principal, Secret};
use crate::keys::StoreKey;
use crate::model::{
    Rekeyed, SecretInfo, SecretValue, StepResult, StepTask, now_ms, valid_secret_name,
};
use crate::store::api::{SealedAt, SealedValue, SecretRecord};
use crate::{Error, Result};

/// The largest value a secret may have.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// The additional data a secret is sealed with: it opens only as the secret of its scope and
/// name (`scope` is `""` for a global secret).
fn secret_aad(scope: &str, name: &str) -> Vec<u8> {
    format!("imx secret {scope}/{name}").into_bytes()
}

/// The additional data of any sealed value the store keeps, by where it is kept.
fn aad_of(at: &SealedAt) -> Vec<u8> {
    match at {
        SealedAt::Secret { scope, name } => secret_aad(scope, name),
        SealedAt::Trigger { name } => super::local_triggers::secret_aad(name),
        SealedAt::Channel { id } => crate::notify::secret_aad(id),
    }
}

fn check_name(name: &str) -> Result<()> {
    if valid_secret_name(name) {
        return Ok(());
    }
    Err(Error::invalid_with_hint(
        format!("{name:?} cannot name a secret"),
        "a secret's name is a letter or _, then letters, digits and _ (it is used as {{ secrets.NAME }})",
    ))
}

fn check_scope(workflow: Option<&str>) -> Result<&str> {
    match workflow {
        None => Ok(""),
        Some(w) if crate::spec::is_name(w) && w.len() <= 100 => Ok(w),
        Some(w) => Err(Error::invalid(format!("{w:?} is not a workflow name"))),
    }
}

/// What a secret's target is called in the audit trail and in messages.
fn label(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}/{name}")
    }
}

impl LocalControlPlane {
    pub(super) fn do_set_secret(
        &self,
        who: &Principal,
        name: &str,
        req: SecretValue,
    ) -> Result<SecretInfo> {
        let action = if req.rotate {
            "secret.rotate"
        } else {
            "secret.set"
        };
        self.authorize(who, Permission::Administer, action, name)?;
        check_name(name)?;
        let scope = check_scope(req.workflow.as_deref())?;
        if req.value.is_empty() {
            return Err(Error::invalid("the secret's value is empty"));
        }
        if req.value.expose().len() > MAX_SECRET_BYTES {
            return Err(Error::invalid(format!(
                "the secret's value is longer than {MAX_SECRET_BYTES} bytes"
            )));
        }
        let sealed = self
            .store_key()?
            .seal(req.value.expose().as_bytes(), &secret_aad(scope, name));
        let at = now_ms();
        self.mutate(
            who,
            action,
            |_: &SecretInfo| label(scope, name),
            |s| json!({ "name": s.name, "workflow": s.workflow, "version": s.version }),
            |tx| {
                let rec = SecretRecord {
                    scope,
                    name,
                    sealed: &sealed,
                    by: &who.name,
                    at,
                };
                tx.put_secret(&rec, req.rotate)?
                    .ok_or_else(|| Error::NotFoundHint {
                        message: format!("no secret {:?} to rotate", label(scope, name)),
                        hint: "set it first: imx secret set NAME".into(),
                    })
            },
        )
    }

    pub(super) fn do_list_secrets(
        &self,
        who: &Principal,
        workflow: Option<&str>,
    ) -> Result<Vec<SecretInfo>> {
        self.authorize(who, Permission::Read, "secret.list", "")?;
        let scope = workflow.map(|w| check_scope(Some(w))).transpose()?;
        self.store().read(|tx| tx.list_secrets(scope))
    }

    pub(super) fn do_delete_secret(
        &self,
        who: &Principal,
        name: &str,
        workflow: Option<&str>,
    ) -> Result<()> {
        self.authorize(who, Permission::Administer, "secret.delete", name)?;
        check_name(name)?;
        let scope = check_scope(workflow)?;
        self.mutate(
            who,
            "secret.delete",
            |_: &()| label(scope, name),
            |_| json!({ "name": name, "workflow": workflow }),
            |tx| {
                if tx.delete_secret(scope, name)? {
                    Ok(())
                } else {
                    Err(Error::not_found("secret", label(scope, name)))
                }
            },
        )
    }

    /// Seal every sealed value the store keeps again under `new` (opened with the current
    /// key), and record `new`'s check value, in one transaction audited as `store.rekey`. From
    /// then on this process uses `new`; keeping it where the key comes from is the caller's.
    pub fn do_rekey(&self, who: &Principal, new: &StoreKey) -> Result<Rekeyed> {
        self.authorize(who, Permission::Administer, "store.rekey", "")?;
        let old = self.store_key()?;
        let mut cached = self
            .store_key_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let done = self.mutate(
            who,
            "store.rekey",
            |_: &Rekeyed| String::new(),
            |r| json!({ "secrets": r.secrets, "triggers": r.triggers, "channels": r.channels, "check": r.check }),
            |tx| reseal(tx, &old, new),
        )?;
        *cached = Some(new.clone());
        Ok(done)
    }

    /// `imx secret rekey` on a store this process opened: seal everything under `new` (or a
    /// key made now) and keep the new key where the old one was kept (the OS keyring, else the
    /// 0600 file). A key given to this process (`IMX_STORE_KEY`) cannot be replaced by imx:
    /// then `new` is required and the caller gives it from then on. If the new key cannot be
    /// kept, the store is sealed under the old key again.
    pub fn rekey_local(&self, who: &Principal, new: Option<StoreKey>) -> Result<Rekeyed> {
        let default;
        let source = match self.store_key_source() {
            Some(source) => source,
            None if self.store().as_sqlite().is_some() => {
                default = crate::keys::StoreKeySource::local_system(true)?;
                &default
            }
            None => {
                return Err(Error::invalid_with_hint(
                    "no store key was given to this process",
                    super::local_store_key::MISSING_HINT,
                ));
            }
        };
        let saves = source.can_save();
        let new = match new {
            Some(k) => k,
            None if saves => StoreKey::generate(),
            None => {
                return Err(Error::invalid_with_hint(
                    "the store key is given to this process (IMX_STORE_KEY or a key file): \
                     give the new one with --new-key-file FILE",
                    "make one with: openssl rand -hex 32 > new.key; chmod 600 new.key",
                ));
            }
        };
        let old = self.store_key()?;
        let done = self.do_rekey(who, &new)?;
        if saves {
            let store_id = self.store().read_quick(|tx| crate::audit::store_id(tx))?;
            if let Err(e) = source.save(&store_id, &new) {
                self.do_rekey(who, &old)?;
                return Err(e);
            }
        }
        Ok(done)
    }

    /// Fill in the secrets of tasks just claimed (`{{ secrets.NAME }}`, see
    /// `spec::secret_refs`) and give each the values to mask. A task whose secret is not set,
    /// or does not open, is failed at once with a message that names it, and left out.
    pub(super) async fn fill_secrets(
        &self,
        who: &Principal,
        tasks: Vec<StepTask>,
    ) -> Result<Vec<StepTask>> {
        if tasks.iter().all(|t| t.secret_slots.is_none()) {
            return Ok(tasks);
        }
        let mut out = Vec::with_capacity(tasks.len());
        let mut failed = Vec::new();
        for mut task in tasks {
            match self.fill_one(&mut task) {
                Ok(()) => out.push(task),
                Err(msg) => failed.push((task.lease.clone(), StepResult::failed(msg, None))),
            }
        }
        if !failed.is_empty() {
            use super::ControlPlane;
            self.complete_steps(who, &failed).await?;
        }
        Ok(out)
    }

    fn fill_one(&self, task: &mut StepTask) -> std::result::Result<(), String> {
        let Some(slots) = task.secret_slots.take() else {
            return Ok(());
        };
        let names: Vec<String> = slots.names.iter().cloned().collect();
        let sealed = self
            .store()
            .read_quick(|tx| tx.secrets_for(&task.workflow, &names))
            .map_err(|e| format!("cannot read the step's secrets: {e}"))?;
        let key = if sealed.is_empty() {
            None
        } else {
            Some(self.store_key().map_err(|e| e.to_string())?)
        };
        let mut values: BTreeMap<String, Secret> = BTreeMap::new();
        for (name, scope, sealed) in sealed {
            let Some(key) = &key else { break };
            let plain = key
                .open(&sealed, &secret_aad(&scope, &name))
                .map_err(|e| format!("secret {:?}: {e}", label(&scope, &name)))?;
            let text = String::from_utf8(plain.to_vec())
                .map_err(|_| format!("secret {name:?} is not text"))?;
            values.insert(name, Secret::new(text));
        }
        if let Some(missing) = names.iter().find(|n| !values.contains_key(*n)) {
            return Err(format!(
                "secret {missing:?} is not set (for workflow {:?} or globally); set it with: \
                 imx secret set {missing} [--workflow {}]",
                task.workflow, task.workflow
            ));
        }
        crate::spec::fill_secrets(
            &mut task.kind,
            &mut task.env,
            &mut task.workdir,
            &slots,
            &values,
        )
        .map_err(|e| e.to_string())?;
        task.mask = values.into_values().collect();
        Ok(())
    }
}

/// Open every sealed value with `old`, seal it with `new`, and record `new`'s check value.
fn reseal(tx: &crate::store::Tx<'_>, old: &StoreKey, new: &StoreKey) -> Result<Rekeyed> {
    let mut done = Rekeyed {
        check: new.check(),
        ..Rekeyed::default()
    };
    for value in tx.sealed_values()? {
        let aad = aad_of(&value.at);
        let plain = old.open(&value.sealed, &aad)?;
        tx.replace_sealed(&SealedValue {
            sealed: new.seal(&plain, &aad),
            at: value.at.clone(),
        })?;
        match value.at {
            SealedAt::Secret { .. } => done.secrets += 1,
            SealedAt::Trigger { .. } => done.triggers += 1,
            SealedAt::Channel { .. } => done.channels += 1,
        }
    }
    tx.set_store_key_check(&done.check)?;
    Ok(done)
}
