//! `quadrat serve` as a service manager runs it: SIGTERM lets a request in flight finish, refuses
//! new connections and exits 0 (or cuts off what outlives the grace period); the request log is
//! one JSON line per request with its id, and no password, token or secret ever reaches it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use quadrat_testkit::process::{Quadrat, ServedProcess};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::{Value, json};

fn quadrat(db: &TestDb) -> Quadrat {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db)
}

fn address(server: &ServedProcess) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// Headers of an upload whose body is `len` bytes long.
fn upload_head(server: &ServedProcess, len: usize) -> String {
    format!(
        "POST /api/upload/{SLUG} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/vnd.api+json\r\n\
         Content-Length: {len}\r\n\r\n",
        address(server)
    )
}

async fn sigterm_lets_an_upload_in_flight_finish_refuses_new_connections_and_exits_0(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let body = json!({"data": another_site(&version_of(&project), &new_uuid(), "Late site")})
        .to_string()
        .into_bytes();
    let mut server = quadrat(&db)
        .env("QUADRAT_SHUTDOWN_GRACE_SECONDS", "30")
        .serve(&[]);
    let mut stream = TcpStream::connect(address(&server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(upload_head(&server, body.len()).as_bytes())
        .unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(300));

    server.terminate();
    std::thread::sleep(Duration::from_millis(500));
    let refused = TcpStream::connect(address(&server));
    assert!(
        refused.is_err(),
        "a new connection after SIGTERM must be refused"
    );
    // The rest of the body, slowly: the request is still in flight.
    for chunk in rest.chunks(rest.len() / 4 + 1) {
        stream.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("ec5_237"), "{answer}");

    let status = server
        .wait_exit(Duration::from_secs(20))
        .expect("the server exits once the request is done");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    let log = server.stderr();
    assert!(log.contains("shutdown: no new connections"), "{log}");
    assert!(log.contains("shutdown: every request finished"), "{log}");
    // The entry was stored.
    assert_eq!(snapshot(&app, &project).await.entries.len(), 1);
}

async fn sigterm_cuts_off_a_request_that_outlives_the_grace_period(db: TestDb) {
    import_tree_survey(&db.app().await).await;
    let mut server = quadrat(&db)
        .env("QUADRAT_SHUTDOWN_GRACE_SECONDS", "1")
        .serve(&[]);
    let mut stream = TcpStream::connect(address(&server)).unwrap();
    // A body that never comes.
    stream
        .write_all(upload_head(&server, 1000).as_bytes())
        .unwrap();
    stream.write_all(b"{\"data\":").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    let status = server
        .wait_exit(Duration::from_secs(15))
        .expect("the server exits after the grace period");
    assert_eq!(status.code(), Some(0));
    let log = server.stderr();
    assert!(log.contains("grace period over"), "{log}");
}

async fn request_lines_are_json_with_their_id_and_never_hold_secrets(db: TestDb) {
    let app = db.app().await;
    import_tree_survey(&app).await;
    let password = "correct horse battery staple";
    let q = quadrat(&db);
    q.run_with_stdin(
        &[
            "user",
            "create",
            "ann@example.org",
            "--name",
            "Ann",
            "--password-stdin",
        ],
        &format!("{password}\n"),
    )
    .ok();
    let app_json = q.run(&["app", "create", SLUG, "--name", "Log test", "--json"]);
    let client = app_json.json();
    let client_secret = client["client_secret"].as_str().unwrap().to_string();
    let metrics_token = "metrics-bearer-9f8e7d";
    let server = q
        .env("QUADRAT_LOG_FORMAT", "json")
        .env("QUADRAT_METRICS__TOKEN", metrics_token)
        .serve(&[]);
    let http = reqwest::Client::new();
    let base = &server.base;

    let wrong = http
        .post(format!("{base}/api/login/local"))
        .json(&json!({"username": "ann@example.org", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_ne!(wrong.status().as_u16(), 200);
    let login: Value = http
        .post(format!("{base}/api/login/local"))
        .header("x-request-id", "login-request-1")
        .json(&json!({"username": "ann@example.org", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = login["data"]["jwt"].as_str().unwrap().to_string();
    for url in [
        format!("{base}/api/project/{SLUG}?jwt={jwt}"),
        format!("{base}/api/json/project/{SLUG}"),
    ] {
        let response = http.get(url).bearer_auth(&jwt).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let issued: Value = http
        .post(format!("{base}/api/oauth/token"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client_secret,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = issued["access_token"].as_str().unwrap().to_string();
    let export = http
        .get(format!("{base}/api/export/entries/{SLUG}"))
        .bearer_auth(&access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 200);
    let metrics = http
        .get(format!("{base}/metrics"))
        .bearer_auth(metrics_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("quadrat_tokens_issued_total{kind=\"user\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("quadrat_tokens_issued_total{kind=\"client\"} 1"),
        "{metrics}"
    );
    // The last line is written once the answer is sent.
    std::thread::sleep(Duration::from_millis(300));

    let log = server.stderr();
    for secret in [
        password,
        "not the password",
        jwt.as_str(),
        client_secret.as_str(),
        access_token.as_str(),
        metrics_token,
    ] {
        assert!(!log.contains(secret), "{secret:?} is in the log:\n{log}");
    }
    assert!(!log.contains("jwt="), "{log}");
    let requests: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v| v["target"] == "quadrat::request")
        .collect();
    assert_eq!(requests.len(), 6, "{log}");
    let login_line = requests
        .iter()
        .find(|v| v["request_id"] == "login-request-1")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(login_line["route"], "/api/login/local");
    assert_eq!(login_line["method"], "POST");
    assert_eq!(login_line["status"], 200);
    assert_eq!(login_line["client_ip"], "127.0.0.1");
    assert!(login_line["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(login_line["bytes"].as_u64().unwrap() > 0);
    let routes: Vec<&str> = requests
        .iter()
        .map(|v| v["route"].as_str().unwrap())
        .collect();
    assert!(routes.contains(&"/api/project/{slug}"), "{routes:?}");
    assert!(routes.contains(&"/api/export/entries/{slug}"), "{routes:?}");
}

both_engines!(
    sigterm_lets_an_upload_in_flight_finish_refuses_new_connections_and_exits_0,
    sigterm_cuts_off_a_request_that_outlives_the_grace_period,
    request_lines_are_json_with_their_id_and_never_hold_secrets,
);
