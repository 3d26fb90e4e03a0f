//! Notifications on every backend, against a real HTTP receiver started by the test: a failed
//! run's end goes into the outbox in its final transaction, the delivery pass sends it once,
//! signed the Standard Webhooks way (checked by the receiver with its own HMAC), retries after
//! the receiver fails, records every attempt; rules' `after`, `recovered`, cooldown and
//! grouping; channel secrets sealed and never shown.
//!
//! Beside them, issue 12's delivery target as an ignored benchmark (SQLite, and PostgreSQL
//! when there is one): 100 runs fail back to back while the delivery loop runs; it prints the
//! p50/p99/max latency from each run's end (`finished_at`) to its webhook's arrival at the
//! receiver, and fails over a p99 of 1 s.
//!
//! ```text
//! cargo test --release --lib notify_latency -- --ignored --nocapture --test-threads 1
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{
    LEASE, WorkflowSpec, apply, claim, complete, postgres, register, sqlite, start_run, step,
};
use crate::auth::{Principal, Role, Secret};
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions};
use crate::keys::{KeyOrigin, StoreKey, StoreKeySource};
use crate::model::{CapturedLine, LogStream, StepResult};
use crate::notify::{ChannelKind, DeliveryState, NewChannel, NewRule, On};
use crate::store::api::Backend;

on_both!(
    a_failed_run_is_delivered_once_signed_and_retried,
    rules_count_streaks_recoveries_cooldowns_and_groups,
    retention_takes_deliveries_that_are_over_and_the_outbox_of_runs_gone,
);

/// What the receiver got: headers that matter, the body, whether the signature checked out.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub id: String,
    pub body: serde_json::Value,
    pub signed: bool,
    /// When it arrived (epoch ms).
    pub at: i64,
}

/// A webhook receiver on 127.0.0.1: checks each request's Standard Webhooks signature with
/// `key`, answers 500 to the first `fail_first` requests, then 200.
pub(crate) struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) async fn start(key: Vec<u8>, fail_first: usize) -> Receiver {
        use axum::http::{HeaderMap, StatusCode};
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                let key = key.clone();
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let (id, ts) = (h("webhook-id"), h("webhook-timestamp"));
                    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
                    mac.update(format!("{id}.{ts}.").as_bytes());
                    mac.update(&body);
                    let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
                    let signed = h("webhook-signature").split(' ').any(|s| s == want);
                    let mut seen = seen.lock().unwrap();
                    seen.push(Received {
                        at: crate::model::now_ms(),
                        id,
                        body: serde_json::from_slice(&body).unwrap_or_default(),
                        signed,
                    });
                    if !signed {
                        StatusCode::UNAUTHORIZED
                    } else if seen.len() <= fail_first {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, got }
    }

    pub(crate) fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

fn admin() -> Principal {
    Principal::user("admin", Role::Admin, "local")
}

fn plane(store: &Arc<dyn Backend>, key: &StoreKey) -> LocalControlPlane {
    LocalControlPlane::with_backend(store.clone(), LocalOptions::default())
        .with_store_key(StoreKeySource::given(key.clone(), KeyOrigin::Env))
}

fn rule(on: On, channel: &str) -> NewRule {
    NewRule {
        on,
        channel: channel.into(),
        workflow: None,
        labels: Default::default(),
        threshold_ms: None,
        after: 1,
        cooldown_ms: 0,
        group_ms: 0,
    }
}

/// Start a run of `workflow` (one step) and end it: failed with a log, or succeeded.
fn run_to_end(store: &Arc<dyn Backend>, workflow: &str, ok: bool) -> String {
    let run = start_run(store, workflow);
    let agent = register(store, &format!("w-{}", crate::model::new_id()));
    let tasks = claim(store, &agent, 1, LEASE);
    let lease = &tasks[0].lease;
    store
        .write(|tx| {
            let lines = [
                CapturedLine::new(LogStream::Stdout, "compiling"),
                CapturedLine::new(LogStream::Stderr, "error: widget broke"),
            ];
            tx.append_logs(lease, &lines, 1 << 20)
        })
        .unwrap();
    let result = if ok {
        StepResult::ok(Default::default())
    } else {
        StepResult::failed("exit code 3", Some(3))
    };
    assert!(complete(store, lease, result));
    run
}

