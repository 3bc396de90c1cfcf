//! `GET /api/export/entries/{slug}` over real HTTP on both engines (docs/protocol.md §8): the
//! worked example's entries, every selection, filters, sorts and stable paging, meta and links,
//! CSV, custom maps, private projects and every parameter error.

mod oauth_support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::{Value, json};

const PATH: &str = "/api/export/entries/tree-survey-2024";

struct Got {
    status: u16,
    content_type: String,
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
    fn entries(&self) -> Vec<Value> {
        self.json()["data"]["entries"].as_array().unwrap().clone()
    }
    fn uuids(&self) -> Vec<String> {
        self.entries()
            .iter()
            .map(|e| {
                e.get("ec5_uuid")
                    .or_else(|| e.get("ec5_branch_uuid"))
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
    fn codes(&self) -> Vec<(String, String)> {
        self.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["code"].as_str().unwrap().to_string(),
                    e["source"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

async fn get_with(server: &TestServer, query: &str, auth: Option<&str>) -> Got {
    let url = if query.is_empty() {
        server.url(PATH)
    } else {
        server.url(&format!("{PATH}?{query}"))
    };
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let res = req.send().await.unwrap();
    Got {
        status: res.status().as_u16(),
        content_type: res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

async fn get(server: &TestServer, query: &str) -> Got {
    get_with(server, query, None).await
}

/// The worked example uploaded through the real upload route: the site, its tree, its visit.
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

/// Keys of an object, in order.
fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A site of its own created at `created_at`, uploaded through the route.
async fn site_at(server: &TestServer, version: &str, name: &str, created_at: &str) -> String {
    let uuid = new_uuid();
    let mut data = another_site(version, &uuid, name);
    data["entry"]["created_at"] = json!(created_at);
    let answer = post_entry(server, SLUG, &data).await;
    assert!(answer.is_uploaded(), "{:?}", answer.errors());
    uuid
}

fn is_iso_millis(v: &Value) -> bool {
    let s = v.as_str().unwrap();
    s.len() == 24 && s.ends_with(".000Z") && s.as_bytes()[10] == b'T'
}

async fn export_worked_example_gives_exact_keys_values_and_envelope(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let origin = server.base_url.clone();

    let sites = get(&server, "").await;
    assert_eq!(sites.status, 200);
    assert_eq!(
        sites.content_type,
        "application/vnd.api+json; charset=utf-8"
    );
    let body = sites.json();
    assert_eq!(keys(&body), ["meta", "data", "links"]);
    assert_eq!(keys(&body["data"]), ["id", "type", "entries", "mapping"]);
    assert_eq!(body["data"]["id"], "tree-survey-2024");
    assert_eq!(body["data"]["type"], "entries");
    assert_eq!(
        body["data"]["mapping"],
        json!({"map_name": "EC5_AUTO", "map_index": 0})
    );
    assert_eq!(
        body["meta"],
        json!({"total": 1, "per_page": 50, "current_page": 1, "last_page": 1, "from": 1, "to": 1,
               "newest": "2024-06-03T09:15:27.000Z", "oldest": "2024-06-03T09:15:27.000Z"})
    );
    let mut site = body["data"]["entries"][0].clone();
    assert_eq!(
        keys(&site),
        [
            "ec5_uuid",
            "created_at",
            "uploaded_at",
            "title",
            "1_Site_name",
            "2_Number_of_trees_co",
            "3_Survey_date",
            "4_Is_the_site_access",
            "5_Species_observed",
            "6_Site_location",
            "7_Photo_of_the_site",
            "8_Individual_trees",
            "12_Temperature_C",
            "13_Cloud_cover"
        ]
    );
    assert!(is_iso_millis(&site["uploaded_at"]));
    let photo = site["7_Photo_of_the_site"].as_str().unwrap().to_string();
    assert!(photo.starts_with(&format!(
        "{origin}/api/media/tree-survey-2024?type=photo&format=entry_original&name={PHOTO_NAME}&v="
    )), "{photo}");
    let obj = site.as_object_mut().unwrap();
    obj.remove("uploaded_at");
    obj.remove("7_Photo_of_the_site");
    assert_eq!(
        site,
        json!({
            "ec5_uuid": SITE_UUID, "created_at": "2024-06-03T09:15:27.000Z", "title": "Oak Ridge",
            "1_Site_name": "Oak Ridge", "2_Number_of_trees_co": 37, "3_Survey_date": "03/06/2024",
            "4_Is_the_site_access": "Yes", "5_Species_observed": ["Oak", "Birch"],
            "6_Site_location": {"latitude": 51.498765, "longitude": -0.174877, "accuracy": 7,
                "UTM_Northing": 5709076, "UTM_Easting": 696087, "UTM_Zone": "30U"},
            "8_Individual_trees": 1, "12_Temperature_C": 14.5, "13_Cloud_cover": "Overcast"
        })
    );

    let visits = get(&server, &format!("form_ref={VISITS}")).await.entries();
    assert_eq!(visits.len(), 1);
    assert_eq!(
        keys(&visits[0]),
        [
            "ec5_uuid",
            "ec5_parent_uuid",
            "created_at",
            "uploaded_at",
            "title",
            "14_Visit_date",
            "15_Notes"
        ]
    );
    assert_eq!(visits[0]["ec5_uuid"], VISIT_UUID);
    assert_eq!(visits[0]["ec5_parent_uuid"], SITE_UUID);
    assert_eq!(visits[0]["created_at"], "2024-06-10T14:02:11.000Z");
    assert_eq!(visits[0]["14_Visit_date"], "10/06/2024");
    assert_eq!(visits[0]["15_Notes"], "Two new saplings near the gate.");

    let trees = get(&server, &format!("branch_ref={TREES}")).await.entries();
    assert_eq!(trees.len(), 1);
    assert_eq!(
        keys(&trees[0]),
        [
            "ec5_branch_owner_uuid",
            "ec5_branch_uuid",
            "created_at",
            "uploaded_at",
            "title",
            "9_Tree_tag",
            "10_Trunk_circumferen"
        ]
    );
    assert_eq!(trees[0]["ec5_branch_owner_uuid"], SITE_UUID);
    assert_eq!(trees[0]["ec5_branch_uuid"], TREE_UUID);
    assert_eq!(trees[0]["9_Tree_tag"], "T-0042");
    assert_eq!(trees[0]["10_Trunk_circumferen"], 187.5);
}

async fn export_selections_return_exactly_the_chosen_rows(db: TestDb) {
    let server = TestServer::start(&db).await;
    let version = worked_example(&server).await;
    let other = site_at(&server, &version, "Elm Hollow", "2024-06-04T08:00:00.000Z").await;
    let other_tree = new_uuid();
    ingest_entry(
        &server.app,
        &server.app.find_project(SLUG).await.unwrap(),
        &another_tree(&version, &other_tree, &other, "T-0100"),
    )
    .await;

    assert_eq!(get(&server, "").await.uuids().len(), 2);
    assert_eq!(
        get(&server, &format!("uuid={SITE_UUID}")).await.uuids(),
        [SITE_UUID]
    );
    // A child uuid needs its form_ref; uuid wins over parent_uuid.
    assert!(
        get(&server, &format!("uuid={VISIT_UUID}"))
            .await
            .uuids()
            .is_empty()
    );
    assert_eq!(
        get(
            &server,
            &format!(
                "form_ref={VISITS}&uuid={VISIT_UUID}&parent_uuid={other}&parent_form_ref={SITES}"
            )
        )
        .await
        .uuids(),
        [VISIT_UUID]
    );
    assert_eq!(
        get(
            &server,
            &format!("form_ref={VISITS}&parent_uuid={SITE_UUID}&parent_form_ref={SITES}")
        )
        .await
        .uuids(),
        [VISIT_UUID]
    );
    assert!(
        get(
            &server,
            &format!("form_ref={VISITS}&parent_uuid={other}&parent_form_ref={SITES}")
        )
        .await
        .uuids()
        .is_empty()
    );
    assert!(
        get(
            &server,
            &format!("form_ref={VISITS}&parent_uuid={SITE_UUID}")
        )
        .await
        .uuids()
        .is_empty()
    );

    let mut all = get(&server, &format!("branch_ref={TREES}")).await.uuids();
    all.sort();
    let mut want = vec![TREE_UUID.to_string(), other_tree.clone()];
    want.sort();
    assert_eq!(all, want);
    assert_eq!(
        get(
            &server,
            &format!("branch_ref={TREES}&branch_owner_uuid={other}")
        )
        .await
        .uuids(),
        [other_tree.as_str()]
    );
    assert_eq!(
        get(
            &server,
            &format!("branch_ref={TREES}&uuid={TREE_UUID}&branch_owner_uuid={other}")
        )
        .await
        .uuids(),
        [TREE_UUID]
    );
    let empty = get(
        &server,
        &format!("branch_ref={TREES}&branch_owner_uuid={VISIT_UUID}"),
    )
    .await;
    assert_eq!(empty.json()["meta"]["total"], 0);
}

async fn export_date_filters_apply_whole_days_or_exact_instants(db: TestDb) {
    let server = TestServer::start(&db).await;
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    let d1 = site_at(&server, &version, "Day one", "2024-06-01T10:00:00.000Z").await;
    let d2 = site_at(&server, &version, "Day two", "2024-06-02T10:00:00.000Z").await;
    let d3 = site_at(&server, &version, "Day three", "2024-06-03T10:00:00.000Z").await;
    let q = |s: &str| format!("sort_order=asc&{s}");
    let both = get(
        &server,
        &q("filter_by=created_at&filter_from=2024-06-02T23:00:00&filter_to=2024-06-02T01:00:00"),
    )
    .await;
    assert_eq!(both.uuids(), [d2.as_str()]);
    assert_eq!(both.json()["meta"]["newest"], "2024-06-02T10:00:00.000Z");
    assert_eq!(both.json()["meta"]["total"], 1);
    assert_eq!(
        get(
            &server,
            &q("filter_by=created_at&filter_from=2024-06-02T10:00:00.000Z")
        )
        .await
        .uuids(),
        [d2.clone(), d3.clone()]
    );
    assert_eq!(
        get(&server, &q("filter_by=created_at&filter_to=2024-06-02"))
            .await
            .uuids(),
        [d1.as_str()]
    );
    assert_eq!(
        get(&server, &q("filter_from=2024-06-02&filter_to=2024-06-02"))
            .await
            .uuids(),
        [d1.clone(), d2.clone(), d3.clone()]
    );
    let uploaded = get(&server, &q("filter_by=uploaded_at&filter_to=2024-06-02")).await;
    assert_eq!(uploaded.json()["meta"]["total"], 0);
    assert!(get(&server, "title=DAY%20T").await.uuids().len() == 2);
    assert_eq!(get(&server, &q("title=d_y%25one")).await.uuids(), [d1]);
}

async fn export_sorts_page_stably_without_duplicates_or_gaps(db: TestDb) {
    let server = TestServer::start(&db).await;
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    let mut all = Vec::new();
    for name in ["bb", "a", "ccc", "dd", "e", "ffff", "gg"] {
        all.push(site_at(&server, &version, name, "2024-06-01T10:00:00.000Z").await);
    }
    all.sort();
    for sort in ["created_at", "uploaded_at", "title"] {
        for order in ["asc", "desc"] {
            let mut seen = Vec::new();
            for page in 1..=3 {
                let got = get(
                    &server,
                    &format!("sort_by={sort}&sort_order={order}&per_page=3&page={page}"),
                )
                .await;
                assert_eq!(got.json()["meta"]["last_page"], 3);
                seen.extend(got.uuids());
            }
            assert_eq!(seen.len(), 7, "{sort} {order}");
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(sorted, all, "{sort} {order}");
        }
    }
    let titles = |g: Got| -> Vec<String> {
        g.entries()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles(get(&server, "sort_by=title&sort_order=asc").await),
        ["a", "e", "bb", "dd", "gg", "ccc", "ffff"]
    );
    assert_eq!(
        titles(get(&server, "sort_by=title&sort_order=DESC").await),
        ["ffff", "ccc", "gg", "dd", "bb", "e", "a"]
    );
}

async fn export_meta_and_links_follow_the_paginator(db: TestDb) {
    let server = TestServer::start(&db).await;
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    for (i, day) in ["01", "02", "03", "04", "05"].iter().enumerate() {
        site_at(
            &server,
            &version,
            &format!("s{i}"),
            &format!("2024-06-{day}T10:00:00.000Z"),
        )
        .await;
    }
    let got = get(&server, "per_page=2&page=2&unknown=1").await.json();
    assert_eq!(
        got["meta"],
        json!({"total": 5, "per_page": 2, "current_page": 2, "last_page": 3, "from": 2, "to": 3,
               "newest": "2024-06-05T10:00:00.000Z", "oldest": "2024-06-01T10:00:00.000Z"})
    );
    let base = format!(
        "{}{PATH}?form_ref={SITES}&parent_form_ref=&branch=&branch_ref=&branch_owner_uuid=&parent_uuid=&uuid=&input_ref=&per_page=2&sort_by=created_at&sort_order=DESC&map_index=0&filter_by=&filter_from=&filter_to=&format=json&headers=true&title=&page=",
        server.base_url
    );
    assert_eq!(
        got["links"],
        json!({"self": format!("{base}2"), "first": format!("{base}1"), "prev": format!("{base}1"),
               "next": format!("{base}3"), "last": format!("{base}3")})
    );
    let bare = get(&server, "").await.json();
    assert_eq!(bare["links"]["prev"], Value::Null);
    assert_eq!(bare["links"]["next"], Value::Null);
    assert!(bare["links"]["self"].as_str().unwrap().ends_with("per_page=50&sort_by=created_at&sort_order=DESC&map_index=0&filter_by=&filter_from=&filter_to=&format=json&headers=true&title=&page=1"));

    let beyond = get(&server, "per_page=2&page=9").await.json();
    assert_eq!(beyond["data"]["entries"], json!([]));
    assert!(beyond["data"].get("mapping").is_none());
    assert_eq!(beyond["meta"]["current_page"], 9);
    let last = get(&server, "per_page=2&page=3&sort_order=asc").await;
    assert_eq!(last.entries()[0]["title"], "s4");
}

async fn export_parameter_errors_come_back_in_the_envelope(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("per_page=abc", &[("ec5_27", "per_page")]),
        ("per_page=-1", &[("ec5_27", "per_page")]),
        (
            "page=x&per_page=x",
            &[("ec5_27", "page"), ("ec5_27", "per_page")],
        ),
        ("per_page=1001", &[("ec5_335", "api")]),
        ("form_ref=nope", &[("ec5_15", "nope")]),
        ("parent_form_ref=nope", &[("ec5_15", "nope")]),
        ("branch_ref=nope", &[("ec5_99", "nope")]),
        ("uuid=short", &[("ec5_43", "uuid")]),
        ("parent_uuid=short", &[("ec5_43", "parent_uuid")]),
        ("input_ref=nope", &[("ec5_84", "nope")]),
        ("sort_by=name", &[("ec5_29", "sort_by")]),
        ("sort_order=Desc", &[("ec5_29", "sort_order")]),
        ("filter_by=title", &[("ec5_29", "filter_by")]),
        ("filter_from=yesterday", &[("ec5_79", "filter_from")]),
        ("format=xml", &[("ec5_29", "format")]),
        ("headers=yes", &[("ec5_29", "headers")]),
        ("map_index=x", &[("ec5_27", "map_index")]),
        ("map_index=-1", &[("ec5_43", "map_index")]),
        ("map_index=5", &[("ec5_322", "map_index: 5")]),
        ("form_ref[]=x", &[("ec5_87", "form_ref")]),
    ];
    for (query, want) in cases {
        let got = get(&server, query).await;
        assert_eq!(got.status, 400, "{query}");
        assert_eq!(got.content_type, "application/vnd.api+json; charset=utf-8");
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(c, s)| (c.to_string(), s.to_string()))
            .collect();
        // `source` of a semantic error names the value; compare codes, and sources that are names.
        let got = got.codes();
        assert_eq!(got.len(), want.len(), "{query}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0, "{query}: {got:?}");
            if !w.1.starts_with("nope") {
                assert_eq!(g.1, w.1, "{query}: {got:?}");
            }
        }
    }
    let missing = reqwest::get(server.url("/api/export/entries/no-such-project"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "ec5_11");
}

async fn export_csv_repeats_headers_per_page_and_honours_headers_and_bom(db: TestDb) {
    let server = TestServer::start(&db).await;
    let version = worked_example(&server).await;
    site_at(&server, &version, "Elm Hollow", "2024-06-04T08:00:00.000Z").await;
    let header = "ec5_uuid,created_at,uploaded_at,title,1_Site_name,";
    for page in 1..=2 {
        let got = get(&server, &format!("format=csv&per_page=1&page={page}")).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.content_type, "text/csv; charset=utf-8");
        let text = got.text();
        assert!(text.starts_with(header), "{text}");
        assert_eq!(text.lines().count(), 2);
    }
    let bare = get(&server, "format=csv&headers=false&sort_order=asc")
        .await
        .text();
    assert_eq!(bare.lines().count(), 2);
    assert!(bare.starts_with(SITE_UUID));
    let bom = get(&server, "format=csv&bom=true").await.body;
    assert!(bom.starts_with(b"\xEF\xBB\xBFec5_uuid,"));
    let empty = get(&server, "format=csv&page=7").await.text();
    assert_eq!(empty.lines().count(), 1);
}

async fn export_custom_map_changes_keys(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let index = server
        .app
        .create_mapping(SLUG, "Short", false)
        .await
        .unwrap();
    let mut map = server.app.show_mapping(SLUG, index).await.unwrap();
    map["forms"][SITES][SITE_NAME]["map_to"] = json!("site");
    server.app.update_mapping(SLUG, index, &map).await.unwrap();
    let got = get(&server, &format!("map_index={index}")).await.json();
    assert_eq!(
        got["data"]["mapping"],
        json!({"map_name": "Short", "map_index": index})
    );
    let entry = &got["data"]["entries"][0];
    assert_eq!(entry["site"], "Oak Ridge");
    assert!(entry.get("1_Site_name").is_none());
    let csv = get(&server, &format!("map_index={index}&format=csv"))
        .await
        .text();
    assert!(csv.starts_with("ec5_uuid,created_at,uploaded_at,title,site,"));
}

async fn export_private_project_needs_a_token_and_adds_created_by(db: TestDb) {
    let server = TestServer::start(&db).await;
    // Uploaded while public (anonymously), then made private.
    worked_example(&server).await;
    server
        .app
        .set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();

    // An entry uploaded by a member: its `created_by` is the member's email.
    let user = server
        .app
        .create_user("ann@example.org", Some("Ann"), None, false)
        .await
        .unwrap();
    let actor = quadrat_core::roles::Actor {
        user_id: user.id,
        email: Some(user.email.clone()),
        name: Some(user.name.clone()),
        is_server_admin: false,
        project_role: quadrat_core::roles::Role::parse("creator"),
    };
    let project = server.app.find_project(SLUG).await.unwrap();
    let by_ann = new_uuid();
    let mut data = another_site(&version_of(&project), &by_ann, "Ann's site");
    data["entry"]["created_at"] = json!("2020-01-01T00:00:00.000Z");
    server
        .app
        .ingest(&project, &actor, &data, None)
        .await
        .unwrap();

    let refused = get(&server, "").await;
    assert_eq!(refused.status, 404);
    assert_eq!(refused.codes()[0].0, "ec5_256");

    let app = oauth_support::create_app(&server, SLUG).await;
    let token = oauth_support::token_for(&server, &app).await;
    let auth = format!("Bearer {token}");
    let got = get_with(&server, "", Some(&auth)).await;
    assert_eq!(got.status, 200);
    let entry = &got.entries()[0];
    assert_eq!(
        keys(entry)[..5],
        [
            "ec5_uuid",
            "created_at",
            "uploaded_at",
            "created_by",
            "title"
        ]
    );
    assert_eq!(entry["created_by"], "n/a");
    let ann = &got.entries()[1];
    assert_eq!(ann["ec5_uuid"], by_ann.as_str());
    assert_eq!(ann["created_by"], "ann@example.org");
    assert_eq!(entry["7_Photo_of_the_site"], PHOTO_NAME);
    let csv = get_with(&server, "format=csv", Some(&auth)).await.text();
    assert!(csv.starts_with("ec5_uuid,created_at,uploaded_at,created_by,title,"));
}

async fn export_random_query_strings_never_answer_500(db: TestDb) {
    let server = TestServer::start(&db).await;
    worked_example(&server).await;
    let handle = tokio::runtime::Handle::current();
    let key = prop_oneof![
        Just("form_ref"),
        Just("parent_form_ref"),
        Just("branch_ref"),
        Just("branch_owner_uuid"),
        Just("parent_uuid"),
        Just("uuid"),
        Just("input_ref"),
        Just("per_page"),
        Just("page"),
        Just("sort_by"),
        Just("sort_order"),
        Just("map_index"),
        Just("filter_by"),
        Just("filter_from"),
        Just("filter_to"),
        Just("format"),
        Just("headers"),
        Just("title"),
        Just("bom"),
        Just("page[]"),
        Just("title[x]")
    ];
    let value = prop_oneof![
        "[ -~]{0,40}",
        Just(SITES.to_string()),
        Just(TREES.to_string()),
        Just(SITE_UUID.to_string()),
        Just("created_at".to_string()),
        Just("2024-06-03".to_string()),
        "-?[0-9]{1,22}",
    ];
    let query = proptest::collection::vec((key, value), 0..6).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| {
                let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&query, |query| {
            let got = tokio::task::block_in_place(|| handle.block_on(get(&server, &query)));
            prop_assert!(
                got.status == 200 || got.status == 400,
                "{query}: {}",
                got.status
            );
            Ok(())
        })
        .unwrap();
}

both_engines!(
    export_worked_example_gives_exact_keys_values_and_envelope,
    export_selections_return_exactly_the_chosen_rows,
    export_date_filters_apply_whole_days_or_exact_instants,
    export_sorts_page_stably_without_duplicates_or_gaps,
    export_meta_and_links_follow_the_paginator,
    export_parameter_errors_come_back_in_the_envelope,
    export_csv_repeats_headers_per_page_and_honours_headers_and_bom,
    export_custom_map_changes_keys,
    export_private_project_needs_a_token_and_adds_created_by,
    export_random_query_strings_never_answer_500,
);
