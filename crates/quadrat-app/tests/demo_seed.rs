//! The demo project (`quadrat serve --demo`), on both engines: the bundled definition and its
//! three gardens pass the import and upload validation; seeding again changes nothing.

use quadrat_testkit::{TestDb, both_engines};

async fn demo_seeds_once_with_three_gardens(db: TestDb) {
    let app = db.app().await;
    let first = app.seed_demo().await.expect("seeding the demo");
    assert_eq!(
        (first.slug.as_str(), first.created, first.entries),
        ("garden-birds", true, 3)
    );
    let project = app.find_project("garden-birds").await.unwrap();
    assert_eq!(app.project_stats(&project).await.unwrap().total_entries, 3);

    let again = app.seed_demo().await.expect("seeding again");
    assert_eq!(
        (again.slug.as_str(), again.created, again.entries),
        ("garden-birds", false, 0)
    );
    assert_eq!(app.project_stats(&project).await.unwrap().total_entries, 3);
}

both_engines!(demo_seeds_once_with_three_gardens);
