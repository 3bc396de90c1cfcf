//! `quadrat serve` as a process, sharing its data with CLI commands run beside it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quadrat_testkit::{TestDb, both_engines, fixtures_dir};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");

/// A running server process, killed when dropped.
struct Served {
    child: Child,
    base: String,
    stdout: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &TestDb, extra: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("QUADRAT_DATA_DIR", db.data_dir())
        .env("QUADRAT_DATABASE_URL", &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting quadrat serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logs its URL");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    Served {
        child,
        base,
        stdout: Vec::new(),
    }
}

fn cli(db: &TestDb, args: &[&str]) {
    let out = Command::new(BIN)
        .args(args)
        .env("QUADRAT_DATA_DIR", db.data_dir())
        .env("QUADRAT_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    while server.stdout.len() < 6 {
        match lines.next() {
            Some(Ok(line)) => server.stdout.push(line),
            _ => break,
        }
    }
    let curls: Vec<&String> = server
        .stdout
        .iter()
        .filter(|l| l.trim_start().starts_with("curl"))
        .collect();
    assert!(!curls.is_empty(), "{:?}", server.stdout);
    for line in curls {
        let url = line.split('\'').nth(1).expect("quoted URL");
        assert!(url.starts_with(&server.base), "{url}");
        assert_eq!(status_of(url).await, 200, "{url}");
    }
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

both_engines!(
    cli_changes_take_effect_on_the_running_server,
    demo_seeds_a_project_and_prints_working_curl_lines,
);
