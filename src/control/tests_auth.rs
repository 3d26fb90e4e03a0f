//! Users, tokens, login and permissions through the local control plane: the role × method
//! matrix (every denial audited), token authentication (revoked, expired, disabled user),
//! login throttling with lockouts, and the last-admin guard.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::Error;
use crate::auth::throttle::MAX_FAILURES;
use crate::auth::{Principal, Role, Secret};
use crate::model::{
    AgentRegistration, LeaseRef, LogStream, NewToken, NewUser, PasswordChange, StepKind,
    StepResult, StepSpec, TokenState, UserUpdate, WorkflowSpec,
};

use super::tests::{Env, env};

fn spec(name: &str) -> WorkflowSpec {
    WorkflowSpec::new(name, vec![StepSpec::new("a", StepKind::Noop)])
}

fn pw(s: &str) -> Secret {
    Secret::new(s)
}

async fn user(e: &Env, name: &str, role: Role, password: Option<&str>) {
    e.plane
        .create_user(
            &e.who,
            NewUser {
                name: name.into(),
                role,
                password: password.map(pw),
            },
        )
        .await
        .unwrap();
}

fn is_forbidden(r: &Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::Forbidden { .. }))
}

/// Call one ControlPlane method as `who`, with arguments good enough to reach authorization.
async fn call(e: &Env, who: &Principal, method: &str) -> Result<()> {
    let p = &e.plane;
    let lease = LeaseRef {
        run_id: "01NORUN".into(),
        step_id: "a".into(),
        attempt: 1,
        agent_id: "01NOAGENT".into(),
    };
    let tag = who.role.as_str();
    match method {
        "status" => p.status(who).await.map(drop),
        "apply_workflow" => p
            .apply_workflow(who, spec(&format!("wf-{tag}")), false)
            .await
            .map(drop),
        "list_workflows" => p.list_workflows(who).await.map(drop),
        "get_workflow" => p.get_workflow(who, "wf", None).await.map(drop),
        "delete_workflow" => p.delete_workflow(who, "gone").await.map(drop),
        "start_run" => p
            .start_run(
                who,
                StartRun {
                    workflow: "wf".into(),
                    ..StartRun::default()
                },
            )
            .await
            .map(drop),
        "list_runs" => p
            .list_runs(who, crate::model::RunFilter::default())
            .await
            .map(drop),
        "get_run" => p.get_run(who, "01NORUN").await.map(drop),
        "cancel_run" => p.cancel_run(who, "01NORUN").await.map(drop),
        "retry_run" => p.retry_run(who, "01NORUN", None).await.map(drop),
        "run_logs" => p.run_logs(who, "01NORUN", None, 0, 10).await.map(drop),
        "run_logs_before" => p
            .run_logs_before(who, "01NORUN", None, None, 10)
            .await
            .map(drop),
        "events" => p.events(who, 0, 10).await.map(drop),
        "log_marks" => p.log_marks(who, 0, 10).await.map(drop),
        "list_agents" => p.list_agents(who).await.map(drop),
        "get_agent" => p.get_agent(who, "worker").await.map(drop),
        "drain_agent" => p.drain_agent(who, "worker").await.map(drop),
        "resume_agent" => p.resume_agent(who, "worker").await.map(drop),
        "remove_agent" => p.remove_agent(who, "nobody", false).await.map(drop),
        "register_agent" => p
            .register_agent(
                who,
                AgentRegistration {
                    name: format!("agent-{tag}"),
                    labels: BTreeMap::new(),
                    slots: 1,
                    hostname: "h".into(),
                    pid: 1,
                    version: "t".into(),
                    instance: None,
                    pid_scope: None,
                    replaces_pid: None,
                },
            )
            .await
            .map(drop),
        "claim" => p.claim(who, "01NOAGENT", 1, Duration::ZERO).await.map(drop),
        "start_step" => p.start_step(who, &lease).await,
        "heartbeat" => p.heartbeat(who, "01NOAGENT", &[]).await.map(drop),
        "check_leases" => p.check_leases(who, "01NOAGENT", &[]).await.map(drop),
        "append_logs" => {
            p.append_logs(
                who,
                &lease,
                &[crate::model::CapturedLine::new(LogStream::Stdout, "x")],
            )
            .await
        }
        "complete_steps" => p
            .complete_steps(who, &[(lease.clone(), StepResult::ok(BTreeMap::new()))])
            .await
            .map(drop),
        "deregister_agent" => p.deregister_agent(who, "01NOAGENT").await,
        "create_user" => p
            .create_user(
                who,
                NewUser {
                    name: format!("new-{tag}"),
                    role: Role::Viewer,
                    password: None,
                },
            )
            .await
            .map(drop),
        "list_users" => p.list_users(who).await.map(drop),
        "get_user" => p.get_user(who, "victim").await.map(drop),
        "update_user" => p
            .update_user(
                who,
                "victim",
                UserUpdate {
                    role: Some(Role::Operator),
                    disabled: None,
                },
            )
            .await
            .map(drop),
        "delete_user" => p.delete_user(who, "doomed").await.map(drop),
        "set_password" => p
            .set_password(who, "victim", PasswordChange::new(pw("a new password")))
            .await
            .map(drop),
        "unlock_user" => p.unlock_user(who, "victim").await.map(drop),
        "create_token" => p
            .create_token(
                who,
                NewToken {
                    role: Some(Role::Admin),
                    ..NewToken::default()
                },
            )
            .await
            .map(drop),
        "list_tokens" => p.list_tokens(who).await.map(drop),
        "revoke_token" => p.revoke_token(who, "victim-token").await.map(drop),
        "whoami" => p.whoami(who).await.map(drop),
        other => panic!("no call for {other}"),
    }
}

