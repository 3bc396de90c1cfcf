//! No login body, content type or `Authorization` header, however malformed, makes the server
//! panic or answer 500: each gets a status below 500 and the Epicollect5 envelope. Inputs come
//! from proptest strategies, a bounded number per run, on both engines.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use quadrat_app::projects::ImportOptions;
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use reqwest::header::HeaderValue;
use serde_json::Value;

const SLUG: &str = "tree-survey-2024";
const CASES: usize = 128;

/// JSON values of any shape, strings included that look like emails and tokens.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Strings for credential fields: email-like, control characters (NUL included), anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}@[a-z]{1,8}\\.org",
        "[a-z@. \\x00\\x01\\x7f]{1,16}",
        ".{0,40}",
    ]
}

/// What goes in a credential field: mostly a string, sometimes JSON of another shape.
fn credential() -> impl Strategy<Value = Value> {
    prop_oneof![3 => text().prop_map(Value::from), 1 => json_value()]
}

/// A login body: structured credentials of any type, JSON of any shape, or raw bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => (credential(), credential()).prop_map(|(u, p)| {
            serde_json::json!({"username": u, "password": p})
                .to_string()
                .into_bytes()
        }),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => "(username|password|jwt|%[0-9A-F]{2}|[&=+\\[\\]]|[a-z@.]){0,30}"
            .prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_string()),
        Just("application/vnd.api+json".to_string()),
        Just("application/x-www-form-urlencoded".to_string()),
        Just("multipart/form-data; boundary=--x".to_string()),
        Just("text/plain".to_string()),
        "[ -~]{0,40}",
    ]
}

/// Header bytes: visible ASCII, tabs and obs-text, often shaped like a bearer token.
fn authorization() -> impl Strategy<Value = Vec<u8>> {
    let segment = "[A-Za-z0-9_=+/-]{0,60}";
    prop_oneof![
        (segment, segment, segment)
            .prop_map(|(a, b, c)| format!("Bearer {a}.{b}.{c}").into_bytes()),
        "(Bearer |bearer |Basic |,| |[A-Za-z0-9.]){0,12}".prop_map(String::into_bytes),
        prop::collection::vec(
            prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')],
            0..200
        ),
    ]
}

fn sample<T: std::fmt::Debug>(runner: &mut TestRunner, strategy: impl Strategy<Value = T>) -> T {
    strategy
        .new_tree(runner)
        .expect("a value from the strategy")
        .current()
}

fn assert_envelope_below_500(what: &str, status: u16, text: &str) {
    assert!(status < 500, "{what}: {status} {text}");
    let v: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
    assert!(
        v.get("errors").is_some() || v.get("data").is_some(),
        "{what}: {text}"
    );
}

async fn malformed_login_and_tokens_never_answer_500(db: TestDb) {
    let server = TestServer::start(&db).await;
    server
        .app
        .import_project(&fixture("tree-survey-2024.json"), &ImportOptions::default())
        .await
        .unwrap();
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    server
        .app
        .create_user(
            "ann@example.org",
            None,
            Some("correct horse battery".into()),
            false,
        )
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let mut runner = TestRunner::deterministic();
    for _ in 0..CASES {
        let body = sample(&mut runner, body());
        let ct = sample(&mut runner, content_type());
        let auth = sample(&mut runner, authorization());
        let mut login = client
            .post(server.url("/api/login/local"))
            .body(body.clone());
        if let Ok(v) = HeaderValue::from_str(&ct) {
            login = login.header("content-type", v);
        }
        let response = login.send().await.expect("login request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_envelope_below_500(
            &format!("login {ct:?} {:?}", String::from_utf8_lossy(&body)),
            status,
            &text,
        );

        let mut download = client.get(server.url(&format!("/api/project/{SLUG}")));
        if let Ok(v) = HeaderValue::from_bytes(&auth) {
            download = download.header("authorization", v);
        }
        let response = download.send().await.expect("download request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_envelope_below_500(
            &format!("authorization {:?}", String::from_utf8_lossy(&auth)),
            status,
            &text,
        );
        // Nothing but a real login opens a private project.
        assert_eq!(status, 404, "{text}");
    }
}

both_engines!(malformed_login_and_tokens_never_answer_500);
