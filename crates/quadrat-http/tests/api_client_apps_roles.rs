//! The client-app management routes for logged-in users, by project role, on both engines.

mod oauth_support;

use oauth_support::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::Value;

/// A user with `role` on the private project (none for `None`), and their login token.
async fn user_with_role(
    server: &TestServer,
    email: &str,
    role: Option<&str>,
    admin: bool,
) -> String {
    let user = server
        .app
        .create_user(email, Some("Test User"), None, admin)
        .await
        .expect("creating the user");
    if let Some(role) = role {
        server
            .app
            .add_member(PRIVATE, email, role, false)
            .await
            .expect("adding the member");
    }
    server.app.issue_user_token(&user).await.unwrap()
}

async fn post(server: &TestServer, path: &str, jwt: &str, body: &str) -> Reply {
    let response = reqwest::Client::new()
        .post(server.url(path))
        .header("authorization", format!("Bearer {jwt}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    Reply::from(response).await
}

async fn creator_manages_the_app_from_creation_to_deletion(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let jwt = user_with_role(&server, "ann@example.org", Some("creator"), false).await;
    let apps = format!("/myprojects/{PRIVATE}/apps");

    let created = post(&server, &apps, &jwt, r#"{"application_name":"My Scripts"}"#).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let data = created.json()["data"].clone();
    assert_eq!(data["code"], "ec5_259");
    let secret = quadrat_app::oauth::ClientSecret {
        client_id: data["client_id"].as_i64().unwrap(),
        client_secret: data["client_secret"].as_str().unwrap().to_string(),
    };
    let token = token_for(&server, &secret).await;

    let shown = get(&server, &apps, Some(&format!("Bearer {jwt}"))).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let listed = &shown.json()["data"]["apps"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["name"], "My Scripts");
    assert!(
        !shown.body.contains(&secret.client_secret),
        "the secret is shown once only"
    );

    let again = post(&server, &apps, &jwt, r#"{"application_name":"Second"}"#).await;
    assert_eq!(again.status, 400, "one app per project: {}", again.body);

    let revoked = post(
        &server,
        &format!("/myprojects/{PRIVATE}/app-revoke"),
        &jwt,
        "{}",
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let export = format!("/api/export/project/{PRIVATE}");
    let denied = get(&server, &export, Some(&format!("Bearer {token}"))).await;
    assert_eq!((denied.status, denied.error().0.as_str()), (404, "ec5_256"));

    let rotated = post(
        &server,
        &format!("/myprojects/{PRIVATE}/app-rotate-secret"),
        &jwt,
        "{}",
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.json()["data"]["client_secret"]
        .as_str()
        .expect("the new secret")
        .to_string();
    assert_ne!(new_secret, secret.client_secret);
    let old = token_form(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &secret.client_id.to_string()),
            ("client_secret", &secret.client_secret),
        ],
    )
    .await;
    assert_eq!((old.status, old.error().0.as_str()), (400, "ec5_253"));

    let deleted = post(
        &server,
        &format!("/myprojects/{PRIVATE}/app-delete"),
        &jwt,
        "{}",
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let p = project(&server, PRIVATE).await;
    assert!(server.app.client_app(&p).await.unwrap().is_none());
}

/// A user (email, project role, server admin) and what they get (status, code of a refusal).
type Case = (
    &'static str,
    Option<&'static str>,
    bool,
    u16,
    Option<&'static str>,
);

async fn management_is_for_creators_managers_and_admins(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    user_with_role(&server, "owner@example.org", Some("creator"), false).await;
    let apps = format!("/myprojects/{PRIVATE}/apps");
    let cases: [Case; 6] = [
        ("manager@example.org", Some("manager"), false, 200, None),
        ("admin@example.org", None, true, 200, None),
        (
            "curator@example.org",
            Some("curator"),
            false,
            400,
            Some("ec5_91"),
        ),
        (
            "collector@example.org",
            Some("collector"),
            false,
            400,
            Some("ec5_91"),
        ),
        (
            "viewer@example.org",
            Some("viewer"),
            false,
            400,
            Some("ec5_91"),
        ),
        ("outsider@example.org", None, false, 404, Some("ec5_71")),
    ];
    for (email, role, admin, status, code) in cases {
        let jwt = user_with_role(&server, email, role, admin).await;
        let reply = get(&server, &apps, Some(&format!("Bearer {jwt}"))).await;
        assert_eq!(reply.status, status, "{email}: {}", reply.body);
        if let Some(code) = code {
            assert_eq!(reply.error().0, code, "{email}");
            let created = post(&server, &apps, &jwt, r#"{"application_name":"Nope App"}"#).await;
            assert_eq!(
                created.status, status,
                "{email} may not create: {}",
                created.body
            );
        } else {
            assert_eq!(reply.json()["data"]["apps"], Value::Array(vec![]));
        }
    }
    let p = project(&server, PRIVATE).await;
    assert!(
        server.app.client_app(&p).await.unwrap().is_none(),
        "refusals created nothing"
    );
}

/// The management routes read the user token as the app's other routes do: the `jwt`
/// parameter when it is not empty, else the bearer header.
async fn management_takes_the_user_token_from_jwt_parameter_too(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let manager = user_with_role(&server, "manager@example.org", Some("manager"), false).await;
    let viewer = user_with_role(&server, "viewer@example.org", Some("viewer"), false).await;
    let apps = format!("/myprojects/{PRIVATE}/apps");

    let by_parameter = get(&server, &format!("{apps}?jwt={manager}"), None).await;
    assert_eq!(by_parameter.status, 200, "{}", by_parameter.body);
    assert_eq!(by_parameter.json()["data"]["apps"], Value::Array(vec![]));
    // The parameter comes first; an empty one leaves the header to decide.
    let both = get(
        &server,
        &format!("{apps}?jwt={viewer}"),
        Some(&format!("Bearer {manager}")),
    )
    .await;
    assert_eq!((both.status, both.error().0.as_str()), (400, "ec5_91"));
    let empty = get(
        &server,
        &format!("{apps}?jwt="),
        Some(&format!("Bearer {manager}")),
    )
    .await;
    assert_eq!(empty.status, 200, "{}", empty.body);

    let created = reqwest::Client::new()
        .post(server.url(&format!("{apps}?jwt={manager}")))
        .form(&[("application_name", "Form App")])
        .send()
        .await
        .unwrap();
    let created = Reply::from(created).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let p = project(&server, PRIVATE).await;
    let app = server.app.client_app(&p).await.unwrap().expect("created");
    assert_eq!(app.name, "Form App");
}

both_engines!(
    creator_manages_the_app_from_creation_to_deletion,
    management_is_for_creators_managers_and_admins,
    management_takes_the_user_token_from_jwt_parameter_too,
);