/// Every ControlPlane method that takes a principal, and the roles allowed to call it.
/// (`login` and `logout` take credentials instead; `wait_for_change` and `location` nothing.)
const MATRIX: &[(&str, &[Role])] = {
    use Role::{Admin as A, Agent as G, Operator as O, Viewer as V};
    &[
        ("status", &[A, O, V, G]),
        ("apply_workflow", &[A, O]),
        ("list_workflows", &[A, O, V]),
        ("get_workflow", &[A, O, V]),
        ("delete_workflow", &[A, O]),
        ("start_run", &[A, O]),
        ("list_runs", &[A, O, V]),
        ("get_run", &[A, O, V]),
        ("cancel_run", &[A, O]),
        ("retry_run", &[A, O]),
        ("run_logs", &[A, O, V]),
        ("run_logs_before", &[A, O, V]),
        ("events", &[A, O, V, G]),
        ("log_marks", &[A, O, V, G]),
        ("list_agents", &[A, O, V]),
        ("get_agent", &[A, O, V]),
        ("drain_agent", &[A, O]),
        ("resume_agent", &[A, O]),
        ("remove_agent", &[A, O]),
        ("register_agent", &[A, G]),
        ("claim", &[A, G]),
        ("start_step", &[A, G]),
        ("heartbeat", &[A, G]),
        ("check_leases", &[A, G]),
        ("append_logs", &[A, G]),
        ("complete_steps", &[A, G]),
        ("deregister_agent", &[A, G]),
        ("create_user", &[A]),
        ("list_users", &[A]),
        ("get_user", &[A]),
        ("update_user", &[A]),
        ("delete_user", &[A]),
        ("set_password", &[A]),
        ("unlock_user", &[A]),
        ("create_token", &[A]),
        ("list_tokens", &[A]),
        ("revoke_token", &[A]),
        ("whoami", &[A, O, V, G]),
    ]
};

