//! Writes never fail for contention (issue 9, row 2): while eight app clients upload to a
//! running server as fast as it answers, the CLI revokes tokens and imports projects in other
//! processes and a manager revokes the app's tokens over HTTP. Every one of them succeeds, and
//! every upload is answered `ec5_237` and stored. Before SQLite write transactions started as
//! writers (`BEGIN IMMEDIATE`), 14–16 of 40 revocations failed with `database is locked`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use quadrat_testkit::process::Quadrat;
use quadrat_testkit::uploads::{SLUG, another_site, new_uuid, version_of};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const UPLOADERS: usize = 8;
const REVOCATIONS: usize = 12;
const IMPORTS: usize = 6;
const HTTP_REVOCATIONS: usize = 12;

async fn cli_and_http_writes_succeed_beside_parallel_uploads(db: TestDb) {
    let quadrat = Quadrat::on(BIN, &db);
    let file = fixtures_dir().join("tree-survey-2024.json");
    let file = file.to_str().unwrap().to_string();
    quadrat.ok(&["project", "import", &file]);
    quadrat
        .run_with_stdin(
            &["user", "create", "ann@example.org", "--password-stdin"],
            "correct horse battery\n",
        )
        .ok();
    quadrat.ok(&[
        "project",
        "member",
        "add",
        SLUG,
        "ann@example.org",
        "manager",
    ]);
    quadrat.ok(&["app", "create", SLUG, "--name", "Field App"]);
    let version = {
        let app = db.app().await;
        let project = app.find_project(SLUG).await.unwrap();
        let version = version_of(&project);
        app.store.close().await;
        version
    };
    let server = quadrat.serve(&["--no-rate-limits"]);
    let base = server.base.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let login: Value = http
        .post(format!("{base}/api/login/local"))
        .json(&json!({"username": "ann@example.org", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = login["data"]["jwt"]
        .as_str()
        .expect("a user token")
        .to_string();

    // The load: each client uploads new sites until the writes below are done.
    let stop = Arc::new(AtomicBool::new(false));
    let mut uploaders = Vec::new();
    for client in 0..UPLOADERS {
        let (http, base, version, stop) =
            (http.clone(), base.clone(), version.clone(), stop.clone());
        uploaders.push(tokio::spawn(async move {
            let mut stored = 0u64;
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) || stored == 0 {
                i += 1;
                let data = another_site(&version, &new_uuid(), &format!("Site {client}-{i}"));
                let response = http
                    .post(format!("{base}/api/upload/{SLUG}"))
                    .json(&json!({ "data": data }))
                    .send()
                    .await
                    .expect("an answer");
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                assert!(
                    status == 200 && body.contains("ec5_237"),
                    "upload {client}-{i}: {status} {body}"
                );
                stored += 1;
            }
            stored
        }));
    }

    // The CLI writes, in other processes, one after another while the uploads run.
    let cli = {
        let quadrat = quadrat.clone();
        tokio::task::spawn_blocking(move || {
            let mut failures = Vec::new();
            for i in 0..REVOCATIONS.max(IMPORTS) {
                let mut runs = Vec::new();
                if i < REVOCATIONS {
                    runs.push(quadrat.run(&["app", "revoke-tokens", SLUG]));
                }
                if i < IMPORTS {
                    let name = format!("Copy {i}");
                    runs.push(quadrat.run(&[
                        "project",
                        "import",
                        &file,
                        "--new-ref",
                        "--name",
                        &name,
                    ]));
                }
                failures.extend(
                    runs.into_iter()
                        .filter(|r| !r.success())
                        .map(|r| format!("{:?}: {}", r.args, r.stderr)),
                );
            }
            failures
        })
    };
    // And a manager revoking the app's tokens over HTTP at the same time.
    let mut http_failures = Vec::new();
    for _ in 0..HTTP_REVOCATIONS {
        let response = http
            .post(format!("{base}/myprojects/{SLUG}/app-revoke"))
            .bearer_auth(&jwt)
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if status != 200 || !body.contains("ec5_398") {
            http_failures.push(format!("{status} {body}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cli_failures = cli.await.expect("the CLI runs");
    stop.store(true, Ordering::Relaxed);
    let mut uploaded = 0;
    for task in uploaders {
        uploaded += task.await.expect("an upload client");
    }
    assert!(
        cli_failures.is_empty(),
        "CLI writes failed: {cli_failures:#?}"
    );
    assert!(
        http_failures.is_empty(),
        "app-revoke failed: {http_failures:#?}"
    );

    // Every acknowledged upload is there, and the copies were imported.
    let export: Value = http
        .get(format!("{base}/api/export/project/{SLUG}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["meta"]["project_stats"]["total_entries"], uploaded);
    let listed = quadrat.ok(&["project", "list", "--json"]);
    let listed: Value = serde_json::from_str(listed.trim()).unwrap();
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1 + IMPORTS),
        "{listed}"
    );
    eprintln!(
        "{uploaded} uploads beside {REVOCATIONS} CLI revocations, {IMPORTS} imports and {HTTP_REVOCATIONS} HTTP revocations"
    );
}

both_engines!(cli_and_http_writes_succeed_beside_parallel_uploads);
