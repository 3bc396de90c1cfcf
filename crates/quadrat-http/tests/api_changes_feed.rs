//! `GET /api/export/changes/{slug}` over real HTTP on both engines (docs/protocol.md §17): a walk
//! from the start, resumes after edits, branch inserts and cascading deletes, upserts equal to
//! the entries export, project events, CSV, cursor errors, `compat.strict`, the feed's own
//! limiter bucket, and concurrent writers through two app instances on one database.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use quadrat_app::Extensions;
use quadrat_app::entries::Deletion;
use quadrat_app::ratelimit::Limiter;
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_core::ratelimit::Limits;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{ManualClock, TestDb, TestServer, both_engines};
use serde_json::{Value, json};

const PATH: &str = "/api/export/changes/tree-survey-2024";
const ENTRIES: &str = "/api/export/entries/tree-survey-2024";

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    fn code(&self) -> (String, String) {
        let e = &self.json()["errors"][0];
        (
            e["code"].as_str().unwrap().to_string(),
            e["source"].as_str().unwrap().to_string(),
        )
    }
}

async fn get_url(url: &str) -> Got {
    let res = reqwest::get(url).await.unwrap();
    Got {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

async fn get(server: &TestServer, path: &str, query: &str) -> Got {
    get_url(&server.url(&format!("{path}?{query}"))).await
}

/// Walks the feed from `cursor` until caught up; returns the items and the last cursor.
async fn walk(
    server: &TestServer,
    extra: &str,
    per_page: usize,
    cursor: Option<String>,
) -> (Vec<Value>, String) {
    let mut cursor = cursor;
    let mut items = Vec::new();
    for _ in 0..10_000 {
        let mut q = format!("per_page={per_page}{extra}");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let page = get(server, PATH, &q).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let body = page.json();
        let changes = body["data"]["changes"].as_array().unwrap().clone();
        assert!(changes.len() <= per_page);
        assert_eq!(body["meta"]["count"], changes.len());
        items.extend(changes);
        let next = body["meta"]["next_cursor"].as_str().unwrap().to_string();
        assert_eq!(page.header("x-quadrat-next-cursor"), Some(next.as_str()));
        cursor = Some(next);
        if body["meta"]["has_more"] == json!(false) {
            assert_eq!(body["links"]["next"], Value::Null);
            assert_eq!(page.header("link"), None);
            return (items, cursor.unwrap());
        }
        let link = body["links"]["next"].as_str().unwrap();
        assert_eq!(
            page.header("link"),
            Some(format!("<{link}>; rel=\"next\"").as_str())
        );
    }
    panic!("the walk never caught up");
}

fn seqs(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["seq"].as_i64().unwrap()).collect()
}

fn strictly_increasing(s: &[i64]) -> bool {
    s.windows(2).all(|w| w[0] < w[1])
}

/// The worked example through the upload route: the site, its tree, its visit.
async fn worked_example(server: &TestServer) -> String {
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    for data in [
        site_entry(&version),
        tree_entry(&version),
        visit_entry(&version),
    ] {
        let answer = post_entry(server, SLUG, &data).await;
        assert!(answer.is_uploaded(), "{:?}", answer.errors());
    }
    version
}

/// The entries export's object for one row (form or branch), as text.
async fn exported(server: &TestServer, item: &Value, map_index: usize) -> String {
    let uuid = item["uuid"].as_str().unwrap();
    let query = match item["type"].as_str().unwrap() {
        "branch_entry" => format!(
            "form_ref={}&branch_ref={}&uuid={uuid}&map_index={map_index}",
            item["form_ref"].as_str().unwrap(),
            item["branch_ref"].as_str().unwrap()
        ),
        _ => format!(
            "form_ref={}&uuid={uuid}&map_index={map_index}",
            item["form_ref"].as_str().unwrap()
        ),
    };
    let page = get(server, ENTRIES, &query).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let entries = page.json()["data"]["entries"].clone();
    assert_eq!(entries.as_array().unwrap().len(), 1, "{query}");
    entries[0].to_string()
}

async fn walk_from_start_gives_every_row_once_as_the_export_renders_it(db: TestDb) {
    let server = TestServer::start(&db).await;
    let version = worked_example(&server).await;
    for i in 0..3 {
        let answer = post_entry(
            &server,
            SLUG,
            &another_site(&version, &new_uuid(), &format!("S{i}")),
        )
        .await;
        assert!(answer.is_uploaded());
    }
    let index = server
        .app
        .create_mapping(SLUG, "Short", false)
        .await
        .unwrap();
    for per_page in [1, 2, 7, 1000] {
        let (items, _) = walk(&server, "", per_page, None).await;
        // An initial walk skips the project events of its own snapshot (the mapping above).
        assert!(items.iter().all(|i| i["op"] == "upsert"), "{items:?}");
        assert!(strictly_increasing(&seqs(&items)));
        let uuids: BTreeSet<&str> = items.iter().map(|i| i["uuid"].as_str().unwrap()).collect();
        assert_eq!(uuids.len(), items.len(), "each row once");
        assert_eq!(items.len(), 6, "4 sites, 1 tree, 1 visit");
    }
    let (items, _) = walk(&server, "", 50, None).await;
    let kinds: BTreeMap<&str, usize> = items.iter().fold(BTreeMap::new(), |mut m, i| {
        *m.entry(i["type"].as_str().unwrap()).or_default() += 1;
        m
    });
    assert_eq!(kinds, BTreeMap::from([("branch_entry", 1), ("entry", 5)]));
    for item in &items {
        assert_eq!(item["entry"].to_string(), exported(&server, item, 0).await);
    }
    let tree = items.iter().find(|i| i["uuid"] == TREE_UUID).unwrap();
    assert_eq!(
        tree.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "seq",
            "op",
            "type",
            "form_ref",
            "branch_ref",
            "uuid",
            "entry"
        ]
    );
    // Under another map the entries are that map's.
    let (mapped, _) = walk(&server, &format!("&map_index={index}"), 50, None).await;
    for item in &mapped {
        assert_eq!(
            item["entry"].to_string(),
            exported(&server, item, index).await
        );
    }
    let page = get(&server, PATH, &format!("map_index={index}"))
        .await
        .json();
    assert_eq!(
        page["meta"]["mapping"],
        json!({"map_name": "Short", "map_index": index})
    );
    assert_eq!(
        page["meta"].as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "per_page",
            "count",
            "has_more",
            "latest_seq",
            "structure_last_updated",
            "next_cursor",
            "mapping"
        ]
    );
    // `cursor=` on the entries export is ignored and not echoed.
    let plain = get(&server, ENTRIES, "per_page=2").await;
    let with_cursor = get(&server, ENTRIES, "per_page=2&cursor=q1.e30").await;
    assert_eq!(plain.status, 200);
    assert!(!with_cursor.text().contains("cursor"));
    assert_eq!(plain.json()["data"], with_cursor.json()["data"]);
}

