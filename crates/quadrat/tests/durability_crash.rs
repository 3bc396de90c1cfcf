//! The durability contract (docs/durability.md), shown with `strace` since a test cannot cut the
//! power: the server runs under `strace -f`, app clients upload entries and photos, and the
//! trace must show, before each acknowledgement (`ec5_237` written to the client's socket):
//!
//! - for an entry: a write of its uuid to the WAL, then a sync of the WAL;
//! - for a photo: a sync of its temporary file, its rename into place, a sync of the folder
//!   it was renamed into, then a sync of the WAL (the media totals naming it).
//!
//! Then the server is killed (`SIGKILL`), restarted, and every acknowledged upload is there.
//! The same run in `relaxed` mode must show acknowledgements with no WAL sync before them: the
//! check can tell the two modes apart. SQLite only: on PostgreSQL the server's own
//! `synchronous_commit` decides, which Quadrat never weakens.

#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use quadrat_testkit::TestDb;
use quadrat_testkit::process::Quadrat;
use quadrat_testkit::uploads::{
    PHOTO, PROJECT_REF, SITES, SLUG, another_site, multipart, new_uuid, photo_bytes,
    valid_file_entry, version_of,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const CLIENTS: usize = 4;
const SITES_PER_CLIENT: usize = 8;
const PHOTOS_PER_CLIENT: usize = 2;

/// What was acknowledged: entry uuids and photo names.
#[derive(Debug, Default)]
struct Acked {
    entries: Vec<String>,
    photos: Vec<String>,
}

fn strace_available() -> bool {
    std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Uploads sites (and photos of some) from parallel keep-alive clients; what was acknowledged.
async fn upload(base: &str, version: &str) -> Acked {
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (base, version) = (base.to_string(), version.to_string());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap();
            let url = format!("{base}/api/upload/{SLUG}");
            let mut acked = Acked::default();
            for i in 0..SITES_PER_CLIENT {
                let uuid = new_uuid();
                let data = another_site(&version, &uuid, &format!("Site {client}-{i}"));
                let answer = http
                    .post(&url)
                    .json(&json!({ "data": data }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
                acked.entries.push(uuid.clone());
                if i < PHOTOS_PER_CLIENT {
                    let name = format!("{uuid}_1717406127.jpg");
                    let data = valid_file_entry(&version, SITES, &uuid, PHOTO, "photo", &name);
                    let bytes = photo_bytes();
                    let (content_type, body) = multipart(
                        &data.to_string(),
                        Some((name.as_str(), "image/jpeg", &bytes)),
                    );
                    let answer = http
                        .post(&url)
                        .header("content-type", content_type)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
                    acked.photos.push(name);
                }
            }
            acked
        }));
    }
    let mut all = Acked::default();
    for task in tasks {
        let acked = task.await.unwrap();
        all.entries.extend(acked.entries);
        all.photos.extend(acked.photos);
    }
    all
}

/// One system call from the trace: where it began and ended (line numbers), its name, the
/// file its first argument names (`-y`), and its whole text.
#[derive(Debug)]
struct Call {
    begin: usize,
    end: usize,
    name: String,
    fd: String,
    text: String,
}

/// Reads `strace -f -y -o` output, joining `<unfinished …>` calls with their `resumed` ends.
fn parse_trace(log: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut pending: HashMap<&str, (usize, String)> = HashMap::new();
    for (line_no, line) in log.lines().enumerate() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        let (begin, text) = if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((_, tail)) = resumed.split_once(" resumed>") else {
                continue;
            };
            let Some((begin, head)) = pending.remove(pid) else {
                continue;
            };
            (begin, format!("{head}{tail}"))
        } else if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, (line_no, head.to_string()));
            continue;
        } else {
            (line_no, rest.to_string())
        };
        let Some((name, args)) = text.split_once('(') else {
            continue;
        };
        let fd = args
            .split_once('<')
            .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
            .and_then(|(_, r)| r.split_once('>'))
            .map(|(path, _)| path.to_string())
            .unwrap_or_default();
        calls.push(Call {
            begin,
            end: line_no,
            name: name.to_string(),
            fd,
            text,
        });
    }
    calls
}

