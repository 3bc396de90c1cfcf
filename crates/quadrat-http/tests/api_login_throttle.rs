//! The login throttle over real HTTP, on both engines (docs/protocol.md §11.2): 5 failures per
//! account or per client address, then `429 ec5_37` until the window that the first failure
//! opened ends; a success clears its account's failures and does not count against its address.
//! Client addresses are told apart by `X-Forwarded-For` from a trusted proxy (the test itself).

use std::sync::Arc;

use quadrat_app::ratelimit::Limiter;
use quadrat_core::ratelimit::Limits;
use quadrat_testkit::{ManualClock, TestDb, TestServer, both_engines};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
/// 2030-01-01T00:00:00Z.
const T0: i64 = 1_893_456_000_000;
const EC5_37: &str = r#"{"errors":[{"code":"ec5_37","title":"Too many failed login attempts made. Please try again later.","source":"api-local-login"}]}"#;

struct Reply {
    status: u16,
    retry_after: Option<String>,
    body: String,
}

impl Reply {
    fn code(&self) -> String {
        let v: Value = serde_json::from_str(&self.body).unwrap_or(Value::Null);
        v["errors"][0]["code"].as_str().unwrap_or("").to_string()
    }
}

async fn server_with(db: &TestDb, limiter: Limiter) -> TestServer {
    let server = TestServer::start_with_limiter(db, limiter).await;
    for email in ["ann@example.org", "bob@example.org"] {
        server
            .app
            .create_user(email, None, Some(PASSWORD.into()), false)
            .await
            .expect("creating a user");
    }
    server
}

fn limiter(clock: &Arc<ManualClock>) -> Limiter {
    Limiter::in_memory(Limits::default())
        .with_clock(clock.clone())
        .with_trusted_proxies(&["127.0.0.1".into()])
        .expect("loopback is an address")
}

async fn login(server: &TestServer, from: &str, email: &str, password: &str) -> Reply {
    let response = reqwest::Client::new()
        .post(server.url("/api/login/local"))
        .header("content-type", "application/vnd.api+json")
        .header("x-forwarded-for", from)
        .body(json!({"username": email, "password": password}).to_string())
        .send()
        .await
        .expect("login request");
    Reply {
        status: response.status().as_u16(),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string()),
        body: response.text().await.expect("body"),
    }
}

fn assert_throttled(reply: &Reply, retry_after: &str) {
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (429, EC5_37),
        "{}",
        reply.body
    );
    assert_eq!(reply.retry_after.as_deref(), Some(retry_after));
}