async fn resume_sees_same_second_edits_branch_inserts_and_cascading_deletes(db: TestDb) {
    let server = TestServer::start(&db).await;
    let version = worked_example(&server).await;
    let (_, cursor) = walk(&server, "", 50, None).await;
    // Two edits of the site within one second: the resume gives one upsert, the second version.
    for name in ["Oak Ridge 2", "Oak Ridge 3"] {
        let mut site = site_entry(&version);
        site["entry"]["title"] = json!(name);
        site["entry"]["answers"][SITE_NAME]["answer"] = json!(name);
        let answer = post_entry(&server, SLUG, &site).await;
        assert!(answer.is_uploaded(), "{:?}", answer.errors());
    }
    let (items, cursor) = walk(&server, "", 50, Some(cursor)).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["uuid"], SITE_UUID);
    assert_eq!(items[0]["entry"]["title"], "Oak Ridge 3");

    // A new tree: the tree, and the owner re-stamped with its new branch count.
    let tree2 = new_uuid();
    let answer = post_entry(
        &server,
        SLUG,
        &another_tree(&version, &tree2, SITE_UUID, "T-2"),
    )
    .await;
    assert!(answer.is_uploaded(), "{:?}", answer.errors());
    let (items, cursor) = walk(&server, "", 50, Some(cursor)).await;
    let got: Vec<&str> = items.iter().map(|i| i["uuid"].as_str().unwrap()).collect();
    assert_eq!(got, [SITE_UUID, tree2.as_str()]);
    assert_eq!(items[0]["entry"]["8_Individual_trees"], 2);

    // Deleting one tree: a tombstone, and the owner with its count back to 1.
    server
        .app
        .delete_entries(SLUG, &Deletion::Uuid(tree2.clone()))
        .await
        .unwrap();
    let (items, cursor) = walk(&server, "", 50, Some(cursor)).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["uuid"], SITE_UUID);
    assert_eq!(items[0]["entry"]["8_Individual_trees"], 1);
    assert_eq!(
        items[1],
        json!({"seq": items[1]["seq"], "op": "delete", "type": "branch_entry", "form_ref": SITES,
               "branch_ref": TREES, "uuid": tree2, "owner_uuid": SITE_UUID,
               "deleted_at": items[1]["deleted_at"]})
    );

    // Deleting the site: tombstones for it, its visit and its tree.
    server
        .app
        .delete_entries(SLUG, &Deletion::Uuid(SITE_UUID.into()))
        .await
        .unwrap();
    let (items, cursor) = walk(&server, "", 1, Some(cursor)).await;
    assert!(items.iter().all(|i| i["op"] == "delete"));
    let gone: BTreeSet<&str> = items.iter().map(|i| i["uuid"].as_str().unwrap()).collect();
    assert_eq!(gone, BTreeSet::from([SITE_UUID, VISIT_UUID, TREE_UUID]));
    let visit = items.iter().find(|i| i["uuid"] == VISIT_UUID).unwrap();
    assert_eq!(visit["parent_form_ref"], SITES);
    assert_eq!(visit["parent_uuid"], SITE_UUID);
    let site = items.iter().find(|i| i["uuid"] == SITE_UUID).unwrap();
    assert_eq!(site["parent_form_ref"], "");

    // A fresh walk never sees those tombstones (they precede its horizon).
    let (fresh, _) = walk(&server, "", 50, None).await;
    assert!(fresh.is_empty(), "{fresh:?}");

    // Re-uploading a deleted uuid: the row again, its tombstone gone.
    let answer = post_entry(&server, SLUG, &site_entry(&version)).await;
    assert!(answer.is_uploaded(), "{:?}", answer.errors());
    let (items, _) = walk(&server, "", 50, Some(cursor.clone())).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["op"], "upsert");
    let (fresh, _) = walk(&server, "", 50, None).await;
    assert_eq!(fresh.len(), 1);
}