fn is_sync(call: &Call) -> bool {
    call.name == "fsync" || call.name == "fdatasync"
}

fn is_socket_read(call: &Call) -> bool {
    matches!(call.name.as_str(), "read" | "recvfrom" | "recvmsg") && call.fd.starts_with("socket:")
}

fn is_socket_write(call: &Call) -> bool {
    matches!(
        call.name.as_str(),
        "write" | "writev" | "sendto" | "sendmsg"
    ) && call.fd.starts_with("socket:")
}

/// The quoted strings of a call (paths of a rename).
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while chars.by_ref().any(|c| c == '"') {
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

/// Every acknowledgement the trace shows without the syncs the contract puts before it, in
/// words. `entries` and `photos` are what the clients sent.
fn unsynced_acks(calls: &[Call], acked: &Acked) -> (usize, Vec<String>) {
    // Which upload each connection is answering: the last one whose body it read.
    let mut answering: HashMap<&str, &str> = HashMap::new();
    let mut acks = Vec::new();
    for call in calls {
        if is_socket_read(call) {
            let token = acked
                .photos
                .iter()
                .find(|p| call.text.contains(p.as_str()))
                .or_else(|| {
                    acked
                        .entries
                        .iter()
                        .find(|u| call.text.contains(u.as_str()))
                });
            if let Some(token) = token {
                answering.insert(&call.fd, token);
            }
        } else if is_socket_write(call)
            && call.text.contains("ec5_237")
            && let Some(token) = answering.remove(call.fd.as_str())
        {
            acks.push((call.begin, token));
        }
    }
    let wal_sync_between = |from: usize, to: usize| {
        calls
            .iter()
            .any(|c| is_sync(c) && c.fd.ends_with("-wal") && c.end > from && c.end < to)
    };
    let mut problems = Vec::new();
    for &(ack, token) in &acks {
        if token.ends_with(".jpg") {
            let renamed = calls.iter().find(|c| {
                c.name.starts_with("rename") && quoted(&c.text).iter().any(|p| p.ends_with(token))
            });
            let Some(renamed) = renamed else {
                problems.push(format!("{token}: no rename into place before its answer"));
                continue;
            };
            let paths = quoted(&renamed.text);
            let (from, to) = (&paths[0], &paths[paths.len() - 1]);
            let folder = Path::new(to)
                .parent()
                .unwrap()
                .to_string_lossy()
                .to_string();
            if !calls
                .iter()
                .any(|c| is_sync(c) && &c.fd == from && c.end < renamed.begin)
            {
                problems.push(format!(
                    "{token}: its file was not synced before the rename"
                ));
            }
            if !calls
                .iter()
                .any(|c| is_sync(c) && c.fd == folder && c.end > renamed.end && c.end < ack)
            {
                problems.push(format!(
                    "{token}: its folder was not synced before the answer"
                ));
            }
            if !wal_sync_between(renamed.end, ack) {
                problems.push(format!("{token}: no WAL sync between rename and answer"));
            }
        } else {
            let written = calls.iter().find(|c| {
                c.fd.ends_with("-wal") && c.name.starts_with("pwrite") && c.text.contains(token)
            });
            match written {
                None => problems.push(format!("{token}: never written to the WAL")),
                Some(w) if w.begin > ack => {
                    problems.push(format!("{token}: written to the WAL after its answer"))
                }
                Some(w) if !wal_sync_between(w.end, ack) => problems.push(format!(
                    "{token}: no WAL sync between its write and its answer"
                )),
                Some(_) => {}
            }
        }
    }
    (acks.len(), problems)
}

/// The pid of the process `strace` runs (its only child).
fn traced_pid(strace: u32) -> u32 {
    let children = std::fs::read_to_string(format!("/proc/{strace}/task/{strace}/children"))
        .unwrap_or_default();
    children
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("strace runs quadrat")
}

/// Runs the uploads under strace in `mode`, kills the server, restarts it; returns what was
/// acknowledged, how many answers the trace shows, and the contract's breaches.
async fn run(mode: &str) -> (Acked, usize, Vec<String>) {
    let db = TestDb::sqlite().await;
    let quadrat = Quadrat::on(BIN, &db);
    let file = quadrat_testkit::fixtures_dir().join("tree-survey-2024.json");
    quadrat.ok(&["project", "import", file.to_str().unwrap()]);
    let version = {
        let app = db.app().await;
        let version = version_of(&app.find_project(SLUG).await.unwrap());
        app.store.close().await;
        version
    };
    let log = db.data_dir().join("strace.log");
    let traced = quadrat.clone().wrapped_in(
        "strace",
        &[
            "-f",
            "-qq",
            "-y",
            "-s",
            "65536",
            "-e",
            "trace=read,recvfrom,recvmsg,write,writev,sendto,sendmsg,pwrite64,pwritev,\
             fsync,fdatasync,rename,renameat,renameat2",
            "-o",
            log.to_str().unwrap(),
            "--",
        ],
    );
    let mut server = traced.serve(&["--no-rate-limits", "--durability", mode]);
    let acked = upload(&server.base, &version).await;

    // Killed without warning (the closest a test gets to a crash), then restarted.
    let pid = traced_pid(server.child.id());
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = server.child.wait();
    let trace = std::fs::read_to_string(&log).expect("the trace");
    let calls = parse_trace(&trace);
    let (answers, problems) = unsynced_acks(&calls, &acked);
    let wal_syncs = calls
        .iter()
        .filter(|c| is_sync(c) && c.fd.ends_with("-wal"))
        .count();
    eprintln!("{mode}: {answers} answers, {wal_syncs} WAL syncs (group commit shares them)");

    let again = quadrat.serve(&["--no-rate-limits"]);
    let export: Value = reqwest::get(format!("{}/api/export/project/{SLUG}", again.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["meta"]["project_stats"]["total_entries"],
        acked.entries.len(),
        "{export}"
    );
    let app = db.app().await;
    let project = app.find_project(SLUG).await.unwrap();
    let stored: Vec<String> = app
        .store
        .entry_rows(project.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uuid)
        .collect();
    for uuid in &acked.entries {
        assert!(stored.contains(uuid), "{uuid} was acknowledged, then lost");
    }
    let folder = db
        .media_dir()
        .join("entries")
        .join("photo")
        .join(PROJECT_REF);
    for name in &acked.photos {
        assert!(
            folder.join(name).is_file(),
            "{name} was acknowledged, then lost"
        );
    }
    app.store.close().await;
    (acked, answers, problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_upload_was_synced_first_and_survives_a_kill() {
    if !strace_available() {
        eprintln!("skipped: strace is not installed (apt-get install strace)");
        return;
    }
    let (acked, answers, problems) = run("safe").await;
    let expected = acked.entries.len() + acked.photos.len();
    assert_eq!(answers, expected, "the trace shows every answer");
    assert!(problems.is_empty(), "safe mode: {problems:#?}");
    eprintln!(
        "safe: {} entries and {} photos, each synced before its answer",
        acked.entries.len(),
        acked.photos.len()
    );

    // The check is not blind: relaxed mode answers before the WAL is synced.
    let (_, answers, problems) = run("relaxed").await;
    assert_eq!(answers, expected);
    let unsynced = problems
        .iter()
        .filter(|p| p.contains("no WAL sync"))
        .count();
    assert!(
        unsynced > 0,
        "relaxed mode should show answers before a WAL sync"
    );
    eprintln!("relaxed: {unsynced} of {answers} answers came before any WAL sync");
}
