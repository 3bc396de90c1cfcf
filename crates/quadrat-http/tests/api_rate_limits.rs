//! Rate limits over real HTTP (docs/protocol.md §14, §14.1), with a clock the tests move.

mod oauth_support;

use std::sync::Arc;

use oauth_support::*;
use quadrat_app::ratelimit::Limiter;
use quadrat_core::ratelimit::Limits;
use quadrat_testkit::uploads::{Answer, another_site, new_uuid, version_of};
use quadrat_testkit::{ManualClock, TestDb, TestServer, both_engines};

/// 2030-01-01T00:00:00Z, plus 250 ms so second rounding shows.
const T0: i64 = 1_893_456_000_250;

fn token_fields() -> [(&'static str, &'static str); 3] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", "1"),
        ("client_secret", "wrong"),
    ]
}

fn assert_429(reply: &Reply, limit: &str, retry_after: &str, reset: &str) {
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert_eq!(reply.error(), ("ec5_255".into(), "rate-limiter".into()));
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.api+json; charset=utf-8")
    );
    assert_eq!(reply.header("retry-after"), Some(retry_after));
    assert_eq!(reply.header("x-ratelimit-reset"), Some(reset));
    assert_eq!(reply.header("x-ratelimit-limit"), Some(limit));
    assert_eq!(reply.header("x-ratelimit-remaining"), Some("0"));
}

async fn token_eleventh_request_in_an_hour_is_429_until_the_window_ends(db: TestDb) {
    let clock = ManualClock::at(T0);
    let limiter = Limiter::in_memory(Limits::default()).with_clock(clock.clone());
    let server = TestServer::start_with_limiter(&db, limiter).await;
    for i in 0..10 {
        // Refused requests count as much as granted ones.
        let reply = token_form(&server, &token_fields()).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.header("x-ratelimit-limit"), Some("10"));
        assert_eq!(
            reply.header("x-ratelimit-remaining"),
            Some((9 - i).to_string().as_str())
        );
        clock.advance(60_000);
    }
    // 10 minutes into the window: 50 minutes (3000 s) to wait.
    let reply = token_form(&server, &token_fields()).await;
    let reset = ((T0 + 3_600_000) / 1000 + 1).to_string();
    assert_429(&reply, "10", "3000", &reset);
    clock.advance(2_999_000);
    let reply = token_form(&server, &token_fields()).await;
    assert_429(&reply, "10", "1", &reset);
    // The window started at the first hit and lasts an hour: then the budget is whole again.
    clock.advance(1_000);
    let reply = token_form(&server, &token_fields()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("x-ratelimit-remaining"), Some("9"));
}

async fn export_slug_in_capitals_shares_the_project_bucket(db: TestDb) {
    let clock = ManualClock::at(T0);
    let limits = Limits {
        export_project_per_minute: 3,
        ..Limits::default()
    };
    let limiter = Limiter::in_memory(limits).with_clock(clock.clone());
    let server = TestServer::start_with_limiter(&db, limiter).await;
    import(&server, None, "public").await;
    for path in [
        "/api/export/project/tree-survey-2024",
        "/api/export/project/TREE-SURVEY-2024",
        "/api/export/project/Tree%20Survey%202024",
    ] {
        let reply = get(&server, path, None).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    let reply = get(&server, "/api/export/project/Tree_Survey_2024", None).await;
    assert_429(&reply, "3", "60", &((T0 + 60_000) / 1000 + 1).to_string());
    clock.advance(60_000);
    assert_eq!(
        get(&server, "/api/export/project/tree-survey-2024", None)
            .await
            .status,
        200
    );
}

async fn export_denied_requests_count_and_success_shows_remaining(db: TestDb) {
    let clock = ManualClock::at(T0);
    let limits = Limits {
        export_project_per_minute: 2,
        ..Limits::default()
    };
    let server =
        TestServer::start_with_limiter(&db, Limiter::in_memory(limits).with_clock(clock)).await;
    import(&server, None, "private").await;
    let denied = get(&server, "/api/export/project/tree-survey-2024", None).await;
    assert_eq!((denied.status, denied.error().0.as_str()), (404, "ec5_256"));
    assert_eq!(denied.header("x-ratelimit-remaining"), Some("1"));
    let app = create_app(&server, PRIVATE).await;
    let token = token_for(&server, &app).await;
    let ok = get(
        &server,
        "/api/export/project/tree-survey-2024",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(ok.header("x-ratelimit-remaining"), Some("0"));
    let third = get(
        &server,
        "/api/export/project/tree-survey-2024",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(third.status, 429);
}

async fn limits_off_never_answer_429(db: TestDb) {
    let server = TestServer::start_with_limiter(&db, Limiter::disabled()).await;
    import(&server, None, "public").await;
    for _ in 0..25 {
        let reply = token_form(&server, &token_fields()).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.header("x-ratelimit-limit"), None);
    }
    for _ in 0..70 {
        let reply = get(&server, "/api/export/project/tree-survey-2024", None).await;
        assert_eq!(reply.status, 200);
    }
}

async fn global_limit_counts_other_api_routes_per_ip(db: TestDb) {
    let clock = ManualClock::at(T0);
    let limits = Limits {
        global_per_minute: 2,
        ..Limits::default()
    };
    let server =
        TestServer::start_with_limiter(&db, Limiter::in_memory(limits).with_clock(clock)).await;
    assert_eq!(get(&server, "/api/projects/a", None).await.status, 200);
    assert_eq!(
        get(&server, "/api/project-version/none", None).await.status,
        400
    );
    let reply = get(&server, "/api/projects/b", None).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    // Preflights are not counted; tokens and exports have their own buckets.
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.url("/api/projects/a"))
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 200);
    assert_eq!(token_form(&server, &token_fields()).await.status, 400);
}

