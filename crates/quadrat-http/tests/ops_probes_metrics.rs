//! Operations over HTTP: the probes (`/healthz`, `/readyz` and which check failed), `/metrics`
//! (behind its token on the public listener, or on a listener of its own), request ids. Each
//! server has its own metrics, so these tests run in parallel in one process.

use std::sync::Arc;

use quadrat_app::App;
use quadrat_app::ratelimit::Limiter;
use quadrat_core::ratelimit::Limits;
use quadrat_http::{Metrics, ServeOptions};
use quadrat_store::Store;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::{Value, json};

/// A server with `options`; stops when the sender is dropped. Its media folder exists, as
/// `quadrat serve` makes it.
async fn start(
    app: App,
    limiter: Limiter,
    options: ServeOptions,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    if !app.config.media_dir.exists() {
        std::fs::create_dir_all(&app.config.media_dir).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(quadrat_http::serve_with_options(
        listener,
        app,
        limiter,
        options,
        async {
            let _ = rx.await;
        },
    ));
    (base, tx)
}

fn with_token(token: &str) -> ServeOptions {
    ServeOptions {
        metrics_token: Some(token.to_string()),
        ..ServeOptions::default()
    }
}

async fn get(url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The value of the sample `name{labels}` (labels exactly as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

async fn probes_answer_ok_when_everything_is_there(db: TestDb) {
    let store = db.store().await;
    let limiter = Limiter::database(Limits::default(), store.clone());
    let (base, _stop) = start(db.app().await, limiter, ServeOptions::default()).await;
    let (status, body) = get(&format!("{base}/healthz"), None).await;
    assert_eq!((status, json(&body)), (200, json!({"status": "ok"})));
    let (status, body) = get(&format!("{base}/readyz"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body),
        json!({"status": "ok", "checks": {"database": "ok", "media": "ok", "rate_limits": "ok"}})
    );
    // Not rate limited: far more probes than the global budget allows.
    let limited = Limiter::in_memory(Limits {
        global_per_minute: 2,
        ..Limits::default()
    });
    let (base, _stop) = start(db.app().await, limited, ServeOptions::default()).await;
    for _ in 0..5 {
        assert_eq!(get(&format!("{base}/healthz"), None).await.0, 200);
        assert_eq!(get(&format!("{base}/readyz"), None).await.0, 200);
    }
}

async fn readyz_names_the_media_store_when_its_folder_is_unusable(db: TestDb) {
    // A file where the folder should be.
    let not_a_folder = db.data_dir().join("media-is-a-file");
    std::fs::write(&not_a_folder, b"x").unwrap();
    let app = db
        .app()
        .await
        .with_media_store(quadrat_store::MediaStore::folder(&not_a_folder));
    let (base, _stop) = start(app, Limiter::disabled(), ServeOptions::default()).await;
    let (status, body) = get(&format!("{base}/readyz"), None).await;
    assert_eq!(status, 503, "{body}");
    let body = json(&body);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["failed"], json!(["media"]));
    assert_eq!(body["checks"]["database"], "ok");
    assert!(
        !body.to_string().contains("media-is-a-file"),
        "causes are logged, not shown"
    );
    // Alive all the same.
    assert_eq!(get(&format!("{base}/healthz"), None).await.0, 200);
}

async fn readyz_names_the_limiter_store_when_it_stops_answering(db: TestDb) {
    // Counters in a database that has gone away (its pool closed).
    let other = TestDb::sqlite().await;
    let gone = Store::connect(&other.url).await.unwrap();
    gone.close().await;
    let limiter = Limiter::database(Limits::default(), gone);
    let (base, _stop) = start(db.app().await, limiter, ServeOptions::default()).await;
    let (status, body) = get(&format!("{base}/readyz"), None).await;
    assert_eq!(status, 503, "{body}");
    let body = json(&body);
    assert_eq!(body["failed"], json!(["rate_limits"]));
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["media"], "ok");
    // The API answers meanwhile: the limiter fails open.
    let (status, _) = get(&format!("{base}/api/projects/tree"), None).await;
    assert_eq!(status, 200);
}

async fn metrics_count_requests_by_route_pattern_and_status(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    let (base, _stop) = start(app, Limiter::disabled(), with_token("m-token")).await;
    for _ in 0..2 {
        assert_eq!(
            get(&format!("{base}/api/project/{SLUG}"), None).await.0,
            200
        );
    }
    assert_eq!(
        get(&format!("{base}/api/json/project/{SLUG}"), None)
            .await
            .0,
        200
    );
    get(&format!("{base}/api/project-version/no-such-project"), None).await;
    get(&format!("{base}/no/such/path/abc123"), None).await;
    let entry = json!({"data": another_site(&version, &new_uuid(), "Metrics site")});
    let uploaded = reqwest::Client::new()
        .post(format!("{base}/api/upload/{SLUG}"))
        .header("content-type", "application/vnd.api+json")
        .body(entry.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status().as_u16(), 200);

    let (status, text) = get(&format!("{base}/metrics"), Some("m-token")).await;
    assert_eq!(status, 200);
    let s = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series}\n{text}"));
    assert_eq!(
        s(r#"quadrat_http_requests_total{route="/api/project/{slug}",method="GET",status="200"}"#),
        2.0
    );
    assert_eq!(
        s(
            r#"quadrat_http_requests_total{route="/api/json/project/{slug}",method="GET",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        s(r#"quadrat_http_requests_total{route="/api/upload/{slug}",method="POST",status="200"}"#),
        1.0
    );
    // The raw path never becomes a label.
    assert!(
        !text.contains("abc123") && !text.contains("no-such-project"),
        "{text}"
    );
    assert!(text.contains(r#"quadrat_http_requests_total{route="unmatched",method="GET","#));
    assert_eq!(
        s(r#"quadrat_http_request_duration_seconds_count{route="/api/project/{slug}"}"#),
        2.0
    );
    assert_eq!(
        s(r#"quadrat_http_request_duration_seconds_bucket{route="/api/project/{slug}",le="+Inf"}"#),
        2.0
    );
    assert!(text.contains("# TYPE quadrat_http_request_duration_seconds histogram"));
    assert_eq!(s("quadrat_entries_stored_total"), 1.0);
    assert_eq!(s("quadrat_media_files_stored_total"), 0.0);
    assert_eq!(s(r#"quadrat_tokens_issued_total{kind="client"}"#), 0.0);
    assert!(s("quadrat_http_response_bytes_total") > 0.0);
    assert!(s("process_resident_memory_bytes") > 1_000_000.0);
    assert!(text.contains("quadrat_db_pool_connections{pool="), "{text}");
    // The scrape itself is in flight while it renders.
    assert_eq!(s("quadrat_http_requests_in_flight"), 1.0);
}

async fn metrics_refuse_a_missing_or_wrong_token_and_are_off_by_default(db: TestDb) {
    let (base, _stop) = start(db.app().await, Limiter::disabled(), with_token("right")).await;
    for bearer in [None, Some("wrong"), Some("righ"), Some("rightt")] {
        let (status, body) = get(&format!("{base}/metrics"), bearer).await;
        assert_eq!(status, 401, "{bearer:?}");
        assert!(!body.contains("quadrat_"), "{body}");
    }
    let (base, _stop) = start(db.app().await, Limiter::disabled(), ServeOptions::default()).await;
    let (status, body) = get(&format!("{base}/metrics"), Some("right")).await;
    assert_ne!(status, 200);
    assert!(!body.contains("quadrat_http"), "{body}");
}

async fn metrics_on_their_own_listener_see_the_main_listeners_requests(db: TestDb) {
    let app = db.app().await;
    let metrics = Arc::new(Metrics::new());
    let options = ServeOptions {
        metrics: metrics.clone(),
        ..ServeOptions::default()
    };
    let (base, _stop) = start(app.clone(), Limiter::disabled(), options).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_base = format!("http://{}", listener.local_addr().unwrap());
    let (_tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(quadrat_http::serve_metrics(listener, app, metrics, async {
        let _ = rx.await;
    }));
    get(&format!("{base}/api/projects/zzz"), None).await;
    let (status, text) = get(&format!("{metrics_base}/metrics"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(
            &text,
            r#"quadrat_http_requests_total{route="/api/projects/{name}",method="GET",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    // The main listener has no /metrics.
    let (_, body) = get(&format!("{base}/metrics"), None).await;
    assert!(!body.contains("quadrat_http"), "{body}");
}

async fn rate_limit_refusals_are_counted_by_budget(db: TestDb) {
    let limiter = Limiter::in_memory(Limits {
        global_per_minute: 2,
        ..Limits::default()
    });
    let (base, _stop) = start(db.app().await, limiter, with_token("t")).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(get(&format!("{base}/api/projects/x"), None).await.0);
    }
    assert_eq!(statuses, [200, 200, 429, 429]);
    let (_, text) = get(&format!("{base}/metrics"), Some("t")).await;
    assert_eq!(
        sample(
            &text,
            r#"quadrat_rate_limit_refusals_total{budget="global"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"quadrat_http_requests_total{route="/api/projects/{name}",method="GET",status="429"}"#
        ),
        Some(2.0)
    );
}

async fn request_ids_are_echoed_when_valid_and_made_otherwise(db: TestDb) {
    let (base, _stop) = start(db.app().await, Limiter::disabled(), ServeOptions::default()).await;
    let client = reqwest::Client::new();
    let id_of = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string()
    };
    let url = format!("{base}/api/projects/x");
    let given = "req-42.abc:XYZ";
    let response = client
        .get(&url)
        .header("x-request-id", given)
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&response), given);
    for bad in ["a".repeat(201), "has space".to_string(), String::new()] {
        let response = client
            .get(&url)
            .header("x-request-id", &bad)
            .send()
            .await
            .unwrap();
        let made = id_of(&response);
        assert_ne!(made, bad);
        assert_eq!(uuid::Uuid::parse_str(&made).unwrap().get_version_num(), 4);
    }
    let first = id_of(&client.get(&url).send().await.unwrap());
    let second = id_of(&client.get(&url).send().await.unwrap());
    assert_ne!(first, second);
    // Unknown paths and refusals carry one too.
    let response = client.get(format!("{base}/nowhere")).send().await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
}

both_engines!(
    probes_answer_ok_when_everything_is_there,
    readyz_names_the_media_store_when_its_folder_is_unusable,
    readyz_names_the_limiter_store_when_it_stops_answering,
    metrics_count_requests_by_route_pattern_and_status,
    metrics_refuse_a_missing_or_wrong_token_and_are_off_by_default,
    metrics_on_their_own_listener_see_the_main_listeners_requests,
    rate_limit_refusals_are_counted_by_budget,
    request_ids_are_echoed_when_valid_and_made_otherwise,
);
