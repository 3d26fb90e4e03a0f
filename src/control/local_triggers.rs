//! The local control plane's triggers (issue 12): making, listing and deleting them; firing a
//! webhook trigger on a signed call ([`LocalControlPlane::do_fire_webhook`]); and firing the
//! `after` triggers when runs end ([`LocalControlPlane::fire_after_triggers`], part of the
//! periodic maintenance, so whichever long-running process leads it fires them).
//!
//! Each firing takes a key in `trigger_fires` — the call's `webhook-id`, or the upstream run id
//! and the id of its run-end event — in the same transaction that starts the run and writes its
//! audit record, so a replayed call or a run end seen by two replicas starts one run.

use std::collections::BTreeMap;

use serde_json::json;

use super::local::LocalControlPlane;
use crate::auth::webhook;
use crate::auth::{Permission, Principal, Role, Secret};
use crate::model::{
    CreatedTrigger, Event, HookOutcome, NewTrigger, Run, RunDetail, RunStatus, Trigger,
    TriggerKind, Workflow, now_ms,
};
use crate::store::Tx;
use crate::store::api::{RunRequest, TriggerRecord};
use crate::trigger::{names, params};
use crate::{Error, Result, audit};

/// The additional data a webhook signature is sealed with: a sealed secret only opens as the
/// secret of the trigger it was made for.
pub(super) fn secret_aad(name: &str) -> Vec<u8> {
    format!("imx trigger secret {name}").into_bytes()
}

/// The run-end events of a page read at a time.
const PAGE: u32 = 500;

/// How long a webhook key is kept: past it, the call's timestamp is refused anyway.
const KEEP_HOOK_KEYS_MS: i64 = 2 * webhook::TOLERANCE_SECS * 1000;

/// The end states an `after` trigger may name.
fn is_end(s: RunStatus) -> bool {
    s.is_terminal()
}

/// Who a trigger acts as in the audit trail and in `created_by`.
fn as_trigger(name: &str, source: &str) -> Principal {
    Principal {
        name: format!("trigger:{name}"),
        role: Role::Operator,
        source: source.into(),
    }
}

/// The path a webhook trigger is called at.
pub fn hook_path(name: &str) -> String {
    format!("/api/v1/hooks/{name}")
}

/// What the audit trail records of a trigger (never its secret).
fn details(t: &Trigger) -> serde_json::Value {
    json!({
        "kind": t.kind,
        "workflow": t.workflow,
        "upstream": t.upstream,
        "statuses": t.statuses,
        "param_map": t.param_map,
        "labels": t.labels,
        "managed_by": t.managed_by,
    })
}