/// Passes until `f` holds (with a deadline).
async fn pass_until(p: &LocalControlPlane, what: &str, mut f: impl FnMut() -> bool) {
    let client = crate::control::notify_http_client().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        p.notify_pass(&client, true).await.unwrap();
        if f() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn a_failed_run_is_delivered_once_signed_and_retried(store: &Arc<dyn Backend>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let raw = b"0123456789abcdef0123456789abcdef".to_vec();
        let secret = format!("whsec_{}", STANDARD.encode(&raw));
        // The first attempt gets a 500: the delivery is retried (after about a second).
        let rx = Receiver::start(raw, 1).await;
        let key = StoreKey::generate();
        let p = plane(store, &key);
        let who = admin();
        let ch = p
            .notify_channel_add(
                &who,
                NewChannel {
                    name: "ops".into(),
                    kind: ChannelKind::Webhook,
                    target: rx.url.clone(),
                    smtp: None,
                    from: None,
                    smtp_ca_pem: None,
                    secret: Some(Secret::new(secret.clone())),
                },
            )
            .await
            .unwrap();
        assert!(ch.has_secret);
        // The secret is sealed: not in the row, not in the channel list, not in the audit trail.
        let stored = store.read(|tx| tx.notify_channel("ops")).unwrap().unwrap();
        let sealed = stored.sealed.unwrap();
        assert!(!sealed.windows(8).any(|w| w == &secret.as_bytes()[..8]));
        let listed = serde_json::to_string(&p.notify_channels(&who).await.unwrap()).unwrap();
        assert!(!listed.contains(&secret), "{listed}");
        let trail = serde_json::to_string(
            &store
                .read(|tx| tx.records(&crate::audit::query::AuditFilter::default()))
                .unwrap(),
        )
        .unwrap();
        assert!(trail.contains("notify.channel.add"), "{trail}");
        assert!(
            !trail.contains(&secret[6..]),
            "the secret is in the audit trail"
        );
        // A rule for a channel that does not exist is refused.
        let e = p
            .notify_rule_add(&who, rule(On::Failed, "nope"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no channel"), "{e}");
        p.notify_rule_add(&who, rule(On::Failed, "ops"))
            .await
            .unwrap();

        apply(
            store,
            &WorkflowSpec::new("build", vec![step("compile", &[])]),
        );
        let run = run_to_end(store, "build", false);
        // The run's end is in the outbox already (its final transaction wrote it).
        let outbox = store.read(|tx| tx.notify_outbox_new(10)).unwrap();
        assert_eq!(outbox.len(), 1, "{outbox:?}");
        assert_eq!(outbox[0].run_id.as_deref(), Some(run.as_str()));

        pass_until(&p, "the retried delivery", || rx.count() >= 2).await;
        let got = rx.got.lock().unwrap().clone();
        assert!(got.iter().all(|r| r.signed), "{got:?}");
        assert_eq!(got[0].id, got[1].id, "a retry keeps its webhook-id");
        let body = &got[1].body;
        assert_eq!(body["type"], "run.failed");
        let ev = &body["data"]["events"][0];
        assert_eq!(ev["run_id"], run.as_str());
        assert_eq!(ev["workflow"], "build");
        assert_eq!(ev["data"]["failed_step"], "compile");
        assert_eq!(ev["data"]["log_tail"][1], "error: widget broke");

        let deliveries = p.notify_deliveries(&who, 10).await.unwrap();
        assert_eq!(deliveries.len(), 1);
        let d = &deliveries[0];
        assert_eq!(d.state, DeliveryState::Delivered);
        let tries: Vec<(u32, bool, &str)> = d
            .attempts
            .iter()
            .map(|a| (a.attempt, a.ok, a.detail.as_str()))
            .collect();
        assert_eq!(tries, [(1, false, "HTTP 500"), (2, true, "HTTP 200")]);
        // Once delivered, nothing more is sent.
        p.notify_pass(&crate::control::notify_http_client().unwrap(), true)
            .await
            .unwrap();
        assert_eq!(rx.count(), 2);

        // A test message goes at once.
        let t = p.notify_channel_test(&who, "ops").await.unwrap();
        assert_eq!(t.state, DeliveryState::Delivered, "{t:?}");
        assert_eq!(rx.count(), 3);

        // Another process with the wrong key cannot open the secret, and says so.
        let wrong = plane(store, &StoreKey::generate());
        let e = wrong.notify_channel_test(&who, "ops").await.unwrap_err();
        assert!(e.to_string().contains("wrong store key"), "{e}");
    });
}

/// Deliveries that are over (with their attempts) and processed outbox entries of deleted runs
/// go with retention; a delivery still being retried stays.
fn retention_takes_deliveries_that_are_over_and_the_outbox_of_runs_gone(store: &Arc<dyn Backend>) {
    use crate::store::retention::{self, Mode};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let raw = b"0123456789abcdef0123456789abcdef".to_vec();
        let secret = format!("whsec_{}", STANDARD.encode(&raw));
        let rx = Receiver::start(raw, 0).await;
        let p = plane(store, &StoreKey::generate());
        let who = admin();
        for (name, target) in [
            ("ops", rx.url.as_str()),
            ("dead", "http://127.0.0.1:9/hook"),
        ] {
            p.notify_channel_add(
                &who,
                NewChannel {
                    name: name.into(),
                    kind: ChannelKind::Webhook,
                    target: target.into(),
                    smtp: None,
                    from: None,
                    smtp_ca_pem: None,
                    secret: Some(Secret::new(secret.clone())),
                },
            )
            .await
            .unwrap();
            p.notify_rule_add(&who, rule(On::Failed, name))
                .await
                .unwrap();
        }
        apply(
            store,
            &WorkflowSpec::new("build", vec![step("compile", &[])]),
        );
        for _ in 0..2 {
            run_to_end(store, "build", false);
        }
        let states = || async {
            let mut s: Vec<(String, DeliveryState)> = p
                .notify_deliveries(&who, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|d| (d.channel, d.state))
                .collect();
            s.sort_by(|a, b| a.0.cmp(&b.0));
            s
        };
        let want_before = vec![
            ("dead".to_string(), DeliveryState::Pending),
            ("dead".to_string(), DeliveryState::Pending),
            ("ops".to_string(), DeliveryState::Delivered),
            ("ops".to_string(), DeliveryState::Delivered),
        ];
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = crate::control::notify_http_client().unwrap();
        loop {
            p.notify_pass(&client, true).await.unwrap();
            let attempted = p
                .notify_deliveries(&who, 10)
                .await
                .unwrap()
                .iter()
                .all(|d| !d.attempts.is_empty());
            if attempted && states().await == want_before {
                break;
            }
            assert!(Instant::now() < deadline, "{:?}", states().await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // Nothing is older than a cutoff an hour ago.
        let hour_ago = crate::model::now_ms() - 3_600_000;
        let done = retention::prune(&**store, hour_ago, Mode::Now, &mut |_| {}).unwrap();
        assert_eq!(done.notifications, 0, "{done:?}");
        // A cutoff in the future takes both runs, the two outbox entries of their ends and the
        // two deliveries made; the two still retried stay.
        let later = crate::model::now_ms() + 1;
        let done = retention::prune(&**store, later, Mode::Now, &mut |_| {}).unwrap();
        assert!(done.complete);
        assert_eq!(done.runs, 2, "{done:?}");
        assert_eq!(done.notifications, 4, "{done:?}");
        assert_eq!(
            states().await,
            [
                ("dead".to_string(), DeliveryState::Pending),
                ("dead".to_string(), DeliveryState::Pending),
            ]
        );
    });
}

fn rules_count_streaks_recoveries_cooldowns_and_groups(store: &Arc<dyn Backend>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let rx = Receiver::start(b"k".to_vec(), 0).await;
        let key = StoreKey::generate();
        let p = plane(store, &key);
        let who = admin();
        p.notify_channel_add(
            &who,
            NewChannel {
                name: "ops".into(),
                kind: ChannelKind::Webhook,
                target: rx.url.clone(),
                smtp: None,
                from: None,
                smtp_ca_pem: None,
                secret: Some(Secret::new("k")),
            },
        )
        .await
        .unwrap();
        let mut streak = rule(On::Failed, "ops");
        streak.after = 2;
        streak.workflow = Some("build".into());
        let streak = p.notify_rule_add(&who, streak).await.unwrap();
        let recovered = p
            .notify_rule_add(&who, rule(On::Recovered, "ops"))
            .await
            .unwrap();
        apply(
            store,
            &WorkflowSpec::new("build", vec![step("compile", &[])]),
        );
        apply(store, &WorkflowSpec::new("other", vec![step("x", &[])]));
        let by_rule = |id: &str| {
            store
                .read(|tx| tx.notify_deliveries(100))
                .unwrap()
                .into_iter()
                .filter(|d| d.rule_id.as_deref() == Some(id))
                .collect::<Vec<_>>()
        };
        run_to_end(store, "build", false);
        run_to_end(store, "other", false);
        pass_until(&p, "the outbox to drain", || {
            store.read(|tx| tx.notify_outbox_new(1)).unwrap().is_empty()
        })
        .await;
        assert!(
            by_rule(&streak.id).is_empty(),
            "one failure is not a streak of two"
        );
        run_to_end(store, "build", false);
        pass_until(&p, "the streak's message", || rx.count() == 1).await;
        assert_eq!(by_rule(&streak.id).len(), 1);
        run_to_end(store, "build", true);
        pass_until(&p, "the recovery's message", || rx.count() == 2).await;
        let got = rx.got.lock().unwrap().clone();
        assert_eq!(got[1].body["data"]["events"][0]["data"]["recovered"], true);
        assert_eq!(by_rule(&recovered.id).len(), 1);
        run_to_end(store, "build", true);
        pass_until(&p, "the outbox to drain", || {
            store.read(|tx| tx.notify_outbox_new(1)).unwrap().is_empty()
        })
        .await;
        assert_eq!(
            by_rule(&recovered.id).len(),
            1,
            "success after success recovers nothing"
        );

        // Cooldown: a second failure within it is recorded as suppressed, not sent.
        let mut cool = rule(On::Failed, "ops");
        cool.workflow = Some("other".into());
        cool.cooldown_ms = 3_600_000;
        let cool = p.notify_rule_add(&who, cool).await.unwrap();
        let sent = rx.count();
        run_to_end(store, "other", false);
        run_to_end(store, "other", false);
        pass_until(&p, "the cooldown's first message", || {
            rx.count() == sent + 1
        })
        .await;
        let states: Vec<DeliveryState> = by_rule(&cool.id).iter().map(|d| d.state).collect();
        assert!(states.contains(&DeliveryState::Suppressed), "{states:?}");
        assert!(states.contains(&DeliveryState::Delivered), "{states:?}");
        p.notify_rule_remove(&who, &cool.id[..20]).await.unwrap();

        // Grouping: a burst within the window is one message.
        let mut grouped = rule(On::Failed, "ops");
        grouped.workflow = Some("other".into());
        grouped.group_ms = 500;
        let grouped = p.notify_rule_add(&who, grouped).await.unwrap();
        let sent = rx.count();
        for _ in 0..3 {
            run_to_end(store, "other", false);
        }
        pass_until(&p, "the grouped message", || rx.count() == sent + 1).await;
        let ds = by_rule(&grouped.id);
        assert_eq!(ds.len(), 1, "{ds:?}");
        assert_eq!(ds[0].events.len(), 3);
        let got = rx.got.lock().unwrap().clone();
        assert_eq!(
            got[sent].body["data"]["events"].as_array().map(Vec::len),
            Some(3)
        );
    });
}

