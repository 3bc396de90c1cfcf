//! Many app clients uploading to one project at once over HTTP, on both engines: nothing is
//! lost and every counter is exact.

use std::sync::Arc;

use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::Value;

const CLIENTS: u32 = 8;
const UPLOADS_PER_CLIENT: u32 = 25;

/// Each client's 25 uploads: sites, then trees and visits under its own sites, every fifth
/// upload under the site all clients share.
fn client_uploads(version: &str, client: u32) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut sites = Vec::new();
    for i in 0..UPLOADS_PER_CLIENT {
        let uuid = new_uuid();
        let data = match i % 5 {
            0 | 1 => {
                sites.push(uuid.clone());
                another_site(version, &uuid, &format!("Site {client}-{i}"))
            }
            2 | 3 => another_tree(
                version,
                &uuid,
                &sites[sites.len() - 1],
                &format!("T-{client}-{i}"),
            ),
            _ => another_visit(version, &uuid, SITE_UUID),
        };
        out.push((uuid, data));
    }
    out
}

async fn concurrent_uploads_lose_nothing_and_keep_counters_exact(db: TestDb) {
    let server = Arc::new(TestServer::start(&db).await);
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    assert!(
        post_entry(&server, SLUG, &site_entry(&version))
            .await
            .is_uploaded()
    );
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let server = server.clone();
        let uploads = client_uploads(&version, client);
        // Every client also races for the same site name: exactly one may have it.
        let contested = another_site(&version, &new_uuid(), "Contested");
        tasks.push(tokio::spawn(async move {
            let raced = post_entry(&server, SLUG, &contested).await;
            for (uuid, data) in uploads {
                let answer = post_entry(&server, SLUG, &data).await;
                assert!(answer.is_uploaded(), "{uuid}: {answer:?}");
            }
            raced
        }));
    }
    let mut winners = 0;
    for task in tasks {
        let raced = task.await.expect("a client");
        if raced.is_uploaded() {
            winners += 1;
        } else {
            assert_eq!(
                raced.errors(),
                vec![("ec5_22".to_string(), SITE_NAME.to_string())]
            );
        }
    }
    assert_eq!(winners, 1, "one upload gets a unique name");

    let app = &server.app;
    let id = project.id;
    let per_client = |n: u32| u64::from(CLIENTS * UPLOADS_PER_CLIENT * n / 5);
    // Plus the shared site and the contested one.
    let (sites, trees, visits) = (per_client(2) + 2, per_client(2), per_client(1));
    assert_eq!(
        app.store.entry_totals(id).await.unwrap(),
        ((sites + visits) as i64, trees as i64)
    );
    let stats = app.project_stats(&project).await.unwrap();
    assert_eq!(stats.total_entries, (sites + visits) as i64);
    let count = |refs: &[(String, quadrat_core::stats::Counter)], r: &str| {
        refs.iter()
            .find(|(k, _)| k == r)
            .map(|(_, c)| c.count)
            .unwrap_or(0)
    };
    assert_eq!(count(&stats.form_counts, SITES), sites as i64);
    assert_eq!(count(&stats.form_counts, VISITS), visits as i64);
    assert_eq!(count(&stats.branch_counts, TREES), trees as i64);

    // Every site's own counts match its rows.
    let rows = app.store.entry_rows(id).await.unwrap();
    let branches = app.store.branch_entry_rows(id).await.unwrap();
    for site in rows.iter().filter(|r| r.form_ref == SITES) {
        let children = rows.iter().filter(|r| r.parent_uuid == site.uuid).count() as i64;
        let trees = branches
            .iter()
            .filter(|b| b.owner_uuid == site.uuid)
            .count();
        assert_eq!(site.child_counts, children, "{}", site.uuid);
        assert_eq!(
            site.branch_counts.as_deref(),
            Some(format!(r#"{{"{TREES}":{trees}}}"#).as_str()),
            "{}",
            site.uuid
        );
    }

    let shared = rows.iter().find(|r| r.uuid == SITE_UUID).unwrap();
    assert_eq!(
        shared.child_counts, visits as i64,
        "every visit is the shared site's"
    );

    // What the export shows.
    let export: Value = reqwest::get(server.url(&format!("/api/export/project/{SLUG}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = &export["meta"]["project_stats"];
    assert_eq!(shown["total_entries"], sites + visits);
    assert_eq!(shown["form_counts"][SITES]["count"], sites);
    assert_eq!(shown["branch_counts"][TREES]["count"], trees);
}

both_engines!(concurrent_uploads_lose_nothing_and_keep_counters_exact);