async fn mapping_and_access_changes_are_project_events(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let (_, cursor) = walk(&server, "", 50, None).await;
    server
        .app
        .create_mapping(SLUG, "Short", false)
        .await
        .unwrap();
    let (items, cursor) = walk(&server, "", 50, Some(cursor)).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["op"], "project");
    assert_eq!(items[0]["reason"], "mapping");
    assert_eq!(items[0]["access"], "public");
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    // Private now: the feed needs a token like the entries export.
    let refused = get(&server, PATH, "").await;
    assert_eq!(refused.status, 404);
    assert_eq!(refused.code().0, "ec5_256");
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Public))
        .await
        .unwrap();
    let (items, _) = walk(&server, "", 50, Some(cursor)).await;
    let reasons: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["reason"].as_str().unwrap(), i["access"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons, [("access", "private"), ("access", "public")]);
    assert_eq!(
        items[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["seq", "op", "reason", "structure_last_updated", "access"]
    );
}

async fn csv_has_two_leading_columns_delete_rows_and_needs_a_form(db: TestDb) {
    let server = TestServer::start(&db).await;
    let version = worked_example(&server).await;
    let second = new_uuid();
    let answer = post_entry(&server, SLUG, &another_site(&version, &second, "Elm")).await;
    assert!(answer.is_uploaded());
    let no_form = get(&server, PATH, "format=csv").await;
    assert_eq!(no_form.status, 400);
    assert_eq!(
        no_form.code(),
        ("ec5_21".to_string(), "form_ref".to_string())
    );

    let export = get(&server, ENTRIES, &format!("format=csv&form_ref={SITES}"))
        .await
        .text();
    let export_header = export.lines().next().unwrap().to_string();
    let first = get(
        &server,
        PATH,
        &format!("format=csv&form_ref={SITES}&per_page=1"),
    )
    .await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(first.header("x-quadrat-has-more"), Some("true"));
    let text = first.text();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("ec5_seq,ec5_op,{export_header}")
    );
    let row = lines.next().unwrap();
    assert!(row.contains(",upsert,"), "{row}");
    // The rest of the export's row, byte for byte.
    let export_row = export.lines().find(|l| l.contains(SITE_UUID)).unwrap();
    assert!(row.ends_with(export_row), "{row}\n{export_row}");
    let cursor = first.header("x-quadrat-next-cursor").unwrap().to_string();
    server
        .app
        .delete_entries(SLUG, &Deletion::Uuid(second.clone()))
        .await
        .unwrap();
    let rest = get(
        &server,
        PATH,
        &format!("format=csv&form_ref={SITES}&cursor={cursor}&headers=false"),
    )
    .await
    .text();
    let rows: Vec<&str> = rest.lines().collect();
    assert!(rows.iter().all(|r| !r.starts_with("ec5_seq")));
    let delete = rows.iter().find(|r| r.contains(",delete,")).unwrap();
    assert!(delete.contains(&second), "{delete}");
}

