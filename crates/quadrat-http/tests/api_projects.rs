//! The project-level routes over real HTTP, on both engines.

use quadrat_app::projects::ImportOptions;
use quadrat_core::project_state::{ProjectAccess, ProjectSetting, ProjectStatus};
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use serde_json::{Value, json};

const SLUG: &str = "tree-survey-2024";

async fn server_with_tree_survey(db: &TestDb) -> TestServer {
    let server = TestServer::start(db).await;
    server
        .app
        .import_project(&fixture("tree-survey-2024.json"), &ImportOptions::default())
        .await
        .expect("importing the worked example");
    server
}

async fn get(server: &TestServer, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::get(server.url(path)).await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn error_of(body: &str) -> (String, String, String) {
    let v = parse(body);
    let e = &v["errors"][0];
    (
        e["code"].as_str().unwrap_or_default().into(),
        e["title"].as_str().unwrap_or_default().into(),
        e["source"].as_str().unwrap_or_default().into(),
    )
}

async fn export_project_returns_definition_with_auto_mapping_and_stats(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    let (status, headers, body) = get(&server, &format!("/api/export/project/{SLUG}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["content-type"],
        "application/vnd.api+json; charset=utf-8"
    );
    assert!(body.starts_with(r#"{"meta":{"project_mapping":"#), "{body}");
    let v = parse(&body);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["meta", "data"]);

    // The EC5_AUTO map equals the worked example's (docs/protocol.md §16.2) for every input shown.
    let expected: Value = serde_json::from_str(include_str!(
        "../../quadrat-core/tests/expected/tree-survey-2024-ec5-auto-excerpt.json"
    ))
    .unwrap();
    let got = &v["meta"]["project_mapping"][0];
    assert_eq!(got["name"], "EC5_AUTO");
    assert_eq!(got["map_index"], 0);
    assert_eq!(got["is_default"], true);
    for (form_ref, inputs) in expected[0]["forms"].as_object().unwrap() {
        for (input_ref, map) in inputs.as_object().unwrap() {
            assert_eq!(&got["forms"][form_ref][input_ref], map, "{input_ref}");
        }
    }

    let stats = &v["meta"]["project_stats"];
    let stat_keys: Vec<&str> = stats
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        stat_keys,
        [
            "total_entries",
            "total_files",
            "total_bytes",
            "form_counts",
            "branch_counts",
            "structure_last_updated"
        ]
    );
    assert_eq!(stats["total_entries"], 0);
    assert_eq!(stats["form_counts"], json!([]));
    assert_eq!(stats["branch_counts"], json!([]));

    let project = &v["data"]["project"];
    assert_eq!(v["data"]["id"], "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50");
    assert_eq!(v["data"]["type"], "project");
    let pkeys: Vec<&str> = project
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(pkeys[pkeys.len() - 2..], ["created_at", "homepage"]);
    assert_eq!(
        project["homepage"],
        format!("http://quadrat.test/project/{SLUG}")
    );
    assert!(project.get("can_bulk_upload").is_none());
    // The stored definition is the file's, refs kept.
    let original = fixture("tree-survey-2024.json");
    assert_eq!(project["forms"], original["data"]["project"]["forms"]);
    assert_eq!(
        stats["structure_last_updated"].as_str().unwrap(),
        project["created_at"].as_str().unwrap()
    );
}

async fn export_project_resolves_slug_case_space_and_trailing_slash(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    for path in [
        "/api/export/project/TREE-SURVEY-2024",
        "/api/export/project/Tree%20Survey%202024",
        "/api/export/project/tree_survey_2024/",
    ] {
        let (status, _, body) = get(&server, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(parse(&body)["data"]["project"]["slug"], SLUG);
    }
}

async fn export_project_of_missing_trashed_or_private_project_is_404(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    let (status, _, body) = get(&server, "/api/export/project/nope").await;
    assert_eq!(status, 404);
    assert_eq!(
        error_of(&body),
        (
            "ec5_11".into(),
            "Project does not exist.".into(),
            "middleware".into()
        )
    );
    let (status, _, body) = get(&server, "/api/export/project/---").await;
    assert_eq!(status, 404);
    assert_eq!(error_of(&body).0, "ec5_21");

    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Status(ProjectStatus::Locked))
        .await
        .unwrap();
    let (status, _, _) = get(&server, &format!("/api/export/project/{SLUG}")).await;
    assert_eq!(status, 200, "locking does not hide a project");

    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Status(ProjectStatus::Trashed))
        .await
        .unwrap();
    let (status, _, body) = get(&server, &format!("/api/export/project/{SLUG}")).await;
    assert_eq!((status, error_of(&body).0.as_str()), (404, "ec5_11"));

    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Status(ProjectStatus::Active))
        .await
        .unwrap();
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    let (status, _, body) = get(&server, &format!("/api/export/project/{SLUG}")).await;
    assert_eq!(status, 404);
    assert_eq!(
        error_of(&body),
        (
            "ec5_256".into(),
            "Access denied.".into(),
            "middleware".into()
        )
    );
}

