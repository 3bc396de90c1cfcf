//! `quadrat mirror` between two local Quadrat instances (docs/protocol.md §18.6): R, a real
//! server on a loopback port seeded with the tree-survey fixture (two forms, a branch, a group,
//! a photo, a custom mapping), reached through a fault-injecting proxy that makes it look like
//! the real server; the mirror run as the `quadrat` binary into L (the database under test, on
//! SQLite and PostgreSQL); L's exports then served and compared with R's.

mod mirror_proxy;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mirror_proxy::{Faults, Proxy, Ties};
use quadrat_app::projects::ResolvedProject;
use quadrat_app::upload::MirroredRow;
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_testkit::uploads::{
    ACCESSIBLE, PHOTO, PROJECT_REF, SITE_NAME, SITES, SLUG, SPECIES, SURVEY_DATE, TREE_COUNT,
    another_site, another_tree, another_visit, import_tree_survey, new_uuid, photo_bytes,
    photo_entry, post_entry, post_file, version_of,
};
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
/// Fast enough for a test; the pacing itself is unit-tested.
const RATES: &str =
    "entries=6000/min,project=6000/min,media=6000/min,changes=6000/min,token=600/min";

/// R behind the proxy, and the mirror's side.
struct Pair {
    r: TestServer,
    _r_db: TestDb,
    l_db: TestDb,
    proxy: Proxy,
    cache: TempDir,
    /// Uuids of R's Sites entries, in upload order.
    sites: Vec<String>,
}

impl Pair {
    async fn new(l_db: TestDb) -> Pair {
        let r_db = TestDb::sqlite().await;
        let r = TestServer::start_at_own_url(&r_db).await;
        let proxy = Proxy::start(&r.base_url).await;
        let mut pair = Pair {
            r,
            _r_db: r_db,
            l_db,
            proxy,
            cache: tempfile::tempdir().unwrap(),
            sites: Vec::new(),
        };
        pair.seed().await;
        pair
    }

    fn project_url(&self) -> String {
        format!("{}/project/{SLUG}", self.proxy.base_url)
    }

    async fn r_project(&self) -> ResolvedProject {
        self.r.app.find_project(SLUG).await.unwrap()
    }

    /// Six sites (one with its photo uploaded, one naming a photo never uploaded), trees under
    /// three of them, visits under two, and a custom mapping.
    async fn seed(&mut self) {
        let project = import_tree_survey(&self.r.app).await;
        let version = version_of(&project);
        for i in 0..6 {
            let uuid = new_uuid();
            let mut site = another_site(&version, &uuid, &format!("Site {i}"));
            if i == 0 || i == 1 {
                site["entry"]["answers"][PHOTO]["answer"] = json!(format!("{uuid}_1717406127.jpg"));
            }
            self.upload(&site).await;
            self.sites.push(uuid);
        }
        let photo_owner = self.sites[0].clone();
        let mut file = photo_entry(&version);
        file["id"] = json!(photo_owner);
        file["file_entry"]["entry_uuid"] = json!(photo_owner);
        file["file_entry"]["name"] = json!(format!("{photo_owner}_1717406127.jpg"));
        let name = format!("{photo_owner}_1717406127.jpg");
        let answer = post_file(
            &self.r,
            SLUG,
            &file,
            Some((&name, "image/jpeg", &photo_bytes())),
        )
        .await;
        assert!(answer.is_uploaded(), "{answer:?}");
        for (i, owner) in self.sites.clone().iter().take(3).enumerate() {
            for t in 0..2 {
                let tree = another_tree(&version, &new_uuid(), owner, &format!("T-{i}{t}"));
                self.upload(&tree).await;
            }
        }
        for parent in self.sites.clone().iter().skip(1).take(2) {
            self.upload(&another_visit(&version, &new_uuid(), parent))
                .await;
        }
        self.r
            .app
            .create_mapping(SLUG, "Short names", false)
            .await
            .unwrap();
        let project = self.r_project().await;
        self.r
            .app
            .set_project_logo(&project, quadrat_testkit::uploads::jpeg(600, 600))
            .await
            .unwrap();
    }

    /// Sites written straight into R's store, all with one `uploaded_at` and uploader (as a
    /// late commit or a burst of one second would leave them). Returns their uuids.
    async fn write_sites_into_r(&self, n: usize, uploaded_at: i64, user_id: i64) -> Vec<String> {
        let target = self.r.app.import_target(SLUG).await.unwrap();
        let version = version_of(&target.project);
        let uuids: Vec<String> = (0..n).map(|_| new_uuid()).collect();
        for chunk in uuids.chunks(500) {
            let rows: Vec<(Value, i64, i64)> = chunk
                .iter()
                .map(|u| {
                    (
                        another_site(&version, u, &format!("Burst {u}")),
                        uploaded_at,
                        user_id,
                    )
                })
                .collect();
            let out = self
                .r
                .app
                .ingest_mirrored(&target.project, &target.actor, &rows)
                .await
                .unwrap();
            assert!(out.iter().all(|o| *o == MirroredRow::New), "{out:?}");
        }
        uuids
    }