/// Base64url of a token's JSON, for forging cursors.
fn token(v: Value) -> String {
    format!(
        "q1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    )
}

async fn cursor_and_parameter_errors(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let (_, cursor) = walk(&server, "", 50, None).await;
    let decoded: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor.strip_prefix("q1.").unwrap())
            .unwrap(),
    )
    .unwrap();
    let cases: Vec<(String, u16, &str, &str)> = vec![
        ("cursor=garbage".into(), 400, "qd_cursor_invalid", "cursor"),
        (
            format!("cursor={}", token(json!({"p": "x"}))),
            400,
            "qd_cursor_invalid",
            "cursor",
        ),
        (
            format!(
                "cursor={}",
                token(json!({"p": "other", "e": decoded["e"], "s": 1, "h": 0}))
            ),
            400,
            "qd_cursor_project",
            "cursor",
        ),
        (
            format!(
                "cursor={}",
                token(json!({"p": decoded["p"], "e": "reset", "s": 1, "h": 0}))
            ),
            410,
            "qd_cursor_expired",
            "cursor",
        ),
        (
            format!(
                "cursor={}",
                token(json!({"p": decoded["p"], "e": decoded["e"], "s": 99, "h": 0}))
            ),
            410,
            "qd_cursor_expired",
            "cursor",
        ),
        ("per_page=1001".into(), 400, "ec5_335", "api"),
        ("per_page=0".into(), 400, "ec5_27", "per_page"),
        ("format=xml".into(), 400, "ec5_29", "format"),
        ("form_ref=nope".into(), 400, "ec5_15", "nope"),
        ("branch_ref=nope".into(), 400, "ec5_99", "nope"),
        (
            format!("form_ref={VISITS}&branch_ref={TREES}"),
            400,
            "ec5_99",
            TREES,
        ),
        ("map_index=7".into(), 400, "ec5_322", "map_index: 7"),
    ];
    for (query, status, code, source) in cases {
        let got = get(&server, PATH, &query).await;
        assert_eq!(got.status, status, "{query}: {}", got.text());
        assert_eq!(
            got.code(),
            (code.to_string(), source.to_string()),
            "{query}"
        );
    }
    // A reset epoch turns a good cursor into 410.
    assert_eq!(
        get(&server, PATH, &format!("cursor={cursor}")).await.status,
        200
    );
    server.app.store.reset_change_epoch(None).await.unwrap();
    assert_eq!(
        get(&server, PATH, &format!("cursor={cursor}")).await.status,
        410
    );
}

async fn filters_select_forms_and_branches_and_cursors_advance(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let types = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|i| i["type"].as_str().unwrap().to_string())
            .collect()
    };
    let (sites, _) = walk(&server, &format!("&form_ref={SITES}"), 50, None).await;
    assert_eq!(types(&sites), ["entry", "branch_entry"]);
    let (trees, _) = walk(&server, &format!("&branch_ref={TREES}"), 50, None).await;
    assert_eq!(types(&trees), ["branch_entry"]);
    let (visits, cursor) = walk(&server, &format!("&form_ref={VISITS}"), 50, None).await;
    assert_eq!(types(&visits), ["entry"]);
    // Nothing matched after the visit, yet the cursor jumped to the latest seq.
    let page = get(&server, PATH, &format!("form_ref={VISITS}&cursor={cursor}"))
        .await
        .json();
    assert_eq!(page["meta"]["count"], 0);
    assert_eq!(page["meta"]["next_cursor"], cursor.as_str());
    // The site, the site again (its tree), the tree, the visit.
    assert_eq!(page["meta"]["latest_seq"], 4);
}

