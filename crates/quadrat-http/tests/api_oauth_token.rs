//! `POST /api/oauth/token` over real HTTP on both engines (docs/protocol.md §13, §13.6).

mod oauth_support;

use base64::Engine;
use oauth_support::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use quadrat_app::oauth::ClientSecret;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::{Value, json};

/// A form's fields.
type Fields<'a> = Vec<(&'a str, &'a str)>;

async fn server_with_app(db: &TestDb) -> (TestServer, ClientSecret) {
    let server = TestServer::start(db).await;
    import(&server, None, "private").await;
    let secret = create_app(&server, PRIVATE).await;
    (server, secret)
}

async fn post_raw(
    server: &TestServer,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut request = reqwest::Client::new().post(server.url("/api/oauth/token"));
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    Reply::from(request.body(body).send().await.expect("request")).await
}

fn multipart(boundary: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (name, value) in fields {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

/// A 200 exactly as docs/protocol.md §13.4 describes it, and a token the private export accepts.
async fn assert_token_works(server: &TestServer, secret: &ClientSecret, reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    assert!(
        reply
            .body
            .starts_with(r#"{"token_type":"Bearer","expires_in":7200,"access_token":""#),
        "{}",
        reply.body
    );
    let token = reply.json()["access_token"].as_str().unwrap().to_string();
    let export = get(
        server,
        &format!("/api/export/project/{PRIVATE}"),
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(export.status, 200, "{}", export.body);
    let _ = secret;
    token
}

async fn token_each_request_style_is_issued(db: TestDb) {
    let (server, secret) = server_with_app(&db).await;
    let id = secret.client_id;
    let s = secret.client_secret.clone();

    // JSON, client id as a number.
    let body = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": s});
    let reply = post_raw(
        &server,
        Some("application/json"),
        None,
        body.to_string().into(),
    )
    .await;
    assert_token_works(&server, &secret, &reply).await;

    // JSON:API content type, client id as a string.
    let body = json!({"grant_type": "client_credentials", "client_id": id.to_string(), "client_secret": s});
    let reply = post_raw(
        &server,
        Some("application/vnd.api+json; charset=utf-8"),
        None,
        body.to_string().into(),
    )
    .await;
    assert_token_works(&server, &secret, &reply).await;

    // A form.
    let id_text = id.to_string();
    let reply = token_form(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id_text),
            ("client_secret", &s),
        ],
    )
    .await;
    assert_token_works(&server, &secret, &reply).await;

    // Multipart.
    let body = multipart(
        "QuadratBoundary7",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id_text),
            ("client_secret", &s),
        ],
    );
    let reply = post_raw(
        &server,
        Some("multipart/form-data; boundary=QuadratBoundary7"),
        None,
        body,
    )
    .await;
    assert_token_works(&server, &secret, &reply).await;

    // HTTP Basic, grant type in the form.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{s}"));
    let reply = post_raw(
        &server,
        Some("application/x-www-form-urlencoded"),
        Some(&format!("Basic {basic}")),
        b"grant_type=client_credentials".to_vec(),
    )
    .await;
    assert_token_works(&server, &secret, &reply).await;
}

async fn token_claims_and_header_are_passports_with_integer_times(db: TestDb) {
    let (server, secret) = server_with_app(&db).await;
    let token = token_for(&server, &secret).await;
    let (header, claims) = jwt_parts(&token);
    let header: Value = serde_json::from_str(&header).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(
        header["kid"].as_str(),
        server.app.config.keys.as_ref().unwrap().kid().as_deref()
    );
    let v: Value = serde_json::from_str(&claims).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["aud", "jti", "iat", "nbf", "exp", "sub", "scopes"]);
    assert_eq!(v["aud"], secret.client_id.to_string());
    let jti = v["jti"].as_str().unwrap();
    assert!(quadrat_core::oauth::is_token_id(jti), "{jti}");
    assert!(
        v["iat"].is_i64() && v["nbf"].is_i64() && v["exp"].is_i64(),
        "{claims}"
    );
    assert_eq!(v["iat"], v["nbf"]);
    assert_eq!(
        v["exp"].as_i64().unwrap() - v["iat"].as_i64().unwrap(),
        7200
    );
    assert_eq!(v["sub"], "");
    assert_eq!(v["scopes"], json!([]));
    // The jti is the token row's id.
    let row = server
        .app
        .store
        .token(jti)
        .await
        .unwrap()
        .expect("token row");
    assert_eq!(row.client_id, secret.client_id);
    assert!(!row.revoked);
    assert_eq!(row.expires_at, v["exp"].as_i64().unwrap() * 1000);
}