async fn forwarded_for_splits_buckets_only_behind_a_trusted_proxy(db: TestDb) {
    let limits = Limits {
        token_per_hour: 1,
        ..Limits::default()
    };
    let trusted = Limiter::in_memory(limits.clone())
        .with_clock(ManualClock::at(T0))
        .with_trusted_proxies(&["127.0.0.1".into()])
        .unwrap();
    let server = TestServer::start_with_limiter(&db, trusted).await;
    let from = |ip: &str| {
        reqwest::Client::new()
            .post(server.url("/api/oauth/token"))
            .header("x-forwarded-for", ip)
            .form(&token_fields())
            .send()
    };
    assert_eq!(from("198.51.100.1").await.unwrap().status().as_u16(), 400);
    assert_eq!(from("198.51.100.2").await.unwrap().status().as_u16(), 400);
    assert_eq!(from("198.51.100.1").await.unwrap().status().as_u16(), 429);

    // From an untrusted peer the header is ignored: one bucket for the socket address.
    let untrusted = Limiter::in_memory(limits).with_clock(ManualClock::at(T0));
    let server = TestServer::start_with_limiter(&db, untrusted).await;
    let from = |ip: &str| {
        reqwest::Client::new()
            .post(server.url("/api/oauth/token"))
            .header("x-forwarded-for", ip)
            .form(&token_fields())
            .send()
    };
    assert_eq!(from("198.51.100.1").await.unwrap().status().as_u16(), 400);
    assert_eq!(from("198.51.100.2").await.unwrap().status().as_u16(), 429);
}

/// Two instances on one database share one budget when counters live there.
async fn database_store_shares_one_budget_between_instances(db: TestDb) {
    let clock = ManualClock::at(T0);
    let limits = Limits {
        token_per_hour: 3,
        ..Limits::default()
    };
    let store = db.store().await;
    let a = TestServer::start_with_limiter(
        &db,
        Limiter::database(limits.clone(), store.clone()).with_clock(clock.clone()),
    )
    .await;
    let b = TestServer::start_with_limiter(
        &db,
        Limiter::database(limits, store).with_clock(clock.clone()),
    )
    .await;
    assert_eq!(token_form(&a, &token_fields()).await.status, 400);
    assert_eq!(token_form(&b, &token_fields()).await.status, 400);
    assert_eq!(token_form(&a, &token_fields()).await.status, 400);
    let reply = token_form(&b, &token_fields()).await;
    assert_429(
        &reply,
        "3",
        "3600",
        &((T0 + 3_600_000) / 1000 + 1).to_string(),
    );
    clock.advance(3_600_000);
    assert_eq!(token_form(&a, &token_fields()).await.status, 400);
}

