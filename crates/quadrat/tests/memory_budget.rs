//! The server process stays within its memory budget under hostile load (README, "Memory"):
//! a flood of wrong-password logins, made-up project slugs by the thousand, and upload bodies
//! far over the limit or built to balloon when parsed. Each test starts the real binary, drives
//! the load over loopback and reads the process's peak resident memory (`VmHWM`) and its
//! resident memory afterwards (`VmRSS`) from `/proc`. Ceilings are the budget's parts plus a
//! margin for the debug build and the allocator (measured figures are in the README); before
//! the budget, these loads took 4 GB, 258 MB and 1.85 GB.

#![cfg(target_os = "linux")]

use std::time::Duration;

use quadrat_testkit::process::{Quadrat, ServedProcess};
use quadrat_testkit::{TestDb, fixtures_dir};
use tokio::task::JoinSet;

const MIB: u64 = 1024 * 1024;

/// A status line field of `/proc/<pid>/status`, in bytes.
fn status_bytes(server: &ServedProcess, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("the server is running");
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc status"))
}

/// Resident memory now and at its peak, in MiB, for the failure messages.
fn report(server: &ServedProcess, idle: u64) -> String {
    format!(
        "idle {} MiB, peak {} MiB, now {} MiB",
        idle / MIB,
        status_bytes(server, "VmHWM") / MIB,
        status_bytes(server, "VmRSS") / MIB
    )
}

fn quadrat(db: &TestDb) -> Quadrat {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db)
}

/// Waits for the server to settle, then its resident memory.
async fn idle_rss(server: &ServedProcess) -> u64 {
    tokio::time::sleep(Duration::from_millis(300)).await;
    status_bytes(server, "VmRSS")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// `(status, first ec5 code)`, or `(0, "")` when the server cut the connection (a body it
/// refused before reading it all).
async fn outcome(response: Result<reqwest::Response, reqwest::Error>) -> (u16, String) {
    let Ok(response) = response else {
        return (0, String::new());
    };
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let code = body["errors"][0]["code"].as_str().unwrap_or("").to_string();
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_hashes_within_its_budget_and_gives_memory_back() {
    let db = TestDb::sqlite().await;
    quadrat(&db)
        .run_with_stdin(
            &["user", "create", "ann@example.org", "--password-stdin"],
            "correct horse battery\n",
        )
        .ok();
    let server = quadrat(&db)
        // Two hashes at once, 16 waiting: 2 × 19 MiB of hashing memory at most. The throttle is
        // off, so every attempt reaches the hasher.
        .env("QUADRAT_PASSWORDS__CONCURRENCY", "2")
        .env("QUADRAT_PASSWORDS__QUEUE", "16")
        .serve(&["--no-rate-limits"]);
    let idle = idle_rss(&server).await;
    let http = client();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let mut flood = JoinSet::new();
        for _ in 0..200 {
            let request = http
                .post(format!("{}/api/login/local", server.base))
                .header("content-type", "application/vnd.api+json")
                .body(r#"{"username":"ann@example.org","password":"wrong password!"}"#)
                .send();
            flood.spawn(async move { outcome(request.await).await });
        }
        answers.extend(flood.join_all().await);
    }
    let refused = answers.iter().filter(|a| a.0 == 404).count();
    let busy = answers.iter().filter(|a| a.0 == 429).count();
    assert_eq!(refused + busy, 600, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, c)| (*s, c.as_str()) == (404, "ec5_12")
                || (*s, c.as_str()) == (429, "ec5_255"))
    );
    assert!(refused >= 18 && busy > 0, "refused {refused}, busy {busy}");
    let peak = status_bytes(&server, "VmHWM");
    // Unbounded, 200 parallel checks took 4 GB. Two buffers of 19 MiB, plus 200 connections.
    assert!(
        peak < idle + 90 * MIB,
        "login flood: {}",
        report(&server, idle)
    );
    // Idle for two seconds, the hashing buffers are unmapped: back near the idle level.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = status_bytes(&server, "VmRSS");
    assert!(
        after < idle + 20 * MIB,
        "after the flood: {}",
        report(&server, idle)
    );
    eprintln!("login flood: {}", report(&server, idle));
}