#[tokio::test]
async fn every_role_by_every_method_is_allowed_or_forbidden_and_denials_are_audited() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, spec("wf"), false)
        .await
        .unwrap();
    user(&e, "victim", Role::Viewer, None).await;
    user(&e, "doomed", Role::Viewer, None).await;
    e.plane
        .create_token(
            &e.who,
            NewToken {
                name: Some("victim-token".into()),
                user: Some("victim".into()),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    let mut checked = 0;
    for role in Role::ALL {
        // Role-only principals, so the "your own" rules for users do not apply here.
        let who = Principal::token(&format!("t-{role}"), role, "10.1.2.3");
        for (method, allowed) in MATRIX {
            let before = e.plane.audit_records().unwrap().len();
            let result = call(&e, &who, method).await;
            let expect_allowed = allowed.contains(&role);
            assert_eq!(
                !is_forbidden(&result),
                expect_allowed,
                "{role} calling {method}: {result:?}"
            );
            if !expect_allowed {
                let records = e.plane.audit_records().unwrap();
                assert_eq!(
                    records.len(),
                    before + 1,
                    "{role} {method}: denial not audited"
                );
                let last = records.last().unwrap();
                assert_eq!(
                    (
                        last.actor.as_str(),
                        last.source.as_str(),
                        last.outcome.as_str()
                    ),
                    (who.name.as_str(), "10.1.2.3", "denied"),
                    "{role} {method}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * MATRIX.len());
    assert_eq!(
        crate::audit::verify(&e.plane.audit_records().unwrap()),
        Ok(())
    );
}

#[tokio::test]
async fn users_act_on_themselves_without_manage_users() {
    let e = env();
    user(&e, "carol", Role::Viewer, Some("carols password")).await;
    user(&e, "dave", Role::Viewer, None).await;
    let carol = Principal::user("carol", Role::Viewer, "local");
    assert!(e.plane.get_user(&carol, "carol").await.is_ok());
    assert!(is_forbidden(&e.plane.get_user(&carol, "dave").await));
    // Her own password, with the current one; without it, or with a wrong one, nothing changes.
    assert!(matches!(
        e.plane
            .set_password(
                &carol,
                "carol",
                PasswordChange::new(pw("carols new password"))
            )
            .await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        e.plane
            .set_password(
                &carol,
                "carol",
                PasswordChange::new(pw("carols new password"))
                    .with_current(Some(pw("not her password")))
            )
            .await,
        Err(Error::Unauthenticated(_))
    ));
    e.plane
        .set_password(
            &carol,
            "carol",
            PasswordChange::new(pw("carols new password"))
                .with_current(Some(pw("carols password"))),
        )
        .await
        .unwrap();
    assert!(is_forbidden(
        &e.plane
            .set_password(&carol, "dave", PasswordChange::new(pw("not yours at all")))
            .await
    ));
    // A token for herself (the default), but not for dave or for a role.
    let mine = e
        .plane
        .create_token(&carol, NewToken::default())
        .await
        .unwrap();
    assert_eq!(mine.token.user.as_deref(), Some("carol"));
    assert!(is_forbidden(
        &e.plane
            .create_token(
                &carol,
                NewToken {
                    user: Some("dave".into()),
                    ..NewToken::default()
                }
            )
            .await
    ));
    assert!(is_forbidden(
        &e.plane
            .create_token(
                &carol,
                NewToken {
                    role: Some(Role::Viewer),
                    ..NewToken::default()
                }
            )
            .await
    ));
    let theirs = e
        .plane
        .create_token(
            &e.who,
            NewToken {
                user: Some("dave".into()),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    let listed = e.plane.list_tokens(&carol).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        [mine.token.name.as_str()]
    );
    assert!(is_forbidden(
        &e.plane.revoke_token(&carol, &theirs.token.name).await
    ));
    e.plane
        .revoke_token(&carol, &mine.token.name)
        .await
        .unwrap();
}

#[tokio::test]
async fn tokens_authenticate_until_revoked_expired_or_their_user_is_disabled() {
    let e = env();
    user(&e, "erin", Role::Operator, None).await;
    let issued = e
        .plane
        .create_token(
            &e.who,
            NewToken {
                user: Some("erin".into()),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    assert!(issued.secret.expose().starts_with("imx_"));
    assert!(issued.secret.expose().ends_with(&issued.token.last4));
    let who = e
        .plane
        .authenticate_token(&issued.secret, "10.0.0.9")
        .unwrap();
    assert_eq!(
        (who.name.as_str(), who.role, who.source.as_str()),
        ("user:erin", Role::Operator, "10.0.0.9")
    );
    assert!(
        e.plane.list_tokens(&e.who).await.unwrap()[0]
            .last_used_at
            .is_some()
    );

    // The user's role applies at once; a disabled user's tokens stop working.
    e.plane
        .update_user(
            &e.who,
            "erin",
            UserUpdate {
                role: Some(Role::Viewer),
                disabled: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        e.plane
            .authenticate_token(&issued.secret, "x")
            .unwrap()
            .role,
        Role::Viewer
    );
    e.plane
        .update_user(
            &e.who,
            "erin",
            UserUpdate {
                role: None,
                disabled: Some(true),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        e.plane.authenticate_token(&issued.secret, "x"),
        Err(Error::Unauthenticated(_))
    ));
    e.plane
        .update_user(
            &e.who,
            "erin",
            UserUpdate {
                role: None,
                disabled: Some(false),
            },
        )
        .await
        .unwrap();
    assert!(e.plane.authenticate_token(&issued.secret, "x").is_ok());

    // Revoked.
    let revoked = e
        .plane
        .revoke_token(&e.who, &issued.token.id[..10])
        .await
        .unwrap();
    assert_eq!(revoked.state, TokenState::Revoked);
    let err = e.plane.authenticate_token(&issued.secret, "x").unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    assert!(!err.to_string().contains(issued.secret.expose()));
    assert!(matches!(
        e.plane.revoke_token(&e.who, &issued.token.name).await,
        Err(Error::Conflict(_))
    ));

    // Expired: a 1 ms lifetime, then wait until it has passed.
    let short = e
        .plane
        .create_token(
            &e.who,
            NewToken {
                role: Some(Role::Agent),
                expires_in_ms: Some(1),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    let until = short.token.expires_at.unwrap();
    while crate::model::now_ms() <= until {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let err = e.plane.authenticate_token(&short.secret, "x").unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");

    // Unknown and malformed tokens.
    for bad in ["imx_", "nonsense", &format!("imx_{}", "A".repeat(43))] {
        assert!(matches!(
            e.plane.authenticate_token(&pw(bad), "x"),
            Err(Error::Unauthenticated(_))
        ));
    }

    // Deleting a user revokes their tokens.
    let again = e
        .plane
        .create_token(
            &e.who,
            NewToken {
                user: Some("erin".into()),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    e.plane.delete_user(&e.who, "erin").await.unwrap();
    assert!(e.plane.authenticate_token(&again.secret, "x").is_err());
}

#[tokio::test]
async fn login_is_throttled_per_account_with_one_error_for_unknown_users() {
    let e = env();
    user(&e, "frank", Role::Operator, Some("franks password")).await;
    user(&e, "nopass", Role::Viewer, None).await;

    let ok = e
        .plane
        .login("frank", &pw("franks password"), "10.0.0.5")
        .await
        .unwrap();
    let who = e.plane.authenticate_token(&ok.secret, "10.0.0.5").unwrap();
    assert_eq!(who.name, "user:frank");
    assert!(ok.token.expires_at.is_some());

    // Unknown user, wrong password, no password: the same error.
    let unknown = e
        .plane
        .login("nobody", &pw("whatever pass"), "x")
        .await
        .unwrap_err();
    let wrong = e
        .plane
        .login("frank", &pw("wrong password"), "x")
        .await
        .unwrap_err();
    let none = e
        .plane
        .login("nopass", &pw("whatever pass"), "x")
        .await
        .unwrap_err();
    assert_eq!(unknown.to_string(), "invalid user name or password");
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(none.to_string(), unknown.to_string());

    // Four more failures (five in a row) lock frank; then even the right password is refused.
    let mut last = None;
    for _ in 1..MAX_FAILURES {
        last = Some(
            e.plane
                .login("frank", &pw("wrong password"), "x")
                .await
                .unwrap_err(),
        );
    }
    let Some(Error::LockedOut { until }) = last else {
        panic!("expected a lockout, got {last:?}");
    };
    let wait = until - crate::model::now_ms();
    assert!((50_000..=60_000).contains(&wait), "{wait}");
    let err = e
        .plane
        .login("frank", &pw("franks password"), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LockedOut { .. }), "{err}");
    assert!(err.to_string().contains("try again after"), "{err}");
    assert!(
        e.plane
            .get_user(&e.who, "frank")
            .await
            .unwrap()
            .locked_until
            .is_some()
    );

    // Unknown names lock the same way, so lockouts do not reveal which names exist.
    for _ in 0..MAX_FAILURES {
        let _ = e.plane.login("ghost", &pw("whatever pass"), "x").await;
    }
    assert!(matches!(
        e.plane.login("ghost", &pw("whatever pass"), "x").await,
        Err(Error::LockedOut { .. })
    ));

    // An admin setting the password clears the lockout.
    e.plane
        .set_password(
            &e.who,
            "frank",
            PasswordChange::new(pw("franks newer password")),
        )
        .await
        .unwrap();
    e.plane
        .login("frank", &pw("franks newer password"), "x")
        .await
        .unwrap();

    // Audit: failures, the lockout, the locked attempt, successes; never a password.
    let records = e.plane.audit_records().unwrap();
    let count = |action: &str, outcome: &str| {
        records
            .iter()
            .filter(|r| r.action == action && r.outcome == outcome)
            .count()
    };
    assert_eq!(count("auth.login", "ok"), 2);
    assert_eq!(count("auth.lockout", "ok"), 2);
    assert!(count("auth.login", "failed") >= 8);
    assert!(count("auth.login", "locked") >= 2);
    let text = serde_json::to_string(&records).unwrap();
    for secret in [
        "franks password",
        "wrong password",
        "whatever pass",
        ok.secret.expose(),
    ] {
        assert!(!text.contains(secret), "{secret} in the audit trail");
    }
    assert_eq!(crate::audit::verify(&records), Ok(()));
}

#[tokio::test]
async fn logout_revokes_the_token_presented() {
    let e = env();
    user(&e, "gina", Role::Viewer, Some("ginas password")).await;
    let t = e
        .plane
        .login("gina", &pw("ginas password"), "x")
        .await
        .unwrap();
    e.plane.logout(&t.secret, "x").await.unwrap();
    assert!(e.plane.authenticate_token(&t.secret, "x").is_err());
    assert!(matches!(
        e.plane.logout(&t.secret, "x").await,
        Err(Error::Unauthenticated(_))
    ));
}

#[tokio::test]
async fn there_is_always_an_enabled_admin_once_there_was_one() {
    let e = env();
    assert!(!e.plane.has_admin().unwrap());
    user(&e, "root1", Role::Admin, None).await;
    assert!(e.plane.has_admin().unwrap());
    let demote = UserUpdate {
        role: Some(Role::Viewer),
        disabled: None,
    };
    assert!(matches!(
        e.plane.update_user(&e.who, "root1", demote.clone()).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        e.plane.delete_user(&e.who, "root1").await,
        Err(Error::Conflict(_))
    ));
    let disable = UserUpdate {
        role: None,
        disabled: Some(true),
    };
    assert!(matches!(
        e.plane.update_user(&e.who, "root1", disable.clone()).await,
        Err(Error::Conflict(_))
    ));
    // Nothing changed by the refusals.
    assert_eq!(
        e.plane.get_user(&e.who, "root1").await.unwrap().role,
        Role::Admin
    );
    user(&e, "root2", Role::Admin, None).await;
    e.plane.update_user(&e.who, "root1", disable).await.unwrap();
    assert!(e.plane.has_admin().unwrap());
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_changes() {
    let e = env();
    for bad in [
        "",
        "-dash",
        "has space",
        "semi;colon",
        "x'; DROP TABLE users;--",
        &"a".repeat(65),
    ] {
        let r = e
            .plane
            .create_user(
                &e.who,
                NewUser {
                    name: bad.into(),
                    role: Role::Viewer,
                    password: None,
                },
            )
            .await;
        assert!(matches!(r, Err(Error::Invalid { .. })), "{bad:?}: {r:?}");
    }
    let short = e
        .plane
        .create_user(
            &e.who,
            NewUser {
                name: "h".into(),
                role: Role::Viewer,
                password: Some(pw("short")),
            },
        )
        .await;
    assert!(matches!(short, Err(Error::Invalid { .. })));
    assert!(e.plane.list_users(&e.who).await.unwrap().is_empty());
    user(&e, "h", Role::Viewer, None).await;
    assert!(matches!(
        e.plane
            .create_user(
                &e.who,
                NewUser {
                    name: "h".into(),
                    role: Role::Viewer,
                    password: None
                }
            )
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        e.plane.create_token(&e.who, NewToken::default()).await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        e.plane
            .create_token(
                &e.who,
                NewToken {
                    user: Some("h".into()),
                    role: Some(Role::Admin),
                    ..NewToken::default()
                }
            )
            .await,
        Err(Error::Invalid { .. })
    ));
}

/// A registration as `imx agent run` would send it (host `h`, pid 1).
fn registration(name: &str) -> AgentRegistration {
    AgentRegistration {
        name: name.into(),
        labels: BTreeMap::new(),
        slots: 1,
        hostname: "h".into(),
        pid: 1,
        version: "t".into(),
        instance: None,
        pid_scope: None,
        replaces_pid: None,
    }
}

/// What another principal's calls must not change: the step's state, its outputs and its log.
async fn step_and_logs(e: &Env, run: &str) -> (crate::model::StepState, Vec<String>) {
    let detail = e.plane.get_run(&e.who, run).await.unwrap();
    let logs = e.plane.run_logs(&e.who, run, None, 0, 100).await.unwrap();
    (
        detail.steps[0].clone(),
        logs.into_iter().map(|l| l.line).collect(),
    )
}

/// issue 9: a registered agent is bound to the principal that registered it. Another principal
/// — another agent token, and even an admin — can neither claim for it, nor report on, renew,
/// check or end its leases; each attempt is refused, changes nothing and is audited as denied.
#[tokio::test]
async fn only_the_principal_that_registered_an_agent_may_act_for_it() {
    let e = env();
    e.plane
        .apply_workflow(&e.who, spec("wf"), false)
        .await
        .unwrap();
    let run = e
        .plane
        .start_run(
            &e.who,
            StartRun {
                workflow: "wf".into(),
                ..StartRun::default()
            },
        )
        .await
        .unwrap();
    let a = Principal::token("agent-a", Role::Agent, "10.0.0.1");
    let agent = e
        .plane
        .register_agent(&a, registration("wa"))
        .await
        .unwrap();
    let task = e
        .plane
        .claim(&a, &agent.id, 1, Duration::ZERO)
        .await
        .unwrap()
        .pop()
        .expect("a step for agent a");
    let lease = task.lease.clone();
    let before = step_and_logs(&e, &run.id).await;
    let forged = StepResult::ok(BTreeMap::from([("x".into(), "$(touch pwned)".into())]));

    for intruder in [
        Principal::token("agent-b", Role::Agent, "10.0.0.2"),
        Principal::token("an-admin", Role::Admin, "10.0.0.3"),
    ] {
        let b = &intruder;
        let p = &e.plane;
        let calls: Vec<(&str, Result<()>)> = vec![
            (
                "claim",
                p.claim(b, &agent.id, 1, Duration::ZERO).await.map(drop),
            ),
            ("start_step", p.start_step(b, &lease).await),
            (
                "heartbeat",
                p.heartbeat(b, &agent.id, std::slice::from_ref(&lease))
                    .await
                    .map(drop),
            ),
            (
                "check_leases",
                p.check_leases(b, &agent.id, std::slice::from_ref(&lease))
                    .await
                    .map(drop),
            ),
            (
                "append_logs",
                p.append_logs(
                    b,
                    &lease,
                    &[crate::model::CapturedLine::new(
                        LogStream::Stdout,
                        "forged line",
                    )],
                )
                .await,
            ),
            (
                "complete_steps",
                p.complete_steps(b, &[(lease.clone(), forged.clone())])
                    .await
                    .map(drop),
            ),
            ("deregister_agent", p.deregister_agent(b, &agent.id).await),
        ];
        for (method, result) in calls {
            assert!(is_forbidden(&result), "{} {method}: {result:?}", b.name);
            let records = e.plane.audit_records().unwrap();
            let last = records.last().unwrap();
            assert_eq!(
                (last.actor.as_str(), last.outcome.as_str()),
                (b.name.as_str(), "denied"),
                "{} {method}: denial not audited",
                b.name
            );
        }
    }
    assert_eq!(step_and_logs(&e, &run.id).await, before, "nothing changed");
    let agents = e.plane.list_agents(&e.who).await.unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].current.len(), 1, "agent a still holds its step");

    // Its own principal still can.
    e.plane.start_step(&a, &lease).await.unwrap();
    let done = e
        .plane
        .complete_steps(&a, &[(lease.clone(), StepResult::ok(BTreeMap::new()))])
        .await
        .unwrap();
    assert_eq!(done, [true]);
    e.plane.deregister_agent(&a, &agent.id).await.unwrap();
    assert_eq!(
        crate::audit::verify(&e.plane.audit_records().unwrap()),
        Ok(())
    );
}
