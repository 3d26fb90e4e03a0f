//! Login lockouts per (account, source) and per account, names that are no user kept out of the
//! store, and repeated denials coalesced in the audit trail (issue 9), through the local
//! control plane, where the source of a login can be varied.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::Error;
use crate::auth::throttle::{ACCOUNT_LOCK_SOURCES, MAX_FAILURES};
use crate::auth::{Principal, Role, Secret};
use crate::model::NewUser;

use super::tests::{Env, env};

async fn user_with_password(e: &Env, name: &str, role: Role, password: &str) {
    e.plane
        .create_user(
            &e.who,
            NewUser {
                name: name.into(),
                role,
                password: Some(Secret::new(password)),
            },
        )
        .await
        .unwrap();
}

fn locked(r: &Result<crate::model::IssuedToken>) -> bool {
    matches!(r, Err(Error::LockedOut { .. }))
}

#[tokio::test]
async fn failures_from_one_source_lock_that_source_out_not_the_account() {
    let e = env();
    user_with_password(&e, "root", Role::Admin, "the admins password").await;
    let wrong = Secret::new("a wrong guess");
    let right = Secret::new("the admins password");
    let mut last = None;
    for _ in 0..MAX_FAILURES {
        last = Some(e.plane.login("root", &wrong, "203.0.113.9").await);
    }
    assert!(locked(&last.unwrap()), "the guessing source is locked out");
    assert!(
        locked(&e.plane.login("root", &right, "203.0.113.9").await),
        "even with the right password, from there"
    );
    // The admin, elsewhere, still logs in.
    let ok = e.plane.login("root", &right, "198.51.100.4").await;
    assert!(ok.is_ok(), "{ok:?}");
    // An IPv6 attacker cannot dodge the lock by changing the low 64 bits.
    for i in 0..MAX_FAILURES {
        let _ = e
            .plane
            .login("root", &wrong, &format!("2001:db8:7:7::{i:x}"))
            .await;
    }
    assert!(locked(
        &e.plane.login("root", &right, "2001:db8:7:7::ffff").await
    ));
    let records = e.plane.audit_records().unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.action == "auth.lockout" && r.details["scope"] == "source")
    );
    assert_eq!(crate::audit::verify(&records), Ok(()));
}

#[tokio::test]
async fn failures_from_many_sources_lock_the_whole_account() {
    let e = env();
    user_with_password(&e, "root", Role::Admin, "the admins password").await;
    let wrong = Secret::new("a wrong guess");
    let right = Secret::new("the admins password");
    // One failure each from many sources: no source is locked, but the account is.
    for i in 0..ACCOUNT_LOCK_SOURCES {
        let r = e.plane.login("root", &wrong, &format!("192.0.2.{i}")).await;
        if i + 1 < ACCOUNT_LOCK_SOURCES {
            assert!(matches!(r, Err(Error::BadCredentials)), "{i}: {r:?}");
        } else {
            assert!(locked(&r), "{i}: {r:?}");
        }
    }
    assert!(locked(&e.plane.login("root", &right, "198.51.100.4").await));
    let user = e.plane.get_user(&e.who, "root").await.unwrap();
    assert!(user.locked_until.is_some());
    let records = e.plane.audit_records().unwrap();
    let account = records
        .iter()
        .find(|r| r.action == "auth.lockout" && r.details["scope"] == "account")
        .expect("an account-wide lockout record");
    assert_eq!(account.details["sources"], ACCOUNT_LOCK_SOURCES);
}

#[tokio::test]
async fn unknown_names_are_recorded_by_a_keyed_hash_and_still_throttled() {
    const TYPED: &str = "S3cret-Passw0rd!";
    let e = env();
    let pw = Secret::new("whatever it was");
    let mut last = None;
    for _ in 0..MAX_FAILURES {
        last = Some(e.plane.login(TYPED, &pw, "203.0.113.9").await);
    }
    assert!(locked(&last.unwrap()), "unknown names are throttled too");
    assert!(locked(&e.plane.login(TYPED, &pw, "203.0.113.9").await));
    // A known user's name is kept as it is.
    user_with_password(&e, "gus", Role::Viewer, "guss password").await;
    let _ = e.plane.login("gus", &pw, "203.0.113.9").await;
    let records = e.plane.audit_records().unwrap();
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains(TYPED), "{text}");
    assert!(text.contains("user:unknown:"), "{text}");
    assert!(
        records
            .iter()
            .any(|r| r.action == "auth.login" && r.target == "gus")
    );
    // Nowhere in the store either.
    let rows = crate::store::testing::throttled_names(e.plane.store());
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|n| n != TYPED), "{rows:?}");
}

#[tokio::test]
async fn five_hundred_identical_denials_make_few_records_that_count_them_all() {
    let e = env();
    let viewer = Principal::token("peeker", Role::Viewer, "10.9.8.7");
    let before = e.plane.audit_records().unwrap().len();
    for _ in 0..500 {
        assert!(matches!(
            e.plane.list_users(&viewer).await,
            Err(Error::Forbidden { .. })
        ));
    }
    // Another kind of denial is its own record.
    assert!(e.plane.delete_user(&viewer, "x").await.is_err());
    let records = e.plane.audit_records().unwrap();
    let denied: Vec<_> = records[before..]
        .iter()
        .filter(|r| r.outcome == "denied" && r.action == "user.list")
        .collect();
    assert!(
        (1..=3).contains(&denied.len()),
        "500 denials took {} records",
        denied.len()
    );
    let total: i64 = denied
        .iter()
        .map(|r| r.details["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(total, 500);
    assert_eq!(
        denied[0].details["count"], 1,
        "the first is on record at once"
    );
    assert!(
        records[before..]
            .iter()
            .any(|r| r.action == "user.delete" && r.outcome == "denied")
    );
    assert_eq!(crate::audit::verify(&records), Ok(()));
}

#[tokio::test]
async fn the_audit_report_counts_every_coalesced_denial() {
    let e = env();
    let viewer = Principal::token("peeker", Role::Viewer, "10.9.8.7");
    for _ in 0..50 {
        assert!(e.plane.list_users(&viewer).await.is_err());
    }
    let report = e
        .plane
        .audit_report(&e.who, crate::audit::Window::default())
        .await
        .unwrap();
    let count = |counts: &[crate::audit::report::Count], key: &str| {
        counts
            .iter()
            .find(|c| c.key == key)
            .map(|c| (c.count, c.failed))
    };
    assert_eq!(
        count(&report.by_outcome, "denied"),
        Some((50, 50)),
        "{:#?}",
        report.by_outcome
    );
    assert_eq!(count(&report.by_actor, "token:peeker"), Some((50, 50)));
    assert_eq!(count(&report.by_action, "user.list"), Some((50, 50)));
    assert_eq!(report.auth_failures.total, 50);
    let in_timeline: u64 = report.timeline.iter().map(|b| b.failed).sum();
    assert_eq!(in_timeline, 50, "{:#?}", report.timeline);
    // The records themselves are fewer: that is the point of coalescing.
    assert!(report.records < 50, "{} records", report.records);
}
