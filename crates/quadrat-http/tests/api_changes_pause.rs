//! extensions.md §1.9 item 5, first half (PostgreSQL, rate limits off): writer T1 is paused for
//! 500 ms right after it takes its project's change counter; T2 uploads meanwhile; a reader
//! polling the feed every 10 ms never sees a gap: T2's seq can appear only after T1's, because T2
//! cannot take a number until T1 has committed. Its own test binary, since the pause hook is
//! process-wide.

use std::time::{Duration, Instant};

use quadrat_store::change_pause;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer};
use serde_json::{Value, json};

const PATH: &str = "/api/export/changes/tree-survey-2024";

async fn upload(base: String, data: Value) -> Instant {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/upload/{SLUG}"))
        .json(&json!({ "data": data }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    Instant::now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_writer_holds_back_later_writers_and_readers_see_no_gap() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let server = TestServer::start(&db).await;
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);

    change_pause::next_writer(Duration::from_millis(500));
    let started = Instant::now();
    let t1 = tokio::spawn(upload(
        server.base_url.clone(),
        another_site(&version, &new_uuid(), "First"),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t2 = tokio::spawn(upload(
        server.base_url.clone(),
        another_site(&version, &new_uuid(), "Second"),
    ));

    let reader = reqwest::Client::new();
    let mut cursor: Option<String> = None;
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut polls = 0;
    let mut empty_during_pause = 0;
    loop {
        let done = t1.is_finished() && t2.is_finished();
        let query = match &cursor {
            Some(c) => format!("per_page=50&cursor={c}"),
            None => "per_page=50".to_string(),
        };
        let page: Value = reader
            .get(server.url(&format!("{PATH}?{query}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        polls += 1;
        let items = page["data"]["changes"].as_array().unwrap();
        if items.is_empty() && started.elapsed() < Duration::from_millis(400) {
            empty_during_pause += 1;
        }
        for item in items {
            let seq = item["seq"].as_i64().unwrap();
            // Never a gap: each seq seen is the one after the last.
            assert_eq!(seq, seen.len() as i64 + 1, "gap after {seen:?}: {item}");
            seen.push((seq, item["entry"]["title"].as_str().unwrap().to_string()));
        }
        cursor = Some(page["meta"]["next_cursor"].as_str().unwrap().to_string());
        if done && page["meta"]["has_more"] == false {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never caught up"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t1.await.unwrap();
    let second_done = t2.await.unwrap();
    assert_eq!(
        seen,
        [(1, "First".to_string()), (2, "Second".to_string())],
        "T1 took the counter first; T2 came after it"
    );
    assert!(
        second_done.duration_since(started) >= Duration::from_millis(450),
        "T2 waited for the paused T1"
    );
    assert!(
        empty_during_pause >= 3,
        "the reader polled during the pause and saw nothing ({polls} polls)"
    );
}
