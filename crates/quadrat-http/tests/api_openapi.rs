//! `GET /api/openapi.json` (docs/protocol.md §17.10): an OpenAPI 3.1 document that describes
//! every API route of the router's table (read from the table itself), with the ec5 error
//! envelope as a schema; hidden under `compat.strict` like every extension.

use quadrat_app::Extensions;
use quadrat_testkit::{TestDb, TestServer};
use serde_json::Value;

async fn document(server: &TestServer) -> (u16, Value) {
    let res = reqwest::get(server.url("/api/openapi.json")).await.unwrap();
    let status = res.status().as_u16();
    (
        status,
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_table_is_described() {
    let db = TestDb::sqlite().await;
    let server = TestServer::start(&db).await;
    let (status, doc) = document(&server).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let table = quadrat_http::api_route_paths(db.app().await);
    assert!(table.len() >= 20, "{table:?}");
    for path in &table {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is in the route table but not in the document"));
        let ops = item.as_object().unwrap();
        assert!(!ops.is_empty(), "{path}");
        for (method, op) in ops {
            assert!(
                ["get", "post"].contains(&method.as_str()),
                "{path} {method}"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{path}"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{path}"
            );
            // The documented method answers (a wrong one is 422 ec5_219 method not allowed).
            let url = server.url(
                &path
                    .replace("{slug}", "no-such-project")
                    .replace("{name}", "x"),
            );
            let client = reqwest::Client::new();
            let res = match method.as_str() {
                "get" => client.get(url).send().await.unwrap(),
                _ => client.post(url).body("").send().await.unwrap(),
            };
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            assert!(
                !body.contains("method not allowed exception"),
                "{method} {path}: {status} {body}"
            );
        }
    }
    for path in paths.keys() {
        assert!(table.contains(path), "{path} is documented but not routed");
    }
    for needed in [
        "/api/export/changes/{slug}",
        "/api/openapi.json",
        "/api/export/entries/{slug}",
    ] {
        assert!(paths.contains_key(needed), "{needed}");
    }
    // The envelope is a schema, referenced by error answers with examples.
    let envelope = &doc["components"]["schemas"]["Ec5Errors"];
    assert_eq!(envelope["required"][0], "errors");
    let not_found = &paths["/api/export/entries/{slug}"]["get"]["responses"]["404"];
    assert_eq!(
        not_found["content"]["application/vnd.api+json"]["schema"]["$ref"],
        "#/components/schemas/Ec5Errors"
    );
    assert_eq!(
        not_found["content"]["application/vnd.api+json"]["example"]["errors"][0]["code"],
        "ec5_256"
    );
    // Every $ref resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap().to_string());
                    } else {
                        refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for r in found {
        let pointer = r.strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some(), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_compat_hides_the_document_and_the_extensions() {
    let db = TestDb::sqlite().await;
    let mut app = db.app().await;
    app.config.extensions = Extensions::strict();
    let table = quadrat_http::api_route_paths(app.clone());
    assert!(
        !table
            .iter()
            .any(|p| p.contains("changes") || p.contains("openapi"))
    );
    let server = TestServer::start_app(app).await;
    let (status, body) = document(&server).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["code"], "ec5_219");
}