/// How many answers had each status.
fn count(answers: &[(u16, String)], status: u16) -> usize {
    answers.iter().filter(|a| a.0 == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn made_up_slugs_cost_no_limiter_memory() {
    let db = TestDb::sqlite().await;
    // A global budget of 100 a minute keeps the run short (normalising a 60 KB slug is slow in
    // a debug build).
    let server = quadrat(&db)
        .env("QUADRAT_RATE_LIMITS__GLOBAL_PER_MINUTE", "80")
        .serve(&[]);
    let idle = idle_rss(&server).await;
    let http = client();
    let mut answers = Vec::new();
    // Exports of projects that do not exist, each slug 60 KB: the limiter used to keep every
    // slug as a bucket name (4,000 took 236 MB, kept after).
    for batch in 0..4 {
        let mut set = JoinSet::new();
        for i in 0..50 {
            let seed = batch * 50 + i;
            let slug: String = (0..60_000)
                .map(|j: usize| char::from(b'a' + ((seed * 7 + j * 13) % 26) as u8))
                .collect();
            let request = http
                .get(format!("{}/api/export/entries/{slug}", server.base))
                .send();
            set.spawn(async move { outcome(request.await).await });
        }
        answers.extend(set.join_all().await);
    }
    // They cost no per-project window: they count against the caller's global budget, and
    // once it is spent they are refused.
    let (unknown, limited) = (count(&answers, 404), count(&answers, 429));
    assert_eq!((unknown, limited), (80, 120), "404s and 429s of 200");
    let peak = status_bytes(&server, "VmHWM");
    assert!(peak < idle + 40 * MIB, "slugs: {}", report(&server, idle));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = status_bytes(&server, "VmRSS");
    assert!(
        after < idle + 25 * MIB,
        "after the slugs: {}",
        report(&server, idle)
    );
    eprintln!("made-up slugs: {}", report(&server, idle));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_bodies_over_the_limit_or_ballooning_stay_within_the_body_budget() {
    let db = TestDb::sqlite().await;
    let file = fixtures_dir().join("tree-survey-2024.json");
    quadrat(&db).ok(&["project", "import", &file.display().to_string()]);
    let server = quadrat(&db).serve(&["--no-rate-limits"]);
    let idle = idle_rss(&server).await;
    let http = client();
    let url = format!("{}/api/upload/tree-survey-2024", server.base);
    let send = |set: &mut JoinSet<(u16, String)>, body: std::sync::Arc<Vec<u8>>| {
        let request = http
            .post(&url)
            .header("content-type", "application/vnd.api+json")
            .body(body.to_vec())
            .send();
        set.spawn(async move { outcome(request.await).await });
    };
    // 20 parallel 16 MB bodies (1.85 GB peak before): refused once past 1 MiB.
    let huge = std::sync::Arc::new(
        format!(
            r#"{{"data":{{"type":"entry","x":"{}"}}}}"#,
            "a".repeat(16 << 20)
        )
        .into_bytes(),
    );
    let mut set = JoinSet::new();
    for _ in 0..20 {
        send(&mut set, huge.clone());
    }
    let answers = set.join_all().await;
    assert!(
        answers
            .iter()
            .all(|(s, c)| *s == 0 || (*s, c.as_str()) == (400, "ec5_206")),
        "16 MB bodies: only ec5_206 or a cut connection; {} were 400",
        count(&answers, 400)
    );
    drop(huge);
    // 20 parallel bodies just under the limit, built to balloon when parsed (57 MiB each):
    // parsed one or two at a time, the others wait or are told to come back.
    let unit = r#"{"a":0},"#;
    let balloon = std::sync::Arc::new(
        format!(
            r#"{{"data":[{}{{}}]}}"#,
            unit.repeat(((1 << 20) - 16) / unit.len())
        )
        .into_bytes(),
    );
    assert!(balloon.len() <= 1 << 20);
    let mut set = JoinSet::new();
    for _ in 0..20 {
        send(&mut set, balloon.clone());
    }
    let answers = set.join_all().await;
    assert!(
        answers
            .iter()
            .all(|(s, c)| matches!((*s, c.as_str()), (400, _) | (429, "ec5_255"))),
        "only 400s and 429 ec5_255"
    );
    let (parsed, busy) = (count(&answers, 400), count(&answers, 429));
    assert_eq!(parsed + busy, 20, "400s {parsed}, 429s {busy} of 20");
    assert!(parsed > 0, "none was parsed");
    let peak = status_bytes(&server, "VmHWM");
    // The body budget is 128 MiB (32 received, 96 parsed, one such body at a time).
    assert!(
        peak < idle + 160 * MIB,
        "uploads: {}",
        report(&server, idle)
    );
    eprintln!("upload bodies: {}", report(&server, idle));
}
