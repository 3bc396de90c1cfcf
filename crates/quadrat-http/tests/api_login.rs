//! The mobile app's login over real HTTP, on both engines: `GET /api/login` and
//! `POST /api/login/local`, answered as the real server answers them.

use quadrat_app::projects::ImportOptions;
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_core::users::UserState;
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use serde_json::{Value, json};

const SLUG: &str = "tree-survey-2024";
const PASSWORD: &str = "correct horse battery";
const JSON_API: &str = "application/vnd.api+json";
const EC5_12: &str = r#"{"errors":[{"code":"ec5_12","title":"User could not be authenticated.","source":"api-local-login"}]}"#;
const EC5_21: &str = r#"{"errors":[{"code":"ec5_21","title":"Required field is missing.","source":"api-local-login"}]}"#;

async fn server_with_ann(db: &TestDb) -> TestServer {
    let server = TestServer::start(db).await;
    server
        .app
        .create_user(
            "ann@example.org",
            Some("Ann Smith"),
            Some(PASSWORD.into()),
            false,
        )
        .await
        .expect("creating ann");
    server
}

async fn post(
    server: &TestServer,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new().post(server.url(path)).body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

async fn login_json(server: &TestServer, body: Value) -> (u16, String) {
    let (status, _, text) =
        post(server, "/api/login/local", Some(JSON_API), body.to_string()).await;
    (status, text)
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

async fn download_status(server: &TestServer, token: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(server.url(&format!("/api/project/{SLUG}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn login_local_with_right_password_returns_jwt_and_user(db: TestDb) {
    let server = server_with_ann(&db).await;
    let (status, headers, body) = post(
        &server,
        "/api/login/local",
        Some(JSON_API),
        json!({"username": " ANN@Example.org ", "password": PASSWORD}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["content-type"],
        "application/vnd.api+json; charset=utf-8"
    );
    assert!(
        body.starts_with(r#"{"meta":{"user":{"name":"Ann Smith","email":"ann@example.org"}},"data":{"type":"jwt","jwt":""#),
        "{body}"
    );
    let jwt = parse(&body)["data"]["jwt"].as_str().unwrap().to_string();
    assert_eq!(jwt.split('.').count(), 3);
    let user = server.app.user_for_token(&jwt).await.unwrap();
    assert_eq!(user.map(|u| u.email), Some("ann@example.org".into()));

    // A form body and the query string work too, as Laravel reads input from either.
    let (status, _, body) = post(
        &server,
        "/api/login/local",
        Some("application/x-www-form-urlencoded"),
        "username=ann%40example.org&password=correct+horse+battery",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = post(
        &server,
        "/api/login/local?username=ann%40example.org&password=correct%20horse%20battery",
        None,
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // And a multipart form, which PHP reads like any other form.
    let form = format!(
        "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nann@example.org\r\n\
         --b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{PASSWORD}\r\n--b--\r\n"
    );
    let (status, _, body) = post(
        &server,
        "/api/login/local",
        Some("multipart/form-data; boundary=b"),
        form,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn login_local_with_bad_credentials_is_404_ec5_12(db: TestDb) {
    let server = server_with_ann(&db).await;
    // A placeholder user (no password), made the way adding an unknown email to a project does.
    server
        .app
        .create_user("placeholder@example.org", None, None, false)
        .await
        .unwrap();
    server
        .app
        .create_user(
            "disabled@example.org",
            Some("Dee"),
            Some(PASSWORD.into()),
            false,
        )
        .await
        .unwrap();
    server
        .app
        .set_user_state("disabled@example.org", UserState::Disabled)
        .await
        .unwrap();
    for body in [
        json!({"username": "ann@example.org", "password": "wrong password!"}),
        json!({"username": "ann@example.org", "password": ""}),
        json!({"username": "nobody@example.org", "password": PASSWORD}),
        json!({"username": "placeholder@example.org", "password": PASSWORD}),
        json!({"username": "placeholder@example.org", "password": ""}),
        json!({"username": "disabled@example.org", "password": PASSWORD}),
        json!({"username": "", "password": ""}),
        json!({"username": null, "password": PASSWORD}),
        json!({"username": "ann@example.org", "password": 12345}),
        json!({"username": ["ann@example.org"], "password": PASSWORD}),
        json!({"username": "ann@example.org", "password": {"a": PASSWORD}}),
        json!({"username": "ann@example.org", "password": "x".repeat(5000)}),
        // PostgreSQL refuses NUL in text: it must still be a plain refusal.
        json!({"username": "ann@example.org\u{0}", "password": PASSWORD}),
        json!({"username": "\u{0}", "password": "\u{0}"}),
    ] {
        let (status, text) = login_json(&server, body.clone()).await;
        assert_eq!((status, text.as_str()), (404, EC5_12), "{body}");
    }
    // Nobody was logged in by any of it.
    let ann = server.app.store.user_by_email("ann@example.org").await;
    assert_eq!(ann.unwrap().unwrap().api_token_hash, None);
}

async fn login_local_with_missing_fields_or_unread_body_is_400_ec5_21(db: TestDb) {
    let server = server_with_ann(&db).await;
    let credentials = json!({"username": "ann@example.org", "password": PASSWORD}).to_string();
    let cases: Vec<(Option<&str>, String)> = vec![
        (
            Some(JSON_API),
            json!({"username": "ann@example.org"}).to_string(),
        ),
        (Some(JSON_API), json!({"password": PASSWORD}).to_string()),
        (Some(JSON_API), "{}".into()),
        (Some(JSON_API), String::new()),
        (Some(JSON_API), "{\"username\": \"ann@example.org\",".into()),
        (Some(JSON_API), json!([credentials]).to_string()),
        (Some("application/json"), "\"just a string\"".into()),
        // A JSON body under another content type is not read as JSON.
        (Some("text/plain"), credentials.clone()),
        (None, credentials.clone()),
        (Some("multipart/form-data; boundary=x"), credentials.clone()),
        (
            Some("application/x-www-form-urlencoded"),
            "username=ann%40example.org".into(),
        ),
    ];
    for (content_type, body) in cases {
        let (status, _, text) = post(&server, "/api/login/local", content_type, body.clone()).await;
        assert_eq!(
            (status, text.as_str()),
            (400, EC5_21),
            "{content_type:?} {body}"
        );
    }
}

async fn login_methods_lists_local_only(db: TestDb) {
    let server = TestServer::start(&db).await;
    for path in ["/api/login", "/api/json/login"] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"data":{"type":"login","login":{"methods":["local"],"auth_ids":[]}}}"#
        );
    }
}

async fn login_local_answers_preflight_and_refuses_get(db: TestDb) {
    let server = TestServer::start(&db).await;
    let response = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.url("/api/login/local"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let response = reqwest::get(server.url("/api/login/local")).await.unwrap();
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.unwrap().contains("ec5_219"));
}

async fn login_local_again_revokes_the_earlier_token(db: TestDb) {
    let server = server_with_ann(&db).await;
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
        .add_member(SLUG, "ann@example.org", "collector", false)
        .await
        .unwrap();
    let creds = json!({"username": "ann@example.org", "password": PASSWORD});
    let (_, first) = login_json(&server, creds.clone()).await;
    let first = parse(&first)["data"]["jwt"].as_str().unwrap().to_string();
    assert_eq!(download_status(&server, &first).await.0, 200);
    let (_, second) = login_json(&server, creds).await;
    let second = parse(&second)["data"]["jwt"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let (status, body) = download_status(&server, &first).await;
    assert_eq!(status, 404);
    assert_eq!(parse(&body)["errors"][0]["code"], "ec5_77");
    assert_eq!(download_status(&server, &second).await.0, 200);
}

both_engines!(
    login_local_with_right_password_returns_jwt_and_user,
    login_local_with_bad_credentials_is_404_ec5_12,
    login_local_with_missing_fields_or_unread_body_is_400_ec5_21,
    login_methods_lists_local_only,
    login_local_answers_preflight_and_refuses_get,
    login_local_again_revokes_the_earlier_token,
);
