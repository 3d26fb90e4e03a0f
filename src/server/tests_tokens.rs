//! Token checks through a real server whose authenticator is the local control plane (with its
//! cache of verified tokens): revoking a token, disabling a user or changing its role applies to
//! the very next request; a revoke made by another process on the same store within the cache's
//! lifetime.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::AppState;
use crate::auth::{Principal, Role};
use crate::control::{ControlPlane, LocalControlPlane, LocalOptions};
use crate::model::{NewToken, NewUser, UserUpdate};

struct Served {
    dir: tempfile::TempDir,
    url: String,
    plane: Arc<LocalControlPlane>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let plane = Arc::new(
        LocalControlPlane::open(&dir.path().join("imx.db"), LocalOptions::default()).unwrap(),
    );
    let state = AppState {
        plane: plane.clone(),
        auth: plane.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(super::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Served {
        dir,
        url,
        plane,
        _stop: stop,
    }
}

/// A user with this role and a token acting as it: the token's secret.
async fn user_token(plane: &LocalControlPlane, name: &str, role: Role) -> String {
    let owner = Principal::local_owner();
    plane
        .create_user(
            &owner,
            NewUser {
                name: name.into(),
                role,
                password: None,
            },
        )
        .await
        .unwrap();
    let issued = plane
        .create_token(
            &owner,
            NewToken {
                user: Some(name.into()),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    issued.secret.expose().to_string()
}

/// GET `path` with `token`: the status code.
async fn get(client: &reqwest::Client, url: &str, path: &str, token: &str) -> u16 {
    client
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_on_the_next_request() {
    let s = serve().await;
    let admin = user_token(&s.plane, "root", Role::Admin).await;
    let doomed = user_token(&s.plane, "bob", Role::Viewer).await;
    let client = reqwest::Client::new();
    // Verified (and cached) by a few requests first.
    for _ in 0..3 {
        assert_eq!(get(&client, &s.url, "/api/v1/runs", &doomed).await, 200);
    }
    let tokens: serde_json::Value = client
        .get(format!("{}/api/v1/tokens", s.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["user"] == "bob")
        .map(|t| t["id"].as_str().unwrap().to_string())
        .unwrap();
    let revoked = client
        .delete(format!("{}/api/v1/tokens/{id}", s.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(get(&client, &s.url, "/api/v1/runs", &doomed).await, 401);
    assert_eq!(get(&client, &s.url, "/api/v1/runs", &admin).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_or_changing_its_role_applies_to_the_next_request() {
    let s = serve().await;
    // Another admin, so carol is not the last one (who may not be demoted or disabled).
    user_token(&s.plane, "root", Role::Admin).await;
    let token = user_token(&s.plane, "carol", Role::Admin).await;
    let client = reqwest::Client::new();
    let owner = Principal::local_owner();
    assert_eq!(get(&client, &s.url, "/api/v1/users", &token).await, 200);

    // Demoted to viewer: reading runs still works, managing users no longer does.
    s.plane
        .update_user(
            &owner,
            "carol",
            UserUpdate {
                role: Some(Role::Viewer),
                disabled: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(get(&client, &s.url, "/api/v1/users", &token).await, 403);
    assert_eq!(get(&client, &s.url, "/api/v1/runs", &token).await, 200);

    s.plane
        .update_user(
            &owner,
            "carol",
            UserUpdate {
                role: None,
                disabled: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(get(&client, &s.url, "/api/v1/runs", &token).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoke_by_another_process_applies_within_the_cache_lifetime() {
    let s = serve().await;
    let token = user_token(&s.plane, "dave", Role::Viewer).await;
    let client = reqwest::Client::new();
    assert_eq!(get(&client, &s.url, "/api/v1/runs", &token).await, 200);
    // Another plane on the same file stands for another process: the server hears nothing.
    let other =
        LocalControlPlane::open(&s.dir.path().join("imx.db"), LocalOptions::default()).unwrap();
    let owner = Principal::local_owner();
    let listed = other.list_tokens(&owner).await.unwrap();
    let id = listed
        .iter()
        .find(|t| t.user.as_deref() == Some("dave"))
        .map(|t| t.id.clone())
        .unwrap();
    other.revoke_token(&owner, &id).await.unwrap();
    let revoked_at = Instant::now();
    let limit = LocalControlPlane::TOKEN_CACHE_TTL + Duration::from_secs(5);
    loop {
        if get(&client, &s.url, "/api/v1/runs", &token).await == 401 {
            break;
        }
        assert!(
            revoked_at.elapsed() < limit,
            "the revoked token was still accepted after {:?}",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