/// The same with Redis; skipped with a reason when no Redis is configured.
async fn redis_store_shares_one_budget_between_instances(db: TestDb) {
    let Ok(url) = std::env::var("QUADRAT_TEST_REDIS_URL") else {
        eprintln!("skipped on Redis: QUADRAT_TEST_REDIS_URL is not set (.ci/run sets it)");
        return;
    };
    let prefix = format!("quadrat-test:{}:{}:", std::process::id(), now_nanos());
    let clock = ManualClock::at(T0);
    let limits = Limits {
        token_per_hour: 2,
        ..Limits::default()
    };
    let make = |clock: Arc<ManualClock>| {
        let (url, prefix, limits) = (url.clone(), prefix.clone(), limits.clone());
        async move {
            Limiter::redis(limits, &url, &prefix)
                .await
                .expect("connecting to Redis")
                .with_clock(clock)
        }
    };
    let a = TestServer::start_with_limiter(&db, make(clock.clone()).await).await;
    let b = TestServer::start_with_limiter(&db, make(clock.clone()).await).await;
    assert_eq!(token_form(&a, &token_fields()).await.status, 400);
    assert_eq!(token_form(&b, &token_fields()).await.status, 400);
    assert_eq!(token_form(&a, &token_fields()).await.status, 429);
    clock.advance(3_600_000);
    assert_eq!(token_form(&b, &token_fields()).await.status, 400);
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

async fn upload_eleventh_in_a_second_is_429_then_per_minute_budget_applies(db: TestDb) {
    let clock = ManualClock::at(T0);
    let limits = Limits {
        upload_per_minute: 15,
        ..Limits::default()
    };
    let limiter = Limiter::in_memory(limits).with_clock(clock.clone());
    let server = TestServer::start_with_limiter(&db, limiter).await;
    import(&server, None, "public").await;
    let project = project(&server, PRIVATE).await;
    let version = quadrat_testkit::uploads::version_of(&project);
    let upload = |uuid: String, name: String| {
        let data = quadrat_testkit::uploads::another_site(&version, &uuid, &name);
        let server = &server;
        async move { quadrat_testkit::uploads::post_entry(server, PRIVATE, &data).await }
    };
    for i in 0..10 {
        let answer = upload(quadrat_testkit::uploads::new_uuid(), format!("Site {i}")).await;
        assert!(answer.is_uploaded(), "{:?}", answer.errors());
    }
    // The eleventh within the same second: refused, and nothing stored.
    let refused = upload(quadrat_testkit::uploads::new_uuid(), "Site 10".into()).await;
    assert_eq!(refused.status, 429, "{:?}", refused.json());
    assert_eq!(refused.json()["errors"][0]["code"], "ec5_255");
    let stats = get(&server, &format!("/api/export/project/{PRIVATE}"), None).await;
    assert_eq!(stats.json()["meta"]["project_stats"]["total_entries"], 10);
    // A second later the per-second budget is back, the per-minute one (15) still counts.
    clock.advance(1_000);
    for i in 10..15 {
        let answer = upload(quadrat_testkit::uploads::new_uuid(), format!("Site {i}")).await;
        assert!(answer.is_uploaded(), "{:?}", answer.errors());
    }
    clock.advance(1_000);
    let refused = upload(quadrat_testkit::uploads::new_uuid(), "Site 15".into()).await;
    assert_eq!(refused.status, 429);
}

/// Posts an entry as the app does, to `path` (either spelling of the upload route).
async fn upload_through(server: &TestServer, path: &str, data: &serde_json::Value) -> Answer {
    let response = reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/vnd.api+json")
        .body(serde_json::json!({ "data": data }).to_string())
        .send()
        .await
        .expect("upload request");
    Answer {
        status: response.status().as_u16(),
        body: response.text().await.expect("upload answer"),
    }
}

async fn upload_eleventh_in_a_second_is_429_through_each_alias(db: TestDb) {
    let clock = ManualClock::at(T0);
    let limiter = Limiter::in_memory(Limits::default()).with_clock(clock.clone());
    let server = TestServer::start_with_limiter(&db, limiter).await;
    import(&server, None, "public").await;
    let version = version_of(&project(&server, PRIVATE).await);
    let site = |i: usize| another_site(&version, &new_uuid(), &format!("Site {i}"));
    let paths = [
        format!("/api/upload/{PRIVATE}"),
        format!("/api/json/upload/{PRIVATE}"),
    ];
    let mut stored = 0;
    for path in &paths {
        for i in 0..10 {
            let answer = upload_through(&server, path, &site(stored + i)).await;
            assert!(answer.is_uploaded(), "{path}: {:?}", answer.errors());
        }
        stored += 10;
        let refused = upload_through(&server, path, &site(stored)).await;
        assert_eq!(refused.status, 429, "{path}: {}", refused.body);
        assert_eq!(
            refused.errors(),
            vec![("ec5_255".to_string(), "rate-limiter".to_string())],
            "{path}"
        );
        // A minute later both budgets are whole again.
        clock.advance(60_000);
    }
    // The two spellings share one budget: five through each, and the eleventh is refused.
    for i in 0..10 {
        let answer = upload_through(&server, &paths[i % 2], &site(stored + i)).await;
        assert!(answer.is_uploaded(), "{:?}", answer.errors());
    }
    stored += 10;
    for path in &paths {
        assert_eq!(
            upload_through(&server, path, &site(stored)).await.status,
            429,
            "{path}"
        );
    }
    let stats = get(&server, &format!("/api/export/project/{PRIVATE}"), None).await;
    assert_eq!(
        stats.json()["meta"]["project_stats"]["total_entries"],
        stored,
        "refused uploads stored nothing"
    );
}

both_engines!(
    upload_eleventh_in_a_second_is_429_through_each_alias,
    upload_eleventh_in_a_second_is_429_then_per_minute_budget_applies,
    token_eleventh_request_in_an_hour_is_429_until_the_window_ends,
    export_slug_in_capitals_shares_the_project_bucket,
    export_denied_requests_count_and_success_shows_remaining,
    limits_off_never_answer_429,
    global_limit_counts_other_api_routes_per_ip,
    forwarded_for_splits_buckets_only_behind_a_trusted_proxy,
    database_store_shares_one_budget_between_instances,
    redis_store_shares_one_budget_between_instances,
);