/// The benchmark of issue 12: 100 runs fail at once; each failure's notification reaches a
/// webhook receiver within a second of the run's end, p99. Run with
/// `cargo test --release --lib notify_latency -- --ignored --nocapture` (PostgreSQL too when
/// one is available); prints the percentiles.
fn hundred_failures_are_delivered_within_a_second(store: &Arc<dyn Backend>, backend: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let rx = Receiver::start(b"k".to_vec(), 0).await;
        let key = StoreKey::generate();
        let p = Arc::new(plane(store, &key));
        let who = admin();
        p.notify_channel_add(
            &who,
            NewChannel {
                name: "ops".into(),
                kind: ChannelKind::Webhook,
                target: rx.url.clone(),
                smtp: None,
                from: None,
                smtp_ca_pem: None,
                secret: Some(Secret::new("k")),
            },
        )
        .await
        .unwrap();
        p.notify_rule_add(&who, rule(On::Failed, "ops")).await.unwrap();
        apply(store, &WorkflowSpec::new("build", vec![step("compile", &[])]));
        let runs: Vec<String> = (0..100).map(|_| start_run(store, "build")).collect();
        let agent = register(store, "bench");
        let mut tasks = Vec::new();
        while tasks.len() < runs.len() {
            tasks.extend(claim(store, &agent, 100, LEASE));
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let loop_task = tokio::spawn(crate::control::deliver_notifications(
            p.clone(),
            stop_rx,
            |e| panic!("delivery failed: {e}"),
        ));
        // Every run fails at once: one completion each, back to back.
        let s = store.clone();
        tokio::task::spawn_blocking(move || {
            for t in &tasks {
                assert!(complete(&s, &t.lease, StepResult::failed("boom", Some(1))));
            }
        })
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while rx.count() < runs.len() {
            assert!(Instant::now() < deadline, "only {} of 100 arrived", rx.count());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = stop_tx.send(true);
        let _ = loop_task.await;
        let got = rx.got.lock().unwrap().clone();
        let mut lat: Vec<i64> = got
            .iter()
            .map(|h| {
                let ev = &h.body["data"]["events"][0];
                let run = ev["run_id"].as_str().unwrap().to_string();
                let cache = store.specs();
                let ended = store
                    .read(|tx| tx.run_detail(cache, &run))
                    .unwrap()
                    .run
                    .finished_at
                    .unwrap();
                h.at - ended
            })
            .collect();
        lat.sort_unstable();
        let pct = |q: f64| lat[((lat.len() as f64 * q).ceil() as usize).saturating_sub(1)];
        eprintln!(
            "notify latency on {backend}, 100 runs failing at once: p50 {} ms, p99 {} ms, max {} ms",
            pct(0.50),
            pct(0.99),
            pct(1.0)
        );
        assert!(pct(0.99) < 1_000, "p99 {} ms", pct(0.99));
    });
}

#[test]
#[ignore = "benchmark: cargo test --release --lib notify_latency -- --ignored --nocapture"]
fn notify_latency_sqlite() {
    let (_dir, store) = sqlite();
    hundred_failures_are_delivered_within_a_second(&store, "SQLite");
}

#[test]
#[ignore = "benchmark: cargo test --release --lib notify_latency -- --ignored --nocapture"]
fn notify_latency_postgres() {
    let Some((_db, store)) = postgres() else {
        return;
    };
    hundred_failures_are_delivered_within_a_second(&store, "PostgreSQL");
}
