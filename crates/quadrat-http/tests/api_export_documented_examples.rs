//! The developer guide's own examples (the "EC5 API Test" project: its Person form and its
//! Family Members branch) reproduced against Quadrat, on both engines. The guide's responses
//! predate parts of the current code; docs/protocol.md §8.14 lists the corrections the code makes,
//! and each is named where it applies: `created_at` keeps whole seconds (`.000Z`) on entries
//! uploaded by the current server, `uploaded_at` and `title` are always there, media URLs carry
//! `&v=`, form entries count their branch entries, branch entries carry `ec5_branch_uuid` (not
//! `ec5_branch_ref`), meta adds `newest`/`oldest`, and links carry the 19 current keys.

use quadrat_app::projects::ImportOptions;
use quadrat_core::roles::Actor;
use quadrat_testkit::{TestDb, TestServer, both_engines, fixture};
use serde_json::{Value, json};

const SLUG: &str = "ec5-api-test";
const FORM: &str = "d500a44b973e4de4a80fda57ca3dfe4d_5901f6bb53273";
const BRANCH: &str = "d500a44b973e4de4a80fda57ca3dfe4d_5901f6bb53273_591ee7dc8400f";

/// (uuid, created_at, name, age, date of birth, sex answer ref, photo) as the guide shows them.
const PEOPLE: [(&str, &str, &str, i64, &str, &str, &str); 3] = [
    (
        "39f51e6d-6438-76ba-e63c-82b6b387c041",
        "2017-04-27T14:42:04.080Z",
        "Megan Fox",
        30,
        "1986-05-16T00:00:00.000",
        "5901f6ef53279",
        "39f51e6d-6438-76ba-e63c-82b6b387c041_1493304122.jpg",
    ),
    (
        "768bb179-fd2c-87b1-ec20-86a9acfdc87a",
        "2017-04-27T14:38:17.564Z",
        "Jim Carrey",
        55,
        "1962-01-17T00:00:00.000",
        "5901f6ec53278",
        "768bb179-fd2c-87b1-ec20-86a9acfdc87a_1493303895.jpg",
    ),
    (
        "e83d3770-2b55-11e7-a60a-656c7ec627a0",
        "2017-04-27T14:29:22.663Z",
        "Nicholas Cage",
        53,
        "2017-01-07T00:00:00.000",
        "5901f6ec53278",
        "e83d3770-2b55-11e7-a60a-656c7ec627a0_1493303578.jpg",
    ),
];

/// (owner uuid, created_at, name, age) of the Family Members branch entries in the guide.
const FAMILY: [(&str, &str, &str, i64); 4] = [
    (
        "768bb179-fd2c-87b1-ec20-86a9acfdc87a",
        "2017-05-19T12:51:41.674Z",
        "Andrew Carrey",
        46,
    ),
    (
        "39f51e6d-6438-76ba-e63c-82b6b387c041",
        "2017-05-19T12:49:04.825Z",
        "Sally Fox",
        28,
    ),
    (
        "39f51e6d-6438-76ba-e63c-82b6b387c041",
        "2017-05-19T12:48:57.512Z",
        "Bob Fox",
        35,
    ),
    (
        "39f51e6d-6438-76ba-e63c-82b6b387c041",
        "2017-05-19T12:48:49.713Z",
        "Joe Fox",
        40,
    ),
];

fn answer(value: Value) -> Value {
    json!({"answer": value, "was_jumped": false})
}