async fn five_failures_lock_the_account_then_the_window_ends(db: TestDb) {
    let clock = ManualClock::at(T0);
    let server = server_with(&db, limiter(&clock)).await;
    for i in 0..5 {
        // From five addresses: the account's own count locks it.
        let reply = login(
            &server,
            &format!("198.51.100.{i}"),
            "ann@example.org",
            "wrong",
        )
        .await;
        assert_eq!((reply.status, reply.code()), (404, "ec5_12".into()));
        clock.advance(1_000);
    }
    // The sixth is refused without a password check, even the right password, from anywhere.
    let reply = login(&server, "203.0.113.9", "ANN@example.org ", PASSWORD).await;
    assert_throttled(&reply, "55");
    // Another account from a fresh address is not affected.
    let bob = login(&server, "203.0.113.10", "bob@example.org", PASSWORD).await;
    assert_eq!(bob.status, 200, "{}", bob.body);
    // The window opened by the first failure lasts a minute; then the right password works.
    clock.advance(54_999);
    assert_throttled(
        &login(&server, "203.0.113.9", "ann@example.org", PASSWORD).await,
        "1",
    );
    clock.advance(1);
    let reply = login(&server, "203.0.113.9", "ann@example.org", PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn five_failures_from_one_address_lock_the_address(db: TestDb) {
    let clock = ManualClock::at(T0);
    let server = server_with(&db, limiter(&clock)).await;
    // Password spraying: one guess for each of five accounts, known or not.
    for email in [
        "a@example.org",
        "b@example.org",
        "c@example.org",
        "ann@example.org",
        "bob@example.org",
    ] {
        let reply = login(&server, "198.51.100.7", email, "Spring2024!").await;
        assert_eq!(reply.code(), "ec5_12");
    }
    let reply = login(&server, "198.51.100.7", "ann@example.org", PASSWORD).await;
    assert_throttled(&reply, "60");
    // An IPv6 client is one address for its whole /64.
    for i in 1..=5 {
        let from = format!("2001:db8:7:7::{i}");
        assert_eq!(
            login(&server, &from, "x@example.org", "no").await.code(),
            "ec5_12"
        );
    }
    let reply = login(&server, "2001:db8:7:7:ffff::1", "bob@example.org", PASSWORD).await;
    assert_throttled(&reply, "60");
    // Other addresses log in.
    let reply = login(&server, "198.51.100.8", "ann@example.org", PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn a_success_clears_its_account_and_costs_its_address_nothing(db: TestDb) {
    let clock = ManualClock::at(T0);
    let server = server_with(&db, limiter(&clock)).await;
    for _ in 0..4 {
        assert_eq!(
            login(&server, "198.51.100.1", "ann@example.org", "x")
                .await
                .status,
            404
        );
    }
    assert_eq!(
        login(&server, "198.51.100.2", "ann@example.org", PASSWORD)
            .await
            .status,
        200
    );
    // The account's failures are gone: five more are allowed before the lock.
    for i in 0..5 {
        let from = format!("198.51.100.{}", 10 + i);
        assert_eq!(
            login(&server, &from, "ann@example.org", "x").await.status,
            404
        );
    }
    assert_throttled(
        &login(&server, "198.51.100.20", "ann@example.org", PASSWORD).await,
        "60",
    );
    // A classroom behind one address: successes never count against it.
    for _ in 0..12 {
        let reply = login(&server, "192.0.2.1", "bob@example.org", PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // Missing fields are no attempt: they are answered ec5_21 and counted nowhere.
    for _ in 0..8 {
        let response = reqwest::Client::new()
            .post(server.url("/api/login/local"))
            .header("x-forwarded-for", "192.0.2.2")
            .json(&json!({"username": "bob@example.org"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
    }
    assert_eq!(
        login(&server, "192.0.2.2", "bob@example.org", PASSWORD)
            .await
            .status,
        200
    );
}

/// Two instances on one database count failures together.
async fn instances_sharing_the_database_share_the_count(db: TestDb) {
    let clock = ManualClock::at(T0);
    let store = db.store().await;
    let shared = || {
        Limiter::database(Limits::default(), store.clone())
            .with_clock(clock.clone())
            .with_trusted_proxies(&["127.0.0.1".into()])
            .unwrap()
    };
    let a = server_with(&db, shared()).await;
    let b = TestServer::start_with_limiter(&db, shared()).await;
    for i in 0..5 {
        let server = if i % 2 == 0 { &a } else { &b };
        let from = format!("198.51.100.{i}");
        assert_eq!(
            login(server, &from, "ann@example.org", "x").await.status,
            404
        );
    }
    assert_throttled(
        &login(&b, "203.0.113.1", "ann@example.org", PASSWORD).await,
        "60",
    );
    assert_throttled(
        &login(&a, "203.0.113.1", "ann@example.org", PASSWORD).await,
        "60",
    );
    clock.advance(60_000);
    assert_eq!(
        login(&a, "203.0.113.1", "ann@example.org", PASSWORD)
            .await
            .status,
        200
    );
}

both_engines!(
    five_failures_lock_the_account_then_the_window_ends,
    five_failures_from_one_address_lock_the_address,
    a_success_clears_its_account_and_costs_its_address_nothing,
    instances_sharing_the_database_share_the_count,
);