async fn token_every_error_has_its_code(db: TestDb) {
    let (server, secret) = server_with_app(&db).await;
    let id = secret.client_id.to_string();
    let s = secret.client_secret.as_str();
    let unknown = (secret.client_id + 1000).to_string();
    let cases: Vec<(&str, Fields, &str)> = vec![
        (
            "no grant type",
            vec![("client_id", &id), ("client_secret", s)],
            "ec5_261",
        ),
        (
            "password grant",
            vec![
                ("grant_type", "password"),
                ("client_id", &id),
                ("client_secret", s),
            ],
            "ec5_261",
        ),
        (
            "unknown grant",
            vec![
                ("grant_type", "magic"),
                ("client_id", &id),
                ("client_secret", s),
            ],
            "ec5_261",
        ),
        (
            "unknown client",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &unknown),
                ("client_secret", s),
            ],
            "ec5_253",
        ),
        (
            "wrong secret",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", "x"),
            ],
            "ec5_253",
        ),
        (
            "missing secret",
            vec![("grant_type", "client_credentials"), ("client_id", &id)],
            "ec5_253",
        ),
        (
            "non-numeric client id",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "abc"),
                ("client_secret", s),
            ],
            "ec5_253",
        ),
        (
            "personal access grant",
            vec![
                ("grant_type", "personal_access"),
                ("client_id", &id),
                ("client_secret", s),
            ],
            "ec5_253",
        ),
        (
            "authorization code, bad client",
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", &id),
                ("client_secret", "x"),
            ],
            "ec5_253",
        ),
        (
            "missing client id",
            vec![("grant_type", "client_credentials"), ("client_secret", s)],
            "ec5_254",
        ),
        (
            "a scope",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", s),
                ("scope", "*"),
            ],
            "ec5_254",
        ),
        (
            "authorization code, no code",
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", &id),
                ("client_secret", s),
            ],
            "ec5_254",
        ),
        (
            "refresh token, no refresh token",
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", &id),
                ("client_secret", s),
            ],
            "ec5_254",
        ),
    ];
    for (what, fields, code) in cases {
        let reply = token_form(&server, &fields).await;
        assert_eq!(reply.status, 400, "{what}: {}", reply.body);
        assert_eq!(
            reply.error(),
            (code.to_string(), "token issue".to_string()),
            "{what}"
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/vnd.api+json; charset=utf-8"),
            "{what}"
        );
    }

    // A JSON body without a JSON content type is not read; nor is the query string.
    let body = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": s});
    let reply = post_raw(&server, Some("text/plain"), None, body.to_string().into()).await;
    assert_eq!(reply.error().0, "ec5_261");
    let query =
        format!("/api/oauth/token?grant_type=client_credentials&client_id={id}&client_secret={s}");
    let reply = Reply::from(
        reqwest::Client::new()
            .post(server.url(&query))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.error().0, "ec5_261");

    // A GET on the path is an unknown route to the real server.
    let reply = get(&server, "/api/oauth/token", None).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error().0, "ec5_219");

    // A revoked (deleted) client is unknown.
    let p = project(&server, PRIVATE).await;
    server.app.delete_client_app(&p).await.unwrap();
    let reply = token_form(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", s),
        ],
    )
    .await;
    assert_eq!(reply.error().0, "ec5_253");
}