/// The project with the guide's entries, uploaded as the app uploads them.
async fn guide_project(server: &TestServer) {
    let app = &server.app;
    app.import_project(&fixture("ec5-api-test.json"), &ImportOptions::default())
        .await
        .expect("importing the EC5 API Test project");
    let project = app.find_project(SLUG).await.unwrap();
    let version = quadrat_core::time::sql_datetime(project.structure.updated_at);
    let actor = Actor::anonymous();
    for (uuid, created_at, name, age, born, sex, photo) in PEOPLE {
        let data = json!({
            "type": "entry", "id": uuid,
            "attributes": {"form": {"ref": FORM, "type": "hierarchy"}},
            "relationships": {"parent": {}, "branch": {}},
            "entry": {
                "entry_uuid": uuid, "created_at": created_at, "device_id": "", "platform": "Android",
                "title": name, "project_version": version,
                "answers": {
                    format!("{FORM}_5901f6c953274"): answer(json!(name)),
                    format!("{FORM}_5901f6d153275"): answer(json!(age.to_string())),
                    format!("{FORM}_5901f6dc53276"): answer(json!(born)),
                    format!("{FORM}_5901f6e753277"): answer(json!(sex)),
                    format!("{FORM}_5901f70a5327a"): answer(json!(photo)),
                    BRANCH: answer(json!("")),
                }
            }
        });
        app.ingest(&project, &actor, &data, None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (i, (owner, created_at, name, age)) in FAMILY.into_iter().enumerate() {
        let uuid = format!("f0000000-0000-4000-8000-00000000000{i}");
        let data = json!({
            "type": "branch_entry", "id": uuid,
            "attributes": {"form": {"ref": FORM, "type": "hierarchy"}},
            "relationships": {"parent": {}, "branch": {"data": {
                "owner_input_ref": BRANCH, "owner_entry_uuid": owner}}},
            "branch_entry": {
                "entry_uuid": uuid, "created_at": created_at, "device_id": "", "platform": "Android",
                "title": name, "project_version": version,
                "answers": {
                    format!("{BRANCH}_591ee7e68400a"): answer(json!(name)),
                    format!("{BRANCH}_591ee7ee8400b"): answer(json!(age.to_string())),
                }
            }
        });
        app.ingest(&project, &actor, &data, None)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

async fn get(server: &TestServer, query: &str) -> Value {
    let url = server.url(&format!("/api/export/entries/{SLUG}{query}"));
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.json().await.unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The guide's `created_at` with the milliseconds the current server writes.
fn whole_seconds(created_at: &str) -> String {
    format!("{}.000Z", &created_at[..19])
}

async fn guide_entries_example_is_reproduced(db: TestDb) {
    let server = TestServer::start(&db).await;
    guide_project(&server).await;
    let got = get(&server, "").await;
    assert_eq!(keys(&got), ["meta", "data", "links"]);
    let meta = &got["meta"];
    for (key, value) in [
        ("total", 3),
        ("per_page", 50),
        ("current_page", 1),
        ("last_page", 1),
        ("from", 1),
        ("to", 1),
    ] {
        assert_eq!(meta[key], value, "meta.{key}");
    }
    assert_eq!(meta["newest"], "2017-04-27T14:42:04.000Z");
    assert_eq!(meta["oldest"], "2017-04-27T14:29:22.000Z");
    assert_eq!(got["data"]["id"], SLUG);
    assert_eq!(got["data"]["type"], "entries");
    assert_eq!(
        got["data"]["mapping"],
        json!({"map_name": "EC5_AUTO", "map_index": 0})
    );
    let entries = got["data"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let born = ["16/05/1986", "17/01/1962", "07/01/2017"];
    let sex = ["Female", "Male", "Male"];
    let family = [3, 1, 0];
    for (i, entry) in entries.iter().enumerate() {
        let (uuid, created_at, name, age, _, _, photo) = PEOPLE[i];
        assert_eq!(
            keys(entry),
            [
                "ec5_uuid",
                "created_at",
                "uploaded_at",
                "title",
                "1_Name",
                "2_Age",
                "3_Date_of_birth",
                "4_Sex",
                "5_Photo",
                "6_Family_Members"
            ]
        );
        assert_eq!(entry["ec5_uuid"], uuid);
        assert_eq!(entry["created_at"], whole_seconds(created_at));
        assert_eq!(entry["title"], name);
        assert_eq!(entry["1_Name"], name);
        assert_eq!(entry["2_Age"], age, "integers are JSON numbers");
        assert_eq!(entry["3_Date_of_birth"], born[i]);
        assert_eq!(entry["4_Sex"], sex[i]);
        let url = entry["5_Photo"].as_str().unwrap();
        let expected = format!(
            "{}/api/media/{SLUG}?type=photo&format=entry_original&name={photo}&v=",
            server.base_url
        );
        assert!(url.starts_with(&expected), "{url}");
        assert_eq!(entry["6_Family_Members"], family[i]);
    }
    let first = got["links"]["first"].as_str().unwrap();
    assert!(first.starts_with(&format!(
        "{}/api/export/entries/{SLUG}?form_ref={FORM}&parent_form_ref=&branch=&branch_ref=",
        server.base_url
    )));
    assert_eq!(got["links"]["prev"], Value::Null);
    assert_eq!(got["links"]["next"], Value::Null);
}

async fn guide_branch_examples_are_reproduced(db: TestDb) {
    let server = TestServer::start(&db).await;
    guide_project(&server).await;
    // The guide's project had a custom default map named "custom" at index 1.
    let index = server
        .app
        .create_mapping(SLUG, "custom", true)
        .await
        .unwrap();
    assert_eq!(index, 1);

    let all = get(&server, &format!("?branch_ref={BRANCH}")).await;
    assert_eq!(all["meta"]["total"], 4);
    assert_eq!(
        all["data"]["mapping"],
        json!({"map_name": "custom", "map_index": 1})
    );
    let entries = all["data"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    for (entry, (owner, created_at, name, age)) in entries.iter().zip(FAMILY) {
        assert_eq!(
            keys(entry),
            [
                "ec5_branch_owner_uuid",
                "ec5_branch_uuid",
                "created_at",
                "uploaded_at",
                "title",
                "7_Name",
                "8_Age"
            ]
        );
        assert_eq!(entry["ec5_branch_owner_uuid"], owner);
        assert_eq!(entry["created_at"], whole_seconds(created_at));
        assert_eq!(entry["7_Name"], name);
        assert_eq!(entry["8_Age"], age);
    }

    let megan = "39f51e6d-6438-76ba-e63c-82b6b387c041";
    let one = get(
        &server,
        &format!("?branch_ref={BRANCH}&branch_owner_uuid={megan}"),
    )
    .await;
    assert_eq!(one["meta"]["total"], 3);
    let names: Vec<&str> = one["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["7_Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Sally Fox", "Bob Fox", "Joe Fox"]);
    let self_link = one["links"]["self"].as_str().unwrap();
    assert!(self_link.contains(&format!("&branch_ref={BRANCH}&branch_owner_uuid={megan}&")));
}

both_engines!(
    guide_entries_example_is_reproduced,
    guide_branch_examples_are_reproduced,
);