async fn strict_compat_hides_the_feed_and_leaves_the_export_byte_identical(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let mut app = db.app().await;
    app.config.extensions = Extensions::strict();
    let strict = TestServer::start_app(app).await;
    let got = get(&strict, PATH, "").await;
    assert_eq!(got.status, 422);
    assert_eq!(got.code().0, "ec5_219");
    for query in [
        String::new(),
        format!("form_ref={VISITS}"),
        format!("branch_ref={TREES}&form_ref={SITES}"),
        format!("format=csv&form_ref={SITES}"),
        "per_page=1&page=1&cursor=abc".to_string(),
    ] {
        let a = get(&server, ENTRIES, &query).await;
        let b = get(&strict, ENTRIES, &query).await;
        assert_eq!(a.status, b.status);
        let strip = |t: String| -> String {
            // Links carry each server's own origin.
            t.replace(&server.base_url, "")
                .replace(&strict.base_url, "")
        };
        assert_eq!(strip(a.text()), strip(b.text()), "{query}");
    }
}

async fn the_feed_has_its_own_bucket_of_sixty_a_minute(db: TestDb) {
    let clock = ManualClock::at(1_800_000_000_000);
    let limiter = Limiter::in_memory(Limits::default()).with_clock(clock);
    let server = TestServer::start_with_limiter(&db, limiter).await;
    import_tree_survey(&server.app).await;
    for _ in 0..60 {
        assert_eq!(get(&server, PATH, "").await.status, 200);
    }
    let refused = get(&server, PATH, "").await;
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").is_some());
    assert_eq!(refused.header("x-ratelimit-limit"), Some("60"));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    // The entries export's bucket is another one.
    assert_eq!(get(&server, ENTRIES, "").await.status, 200);
}

/// Eight writers × 25 new sites through two app instances on one database while a reader
/// resumes all along: the reader ends with exactly the stored rows, seqs exactly 1..N, and a
/// cursor of instance A works on B.
async fn concurrent_writers_on_two_instances_never_make_the_reader_miss_a_row(db: TestDb) {
    let a = TestServer::start(&db).await;
    let b = TestServer::start(&db).await;
    let project = import_tree_survey(&a.app).await;
    let version = version_of(&project);
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let base = if w.is_multiple_of(2) {
            a.base_url.clone()
        } else {
            b.base_url.clone()
        };
        let version = version.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut uuids = Vec::new();
            for i in 0..EACH {
                let uuid = new_uuid();
                let data = another_site(&version, &uuid, &format!("W{w}-{i}"));
                let res = client
                    .post(format!("{base}/api/upload/{SLUG}"))
                    .json(&json!({"data": data}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
                uuids.push(uuid);
            }
            uuids
        }));
    }
    let mut seen: Vec<i64> = Vec::new();
    let mut uuids_seen: BTreeSet<String> = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut turn = 0usize;
    loop {
        let done = tasks.iter().all(|t| t.is_finished());
        // Alternate instances: a cursor of one is good on the other.
        let server = if turn.is_multiple_of(2) { &a } else { &b };
        turn += 1;
        let (items, next) = walk(server, "", 7, cursor.clone()).await;
        for i in &items {
            seen.push(i["seq"].as_i64().unwrap());
            assert_eq!(i["op"], "upsert");
            uuids_seen.insert(i["uuid"].as_str().unwrap().to_string());
        }
        cursor = Some(next);
        if done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mut written = BTreeSet::new();
    for t in tasks {
        written.extend(t.await.unwrap());
    }
    let n = (WRITERS * EACH) as i64;
    assert_eq!(
        seen,
        (1..=n).collect::<Vec<_>>(),
        "seqs exactly 1..N, in order"
    );
    assert_eq!(uuids_seen, written);
    let page = get(&b, PATH, &format!("cursor={}", cursor.unwrap()))
        .await
        .json();
    assert_eq!(page["meta"]["count"], 0);
    assert_eq!(page["meta"]["latest_seq"], n);
}

both_engines!(
    walk_from_start_gives_every_row_once_as_the_export_renders_it,
    resume_sees_same_second_edits_branch_inserts_and_cascading_deletes,
    mapping_and_access_changes_are_project_events,
    csv_has_two_leading_columns_delete_rows_and_needs_a_form,
    cursor_and_parameter_errors,
    filters_select_forms_and_branches_and_cursors_advance,
    strict_compat_hides_the_feed_and_leaves_the_export_byte_identical,
    the_feed_has_its_own_bucket_of_sixty_a_minute,
    concurrent_writers_on_two_instances_never_make_the_reader_miss_a_row,
);
