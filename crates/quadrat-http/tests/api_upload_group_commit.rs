//! Valid and refused uploads arriving together, on both engines (on SQLite they share group
//! commits): every valid one is stored, every refused one changes nothing and fails no
//! neighbour, and every counter is exact afterwards.

use std::sync::Arc;

use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::{Value, json};
use tokio::sync::Barrier;

const CLIENTS: usize = 12;
const ROUNDS: usize = 10;

/// What one upload is meant to be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Site,
    Tree,
    /// A site whose tree count is not a number.
    BadAnswer,
    /// A site named as the shared site is: the unique name is taken.
    TakenName,
    /// A tree of a site that does not exist.
    Orphan,
}

const KINDS: [Kind; 5] = [
    Kind::Site,
    Kind::BadAnswer,
    Kind::Tree,
    Kind::TakenName,
    Kind::Orphan,
];

async fn valid_and_refused_uploads_together_store_exactly_the_valid_ones(db: TestDb) {
    let server = Arc::new(TestServer::start(&db).await);
    let project = import_tree_survey(&server.app).await;
    let version = version_of(&project);
    assert!(
        post_entry(&server, SLUG, &site_entry(&version))
            .await
            .is_uploaded()
    );
    let before = snapshot(&server.app, &project).await;
    let start = Arc::new(Barrier::new(CLIENTS));
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (server, version, start) = (server.clone(), version.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let (mut sites, mut trees) = (0u64, 0u64);
            // Each round, every client sends at the same moment, so batches mix the kinds.
            for round in 0..ROUNDS {
                // A client that failed never arrives: fail too instead of waiting for ever.
                tokio::time::timeout(std::time::Duration::from_secs(60), start.wait())
                    .await
                    .expect("every client reaches the round");
                let kind = KINDS[(client + round) % KINDS.len()];
                let uuid = new_uuid();
                let data = match kind {
                    Kind::Site => another_site(&version, &uuid, &format!("S-{client}-{round}")),
                    Kind::Tree => {
                        another_tree(&version, &uuid, SITE_UUID, &format!("T{client}-{round}"))
                    }
                    Kind::BadAnswer => {
                        let mut v = another_site(&version, &uuid, &format!("B-{client}-{round}"));
                        v["entry"]["answers"][TREE_COUNT]["answer"] = json!("many");
                        v
                    }
                    Kind::TakenName => another_site(&version, &uuid, "Oak Ridge"),
                    Kind::Orphan => another_tree(&version, &uuid, &new_uuid(), "T-orphan"),
                };
                let answer = post_entry(&server, SLUG, &data).await;
                match kind {
                    Kind::Site => {
                        assert!(answer.is_uploaded(), "{kind:?}: {answer:?}");
                        sites += 1;
                    }
                    Kind::Tree => {
                        assert!(answer.is_uploaded(), "{kind:?}: {answer:?}");
                        trees += 1;
                    }
                    _ => {
                        assert_eq!(answer.status, 400, "{kind:?}: {answer:?}");
                        assert!(!answer.errors().is_empty(), "{kind:?}: {answer:?}");
                    }
                }
            }
            (sites, trees)
        }));
    }
    let (mut sites, mut trees) = (1u64, 0u64);
    for task in tasks {
        let (s, t) = task.await.expect("a client");
        sites += s;
        trees += t;
    }

    let app = &server.app;
    let id = project.id;
    assert_eq!(
        app.store.entry_totals(id).await.unwrap(),
        (sites as i64, trees as i64)
    );
    let after = snapshot(app, &project).await;
    assert_eq!(
        after.media, before.media,
        "no upload touched the media totals"
    );
    let rows = app.store.entry_rows(id).await.unwrap();
    assert!(
        rows.iter().all(|r| !r.title.starts_with("B-")),
        "no refused site was kept"
    );
    let shared = rows.iter().find(|r| r.uuid == SITE_UUID).unwrap();
    assert_eq!(
        shared.branch_counts.as_deref(),
        Some(format!(r#"{{"{TREES}":{trees}}}"#).as_str()),
        "every tree is the shared site's"
    );
    let export: Value = reqwest::get(server.url(&format!("/api/export/project/{SLUG}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = &export["meta"]["project_stats"];
    assert_eq!(shown["total_entries"], sites);
    assert_eq!(shown["form_counts"][SITES]["count"], sites);
    assert_eq!(shown["branch_counts"][TREES]["count"], trees);
}

both_engines!(valid_and_refused_uploads_together_store_exactly_the_valid_ones);