impl LocalControlPlane {
    /// Check a new trigger against the workflows it names and fill in its defaults.
    fn check_new_trigger(&self, tx: &Tx<'_>, req: &NewTrigger) -> Result<Vec<RunStatus>> {
        names::check(&req.name)?;
        crate::model::labels::check(&req.labels)?;
        let target = tx.get_workflow(&req.workflow, None)?;
        let unknown = params::unknown_params(&target.spec.params, &req.param_map);
        if let Some(p) = unknown.first() {
            return Err(Error::invalid_with_hint(
                format!(
                    "--param-map {p}: workflow {:?} has no param {p:?}",
                    req.workflow
                ),
                format!(
                    "its params: {}",
                    target
                        .spec
                        .params
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        match req.kind {
            TriggerKind::Webhook => {
                if req.upstream.is_some() || !req.statuses.is_empty() {
                    return Err(Error::invalid(
                        "a webhook trigger has no upstream workflow or statuses (those are for --after)",
                    ));
                }
                Ok(Vec::new())
            }
            TriggerKind::After => {
                let Some(up) = req.upstream.as_deref() else {
                    return Err(Error::invalid(
                        "an `after` trigger needs the upstream workflow",
                    ));
                };
                if up == req.workflow {
                    return Err(Error::invalid(format!(
                        "workflow {up:?} cannot start itself after every run"
                    )));
                }
                tx.get_workflow(up, None)?;
                if req.secret.is_some() {
                    return Err(Error::invalid("an `after` trigger has no secret"));
                }
                if let Some(bad) = req.statuses.iter().find(|s| !is_end(**s)) {
                    return Err(Error::invalid_with_hint(
                        format!("{bad} is not a state a run ends in"),
                        "use succeeded, failed, cancelled or timed_out",
                    ));
                }
                let mut statuses = req.statuses.clone();
                if statuses.is_empty() {
                    statuses.push(RunStatus::Succeeded);
                }
                statuses.dedup();
                Ok(statuses)
            }
        }
    }

    pub(super) fn do_create_trigger(
        &self,
        who: &Principal,
        req: NewTrigger,
    ) -> Result<CreatedTrigger> {
        self.authorize(
            who,
            Permission::ManageWorkflows,
            "trigger.create",
            &req.name,
        )?;
        let secret = match (req.kind, &req.secret) {
            (TriggerKind::Webhook, Some(s)) if s.is_empty() => {
                return Err(Error::invalid("the webhook secret is empty"));
            }
            (TriggerKind::Webhook, Some(s)) => Some(s.clone()),
            (TriggerKind::Webhook, None) => Some(webhook::generate_secret()),
            (TriggerKind::After, _) => None,
        };
        let sealed = match &secret {
            Some(s) => Some(self.seal(s.expose().as_bytes(), &secret_aad(&req.name))?),
            None => None,
        };
        let trigger = self.mutate(
            who,
            "trigger.create",
            |t: &Trigger| t.name.clone(),
            details,
            |tx| {
                let statuses = self.check_new_trigger(tx, &req)?;
                let t = Trigger {
                    name: req.name.clone(),
                    kind: req.kind,
                    workflow: req.workflow.clone(),
                    upstream: req.upstream.clone(),
                    statuses,
                    param_map: req.param_map.clone(),
                    labels: req.labels.clone(),
                    managed_by: None,
                    created_by: who.name.clone(),
                    created_at: now_ms(),
                    fired: 0,
                    last_fired_at: None,
                    last_error: None,
                };
                tx.insert_trigger(&TriggerRecord {
                    trigger: &t,
                    sealed_secret: sealed.as_deref(),
                })?;
                if t.kind == TriggerKind::After {
                    start_cursor(tx)?;
                }
                Ok(t)
            },
        )?;
        Ok(CreatedTrigger {
            path: (trigger.kind == TriggerKind::Webhook).then(|| hook_path(&trigger.name)),
            trigger,
            secret,
        })
    }

    pub(super) fn do_rotate_trigger_secret(
        &self,
        who: &Principal,
        name: &str,
        secret: Option<Secret>,
    ) -> Result<CreatedTrigger> {
        self.authorize(who, Permission::ManageWorkflows, "trigger.rotate", name)?;
        let secret = match secret {
            Some(s) if s.is_empty() => return Err(Error::invalid("the webhook secret is empty")),
            Some(s) => s,
            None => webhook::generate_secret(),
        };
        let sealed = self.seal(secret.expose().as_bytes(), &secret_aad(name))?;
        let trigger = self.mutate(
            who,
            "trigger.rotate",
            |t: &Trigger| t.name.clone(),
            |_| json!({}),
            |tx| {
                let t = get(tx, name)?;
                if t.kind != TriggerKind::Webhook {
                    return Err(Error::invalid(format!(
                        "trigger {name:?} is an `after` trigger: it has no secret"
                    )));
                }
                tx.set_trigger_secret(name, &sealed)?;
                Ok(t)
            },
        )?;
        Ok(CreatedTrigger {
            path: Some(hook_path(&trigger.name)),
            trigger,
            secret: Some(secret),
        })
    }

    pub(super) fn do_list_triggers(&self, who: &Principal) -> Result<Vec<Trigger>> {
        self.authorize(who, Permission::Read, "trigger.list", "")?;
        self.store().read(|tx| tx.list_triggers())
    }

    pub(super) fn do_get_trigger(&self, who: &Principal, name: &str) -> Result<Trigger> {
        self.authorize(who, Permission::Read, "trigger.get", name)?;
        self.store().read(|tx| get(tx, name))
    }

    pub(super) fn do_delete_trigger(&self, who: &Principal, name: &str) -> Result<Trigger> {
        self.authorize(who, Permission::ManageWorkflows, "trigger.delete", name)?;
        self.mutate(
            who,
            "trigger.delete",
            |t: &Trigger| t.name.clone(),
            details,
            |tx| {
                let t = get(tx, name)?;
                if let Some(wf) = &t.managed_by {
                    return Err(Error::Conflict(format!(
                        "trigger {name:?} is declared by workflow {wf:?}'s file (`on:`): remove \
                         it there and apply the file"
                    )));
                }
                tx.delete_trigger(name)?;
                Ok(t)
            },
        )
    }

    /// A signed call to `/api/v1/hooks/NAME` from `source`: check it (the signature and its
    /// time, then that its id is new), then start the trigger's run with params from the JSON
    /// body. Refusals are audited (`trigger.webhook`, outcome `denied`), with why.
    pub(super) fn do_fire_webhook(
        &self,
        name: &str,
        headers: &HookHeaders,
        body: &[u8],
        source: &str,
    ) -> Result<HookOutcome> {
        let actor = as_trigger(name, source);
        let now = now_ms();
        // Headers and time first: a call without them learns nothing, not even whether the
        // trigger exists.
        let h = (
            headers.id.as_deref(),
            headers.timestamp.as_deref(),
            headers.signature.as_deref(),
        );
        if let Err(why) = webhook::envelope(h.0, h.1, h.2, now.div_euclid(1000)) {
            self.refuse_hook(&actor, name, &why.to_string());
            return Err(Error::Unauthenticated(format!("webhook refused: {why}")));
        }
        let found = self.store().read_quick(|tx| tx.trigger(name))?;
        let (trigger, sealed) = match found {
            Some((t, Some(sealed))) if t.kind == TriggerKind::Webhook => (t, sealed),
            _ => return Err(Error::not_found("webhook trigger", name)),
        };
        let secret = Secret::new(
            String::from_utf8(self.unseal(&sealed, &secret_aad(name))?.to_vec())
                .map_err(|_| Error::Store(format!("trigger {name:?}: its secret is not text")))?,
        );
        let checked = webhook::verify(&[&secret], h.0, h.1, h.2, body, now.div_euclid(1000));
        if let Err(why) = checked {
            self.refuse_hook(&actor, name, &why.to_string());
            return Err(Error::Unauthenticated(format!("webhook refused: {why}")));
        }
        let id = headers.id.clone().unwrap_or_default();
        let doc: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|e| Error::invalid(format!("the webhook body is not JSON: {e}")))?
        };
        let wf = self
            .store()
            .read(|tx| tx.get_workflow(&trigger.workflow, None))?;
        let mapped = params::map_params(&wf.spec.params, &trigger.param_map, &doc, &[&doc]);
        let typed = crate::spec::resolve_params(&wf.spec, &mapped)?;
        let specs = self.store().specs();
        let started = self.store().write(|tx| {
            tx.prune_trigger_fires(now - KEEP_HOOK_KEYS_MS)?;
            if !tx.claim_trigger_fire(name, &id, now)? {
                return Ok(None);
            }
            let run = tx.create_run_with(
                specs,
                &RunRequest {
                    workflow: &trigger.workflow,
                    version: None,
                    params: &typed,
                    timeout_ms: None,
                    default_timeout_ms: self.default_run_timeout(),
                    created_by: &actor.name,
                    labels: &trigger.labels,
                    rerun_of: None,
                    schedule: None,
                    id: None,
                },
            )?;
            tx.finish_trigger_fire(name, &id, Some(&run.id), None, now)?;
            audit::append(
                tx,
                &actor,
                "trigger.webhook",
                name,
                "ok",
                json!({ "webhook_id": id, "run": run.id, "workflow": run.workflow }),
            )?;
            Ok(Some(run))
        })?;
        match started {
            Some(run) => Ok(HookOutcome {
                trigger: name.to_string(),
                run_id: run.id,
                message_id: id,
            }),
            None => {
                let first = self
                    .store()
                    .read_quick(|tx| tx.trigger_fire_run(name, &id))?;
                self.refuse_hook(&actor, name, &format!("replayed webhook-id {id:?}"));
                Err(Error::Conflict(format!(
                    "webhook-id {id:?} was received before{}; a call is acted on once",
                    first
                        .map(|r| format!(" (it started run {r})"))
                        .unwrap_or_default()
                )))
            }
        }
    }

    /// Audit a refused webhook call: coalesced like every denial, so a flood of bad calls
    /// writes one record a minute per source and reason.
    fn refuse_hook(&self, actor: &Principal, name: &str, why: &str) {
        self.denials()
            .record_because(self.store(), actor, "trigger.webhook", name, why);
    }

    /// Fire the `after` triggers for runs that ended since the last look: a page of run-end
    /// events at a time, each firing its matching triggers once. How many runs it started.
    pub(super) fn fire_after_triggers(&self) -> Result<usize> {
        if !self.store().read_quick(|tx| tx.any_after_trigger())? {
            return Ok(0);
        }
        let Some(mut cursor) = self.store().read_quick(|tx| tx.trigger_cursor())? else {
            self.store().write(start_cursor)?;
            return Ok(0);
        };
        let mut started = 0;
        loop {
            let page = self
                .store()
                .read_feeds(|tx| tx.events_after(cursor, PAGE))?;
            let Some(last) = page.last().map(|e| e.id) else {
                return Ok(started);
            };
            for e in page.iter().filter(|e| run_end(e).is_some()) {
                started += self.fire_after(e)?;
            }
            self.store().write(|tx| tx.advance_trigger_cursor(last))?;
            cursor = last;
            if page.len() < PAGE as usize {
                return Ok(started);
            }
        }
    }

    /// Fire the triggers one run-end event matches.
    fn fire_after(&self, e: &Event) -> Result<usize> {
        let (Some(run_id), Some(status)) = (e.run_id.as_deref(), run_end(e)) else {
            return Ok(0);
        };
        let specs = self.store().specs();
        let Ok(upstream) = self.store().read(|tx| tx.run_detail(specs, run_id)) else {
            return Ok(0); // pruned since
        };
        let triggers = self
            .store()
            .read(|tx| tx.triggers_after(&upstream.run.workflow))?;
        let mut started = 0;
        for t in triggers.iter().filter(|t| t.statuses.contains(&status)) {
            started += usize::from(self.fire_one_after(t, &upstream, e.id)?);
        }
        Ok(started)
    }

    /// Start `t`'s run for `upstream`'s end (event `event_id`), once; a run that cannot start
    /// (bad params, the workflow deleted) is recorded on the trigger and in the audit trail.
    fn fire_one_after(&self, t: &Trigger, upstream: &RunDetail, event_id: i64) -> Result<bool> {
        let key = format!("{}:{event_id}", upstream.run.id);
        let actor = as_trigger(&t.name, "local");
        let doc = upstream_doc(upstream);
        let now = now_ms();
        let specs = self.store().specs();
        let prepared = self
            .store()
            .read(|tx| tx.get_workflow(&t.workflow, None))
            .and_then(|wf: Workflow| {
                let fallbacks = [&doc["outputs"], &doc["run"]["params"]];
                let mapped = params::map_params(&wf.spec.params, &t.param_map, &doc, &fallbacks);
                crate::spec::resolve_params(&wf.spec, &mapped)
            });
        self.store().write(|tx| {
            if !tx.claim_trigger_fire(&t.name, &key, now)? {
                return Ok(false);
            }
            let base = json!({ "upstream_run": upstream.run.id, "workflow": t.workflow });
            let run: Result<Run> = match &prepared {
                Ok(typed) => tx.create_run_with(
                    specs,
                    &RunRequest {
                        workflow: &t.workflow,
                        version: None,
                        params: typed,
                        timeout_ms: None,
                        default_timeout_ms: self.default_run_timeout(),
                        created_by: &actor.name,
                        labels: &t.labels,
                        rerun_of: None,
                        schedule: None,
                        id: None,
                    },
                ),
                Err(e) => Err(Error::invalid(e.to_string())),
            };
            match run {
                Ok(run) => {
                    tx.finish_trigger_fire(&t.name, &key, Some(&run.id), None, now)?;
                    let mut d = base;
                    d["run"] = json!(run.id);
                    audit::append(tx, &actor, "trigger.fire", &t.name, "ok", d)?;
                    Ok(true)
                }
                Err(e) => {
                    let why = e.to_string();
                    tx.finish_trigger_fire(&t.name, &key, None, Some(&why), now)?;
                    let mut d = base;
                    d["error"] = json!(why);
                    audit::append(tx, &actor, "trigger.fire", &t.name, "error", d)?;
                    Ok(false)
                }
            }
        })
    }
}

impl LocalControlPlane {
    /// Seal a webhook secret with the store key, bound to its trigger.
    fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        Ok(self.store_key()?.seal(plain, aad))
    }

    /// Open a webhook secret sealed with [`Self::seal`].
    fn unseal(&self, sealed: &[u8], aad: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.store_key()?
            .open(sealed, aad)
            .map_err(|e| super::local_store_key::unopenable("the webhook trigger's secret", e))
    }
}

/// The `webhook-*` headers of a call, as given.
#[derive(Debug, Clone, Default)]
pub struct HookHeaders {
    pub id: Option<String>,
    pub timestamp: Option<String>,
    pub signature: Option<String>,
}

/// Bring the triggers `spec`'s file declares (`on:`) in line with it, as `workflow apply` of
/// a changed file does: make or update one per entry, delete those no longer there. The names
/// of the triggers it declares now.
pub(super) fn sync_declared(
    tx: &Tx<'_>,
    who: &Principal,
    spec: &crate::model::WorkflowSpec,
) -> Result<Vec<String>> {
    let declared = names::declared(&spec.name, spec.on.iter().map(|o| o.workflow.as_str()));
    for (name, on) in declared.iter().zip(&spec.on) {
        let t = Trigger {
            name: name.clone(),
            kind: TriggerKind::After,
            workflow: spec.name.clone(),
            upstream: Some(on.workflow.clone()),
            statuses: on.status.clone(),
            param_map: on.params.clone(),
            labels: BTreeMap::new(),
            managed_by: Some(spec.name.clone()),
            created_by: who.name.clone(),
            created_at: now_ms(),
            fired: 0,
            last_fired_at: None,
            last_error: None,
        };
        let rec = TriggerRecord {
            trigger: &t,
            sealed_secret: None,
        };
        if !tx.upsert_declared_trigger(&rec)? {
            return Err(Error::Conflict(format!(
                "the file's `on:` entry for {:?} would be trigger {name:?}, but a trigger of that                  name was made by command; delete it (`imx trigger delete {name}`) first",
                on.workflow
            )));
        }
    }
    tx.delete_declared_triggers(&spec.name, &declared)?;
    if !declared.is_empty() {
        start_cursor(tx)?;
    }
    Ok(declared)
}

/// A trigger by name, or not found.
fn get(tx: &Tx<'_>, name: &str) -> Result<Trigger> {
    tx.trigger(name)?
        .map(|(t, _)| t)
        .ok_or_else(|| Error::not_found("trigger", name))
}

/// Start reading run ends from now on, the first time an `after` trigger exists.
fn start_cursor(tx: &Tx<'_>) -> Result<()> {
    if tx.trigger_cursor()?.is_none() {
        // The newest event now (`events_after(-1, 1)`); later run ends have larger ids.
        let head = tx.events_after(-1, 1)?.first().map_or(0, |e| e.id);
        tx.advance_trigger_cursor(head)?;
    }
    Ok(())
}

/// The end state a `run.<status>` event records.
fn run_end(e: &Event) -> Option<RunStatus> {
    let status: RunStatus = e.kind.strip_prefix("run.")?.parse().ok()?;
    is_end(status).then_some(status)
}

/// What an `after` trigger's param map reads: `{ run, steps, outputs }` of the upstream run;
/// `outputs` merges every step's outputs (a later step's value wins).
fn upstream_doc(d: &RunDetail) -> serde_json::Value {
    let mut outputs = BTreeMap::new();
    let mut steps = serde_json::Map::new();
    for s in &d.steps {
        outputs.extend(s.outputs.iter().map(|(k, v)| (k.clone(), v.clone())));
        steps.insert(
            s.step_id.clone(),
            json!({ "status": s.status, "outputs": s.outputs }),
        );
    }
    json!({
        "run": {
            "id": d.run.id,
            "workflow": d.run.workflow,
            "status": d.run.status,
            "params": d.run.params,
            "error": d.run.error,
        },
        "steps": steps,
        "outputs": outputs,
    })
}
