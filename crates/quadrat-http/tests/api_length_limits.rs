//! User-supplied strings that reach a SQL `LIKE` pattern have a length limit, answered with a
//! 400 in the envelope on both engines (docs/protocol.md §8.3, §10.1): SQLite refuses patterns
//! over 50,000 bytes, which used to surface as `500 ec5_116`.

use quadrat_app::projects::{ImportOptions, MAX_SEARCH_NAME_CHARS};
use quadrat_core::export::params::MAX_TITLE_FILTER_CHARS;
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use serde_json::Value;

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

async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    let response = reqwest::get(server.url(path)).await.expect("request");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    (status, json)
}

fn first_error(body: &Value) -> (&str, &str, &str) {
    let e = &body["errors"][0];
    (
        e["code"].as_str().unwrap_or_default(),
        e["title"].as_str().unwrap_or_default(),
        e["source"].as_str().unwrap_or_default(),
    )
}

async fn export_title_over_the_limit_is_400_ec5_44(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    for title in [
        "a".repeat(60_000),
        "%".repeat(60_000),
        "a".repeat(MAX_TITLE_FILTER_CHARS + 1),
    ] {
        let (status, body) = get(
            &server,
            &format!("/api/export/entries/{SLUG}?title={title}"),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            first_error(&body),
            ("ec5_44", "Value too long", "title"),
            "{body}"
        );
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
    }
    // At the limit, even a pattern of nothing but wildcards, is a search like any other.
    let wild = "%25_".repeat(MAX_TITLE_FILTER_CHARS / 2);
    for title in ["a".repeat(MAX_TITLE_FILTER_CHARS), wild] {
        let (status, body) = get(
            &server,
            &format!("/api/export/entries/{SLUG}?title={title}"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["meta"]["total"], 0);
    }
    let (status, body) = get(
        &server,
        &format!(
            "/api/export/entries/{SLUG}?format=csv&title={}",
            "b".repeat(60_000)
        ),
    )
    .await;
    assert_eq!((status, first_error(&body).0), (400, "ec5_44"));
}

async fn project_search_over_the_limit_is_400_ec5_44(db: TestDb) {
    let server = server_with_tree_survey(&db).await;
    for path in ["/api/projects/", "/api/json/projects/"] {
        for exact in ["", "?exact=1"] {
            let long = "a".repeat(60_000);
            let (status, body) = get(&server, &format!("{path}{long}{exact}")).await;
            assert_eq!(status, 400, "{body}");
            assert_eq!(first_error(&body), ("ec5_44", "Value too long", "name"));
            let wild = "%25".repeat(MAX_SEARCH_NAME_CHARS + 1);
            let (status, body) = get(&server, &format!("{path}{wild}{exact}")).await;
            assert_eq!((status, first_error(&body).0), (400, "ec5_44"), "{body}");
        }
        // The longest name a project may have is still a search.
        let (status, body) = get(
            &server,
            &format!("{path}{}", "t".repeat(MAX_SEARCH_NAME_CHARS)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"], serde_json::json!([]));
        let (status, body) = get(&server, &format!("{path}Tree%20Survey")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"][0]["project"]["slug"], SLUG);
    }
}

both_engines!(
    export_title_over_the_limit_is_400_ec5_44,
    project_search_over_the_limit_is_400_ec5_44,
);
