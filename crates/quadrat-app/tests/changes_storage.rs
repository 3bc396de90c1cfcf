//! The changes feed's storage on both engines (docs/protocol.md §17.5–17.9): migration 0011 on a
//! populated database, and the tombstone retention job.

use quadrat_app::change_upkeep::TombstoneRetention;
use quadrat_app::entries::Deletion;
use quadrat_store::{ChangeItem, ChangesSelect};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};

/// Everything of the project's feed from the start, tombstones and events included.
async fn everything(store: &quadrat_store::Store, project_id: i64) -> Vec<ChangeItem> {
    store
        .changes_page(&ChangesSelect {
            project_id,
            after: 0,
            horizon: 0,
            form_ref: None,
            branch_ref: None,
            limit: 10_000,
            with_created_by: false,
        })
        .await
        .unwrap()
        .items
}

/// Undoes migration 0011 (as if the database predated it), keeping the rows.
const UNDO_0011: &str = "DROP TABLE change_counters; DROP TABLE change_tombstones; \
    DROP TABLE change_project_events; \
    DROP INDEX entries_project_id_change_seq_idx; \
    DROP INDEX branch_entries_project_id_change_seq_idx; \
    ALTER TABLE entries DROP COLUMN change_seq; \
    ALTER TABLE branch_entries DROP COLUMN change_seq; \
    DELETE FROM schema_migrations WHERE version = 11;";

async fn migration_numbers_existing_rows_densely_in_upload_order(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    ingest_entry(&app, &project, &site_entry(&version)).await;
    ingest_entry(&app, &project, &tree_entry(&version)).await;
    ingest_entry(&app, &project, &visit_entry(&version)).await;
    ingest_sites(&app, &project, 4).await;
    app.store.execute_admin(UNDO_0011).await.unwrap();
    let applied = app.store.migrate().await.unwrap();
    assert_eq!(applied, ["0011_changes_feed"]);

    let items = everything(&app.store, project.id).await;
    assert_eq!(items.len(), 7);
    let seqs: Vec<i64> = items.iter().map(ChangeItem::seq).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>(), "dense per project");
    let order: Vec<(i64, i64)> = items
        .iter()
        .map(|i| match i {
            ChangeItem::Upsert { row, .. } => (row.uploaded_at, row.created_at),
            other => panic!("{other:?}"),
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "ordered by uploaded_at, then created_at");
    let state = app.store.change_state(project.id).await.unwrap();
    assert_eq!(state.last_seq, 7);
    assert_eq!(state.tombstone_floor, 0);
    assert_eq!(state.epoch.len(), 16);

    // New writes continue from the counter.
    ingest_entry(
        &app,
        &project,
        &another_site(&version, &new_uuid(), "after"),
    )
    .await;
    let items = everything(&app.store, project.id).await;
    assert_eq!(items.last().map(ChangeItem::seq), Some(8));
}

async fn retention_purges_old_tombstones_raises_the_floor_and_keeps_events(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    ingest_entry(&app, &project, &site_entry(&version)).await;
    ingest_entry(&app, &project, &visit_entry(&version)).await;
    app.delete_entries(SLUG, &Deletion::Uuid(SITE_UUID.into()))
        .await
        .unwrap();
    app.create_mapping(SLUG, "Short", false).await.unwrap();
    let before = everything(&app.store, project.id).await;
    let tombstones: Vec<i64> = before
        .iter()
        .filter(|i| matches!(i, ChangeItem::Tombstone(_)))
        .map(ChangeItem::seq)
        .collect();
    assert_eq!(tombstones.len(), 2, "the site and its visit");
    // The job as `[sync] tombstone_retention` configures it: nothing is 90 days old yet, a
    // retention of 0 keeps them for ever, and 91 days on they go.
    let now = quadrat_core::time::now_millis();
    let days = |n: i64| n * 24 * 60 * 60 * 1000;
    let ninety = TombstoneRetention { days: 90 };
    assert_eq!(app.purge_old_tombstones(ninety, now).await.unwrap(), 0);
    let for_ever = TombstoneRetention { days: 0 };
    assert_eq!(
        app.purge_old_tombstones(for_ever, now + days(10_000))
            .await
            .unwrap(),
        0
    );
    assert_eq!(everything(&app.store, project.id).await, before);
    let purged = app
        .purge_old_tombstones(ninety, now + days(91))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    let state = app.store.change_state(project.id).await.unwrap();
    assert_eq!(state.tombstone_floor, *tombstones.iter().max().unwrap());
    let after = everything(&app.store, project.id).await;
    assert!(after.iter().all(|i| !matches!(i, ChangeItem::Tombstone(_))));
    assert_eq!(
        after
            .iter()
            .filter(|i| matches!(i, ChangeItem::Project(_)))
            .count(),
        1,
        "project events are kept"
    );
}

both_engines!(
    migration_numbers_existing_rows_densely_in_upload_order,
    retention_purges_old_tombstones_raises_the_floor_and_keeps_events,
);
