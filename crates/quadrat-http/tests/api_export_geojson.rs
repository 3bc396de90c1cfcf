//! `format=geojson` on `GET /api/export/entries/{slug}` over real HTTP on both engines
//! (docs/protocol.md §17.12): RFC 7946 structure checked against a JSON Schema of GeoJSON
//! written from the RFC, `[longitude, latitude]` on asymmetric points, properties as the JSON
//! export's keys, unlocated rows, paging with `Link`, errors, and `compat.strict`.

use quadrat_app::Extensions;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::{Value, json};

const ENTRIES: &str = "/api/export/entries/tree-survey-2024";

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn get(server: &TestServer, query: &str) -> Got {
    let res = reqwest::get(server.url(&format!("{ENTRIES}?{query}")))
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap();
    Got {
        status,
        headers,
        body: serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes))),
    }
}

/// RFC 7946 as a JSON Schema: a FeatureCollection of Features whose geometry is a Point of two
/// finite numbers in range (longitude first) or null, properties an object, no `crs`.
fn geojson_schema() -> Value {
    json!({
        "type": "object",
        "required": ["type", "features"],
        "not": {"anyOf": [{"required": ["crs"]}]},
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "not": {"anyOf": [{"required": ["crs"]}]},
                "properties": {
                    "type": {"const": "Feature"},
                    "id": {"type": ["string", "number"]},
                    "properties": {"type": ["object", "null"]},
                    "geometry": {"oneOf": [
                        {"type": "null"},
                        {"type": "object", "required": ["type", "coordinates"],
                         "properties": {
                            "type": {"const": "Point"},
                            "coordinates": {"type": "array", "minItems": 2, "maxItems": 2,
                                "prefixItems": [
                                    {"type": "number", "minimum": -180, "maximum": 180},
                                    {"type": "number", "minimum": -90, "maximum": 90}]}}}
                    ]}
                }
            }}
        }
    })
}