    /// The uuids of a form's entries on R and on L.
    async fn site_uuids(&self, l_slug: &str) -> (Vec<String>, Vec<String>) {
        let r = self.r_project().await;
        let l_app = self.l_db.app().await;
        let l = l_app.find_project(l_slug).await.unwrap();
        let mut r_uuids = self
            .r
            .app
            .store
            .record_uuids(r.id, SITES, None)
            .await
            .unwrap();
        let mut l_uuids = l_app.store.record_uuids(l.id, SITES, None).await.unwrap();
        r_uuids.sort();
        l_uuids.sort();
        (r_uuids, l_uuids)
    }

    async fn upload(&self, data: &Value) {
        let answer = post_entry(&self.r, SLUG, data).await;
        assert!(answer.is_uploaded(), "{answer:?}");
    }

    /// `quadrat mirror ARGS` on L, in a blocking task: (exit code, stdout, stderr).
    async fn mirror(&self, args: &[&str], secret: Option<&str>) -> (i32, String, String) {
        let mut command = self.command(args, secret);
        tokio::task::spawn_blocking(move || {
            let out = command.output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        })
        .await
        .unwrap()
    }

    fn command(&self, args: &[&str], secret: Option<&str>) -> Command {
        let mut command = Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("QUADRAT_") {
                command.env_remove(key);
            }
        }
        command
            .env("QUADRAT_DATA_DIR", self.l_db.data_dir())
            .env("QUADRAT_DATABASE_URL", &self.l_db.url)
            .env("XDG_CACHE_HOME", self.cache.path())
            .arg("mirror")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(secret) = secret {
            command.env("QUADRAT_MIRROR_CLIENT_SECRET", secret);
        }
        command
    }

    /// L's exports equal R's: entries of every form and branch under every map, JSON and CSV,
    /// the project export (minus what is per server), every media file byte for byte.
    async fn assert_same(&self) {
        self.assert_same_as(None).await;
    }

    /// [`Pair::assert_same`] on a private project: R read with `r_creds`, L with a client app
    /// of its own.
    async fn assert_same_as(&self, r_creds: Option<(&str, &str)>) {
        let l = TestServer::start_at_own_url(&self.l_db).await;
        let project = self.r_project().await;
        let (r_token, l_token) = match r_creds {
            None => (None, None),
            Some((id, secret)) => {
                let local = l.app.find_project(SLUG).await.unwrap();
                let secret_l = match l.app.client_app(&local).await.unwrap() {
                    Some(_) => l.app.rotate_client_secret(&local).await.unwrap(),
                    None => l
                        .app
                        .create_client_app(&local, "Check", None)
                        .await
                        .unwrap(),
                };
                (
                    Some(token(&self.r, id, secret).await),
                    Some(token(&l, &secret_l.client_id.to_string(), &secret_l.client_secret).await),
                )
            }
        };
        let get_r = |path: String| {
            let t = r_token.clone();
            let r = &self.r;
            async move { get_as(r, &path, t.as_deref()).await }
        };
        let get_l = |path: String| {
            let t = l_token.clone();
            let l = &l;
            async move { get_as(l, &path, t.as_deref()).await }
        };
        let def = project.definition().unwrap();
        let maps = self.r.app.list_mappings(SLUG).await.unwrap();
        assert!(maps.len() >= 2, "the custom map is there");
        let mut streams: Vec<String> = Vec::new();
        for form in &def.forms {
            streams.push(format!("form_ref={}", form.form_ref.as_str()));
            for b in form.branches() {
                streams.push(format!(
                    "form_ref={}&branch_ref={}",
                    form.form_ref.as_str(),
                    b.input_ref.as_str()
                ));
            }
        }
        for stream in &streams {
            for map in &maps {
                for format in ["json", "csv"] {
                    let query = format!(
                        "{stream}&map_index={}&format={format}&per_page=1000",
                        map.index
                    );
                    let path = format!("/api/export/entries/{SLUG}?{query}");
                    let (rs, rb) = get_r(path.clone()).await;
                    let (ls, lb) = get_l(path.clone()).await;
                    assert_eq!((rs, ls), (200, 200), "{path}");
                    assert_eq!(
                        tie_free(&rb.replace(&self.r.base_url, "HOST"), format),
                        tie_free(&lb.replace(&l.base_url, "HOST"), format),
                        "{path}"
                    );
                }
            }
        }
        let project_export = |server: &TestServer, body: String| {
            let mut v: Value =
                serde_json::from_str(&body.replace(&server.base_url, "HOST")).unwrap();
            let p = v["data"]["project"].as_object_mut().unwrap();
            p.remove("created_at");
            p.remove("homepage");
            v["meta"]["project_stats"]
                .as_object_mut()
                .unwrap()
                .remove("structure_last_updated");
            v
        };
        let path = format!("/api/export/project/{SLUG}");
        let r_project = project_export(&self.r, get_r(path.clone()).await.1);
        let l_project = project_export(&l, get_l(path.clone()).await.1);
        assert_eq!(r_project["data"], l_project["data"]);
        assert_eq!(
            r_project["meta"]["project_mapping"],
            l_project["meta"]["project_mapping"]
        );
        let counts = |v: &Value| {
            let s = &v["meta"]["project_stats"];
            (
                s["total_entries"].clone(),
                s["form_counts"].clone(),
                s["branch_counts"].clone(),
            )
        };
        assert_eq!(counts(&r_project), counts(&l_project));
        assert_eq!(
            media_hashes(&self._r_db.media_dir()),
            media_hashes(&self.l_db.media_dir()),
            "media files"
        );
    }
}

