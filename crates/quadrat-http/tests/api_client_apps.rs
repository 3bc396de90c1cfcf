//! The client-app management routes without a logged-in user, on both engines (the role cases
//! are in `api_client_apps_roles.rs`).

mod oauth_support;

use oauth_support::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/myprojects/{slug}/apps"),
    ("POST", "/myprojects/{slug}/apps"),
    ("POST", "/myprojects/{slug}/app-revoke"),
    ("POST", "/myprojects/{slug}/app-rotate-secret"),
    ("POST", "/myprojects/{slug}/app-delete"),
];

async fn send(server: &TestServer, method: &str, path: &str, authorization: Option<&str>) -> Reply {
    let client = reqwest::Client::new();
    let mut request = match method {
        "GET" => client.get(server.url(path)),
        _ => client
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(r#"{"application_name":"Another App"}"#),
    };
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    Reply::from(request.send().await.unwrap()).await
}

async fn manage_app_without_login_is_refused_and_changes_nothing(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let app = create_app(&server, PRIVATE).await;
    let token = token_for(&server, &app).await;
    for (method, route) in ROUTES {
        let path = route.replace("{slug}", PRIVATE);
        for header in [None, Some("Bearer not-a-user-token")] {
            let reply = send(&server, method, &path, header).await;
            assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
            assert_eq!(
                reply.error(),
                ("ec5_70".into(), "middleware".into()),
                "{method} {path}"
            );
        }
    }
    // The app, its secret and its token are as they were.
    let p = project(&server, PRIVATE).await;
    let still = server.app.client_app(&p).await.unwrap().unwrap();
    assert_eq!((still.client_id, still.live_tokens), (app.client_id, 1));
    assert!(!token_for(&server, &app).await.is_empty());
    let export = get(
        &server,
        &format!("/api/export/project/{PRIVATE}"),
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(export.status, 200);
}

async fn manage_app_of_unknown_project_is_ec5_11(db: TestDb) {
    let server = TestServer::start(&db).await;
    for (method, route) in ROUTES {
        let path = route.replace("{slug}", "no-such-project");
        let reply = send(&server, method, &path, None).await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
        assert_eq!(reply.error().0, "ec5_11", "{method} {path}");
    }
}

async fn manage_app_wrong_method_is_ec5_219(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let reply = get(&server, &format!("/myprojects/{PRIVATE}/app-delete"), None).await;
    assert_eq!((reply.status, reply.error().0.as_str()), (422, "ec5_219"));
}

both_engines!(
    manage_app_without_login_is_refused_and_changes_nothing,
    manage_app_of_unknown_project_is_ec5_11,
    manage_app_wrong_method_is_ec5_219,
);