fn assert_valid(doc: &Value) {
    let validator = jsonschema::validator_for(&geojson_schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{doc}");
    assert_eq!(
        doc.as_object().unwrap().keys().next().map(String::as_str),
        Some("type"),
        "type first, for streaming readers"
    );
}

const SYDNEY: &str = "a1b2c3d4-0000-4000-8000-000000000001";
const BLANK: &str = "a1b2c3d4-0000-4000-8000-000000000002";

async fn setup(server: &TestServer) {
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    for data in [
        site_entry(&version),
        tree_entry(&version),
        visit_entry(&version),
    ] {
        assert!(post_entry(server, SLUG, &data).await.is_uploaded());
    }
    let mut sydney = another_site(&version, SYDNEY, "Sydney");
    sydney["entry"]["answers"][LOCATION]["answer"] =
        json!({"latitude": -33.9, "longitude": 151.2, "accuracy": 5});
    assert!(post_entry(server, SLUG, &sydney).await.is_uploaded());
    let mut blank = another_site(&version, BLANK, "Nowhere");
    blank["entry"]["answers"][LOCATION]["answer"] =
        json!({"latitude": "", "longitude": "", "accuracy": ""});
    let answer = post_entry(server, SLUG, &blank).await;
    assert!(answer.is_uploaded(), "{:?}", answer.errors());
}

async fn geojson_is_rfc_7946_with_the_json_exports_properties(db: TestDb) {
    let server = TestServer::start(&db).await;
    setup(&server).await;
    let got = get(&server, "format=geojson&sort_order=ASC").await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(
        got.headers.get("content-type").unwrap(),
        "application/geo+json"
    );
    let doc = got.body;
    assert_valid(&doc);
    assert_eq!(doc["meta"]["total"], 2, "the blank location is not counted");
    assert_eq!(
        doc["meta"]["location"],
        json!([{"input_ref": LOCATION, "map_to": "6_Site_location"}])
    );
    assert_eq!(
        doc["meta"]["mapping"],
        json!({"map_name": "EC5_AUTO", "map_index": 0})
    );
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    let by_id = |id: &str| features.iter().find(|f| f["id"] == id).unwrap().clone();
    // Longitude first, on points where swapping would show.
    assert_eq!(
        by_id(SITE_UUID)["geometry"],
        json!({"type": "Point", "coordinates": [-0.174877, 51.498765]})
    );
    assert_eq!(
        by_id(SYDNEY)["geometry"],
        json!({"type": "Point", "coordinates": [151.2, -33.9]})
    );
    // Properties: the JSON export's entry, the location flattened into the CSV's six keys.
    let json_export = get(&server, &format!("uuid={SITE_UUID}")).await.body;
    let entry = json_export["data"]["entries"][0]
        .as_object()
        .unwrap()
        .clone();
    let props = by_id(SITE_UUID)["properties"].as_object().unwrap().clone();
    let mut expected_keys = Vec::new();
    for (k, v) in &entry {
        if k == "6_Site_location" {
            for p in [
                "lat_",
                "long_",
                "accuracy_",
                "UTM_Northing_",
                "UTM_Easting_",
                "UTM_Zone_",
            ] {
                expected_keys.push(format!("{p}6_Site_location"));
            }
            assert_eq!(props["lat_6_Site_location"], v["latitude"]);
            assert_eq!(props["long_6_Site_location"], v["longitude"]);
            assert_eq!(props["UTM_Zone_6_Site_location"], v["UTM_Zone"]);
        } else {
            expected_keys.push(k.clone());
            assert_eq!(&props[k], v, "{k}");
        }
    }
    expected_keys.push("ec5_location_question".into());
    assert_eq!(props.keys().cloned().collect::<Vec<_>>(), expected_keys);
    assert_eq!(props["ec5_location_question"], "6_Site_location");
    assert!(props["5_Species_observed"].is_array(), "arrays stay arrays");

    // include_unlocated: every row, the blank one with a null geometry.
    let all = get(&server, "format=geojson&include_unlocated=true")
        .await
        .body;
    assert_valid(&all);
    assert_eq!(all["meta"]["total"], 3);
    let blank = all["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == BLANK)
        .unwrap()
        .clone();
    assert_eq!(blank["geometry"], Value::Null);

    // locations=all: ids carry the input ref.
    let every = get(&server, "format=geojson&locations=all").await.body;
    assert_valid(&every);
    assert!(
        every["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"].as_str().unwrap().ends_with(&format!(":{LOCATION}")))
    );

    // Branch mode: trees have no location input.
    let trees = get(&server, &format!("format=geojson&branch_ref={TREES}"))
        .await
        .body;
    assert_valid(&trees);
    assert_eq!(trees["features"], json!([]));
    assert_eq!(trees["meta"]["location"], json!([]));

    // An edit removing the location removes the feature.
    let project = server.app.find_project(SLUG).await.unwrap();
    let mut moved = another_site(&version_of(&project), SYDNEY, "Sydney");
    moved["entry"]["answers"][LOCATION]["answer"] =
        json!({"latitude": "", "longitude": "", "accuracy": ""});
    assert!(post_entry(&server, SLUG, &moved).await.is_uploaded());
    let after = get(&server, "format=geojson").await.body;
    assert_eq!(after["meta"]["total"], 1);
}

async fn geojson_pages_link_and_errors(db: TestDb) {
    let server = TestServer::start(&db).await;
    setup(&server).await;
    let first = get(&server, "format=geojson&per_page=1&sort_order=ASC").await;
    assert_eq!(first.status, 200);
    let next = first.body["links"]["next"].as_str().unwrap().to_string();
    assert!(
        next.ends_with(
            "&format=geojson&headers=true&title=&locations=first&include_unlocated=false&page=2"
        ),
        "{next}"
    );
    let link = first
        .headers
        .get("link")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(link.contains(&format!("<{next}>; rel=\"next\"")), "{link}");
    assert!(link.contains("rel=\"first\"") && link.contains("rel=\"last\""));
    let second = get(&server, "format=geojson&per_page=1&sort_order=ASC&page=2")
        .await
        .body;
    let ids = [&first.body, &second]
        .iter()
        .map(|d| d["features"][0]["id"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(ids, [SITE_UUID, SYDNEY]);
    // Compatible answers carry no Link header.
    assert!(
        get(&server, "per_page=1")
            .await
            .headers
            .get("link")
            .is_none()
    );

    let cases: Vec<(String, &str, String)> = vec![
        (
            "format=geojson&input_ref=nope".into(),
            "ec5_84",
            "nope".into(),
        ),
        (
            format!("format=geojson&input_ref={SITE_NAME}"),
            "ec5_29",
            "input_ref".into(),
        ),
        (
            format!("format=geojson&locations=all&input_ref={LOCATION}"),
            "ec5_29",
            "input_ref".into(),
        ),
        (
            "format=geojson&locations=some".into(),
            "ec5_29",
            "locations".into(),
        ),
        (
            "format=geojson&include_unlocated=yes".into(),
            "ec5_29",
            "include_unlocated".into(),
        ),
        (
            "format=geojson&per_page=1001".into(),
            "ec5_335",
            "api".into(),
        ),
    ];
    for (query, code, source) in cases {
        let got = get(&server, &query).await;
        assert_eq!(got.status, 400, "{query}: {}", got.body);
        assert_eq!(got.body["errors"][0]["code"], code, "{query}");
        assert_eq!(got.body["errors"][0]["source"], source.as_str(), "{query}");
    }
    let chosen = get(&server, &format!("format=geojson&input_ref={LOCATION}"))
        .await
        .body;
    assert_eq!(chosen["meta"]["total"], 2);
}

async fn strict_compat_refuses_geojson_as_the_real_server(db: TestDb) {
    let server = TestServer::start(&db).await;
    setup(&server).await;
    let mut app = db.app().await;
    app.config.extensions = Extensions::strict();
    let strict = TestServer::start_app(app).await;
    let got = get(&strict, "format=geojson").await;
    assert_eq!(got.status, 400);
    assert_eq!(got.body["errors"][0]["code"], "ec5_29");
    assert_eq!(got.body["errors"][0]["source"], "format");
    // json is unchanged by the extension.
    let a = get(&server, "sort_order=ASC").await.body["data"].to_string();
    let b = get(&strict, "sort_order=ASC").await.body["data"].to_string();
    // Media URLs carry each server's own origin.
    assert_eq!(
        a.replace(&server.base_url, ""),
        b.replace(&strict.base_url, "")
    );
}

both_engines!(
    geojson_is_rfc_7946_with_the_json_exports_properties,
    geojson_pages_link_and_errors,
    strict_compat_refuses_geojson_as_the_real_server,
);