async fn token_issued_twice_both_stay_valid(db: TestDb) {
    let (server, secret) = server_with_app(&db).await;
    let first = token_for(&server, &secret).await;
    let second = token_for(&server, &secret).await;
    assert_ne!(first, second);
    for token in [&first, &second] {
        let reply = get(
            &server,
            &format!("/api/export/project/{PRIVATE}"),
            Some(&format!("Bearer {token}")),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

async fn token_failed_request_revokes_nothing(db: TestDb) {
    let (server, secret) = server_with_app(&db).await;
    let token = token_for(&server, &secret).await;
    let id = secret.client_id.to_string();
    for fields in [
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", "wrong"),
        ],
        vec![("grant_type", "password"), ("client_id", id.as_str())],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("scope", "x"),
        ],
    ] {
        assert_eq!(token_form(&server, &fields).await.status, 400);
    }
    let reply = get(
        &server,
        &format!("/api/export/project/{PRIVATE}"),
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// No body, content type or header makes the endpoint panic or answer anything but 200/400.
async fn token_any_request_never_answers_500(db: TestDb) {
    let (server, secret) = server_with_app(&db).await;
    let id = secret.client_id;
    let handle = tokio::runtime::Handle::current();
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,50}".prop_map(Value::from),
        Just(json!(id)),
        Just(json!(id.to_string())),
        Just(json!("client_credentials")),
        Just(json!([1, {"a": 2}])),
        Just(json!({"nested": true})),
    ];
    let json_body = proptest::collection::btree_map(
        prop_oneof![
            Just("grant_type".to_string()),
            Just("client_id".to_string()),
            Just("client_secret".to_string()),
            Just("scope".to_string()),
            "[a-z_\\[\\]]{0,12}",
        ],
        scalar,
        0..5,
    )
    .prop_map(|m| serde_json::to_vec(&m).unwrap());
    let body = prop_oneof![
        json_body,
        proptest::collection::vec(any::<u8>(), 0..200),
        "[ -~]{0,200}".prop_map(String::into_bytes),
    ];
    let content_type = prop_oneof![
        Just(None),
        Just(Some("application/json".to_string())),
        Just(Some("application/vnd.api+json".to_string())),
        Just(Some("application/x-www-form-urlencoded".to_string())),
        Just(Some("multipart/form-data; boundary=B".to_string())),
        Just(Some("multipart/form-data".to_string())),
        Just(Some("text/plain".to_string())),
        "[ -~]{0,40}".prop_map(Some),
    ];
    let header_byte = prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')];
    let authorization = prop_oneof![
        Just(None),
        proptest::collection::vec(header_byte, 0..80).prop_map(Some),
        "[A-Za-z0-9+/=:]{0,60}".prop_map(|s| Some(format!("Basic {s}").into_bytes())),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    let client = reqwest::Client::new();
    let url = server.url("/api/oauth/token");
    runner
        .run(&(content_type, authorization, body), |(ct, auth, body)| {
            let mut request = client.post(&url).body(body);
            if let Some(ct) = &ct {
                request = request.header("content-type", ct);
            }
            if let Some(a) = &auth {
                match reqwest::header::HeaderValue::from_bytes(a) {
                    Ok(v) => request = request.header("authorization", v),
                    Err(_) => return Ok(()),
                }
            }
            let reply = tokio::task::block_in_place(|| {
                handle.block_on(async { Reply::from(request.send().await.unwrap()).await })
            });
            prop_assert!(
                reply.status == 200 || reply.status == 400,
                "{:?} {:?}: {} {}",
                ct,
                auth,
                reply.status,
                reply.body
            );
            if reply.status == 400 {
                let (code, source) = reply.error();
                prop_assert!(
                    ["ec5_261", "ec5_253", "ec5_254"].contains(&code.as_str()),
                    "{code}"
                );
                prop_assert_eq!(source, "token issue");
            }
            Ok(())
        })
        .unwrap();
}

both_engines!(
    token_each_request_style_is_issued,
    token_claims_and_header_are_passports_with_integer_times,
    token_every_error_has_its_code,
    token_issued_twice_both_stay_valid,
    token_failed_request_revokes_nothing,
    token_any_request_never_answers_500,
);
