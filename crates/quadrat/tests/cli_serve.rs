//! `quadrat serve` as a process, sharing its data with CLI commands run beside it.

use std::io::{BufRead, BufReader};

use quadrat_testkit::process::{Quadrat, ServedProcess};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir};

fn quadrat(db: &TestDb) -> Quadrat {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db)
}

fn serve(db: &TestDb, extra: &[&str]) -> ServedProcess {
    quadrat(db).serve(extra)
}

fn cli(db: &TestDb, args: &[&str]) {
    quadrat(db).ok(args);
}

async fn status_of(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

async fn cli_changes_take_effect_on_the_running_server(db: TestDb) {
    let server = serve(&db, &[]);
    let url = format!("{}/api/export/project/tree-survey-2024", server.base);
    assert_eq!(status_of(&url).await, 404);
    let file = fixtures_dir().join("tree-survey-2024.json");
    cli(&db, &["project", "import", &file.display().to_string()]);
    assert_eq!(status_of(&url).await, 200);
    cli(
        &db,
        &["project", "set", "tree-survey-2024", "access", "private"],
    );
    assert_eq!(status_of(&url).await, 404);
    cli(
        &db,
        &["project", "set", "tree-survey-2024", "access", "public"],
    );
    cli(
        &db,
        &["project", "set", "tree-survey-2024", "status", "trashed"],
    );
    assert_eq!(status_of(&url).await, 404);
    cli(&db, &["project", "delete", "tree-survey-2024"]);
    assert_eq!(status_of(&url).await, 404);
}

async fn demo_seeds_a_project_and_prints_working_curl_lines(db: TestDb) {
    let mut server = serve(&db, &["--demo"]);
    let stdout = server.child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    while printed.len() < 7 {
        match lines.next() {
            Some(Ok(line)) => printed.push(line),
            _ => break,
        }
    }
    let curls: Vec<&String> = printed
        .iter()
        .filter(|l| l.trim_start().starts_with("curl"))
        .collect();
    assert!(!curls.is_empty(), "{printed:?}");
    for line in curls {
        let url = line.split('\'').nth(1).expect("quoted URL");
        assert!(url.starts_with(&server.base), "{url}");
        assert_eq!(status_of(url).await, 200, "{url}");
    }
    // A demo administrator for the web pages, whose printed password works.
    let login = printed
        .iter()
        .find(|l| l.starts_with("Log in to the web pages at "))
        .unwrap_or_else(|| panic!("no login line in {printed:?}"));
    assert!(
        login.contains(&format!("{}/login as ", server.base)),
        "{login}"
    );
    let words: Vec<&str> = login.split_whitespace().collect();
    let (email, password) = (words[words.len() - 4], words[words.len() - 1]);
    let answer = reqwest::Client::new()
        .post(format!("{}/api/login/local", server.base))
        .json(&serde_json::json!({"username": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{login}");
    // The demo project comes with a few entries, stored through the upload validation.
    let project = format!("{}/api/export/project/garden-birds", server.base);
    let body: serde_json::Value = reqwest::get(&project).await.unwrap().json().await.unwrap();
    assert_eq!(body["meta"]["project_stats"]["total_entries"], 3, "{body}");
    let entries = format!("{}/api/export/entries/garden-birds", server.base);
    let body: serde_json::Value = reqwest::get(&entries).await.unwrap().json().await.unwrap();
    let titles: Vec<&str> = body["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 3, "{body}");
    assert!(
        titles.iter().any(|t| t.contains("Rose Corner")),
        "{titles:?}"
    );
}

/// `deployment = "cluster"` refuses what would keep state in one process (each named), and
/// starts once the database, the signing key and the rate-limit windows are shared.
async fn a_cluster_node_starts_only_on_shared_parts(db: TestDb) {
    let node = quadrat(&db).env("QUADRAT_DEPLOYMENT", "cluster");
    let refused = node.fails(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        refused.contains("oauth.private_key_file") && refused.contains("rate_limits.store"),
        "{refused}"
    );
    let on_sqlite = db.url.starts_with("sqlite");
    assert_eq!(
        refused.contains("database_url must be a postgres"),
        on_sqlite,
        "{refused}"
    );
    assert!(
        !db.data_dir().join("keys").exists(),
        "a refused node made no key"
    );
    if on_sqlite {
        return;
    }
    quadrat(&db).ok(&["keys", "generate"]);
    let key = db.data_dir().join("keys/oauth-private.pem");
    let server = node
        .env("QUADRAT_OAUTH__PRIVATE_KEY_FILE", key.as_os_str())
        .env("QUADRAT_RATE_LIMITS__STORE", "database")
        .serve(&[]);
    assert_eq!(
        status_of(&format!("{}/api/projects/tree", server.base)).await,
        200
    );
}

both_engines!(
    a_cluster_node_starts_only_on_shared_parts,
    cli_changes_take_effect_on_the_running_server,
    demo_seeds_a_project_and_prints_working_curl_lines,
);
