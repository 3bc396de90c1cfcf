//! Where an export's links and media URLs point (docs/protocol.md §8.6): the configured public
//! URL; else what a trusted proxy forwarded (`X-Forwarded-Proto`/`X-Forwarded-Host`, or
//! `Forwarded`); else the request's own `Host` over HTTP. Forwarded headers from any other
//! peer are ignored.

use quadrat_app::ratelimit::Limiter;
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::Value;

const PATH: &str = "/api/export/entries/tree-survey-2024";

/// Every URL in the page: its links and the photo answer's URLs.
fn urls(body: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if s.starts_with("http") => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, &mut out);
    out
}

/// The worked example's site (with its photo) on `server`, exported with `headers`; returns
/// the URLs of the page, having checked there are links and a photo URL among them.
async fn export_urls(server: &TestServer, headers: &[(&str, &str)]) -> Vec<String> {
    let mut req = reqwest::Client::new().get(server.url(&format!("{PATH}?per_page=1")));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let found = urls(&body);
    assert!(
        found.iter().any(|u| u.contains(PATH)),
        "no links: {found:?}"
    );
    assert!(
        found.iter().any(|u| u.contains(PHOTO_NAME)),
        "no photo URL: {found:?}"
    );
    found
}

async fn with_site(server: &TestServer) {
    let project = import_tree_survey(&server.app).await;
    let answer = post_entry(server, SLUG, &site_entry(&version_of(&project))).await;
    assert!(answer.is_uploaded(), "{:?}", answer.errors());
}

fn all_start_with(urls: &[String], origin: &str) {
    for u in urls {
        assert!(
            u.starts_with(&format!("{origin}/api/")),
            "{u} is not under {origin}"
        );
    }
}

async fn forwarded_headers_count_only_from_a_trusted_proxy(db: TestDb) {
    let proxy_headers = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "data.example.org"),
    ];
    // An untrusted peer: its forwarded headers change nothing.
    let direct = TestServer::start(&db).await;
    with_site(&direct).await;
    let own = direct.base_url.trim_end_matches('/').to_string();
    all_start_with(&export_urls(&direct, &proxy_headers).await, &own);
    drop(direct);

    // Loopback as the trusted proxy, as behind nginx on the same machine.
    let limiter = Limiter::disabled()
        .with_trusted_proxies(&["127.0.0.1/32".to_string()])
        .unwrap();
    let proxied = TestServer::start_with_limiter(&db, limiter).await;
    all_start_with(
        &export_urls(&proxied, &proxy_headers).await,
        "https://data.example.org",
    );
    all_start_with(
        &export_urls(
            &proxied,
            &[(
                "forwarded",
                "for=192.0.2.60;proto=https;host=\"field.example.org:8443\"",
            )],
        )
        .await,
        "https://field.example.org:8443",
    );
    // A value that is not a host name is ignored, not written into the links.
    let own = proxied.base_url.trim_end_matches('/').to_string();
    all_start_with(
        &export_urls(
            &proxied,
            &[("x-forwarded-host", "evil.example/\"><script>")],
        )
        .await,
        &own,
    );
}

async fn a_configured_public_url_wins(db: TestDb) {
    let mut app = db.app().await;
    app.config.public_url = "https://quadrat.example.org/field".into();
    app.config.links_from_public_url = true;
    let server = TestServer::start_app(app).await;
    with_site(&server).await;
    all_start_with(
        &export_urls(&server, &[("x-forwarded-host", "other.example")]).await,
        "https://quadrat.example.org/field",
    );
}

both_engines!(
    forwarded_headers_count_only_from_a_trusted_proxy,
    a_configured_public_url_wins
);
