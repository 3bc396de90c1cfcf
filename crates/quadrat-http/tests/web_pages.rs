//! The web pages over HTTP, on both engines: sessions and their cookie, CSRF refusals, the
//! pages' headers, escaping, Post/Redirect/Get, and the Apps routes shared with the JSON API.

use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_testkit::pages::Visitor;
use quadrat_testkit::{TestDb, TestServer, both_engines, pages, uploads};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";
const ANN: &str = "ann@example.org";

/// A server with ann, creator of the worked example (public), logged in as a visitor.
async fn ann_logged_in(server: &TestServer) -> Visitor {
    server
        .app
        .create_user(ANN, Some("Ann"), Some(PASSWORD.into()), false)
        .await
        .unwrap();
    uploads::import_tree_survey(&server.app).await;
    server
        .app
        .add_member(uploads::SLUG, ANN, "creator", false)
        .await
        .unwrap();
    let mut ann = Visitor::new(&server.base_url);
    ann.log_in(ANN, PASSWORD).await;
    ann
}

async fn login_rotates_an_httponly_session_cookie(db: TestDb) {
    let server = TestServer::start(&db).await;
    server
        .app
        .create_user(ANN, None, Some(PASSWORD.into()), false)
        .await
        .unwrap();
    let mut v = Visitor::new(&server.base_url);
    let form = v.get("/login").await;
    assert_eq!(form.status, StatusCode::OK);
    let before = v.cookie.clone().expect("a visitor session");
    assert_eq!(
        v.set_cookies,
        [format!(
            "quadrat_session={before}; Path=/; HttpOnly; SameSite=Lax"
        )]
    );
    let token = form.csrf().unwrap();
    let wrong = v
        .post(
            "/login",
            &[
                ("_token", &token),
                ("email", ANN),
                ("password", "nope nope nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .body
            .contains("User password or email incorrect. (ec5_36)")
    );
    assert!(
        wrong.body.contains(&format!("value=\"{ANN}\"")),
        "email kept"
    );
    let done = v
        .post(
            "/login",
            &[
                ("_token", &token),
                ("email", ANN),
                ("password", PASSWORD),
                ("next", "/myprojects/create"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/myprojects/create"));
    let after = v.cookie.clone().unwrap();
    assert_ne!(before, after, "the session id changes at login");
    assert_eq!(v.get("/myprojects").await.status, StatusCode::OK);
    // The id from before the login opens nothing.
    v.cookie = Some(before);
    let page = v.get("/myprojects").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login?next=%2Fmyprojects"));
    // Only the database's hash of the id is kept.
    let (tables, _) = server.app.store.schema_outline().await.unwrap();
    assert!(
        tables
            .iter()
            .any(|(t, c)| t == "web_sessions" && c[0] == "id_hash")
    );
    server.app.store.close().await;
}

async fn login_goes_only_to_this_sites_paths(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    ann.cookie = None;
    let token = ann.get("/login").await.csrf().unwrap();
    let page = ann
        .post(
            "/login",
            &[
                ("_token", &token),
                ("email", ANN),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/myprojects"));
}

async fn cookie_is_secure_when_the_public_url_is_https(db: TestDb) {
    let mut app = db.app().await;
    app.config.public_url = "https://data.example.org".into();
    let server = TestServer::start_app(app).await;
    let mut v = Visitor::new(&server.base_url);
    v.get("/login").await;
    assert!(v.set_cookies[0].ends_with("; HttpOnly; SameSite=Lax; Secure"));
}

async fn pages_carry_the_security_headers(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    let mut visitor = Visitor::new(&server.base_url);
    for path in ["/login", "/myprojects", "/myprojects/tree-survey-2024/apps"] {
        let page = match path {
            "/login" => visitor.get(path).await,
            _ => ann.get(path).await,
        };
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let csp = page.header("content-security-policy");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(page.header("referrer-policy"), "same-origin");
        assert_eq!(page.header("cache-control"), "no-store");
        assert!(page.header("content-type").starts_with("text/html"));
        assert!(
            !page.body.contains("<script>"),
            "no inline script on {path}"
        );
        assert_eq!(page.body.matches("<h1").count(), 1, "one h1 on {path}");
    }
}

async fn posts_without_the_csrf_token_are_refused_and_change_nothing(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    let path = "/myprojects/tree-survey-2024/settings/access";
    for fields in [
        vec![("value", "private")],
        vec![("value", "private"), ("_token", "forged")],
    ] {
        let page = ann.post(path, &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.body
                .contains("The form expired, please reload and try again")
        );
    }
    let project = server.app.find_project(uploads::SLUG).await.unwrap();
    assert_eq!(project.access, ProjectAccess::Public);
    // A visitor without any session is refused the same way (login included).
    let mut stranger = Visitor::new(&server.base_url);
    let page = stranger
        .post("/login", &[("email", ANN), ("password", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

async fn settings_answer_with_a_redirect_and_a_message_shown_once(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    let details = "/myprojects/tree-survey-2024";
    let page = ann
        .submit(
            details,
            &format!("{details}/settings/access"),
            &[("value", "private")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some(details));
    let shown = ann.get(details).await;
    assert!(shown.body.contains("Settings updated."));
    assert!(shown.body.contains("role=\"status\""));
    assert!(!ann.get(details).await.body.contains("Settings updated."));
    let project = server.app.find_project(uploads::SLUG).await.unwrap();
    assert!(project.is_private());
    // The status moves as the settings page allows: active → trashed → active, never
    // trashed → locked.
    for (value, ok) in [("trashed", true), ("locked", false), ("active", true)] {
        ann.submit(
            details,
            &format!("{details}/settings/status"),
            &[("value", value)],
        )
        .await;
        let shown = ann.get(details).await.body;
        assert_eq!(shown.contains("Settings updated."), ok, "{value}: {shown}");
        if !ok {
            assert!(shown.contains("(ec5_29"), "{shown}");
        }
    }
}

async fn deleting_a_project_needs_the_trash_and_its_name(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    let details = "/myprojects/tree-survey-2024";
    let delete = format!("{details}/delete");
    let page = ann
        .submit(&delete, &delete, &[("project-name", "Tree Survey 2024")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "not in the trash yet");
    server
        .app
        .set_project_setting(
            uploads::SLUG,
            ProjectSetting::Status(quadrat_core::project_state::ProjectStatus::Trashed),
        )
        .await
        .unwrap();
    let page = ann
        .submit(&delete, &delete, &[("project-name", "Tree survey")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("aria-invalid=\"true\""));
    let page = ann
        .submit(&delete, &delete, &[("project-name", "Tree Survey 2024")])
        .await;
    assert_eq!(page.location(), Some("/myprojects"));
    assert!(
        ann.get("/myprojects")
            .await
            .body
            .contains("Project deleted.")
    );
    assert!(server.app.find_project(uploads::SLUG).await.is_err());
}

async fn markup_in_names_is_shown_as_text(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    let markup = "<script>alert(1)</script>";
    let slug = pages::markup_project(&server.app, markup).await;
    server
        .app
        .add_member(&slug, ANN, "creator", false)
        .await
        .unwrap();
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    for page in ["", "/api", "/apps", "/mapping-data", "/manage-users"] {
        let body = ann.get(&format!("/myprojects/{slug}{page}")).await.body;
        assert!(body.contains(escaped), "{page}");
        for raw in ["<script>alert", "<img src=x", "<b onmouseover", "<i>markup"] {
            assert!(!body.contains(raw), "{raw} unescaped on {page}");
        }
    }
    assert!(ann.get("/myprojects").await.body.contains(escaped));
}

async fn member_changes_follow_the_role_rules(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    let app = &server.app;
    app.create_user("max@example.org", None, Some(PASSWORD.into()), false)
        .await
        .unwrap();
    app.add_member(uploads::SLUG, "max@example.org", "manager", false)
        .await
        .unwrap();
    let members = "/myprojects/tree-survey-2024/manage-users";
    let add = "/myprojects/tree-survey-2024/add-role";
    // A manager handles curators, collectors and viewers only.
    let mut max = Visitor::new(&server.base_url);
    max.log_in("max@example.org", PASSWORD).await;
    max.submit(
        members,
        add,
        &[("email", "new@example.org"), ("role", "manager")],
    )
    .await;
    let page = max.get(members).await.body;
    assert!(
        page.contains("You can only manage users with a lower role (ec5_344)"),
        "{page}"
    );
    assert!(
        app.find_user("new@example.org").await.is_err(),
        "no placeholder on a refusal"
    );
    max.submit(
        members,
        add,
        &[("email", "new@example.org"), ("role", "viewer")],
    )
    .await;
    assert!(
        max.get(members)
            .await
            .body
            .contains("User added to project.")
    );
    // Nobody changes their own role; the creator may hand over to a manager.
    ann.submit(
        members,
        "/myprojects/tree-survey-2024/switch-role",
        &[("email", ANN), ("role", "viewer")],
    )
    .await;
    assert!(ann.get(members).await.body.contains("(ec5_217)"));
    ann.submit(
        members,
        "/myprojects/tree-survey-2024/transfer-ownership",
        &[("email", "max@example.org")],
    )
    .await;
    assert!(
        ann.get(members)
            .await
            .body
            .contains("Transfer ownership succeeded.")
    );
    let (_, list) = app.list_members(uploads::SLUG).await.unwrap();
    let role = |email: &str| {
        list.iter()
            .find(|m| m.email == email)
            .map(|m| m.role.as_str())
    };
    assert_eq!(role("max@example.org"), Some("creator"));
    assert_eq!(role(ANN), Some("manager"));
}

async fn apps_routes_answer_browsers_with_pages_and_tokens_with_json(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    let apps = "/myprojects/tree-survey-2024/apps";
    let page = ann.get(apps).await;
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.body.contains("Create app"));
    // A browser without a session is sent to log in.
    let mut stranger = Visitor::new(&server.base_url);
    let page = stranger.get(apps).await;
    assert_eq!(
        page.location(),
        Some("/login?next=%2Fmyprojects%2Ftree-survey-2024%2Fapps")
    );
    // A script with the user token gets the JSON API, as before.
    let user = server.app.find_user(ANN).await.unwrap();
    let jwt = server.app.issue_user_token(&user).await.unwrap();
    let json: serde_json::Value = reqwest::Client::new()
        .get(server.url(&format!("{apps}?jwt={jwt}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json, serde_json::json!({"data": {"apps": []}}));
    // Create from the page: the secret is on the answer (stored nowhere), never cached.
    let page = ann
        .submit(apps, apps, &[("application_name", "My Scripts")])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(page.body.contains("you will not see it again"));
    let again = ann.get(apps).await;
    assert!(!again.body.contains("id=\"client-secret\""));
    assert!(again.body.contains("No live token"));
}

async fn setup_creates_the_first_admin_once(db: TestDb) {
    let server = TestServer::start(&db).await;
    let token = server
        .app
        .setup_token()
        .await
        .unwrap()
        .expect("no admin yet");
    let mut v = Visitor::new(&server.base_url);
    let form = format!("/setup?token={token}");
    assert_eq!(
        v.get("/setup?token=wrong").await.status,
        StatusCode::NOT_FOUND
    );
    let page = v
        .submit(
            &form,
            "/setup",
            &[
                ("token", &token),
                ("email", "it@example.org"),
                ("name", "IT"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/myprojects"));
    assert!(v.get("/admin/users").await.body.contains("it@example.org"));
    assert_eq!(server.app.setup_token().await.unwrap(), None);
    assert_eq!(v.get(&form).await.status, StatusCode::NOT_FOUND);
}

async fn logout_is_a_post_and_ends_the_session(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut ann = ann_logged_in(&server).await;
    assert_ne!(
        ann.get("/logout").await.status,
        StatusCode::SEE_OTHER,
        "GET changes nothing"
    );
    assert_eq!(ann.get("/myprojects").await.status, StatusCode::OK);
    let old = ann.cookie.clone();
    let page = ann.submit("/myprojects", "/logout", &[]).await;
    assert_eq!(page.location(), Some("/login?done=logout"));
    assert!(ann.set_cookies[0].contains("Max-Age=0"));
    ann.cookie = old;
    assert_eq!(ann.get("/myprojects").await.status, StatusCode::SEE_OTHER);
}

async fn assets_are_cached_by_content_name(db: TestDb) {
    let server = TestServer::start(&db).await;
    let mut v = Visitor::new(&server.base_url);
    let page = v.get("/login").await;
    let at = page.body.find("/assets/app.").unwrap();
    let href = &page.body[at..at + page.body[at..].find('"').unwrap()];
    let css = v.get(href).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        css.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(css.header("content-type").starts_with("text/css"));
    assert_eq!(
        v.get("/assets/app.00000000.css").await.status,
        StatusCode::NOT_FOUND
    );
}

both_engines!(
    login_rotates_an_httponly_session_cookie,
    login_goes_only_to_this_sites_paths,
    cookie_is_secure_when_the_public_url_is_https,
    pages_carry_the_security_headers,
    posts_without_the_csrf_token_are_refused_and_change_nothing,
    settings_answer_with_a_redirect_and_a_message_shown_once,
    deleting_a_project_needs_the_trash_and_its_name,
    markup_in_names_is_shown_as_text,
    member_changes_follow_the_role_rules,
    apps_routes_answer_browsers_with_pages_and_tokens_with_json,
    setup_creates_the_first_admin_once,
    logout_is_a_post_and_ends_the_session,
    assets_are_cached_by_content_name,
);