/// An export page with its rows in uuid order: rows sharing the sort key (`created_at` here)
/// come in insertion order, which the remote's reordered ties make differ.
fn tie_free(body: &str, format: &str) -> String {
    if format == "csv" {
        let mut lines: Vec<&str> = body.lines().collect();
        let header = lines.remove(0);
        lines.sort_unstable();
        return std::iter::once(header)
            .chain(lines)
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut v: Value = serde_json::from_str(body).unwrap();
    if let Some(rows) = v.pointer_mut("/data/entries").and_then(Value::as_array_mut) {
        rows.sort_by_key(|r| r.to_string());
    }
    v.to_string()
}

async fn get(server: &TestServer, path: &str) -> (u16, String) {
    get_as(server, path, None).await
}

async fn get_as(server: &TestServer, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(server.url(path));
    if let Some(t) = bearer {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A client-credentials token straight from `server`.
async fn token(server: &TestServer, id: &str, secret: &str) -> String {
    let response = reqwest::Client::new()
        .post(server.url("/api/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = response.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// SHA-256 of every original entry file (thumbnails are made on demand, so left out).
fn media_hashes(dir: &std::path::Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in read.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            if rel.contains("thumb") || rel.contains("logo") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let hex: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            out.insert(rel, hex);
        }
    }
    out
}

fn report(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

both_engines!(
    full_copy_through_faults_equals_the_source,
    incremental_runs_follow_edits_and_deletions,
    quadrat_remote_is_followed_through_the_changes_feed,
    a_walked_copy_then_followed_through_the_feed_loses_no_deletion,
    private_project_with_client_credentials,
    killed_run_resumes_without_duplicates,
    ties_of_one_second_across_pages,
    local_slug_and_its_guards,
    structure_changes_are_followed,
);

/// §18.7 tests 1, 3, 6 and 9: a full copy through 429s, cut connections, a 500-row page cap and
/// reordered ties equals the source; the never-uploaded photo is reported missing; the mirror
/// refuses uploads with `ec5_202` until unlocked; a dry run writes nothing.
async fn full_copy_through_faults_equals_the_source(db: TestDb) {
    let pair = Pair::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let r1 = dir.path().join("r1.json");

    let (code, out, err) = pair
        .mirror(&[&pair.project_url(), "--dry-run", "--rate", RATES], None)
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("dry run"), "{out}");
    let listed = Command::new(BIN)
        .env("QUADRAT_DATA_DIR", pair.l_db.data_dir())
        .env("QUADRAT_DATABASE_URL", &pair.l_db.url)
        .args(["project", "list"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains(SLUG),
        "a dry run creates nothing"
    );

    pair.proxy.take_log();
    pair.proxy.set(Faults {
        throttle: vec![2, 6],
        retry_after: 1,
        cut: vec![4, 9],
        strip_placeholder: true,
        ..Faults::default()
    });
    let started = Instant::now();
    let (code, out, err) = pair
        .mirror(
            &[
                &pair.project_url(),
                "--rate",
                RATES,
                "--report",
                r1.to_str().unwrap(),
            ],
            None,
        )
        .await;
    // The photo never uploaded is missing on R (known by its bytes: the proxy strips the
    // header): done with a warning.
    assert_eq!(code, 2, "{out}{err}");
    let rep = report(&r1);
    assert_eq!(rep["media"]["downloaded"], 1, "{rep}");
    assert_eq!(rep["media"]["missing"], 1, "{rep}");
    assert_eq!(rep["requests"]["rate_limited"], 2, "{rep}");
    // Only the two Retry-After waits (1 s each, plus jitter) count as 429 waits.
    let waited = rep["requests"]["waited_ms"].as_u64().unwrap();
    assert!((2000..4000).contains(&waited), "{rep}");
    assert!(
        out.contains("429s 2 (waited 2 s) · paced ")
            || out.contains("429s 2 (waited 3 s) · paced "),
        "{out}"
    );
    assert!(rep["requests"]["retried"].as_u64().unwrap() >= 2, "{rep}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "both 429s were waited out"
    );
    assert_eq!(rep["via"], "entries export");
    assert!(rep["refused"].as_array().unwrap().is_empty(), "{rep}");
    let log = pair.proxy.take_log();
    assert!(
        log.iter().any(|l| l.contains("per_page=500")),
        "per_page halved after ec5_335"
    );
    pair.assert_same().await;
    let l = TestServer::start_at_own_url(&pair.l_db).await;
    let logo = reqwest::get(l.url(&format!(
        "/api/export/media/{SLUG}?type=photo&format=project_thumb&name=logo.jpg"
    )))
    .await
    .unwrap();
    assert_eq!(logo.status().as_u16(), 200);
    assert!(
        logo.headers().get("x-media-placeholder").is_none(),
        "the logo was copied"
    );

    // The missing photo is tried again on the next run, and stored once R has it.
    let owner = pair.sites[1].clone();
    let name = format!("{owner}_1717406127.jpg");
    let mut file = photo_entry(&version_of(&pair.r_project().await));
    file["id"] = json!(owner);
    file["file_entry"]["entry_uuid"] = json!(owner);
    file["file_entry"]["name"] = json!(name);
    let answer = post_file(
        &pair.r,
        SLUG,
        &file,
        Some((&name, "image/jpeg", &photo_bytes())),
    )
    .await;
    assert!(answer.is_uploaded(), "{answer:?}");
    let (code, out, err) = pair
        .mirror(
            &[
                "--local",
                SLUG,
                "--rate",
                RATES,
                "--report",
                r1.to_str().unwrap(),
            ],
            None,
        )
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let rep = report(&r1);
    assert_eq!(rep["media"]["downloaded"], 1, "{rep}");
    assert_eq!(rep["media"]["missing"], 0, "{rep}");
    pair.assert_same().await;

    // The mirror refuses uploads until unlocked.
    let project = l.app.find_project(SLUG).await.unwrap();
    let site = another_site(&version_of(&project), &new_uuid(), "Local site");
    let answer = post_entry(&l, SLUG, &site).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.body.contains("ec5_202"), "{answer:?}");
    pair.proxy.set(Faults::default());
    let (code, out, err) = pair
        .mirror(
            &[
                "--local",
                SLUG,
                "--unlocked",
                "--rate",
                RATES,
                "--media",
                "none",
            ],
            None,
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    let answer = post_entry(&l, SLUG, &site).await;
    assert!(answer.is_uploaded(), "{answer:?}");

    // Guards: a second run while one holds the lease is refused; so is a local project with
    // the slug of another ref.
    let other = tempfile::tempdir().unwrap();
    let now = quadrat_core::time::now_millis();
    assert!(
        l.app
            .store
            .take_mirror_lease(project.id, "someone-else", now, now + 60_000)
            .await
            .unwrap()
    );
    let (code, out, err) = pair.mirror(&["--local", SLUG, "--rate", RATES], None).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("in progress"), "{err}");
    drop(other);
}

/// §18.7 test 5 without the feed: edits, new rows, a branch insert and a cascading delete on R
/// are followed by the next run, which reads only the streams' tails; deletions are found
/// through the counts and reconciled.
async fn incremental_runs_follow_edits_and_deletions(db: TestDb) {
    let pair = Pair::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let r2 = dir.path().join("r2.json");
    let (code, out, err) = pair
        .mirror(&[&pair.project_url(), "--rate", RATES], None)
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    pair.assert_same().await;

    let project = pair.r_project().await;
    let version = version_of(&project);
    // An edit (same uuid, a new name), a new site with a visit and a tree, a cascading delete.
    let mut edited = another_site(&version, &pair.sites[3], "Site 3, renamed");
    edited["entry"]["answers"][SITE_NAME]["answer"] = json!("Site 3, renamed");
    pair.upload(&edited).await;
    let new_site = new_uuid();
    pair.upload(&another_site(&version, &new_site, "Site new"))
        .await;
    pair.upload(&another_visit(&version, &new_uuid(), &new_site))
        .await;
    pair.upload(&another_tree(
        &version,
        &new_uuid(),
        &pair.sites[4],
        "T-new",
    ))
    .await;
    pair.r
        .app
        .delete_entries(
            SLUG,
            &quadrat_app::entries::Deletion::Uuid(pair.sites[1].clone()),
        )
        .await
        .unwrap();

    pair.proxy.take_log();
    let (code, out, err) = pair
        .mirror(
            &[
                "--local",
                SLUG,
                "--rate",
                RATES,
                "--report",
                r2.to_str().unwrap(),
            ],
            None,
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    let rep = report(&r2);
    assert_eq!(rep["mode"], "incremental");
    let deleted: u64 = rep["streams"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["deleted"].as_u64().unwrap())
        .sum();
    assert!(deleted >= 1, "{rep}");
    // Three streams, each read from its mark: one page each, plus the deletion walk of the
    // streams whose counts dropped (Sites, Visits, Trees).
    let entries_requests = rep["requests"]["requests"]["entries"].as_u64().unwrap();
    assert!(entries_requests <= 3 + 3 * 2, "{rep}");
    pair.assert_same().await;
}

/// §18.7 test 8: with the changes feed let through, the second run uses it (no entries-export
/// call) and applies deletions without a walk.
async fn quadrat_remote_is_followed_through_the_changes_feed(db: TestDb) {
    let pair = Pair::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let r2 = dir.path().join("r2.json");
    pair.proxy.set(Faults {
        feed: true,
        ..Faults::default()
    });
    let (code, out, err) = pair
        .mirror(
            &[&pair.project_url(), "--rate", RATES, "--per-page", "4"],
            None,
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    pair.assert_same().await;

    let project = pair.r_project().await;
    let version = version_of(&project);
    pair.upload(&another_site(&version, &new_uuid(), "Site via feed"))
        .await;
    pair.upload(&another_tree(
        &version,
        &new_uuid(),
        &pair.sites[5],
        "T-feed",
    ))
    .await;
    pair.r
        .app
        .delete_entries(
            SLUG,
            &quadrat_app::entries::Deletion::Uuid(pair.sites[2].clone()),
        )
        .await
        .unwrap();
    // L's own feed, caught up before the second run.
    let l = TestServer::start_at_own_url(&pair.l_db).await;
    let (_, feed) = get(&l, &format!("/api/export/changes/{SLUG}?per_page=1000")).await;
    let feed: Value = serde_json::from_str(&feed).unwrap();
    let cursor = feed["meta"]["next_cursor"].as_str().unwrap().to_string();
    pair.proxy.take_log();
    let (code, out, err) = pair
        .mirror(
            &[
                "--local",
                SLUG,
                "--rate",
                RATES,
                "--report",
                r2.to_str().unwrap(),
            ],
            None,
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    let log = pair.proxy.take_log();
    assert!(
        !log.iter().any(|l| l.contains("/api/export/entries/")),
        "{log:?}"
    );
    let rep = report(&r2);
    assert_eq!(rep["via"], "changes feed");
    assert!(
        rep["streams"]["Sites"]["deleted"].as_u64().unwrap() >= 1,
        "{rep}"
    );
    pair.assert_same().await;

    // L's own feed shows the deletion as a tombstone.
    let (_, feed) = get(
        &l,
        &format!("/api/export/changes/{SLUG}?per_page=1000&cursor={cursor}"),
    )
    .await;
    let feed: Value = serde_json::from_str(&feed).unwrap();
    let deleted = feed["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["op"] == "delete" && c["uuid"] == json!(pair.sites[2]));
    assert!(deleted, "{feed}");
}

/// §18.7 test 2: a private project with the client credentials (secret from the environment):
/// one token in the first run, none in the next (cached); a token issued to another program
/// in between revokes the mirror's, which takes one fresh token and goes on.
async fn private_project_with_client_credentials(db: TestDb) {
    let pair = Pair::new(db).await;
    pair.r
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    let project = pair.r_project().await;
    let client = pair
        .r
        .app
        .create_client_app(&project, "Mirror app", None)
        .await
        .unwrap();
    let id = client.client_id.to_string();
    // Sites uploaded by two users of R: one whose e-mail has a user on L, one unknown there.
    let r_user = |email: &'static str| {
        let app = &pair.r.app;
        async move {
            app.create_user(email, Some("Someone"), None, false)
                .await
                .unwrap()
        }
    };
    let (alice, bob) = (
        r_user("alice@example.org").await,
        r_user("bob@example.org").await,
    );
    let now = quadrat_core::time::now_millis();
    pair.write_sites_into_r(2, now, alice.id).await;
    pair.write_sites_into_r(1, now, bob.id).await;
    let l_app = pair.l_db.app().await;
    l_app
        .create_user("alice@example.org", Some("Alice here"), None, false)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rep_path = dir.path().join("r.json");

    let (code, out, err) = pair
        .mirror(&[&pair.project_url(), "--rate", RATES], None)
        .await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("private"), "{err}");

    pair.proxy.take_log();
    let (code, out, err) = pair
        .mirror(
            &[
                &pair.project_url(),
                "--rate",
                RATES,
                "--client-id",
                &id,
                "--report",
                rep_path.to_str().unwrap(),
            ],
            Some(&client.client_secret),
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    assert!(!err.contains(&client.client_secret) && !out.contains(&client.client_secret));
    // created_by: alice's rows are L's alice's; bob became an unverified placeholder.
    let rep = report(&rep_path);
    assert_eq!(rep["users_created"], 1, "{rep}");
    let l_bob = l_app.find_user("bob@example.org").await.unwrap();
    assert_eq!(l_bob.state, quadrat_core::users::UserState::Unverified);
    assert!(!l_bob.has_password);
    let local = l_app.find_project(SLUG).await.unwrap();
    assert!(
        l_app
            .store
            .project_members(local.id)
            .await
            .unwrap()
            .iter()
            .all(|m| m.user_id != l_bob.id),
        "the placeholder has no role"
    );
    let r_token = token(&pair.r, &id, &client.client_secret).await;
    let (_, r_export) = get_as(
        &pair.r,
        &format!("/api/export/entries/{SLUG}?form_ref={SITES}&per_page=1000"),
        Some(&r_token),
    )
    .await;
    assert!(
        r_export.contains("alice@example.org") && r_export.contains("bob@example.org"),
        "{r_export}"
    );

    let tokens = |log: &[String]| {
        log.iter()
            .filter(|l| l.contains("/api/oauth/token"))
            .count()
    };
    assert_eq!(tokens(&pair.proxy.take_log()), 1);
    pair.assert_same_as(Some((&id, &client.client_secret)))
        .await;

    let (code, out, err) = pair
        .mirror(
            &["--local", SLUG, "--rate", RATES],
            Some(&client.client_secret),
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    assert_eq!(
        tokens(&pair.proxy.take_log()),
        0,
        "the cached token is used"
    );

    // Another program takes a token: the mirror's cached one is revoked.
    let other = reqwest::Client::new()
        .post(format!("{}/api/oauth/token", pair.proxy.base_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", client.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 200);
    pair.proxy.take_log();
    let (code, out, err) = pair
        .mirror(
            &["--local", SLUG, "--rate", RATES],
            Some(&client.client_secret),
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    assert_eq!(tokens(&pair.proxy.take_log()), 1, "one re-issue");
    pair.assert_same_as(Some((&id, &client.client_secret)))
        .await;
}

/// §18.7 tests 3 and 4: stopped by a long Retry-After (exit 3), then killed (SIGKILL) in the entries phase and in the media phase;
/// every rerun completes, the copy equals the source, and rows untouched by the reruns keep
/// their local seqs.
async fn killed_run_resumes_without_duplicates(db: TestDb) {
    let pair = Pair::new(db).await;
    // A Retry-After longer than --max-wait stops the run with exit 3; the next run finishes.
    pair.proxy.set(Faults {
        throttle: vec![pair.proxy.count() + 3],
        retry_after: 120,
        ..Faults::default()
    });
    let (code, out, err) = pair
        .mirror(
            &[
                &pair.project_url(),
                "--rate",
                RATES,
                "--max-wait",
                "5s",
                "--per-page",
                "2",
            ],
            None,
        )
        .await;
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("rate limit"), "{err}");
    for kill_after in [5u64, 9] {
        pair.proxy.set(Faults {
            delay: Duration::from_millis(150),
            ..Faults::default()
        });
        let start = pair.proxy.count();
        let mut child = pair
            .command(
                &[&pair.project_url(), "--rate", RATES, "--per-page", "2"],
                None,
            )
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while pair.proxy.count() < start + kill_after {
            assert!(
                Instant::now() < deadline,
                "the mirror made too few requests"
            );
            if child.try_wait().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    pair.proxy.set(Faults::default());
    let (code, out, err) = pair
        .mirror(
            &[&pair.project_url(), "--rate", RATES, "--per-page", "2"],
            None,
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    pair.assert_same().await;

    let l = TestServer::start_at_own_url(&pair.l_db).await;
    let (_, before) = get(&l, &format!("/api/export/changes/{SLUG}?per_page=1000")).await;
    let (code, out, err) = pair
        .mirror(&["--local", SLUG, "--rate", RATES, "--full"], None)
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    let (_, after) = get(&l, &format!("/api/export/changes/{SLUG}?per_page=1000")).await;
    let seqs = |feed: &str| -> Vec<(String, u64)> {
        let v: Value = serde_json::from_str(feed).unwrap();
        v["data"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["op"] == "upsert")
            .map(|c| {
                (
                    c["uuid"].as_str().unwrap().to_string(),
                    c["seq"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        seqs(&before),
        seqs(&after),
        "a full re-read of unchanged rows moves no seq"
    );
    pair.assert_same().await;
}

/// A copy made through the entries export (or whose cursor expired) is followed through the
/// feed from its start, which brings no tombstones of earlier deletions: they are found through
/// the counts.
async fn a_walked_copy_then_followed_through_the_feed_loses_no_deletion(db: TestDb) {
    let pair = Pair::new(db).await;
    pair.proxy.set(Faults {
        feed: true,
        ..Faults::default()
    });
    let (code, out, err) = pair
        .mirror(
            &[&pair.project_url(), "--rate", RATES, "--no-changes-feed"],
            None,
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    pair.r
        .app
        .delete_entries(
            SLUG,
            &quadrat_app::entries::Deletion::Uuid(pair.sites[4].clone()),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r2 = dir.path().join("r2.json");
    let (code, out, err) = pair
        .mirror(
            &[
                "--local",
                SLUG,
                "--rate",
                RATES,
                "--report",
                r2.to_str().unwrap(),
            ],
            None,
        )
        .await;
    assert!(code == 0 || code == 2, "{out}{err}");
    let rep = report(&r2);
    assert_eq!(rep["via"], "changes feed");
    assert_eq!(rep["streams"]["Sites"]["deleted"], 1, "{rep}");
    pair.assert_same().await;
}

/// The `uploaded_at` second of a stream's stored mark on L.
async fn stored_mark(l_db: &TestDb, slug: &str, stream: &str) -> i64 {
    let app = l_db.app().await;
    let (_, state) = app.mirror_status(slug).await.unwrap().unwrap();
    state.streams[stream].mark_millis().unwrap()
}

/// §18.7 test 6: 1,200 rows in one `uploaded_at` second, pages capped at 500. Ordered the same
/// way for a query on every page, they are all read and their count checked (exit 0); ordered
/// anew on every request, the shortfall is reported (exit 2) and the next run reads that second
/// again. A late commit stamped inside the overlap before the stored mark is read next run.
async fn ties_of_one_second_across_pages(db: TestDb) {
    let pair = Pair::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let rep_path = dir.path().join("r.json");
    let second = quadrat_core::time::whole_seconds(quadrat_core::time::now_millis()) - 600_000;
    // Stored with milliseconds inside the second, exported as the second itself.
    let burst = pair.write_sites_into_r(1200, second + 437, 0).await;
    let run = |extra: &'static [&'static str]| {
        let mut args: Vec<String> = vec![
            "--rate".into(),
            RATES.into(),
            "--media".into(),
            "none".into(),
            "--report".into(),
            rep_path.to_str().unwrap().into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };

    pair.proxy.set(Faults {
        ties: Some(Ties::StablePerQuery),
        ..Faults::default()
    });
    pair.proxy.take_log();
    let args = [vec![pair.project_url()], run(&[])].concat();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = pair.mirror(&args, None).await;
    assert_eq!(code, 0, "{out}{err}");
    let rep = report(&rep_path);
    assert!(rep["warnings"].as_array().unwrap().is_empty(), "{rep}");
    let (r_uuids, l_uuids) = pair.site_uuids(SLUG).await;
    assert_eq!(r_uuids, l_uuids);
    assert!(burst.iter().all(|u| l_uuids.contains(u)));
    let log = pair.proxy.take_log();
    assert!(
        log.iter().any(|l| l.contains("page=3")),
        "the second was finished with pages 2 and 3: {log:?}"
    );
    // The count of the second: total from S less total from S+1s.
    let next_second = quadrat_core::time::iso_zero_millis(second + 1000);
    assert!(
        log.iter()
            .any(|l| l.contains(&next_second.replace(':', "%3A")) || l.contains(&next_second)),
        "{log:?}"
    );

    // An order that changes on every request: rows of the second repeat and go missing
    // across pages, even on a second pass.
    pair.proxy.set(Faults {
        ties: Some(Ties::PerRequest),
        ..Faults::default()
    });
    let args = [
        vec!["--local".to_string(), SLUG.to_string()],
        run(&["--full"]),
    ]
    .concat();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = pair.mirror(&args, None).await;
    assert_eq!(code, 2, "{out}{err}");
    let second_iso = quadrat_core::time::iso_zero_millis(second);
    assert!(
        out.contains("warning") && out.contains(&second_iso) && out.contains("of the 1200 rows"),
        "{out}"
    );
    assert!(
        stored_mark(&pair.l_db, SLUG, SITES).await <= second,
        "the next run reads the short second again"
    );

    // A late commit: stamped inside the overlap before the stored mark, committed after the
    // run that set it.
    pair.proxy.set(Faults {
        ties: Some(Ties::StablePerQuery),
        ..Faults::default()
    });
    let args = [vec!["--local".to_string(), SLUG.to_string()], run(&[])].concat();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = pair.mirror(&args, None).await;
    assert_eq!(code, 0, "{out}{err}");
    let rep = report(&rep_path);
    assert!(
        rep["streams"]["Sites"]["read"].as_u64().unwrap() >= 1200,
        "{rep}"
    );
    let mark = stored_mark(&pair.l_db, SLUG, SITES).await;
    let late = pair.write_sites_into_r(1, mark + 60_000, 0).await;
    let (code, out, err) = pair.mirror(&args, None).await;
    assert_eq!(code, 0, "{out}{err}");
    let rep = report(&rep_path);
    assert_eq!(rep["streams"]["Sites"]["new"], 1, "{rep}");
    let (r_uuids, l_uuids) = pair.site_uuids(SLUG).await;
    assert_eq!(r_uuids, l_uuids);
    assert!(l_uuids.contains(&late[0]));
}

/// §18.1 `--local-slug`: a mirror under a slug of its own when the remote name's slug is another
/// project's here; re-runs find it with `--local`; the guards refuse a slug holding another
/// project, a second slug for a project mirrored already, and a second source of the same ref.
async fn local_slug_and_its_guards(db: TestDb) {
    let pair = Pair::new(db).await;
    let l_app = pair.l_db.app().await;
    // Another project with the remote's name (and so its slug), under a ref of its own.
    let other = l_app
        .import_project(
            &serde_json::from_str(
                &std::fs::read_to_string(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../quadrat-core/tests/fixtures/tree-survey-2024.json"
                ))
                .unwrap(),
            )
            .unwrap(),
            &quadrat_app::projects::ImportOptions {
                new_ref: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(other.slug, SLUG);
    let url = pair.project_url();
    let base = ["--rate", RATES, "--media", "none"];
    let with = |extra: &[&'static str]| -> Vec<String> {
        let mut v = vec![url.clone()];
        v.extend(base.iter().chain(extra).map(|s| s.to_string()));
        v
    };
    let mirror = |args: Vec<String>| {
        let pair = &pair;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            pair.mirror(&args, None).await
        }
    };

    let (code, out, err) = mirror(with(&[])).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("--local-slug"), "{err}");
    let (code, out, err) = mirror(with(&["--local-slug", "Not A Slug"])).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("not a project slug"), "{err}");

    let (code, out, err) = mirror(with(&["--local-slug", "tree-copy"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("→ tree-copy"), "{out}");
    let copy = l_app.find_project("tree-copy").await.unwrap();
    assert_eq!(copy.project_ref, PROJECT_REF);
    assert_eq!(copy.name, pair.r_project().await.name);
    let (r_uuids, l_uuids) = pair.site_uuids("tree-copy").await;
    assert_eq!(r_uuids, l_uuids);

    // The slug of another project, or a second slug for this one: refused.
    let (code, out, err) = mirror(with(&["--local-slug", SLUG])).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("another project"), "{err}");
    let (code, out, err) = mirror(with(&["--local-slug", "tree-copy-2"])).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("--local tree-copy"), "{err}");
    assert!(l_app.find_project("tree-copy-2").await.is_err());

    // Re-runs: by --local, and by URL with the same slug.
    let mut args = vec!["--local".to_string(), "tree-copy".to_string()];
    args.extend(base.iter().map(|s| s.to_string()));
    let (code, out, err) = mirror(args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("incremental"), "{out}");
    let (code, out, err) = mirror(with(&["--local-slug", "tree-copy"])).await;
    assert_eq!(code, 0, "{out}{err}");

    // The same remote project through another source (another base URL): refused.
    let proxy2 = Proxy::start(&pair.r.base_url).await;
    let mut args = vec![format!("{}/project/{SLUG}", proxy2.base_url)];
    args.extend(
        base.iter()
            .chain(&["--local-slug", "tree-copy-3"])
            .map(|s| s.to_string()),
    );
    let (code, out, err) = mirror(args).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("not a mirror of"), "{err}");
    assert_eq!(
        other.project_ref,
        l_app.find_project(SLUG).await.unwrap().project_ref
    );
}

/// §18.7 test 7: the remote's structure changes between runs (a new question, a removed one, a
/// relabelled answer, two answers sharing a label, a date shown as MM/YYYY): L's definition
/// follows, answers stay, exports are equal, and the summary counts the shared labels and
/// partial dates.
async fn structure_changes_are_followed(db: TestDb) {
    let pair = Pair::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let rep_path = dir.path().join("r.json");
    // With media: the photo never uploaded stays missing, so every run exits 2.
    let args = ["--rate", RATES];
    let (code, out, err) = pair
        .mirror(&[&[pair.project_url().as_str()][..], &args].concat(), None)
        .await;
    assert_eq!(code, 2, "{out}{err}");
    let (code, out, _) = pair
        .mirror(&[&[pair.project_url().as_str()][..], &args].concat(), None)
        .await;
    assert_eq!(code, 2);
    assert!(
        out.contains("reconstruction  0 ambiguous labels · 0 partial dates"),
        "{out}"
    );

    let project = pair.r_project().await;
    let (_, body) = get(&pair.r, &format!("/api/export/project/{SLUG}")).await;
    let mut file: Value = serde_json::from_str(&body).unwrap();
    let inputs = file["data"]["project"]["forms"][0]["inputs"]
        .as_array_mut()
        .unwrap();
    let new_ref = format!("{SITES}_6760e1f2a3b4c");
    for input in inputs.iter_mut() {
        if input["ref"] == json!(ACCESSIBLE) {
            // Relabelled so that both answers read "Yes": an exported "Yes" could be either
            // (the rows here all chose the first, which the mirror takes).
            input["possible_answers"][1]["answer"] = json!("Yes");
        }
        if input["ref"] == json!(SPECIES) {
            input["possible_answers"][2]["answer"] = json!("Silver birch");
        }
        if input["ref"] == json!(SURVEY_DATE) {
            input["datetime_format"] = json!("MM/YYYY");
        }
    }
    let mut added = inputs[0].clone();
    added["ref"] = json!(new_ref);
    added["question"] = json!("Surveyor");
    inputs.insert(1, added);
    inputs.retain(|i| i["ref"] != json!(TREE_COUNT));
    let file = json!({"data": file["data"].clone()});
    pair.r
        .app
        .replace_definition(&project, &file, true)
        .await
        .unwrap();
    let project = pair.r_project().await;
    let version = version_of(&project);
    let mut site = another_site(&version, &new_uuid(), "After the change");
    site["entry"]["answers"][new_ref.as_str()] = json!({"answer": "Ann", "was_jumped": false});
    site["entry"]["answers"][ACCESSIBLE] = json!({"answer": "665b0c5f0a1b5", "was_jumped": false});
    site["entry"]["answers"][SURVEY_DATE] =
        json!({"answer": "2024-09-17T00:00:00.000", "was_jumped": false});
    site["entry"]["answers"]
        .as_object_mut()
        .unwrap()
        .remove(TREE_COUNT);
    pair.upload(&site).await;

    let (code, out, err) = pair
        .mirror(
            &[
                &["--local", SLUG, "--report", rep_path.to_str().unwrap()][..],
                &args,
            ]
            .concat(),
            None,
        )
        .await;
    assert_eq!(code, 2, "{out}{err}");
    let rep = report(&rep_path);
    assert!(
        rep["reconstruction"]["ambiguous_labels"].as_u64().unwrap() >= 1,
        "{rep}"
    );
    assert!(
        rep["reconstruction"]["partial_dates"].as_u64().unwrap() >= 1,
        "{rep}"
    );
    assert!(out.contains("reconstruction"), "{out}");
    let l_app = pair.l_db.app().await;
    let l_def = l_app
        .find_project(SLUG)
        .await
        .unwrap()
        .definition()
        .unwrap();
    let sites = &l_def.forms[0];
    assert!(sites.inputs.iter().any(|i| i.input_ref.as_str() == new_ref));
    assert!(
        !sites
            .inputs
            .iter()
            .any(|i| i.input_ref.as_str() == TREE_COUNT)
    );
    pair.assert_same().await;
}