async fn unknown_route_and_wrong_method_answer_422_ec5_219(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    let (status, headers, body) = get(&server, "/api/nothing/here").await;
    assert_eq!(status, 422);
    assert_eq!(
        error_of(&body),
        (
            "ec5_219".into(),
            "Page not found.".into(),
            "page not found exception".into()
        )
    );
    assert_eq!(headers["access-control-allow-origin"], "*");
    let response = reqwest::Client::new()
        .post(server.url(&format!("/api/export/project/{SLUG}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body = response.text().await.unwrap();
    assert_eq!(error_of(&body).2, "method not allowed exception");
}

async fn options_preflight_answers_200_with_cors_headers(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    let response = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            server.url(&format!("/api/export/project/{SLUG}")),
        )
        .header("Origin", "https://example.org")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let h = response.headers().clone();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["access-control-allow-methods"], "GET,POST,OPTIONS");
    assert_eq!(
        h["access-control-allow-headers"],
        "Content-Type, Authorization, X-XSRF-TOKEN"
    );
    assert_eq!(
        h["access-control-expose-headers"],
        "Authorization, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining"
    );
    assert!(h["allow"].to_str().unwrap().contains("GET"));
    assert!(response.text().await.unwrap().is_empty());
}

async fn project_version_answers_structure_timestamp(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    let (status, _, body) = get(&server, &format!("/api/project-version/{SLUG}")).await;
    assert_eq!(status, 200);
    let v = parse(&body);
    assert_eq!(v["data"]["type"], "project-version");
    assert_eq!(v["data"]["id"], SLUG);
    let when = v["data"]["attributes"]["structure_last_updated"]
        .as_str()
        .unwrap();
    assert_eq!(when.len(), 19, "{when}");
    let version: i64 = v["data"]["attributes"]["version"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(version > 1_700_000_000);
    let (status, _, body) = get(&server, "/api/project-version/unknown").await;
    assert_eq!((status, error_of(&body).0.as_str()), (400, "ec5_11"));
}

async fn search_projects_matches_prefix_and_exact(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    for path in ["/api/projects/tree", "/api/json/projects/TREE%20surv"] {
        let (status, _, body) = get(&server, path).await;
        assert_eq!(status, 200);
        assert_eq!(
            parse(&body),
            json!({"data": [{"type": "project", "id": "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50",
                "project": {"name": "Tree Survey 2024", "slug": SLUG, "access": "private",
                            "ref": "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50"}}]}),
            "{path}: private and hidden projects are listed"
        );
    }
    let (_, _, body) = get(&server, "/api/projects/tree?exact=1").await;
    assert_eq!(parse(&body)["data"], json!([]));
    let (_, _, body) = get(&server, "/api/projects/tree%20survey%202024?exact=false").await;
    assert_eq!(parse(&body)["data"].as_array().unwrap().len(), 1);
    for path in ["/api/projects", "/api/projects/"] {
        let (status, _, body) = get(&server, path).await;
        assert_eq!((status, body.as_str()), (200, r#"{"data":[]}"#));
    }
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Status(ProjectStatus::Trashed))
        .await
        .unwrap();
    let (_, _, body) = get(&server, "/api/projects/tree").await;
    assert_eq!(parse(&body)["data"], json!([]));
}

async fn app_download_adds_extra_user_and_bulk_setting(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    let (status, _, body) = get(&server, &format!("/api/project/{SLUG}")).await;
    assert_eq!(status, 200, "{body}");
    let v = parse(&body);
    let meta_keys: Vec<&str> = v["meta"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        meta_keys,
        [
            "project_extra",
            "project_user",
            "project_mapping",
            "project_stats"
        ]
    );
    assert_eq!(v["meta"]["project_user"]["role"], Value::Null);
    assert_eq!(v["data"]["project"]["can_bulk_upload"], "nobody");
    assert!(v["meta"]["project_extra"]["forms"].is_object());
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    let (status, _, body) = get(&server, &format!("/api/json/project/{SLUG}")).await;
    assert_eq!((status, error_of(&body).0.as_str()), (404, "ec5_77"));
}

async fn hostile_paths_never_answer_500(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut nasty: Vec<String> = [
        "%00",
        "%FF%FE",
        "..%2F..%2Fetc",
        "%E2%80%AE",
        "a%2Fb",
        "%25",
        "😀",
        "'%20OR%201=1",
        "\u{0}",
        "%C0%AF",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for _ in 0..120 {
        // A small xorshift keeps the corpus reproducible without a dependency.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 40) as usize;
        let s: String = (0..len)
            .map(|i| format!("%{:02X}", (seed >> (i % 56)) as u8))
            .collect();
        nasty.push(s);
    }
    let client = reqwest::Client::new();
    for segment in &nasty {
        for prefix in [
            "/api/export/project/",
            "/api/projects/",
            "/api/project/",
            "/api/project-version/",
        ] {
            let url = format!("{}{prefix}{segment}", server.base_url);
            let Ok(response) = client.get(&url).send().await else {
                continue; // reqwest refused to build the URL: nothing reached the server
            };
            let status = response.status().as_u16();
            assert!(status < 500, "{url} answered {status}");
        }
    }
}

both_engines!(
    export_project_returns_definition_with_auto_mapping_and_stats,
    export_project_resolves_slug_case_space_and_trailing_slash,
    export_project_of_missing_trashed_or_private_project_is_404,
    unknown_route_and_wrong_method_answer_422_ec5_219,
    options_preflight_answers_200_with_cors_headers,
    project_version_answers_structure_timestamp,
    search_projects_matches_prefix_and_exact,
    app_download_adds_extra_user_and_bulk_setting,
    hostile_paths_never_answer_500,
);
