//! `GET /api/project/{slug}` per user and role, over real HTTP, on both engines: private projects
//! answer to logged-in members but viewers, and `meta.project_user` names who asked.

use quadrat_app::accounts::LoginField;
use quadrat_app::projects::ImportOptions;
use quadrat_core::jwt::{self, USER_TOKEN_LIFETIME_SECS, UserClaims};
use quadrat_core::project_state::ProjectSetting;
use quadrat_core::roles::Role;
use quadrat_core::time::now_millis;
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use serde_json::{Value, json};

const SLUG: &str = "tree-survey-2024";
const PASSWORD: &str = "correct horse battery";
const AVATAR: &str = "http://quadrat.test/images/avatar-placeholder.png";

async fn server_with_project(db: &TestDb, access: &str) -> TestServer {
    let server = TestServer::start(db).await;
    server
        .app
        .import_project(&fixture("tree-survey-2024.json"), &ImportOptions::default())
        .await
        .expect("import");
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(access.parse().unwrap()))
        .await
        .unwrap();
    server
}

/// A user with a password and (optionally) a role; returns their id and token.
async fn member(
    server: &TestServer,
    email: &str,
    role: Option<Role>,
    admin: bool,
) -> (i64, String) {
    let user = server
        .app
        .create_user(email, Some("Field Worker"), Some(PASSWORD.into()), admin)
        .await
        .unwrap();
    if let Some(role) = role {
        server
            .app
            .add_member(SLUG, email, role.as_str(), false)
            .await
            .unwrap();
    }
    let body = server
        .app
        .login_local(
            LoginField::Text(email.into()),
            LoginField::Text(PASSWORD.into()),
        )
        .await
        .unwrap();
    (user.id, body["data"]["jwt"].as_str().unwrap().to_string())
}

async fn download(server: &TestServer, bearer: Option<&str>, query: &str) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().get(server.url(&format!("/api/project/{SLUG}{query}")));
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

fn error_code(v: &Value) -> (&str, &str) {
    (
        v["errors"][0]["code"].as_str().unwrap_or_default(),
        v["errors"][0]["source"].as_str().unwrap_or_default(),
    )
}

async fn download_private_project_answers_members_but_viewers(db: TestDb) {
    let server = server_with_project(&db, "private").await;
    for role in Role::ALL {
        let (id, token) = member(&server, &format!("{role}@example.org"), Some(role), false).await;
        let (status, v) = download(&server, Some(&token), "").await;
        if role == Role::Viewer {
            assert_eq!(status, 404, "{v}");
            assert_eq!(error_code(&v), ("ec5_91", "middleware"));
            continue;
        }
        assert_eq!(status, 200, "{role}: {v}");
        assert_eq!(
            v["meta"]["project_user"],
            json!({"name": "Field Worker", "avatar": AVATAR, "role": role.as_str(), "id": id}),
            "{role}"
        );
        assert_eq!(v["data"]["project"]["slug"], SLUG);
        assert_eq!(v["data"]["project"]["access"], "private");
    }
}

async fn download_private_project_refuses_anonymous_and_outsiders(db: TestDb) {
    let server = server_with_project(&db, "private").await;
    let (status, v) = download(&server, None, "").await;
    assert_eq!((status, error_code(&v)), (404, ("ec5_77", "middleware")));
    let (_, outsider) = member(&server, "outsider@example.org", None, false).await;
    let (status, v) = download(&server, Some(&outsider), "").await;
    assert_eq!((status, error_code(&v)), (404, ("ec5_78", "middleware")));
    assert_eq!(
        v["errors"][0]["title"],
        "This project is private. \n You need permission to access it."
    );
    // A server admin without a role acts as the creator.
    let (admin_id, admin) = member(&server, "admin@example.org", None, true).await;
    let (status, v) = download(&server, Some(&admin), "").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["meta"]["project_user"],
        json!({"name": "Field Worker", "avatar": AVATAR, "role": "creator", "id": admin_id})
    );
}

async fn download_private_project_takes_token_from_jwt_parameter(db: TestDb) {
    let server = server_with_project(&db, "private").await;
    let (_, token) = member(&server, "ann@example.org", Some(Role::Collector), false).await;
    let (status, v) = download(&server, None, &format!("?jwt={token}")).await;
    assert_eq!(status, 200, "{v}");
    // The parameter wins over the header when it is not empty.
    let (status, v) = download(&server, Some("garbage"), &format!("?jwt={token}")).await;
    assert_eq!(status, 200, "{v}");
    let (status, _) = download(&server, Some(&token), "?jwt=").await;
    assert_eq!(status, 200);
    let (status, v) = download(&server, Some(&token), "?jwt=garbage").await;
    assert_eq!((status, error_code(&v)), (404, ("ec5_77", "middleware")));
}

async fn download_private_project_with_bad_token_is_ec5_77(db: TestDb) {
    let server = server_with_project(&db, "private").await;
    let (_, token) = member(&server, "ann@example.org", Some(Role::Manager), false).await;
    // The subject is stored only as its digest: it is read from the token itself.
    let secret = server.app.user_token_secret().await.unwrap();
    let now = now_millis() / 1000;
    let api_token = jwt::verify(&token, &secret, now).expect("our token").sub;
    let expired = jwt::sign(
        &UserClaims::new(&api_token, "j", "i", now - USER_TOKEN_LIFETIME_SECS),
        &secret,
    );
    let wrong_secret = jwt::sign(&UserClaims::new(&api_token, "j", "i", now), b"guessed");
    let mut tampered: Vec<char> = token.chars().collect();
    let i = tampered.len() - 3;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let not_yet = jwt::sign(&UserClaims::new(&api_token, "j", "i", now + 3600), &secret);
    for bad in [
        expired.as_str(),
        wrong_secret.as_str(),
        tampered.as_str(),
        not_yet.as_str(),
        "",
        "a.b.c",
        "Bearer",
    ] {
        let (status, v) = download(&server, Some(bad), "").await;
        assert_eq!(
            (status, error_code(&v)),
            (404, ("ec5_77", "middleware")),
            "{bad}"
        );
    }
    let (status, _) = download(&server, Some(&token), "").await;
    assert_eq!(status, 200);
}

async fn download_public_project_names_whoever_asks(db: TestDb) {
    let server = server_with_project(&db, "public").await;
    let (status, v) = download(&server, None, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        v["meta"]["project_user"],
        json!({"name": "User", "avatar": AVATAR, "role": null, "id": null})
    );
    // Logged in without a role: the user's name and id, no role.
    let (id, token) = member(&server, "ann@example.org", None, false).await;
    let (status, v) = download(&server, Some(&token), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        v["meta"]["project_user"],
        json!({"name": "Field Worker", "avatar": AVATAR, "role": null, "id": id})
    );
    // Viewers are only kept out of private projects.
    let (_, viewer) = member(&server, "viewer@example.org", Some(Role::Viewer), false).await;
    let (status, v) = download(&server, Some(&viewer), "").await;
    assert_eq!(status, 200);
    assert_eq!(v["meta"]["project_user"]["role"], "viewer");
    // A bad token on a public project is just nobody.
    let (status, v) = download(&server, Some("x.y.z"), "").await;
    assert_eq!(status, 200);
    assert_eq!(v["meta"]["project_user"]["name"], "User");
}

both_engines!(
    download_private_project_answers_members_but_viewers,
    download_private_project_refuses_anonymous_and_outsiders,
    download_private_project_takes_token_from_jwt_parameter,
    download_private_project_with_bad_token_is_ec5_77,
    download_public_project_names_whoever_asks,
);
