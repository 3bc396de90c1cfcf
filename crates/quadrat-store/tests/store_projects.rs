//! Project rows through the store, on both engines.

use quadrat_core::project_state::{ProjectAccess, ProjectSetting, ProjectStatus};
use quadrat_store::{Conflict, NewProject, StoreError};
use quadrat_testkit::{TestDb, both_engines};

fn new_project(project_ref: &str, slug: &str) -> NewProject {
    NewProject {
        project_ref: project_ref.into(),
        name: slug.into(),
        slug: slug.into(),
        access: "public".into(),
        visibility: "hidden".into(),
        status: "active".into(),
        category: "general".into(),
        small_description: "A small project for tests".into(),
        description: String::new(),
        can_bulk_upload: "nobody".into(),
        created_by: None,
        definition: "{}".into(),
        extra: "{}".into(),
        mapping: "[]".into(),
        now: 1_717_237_233_000,
    }
}

async fn insert_then_read_back_returns_same_values(db: TestDb) {
    let store = db.store().await;
    let id = store
        .insert_project(&new_project(&"a".repeat(32), "alpha"))
        .await
        .expect("insert");
    let row = store
        .project_by_slug("alpha")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(row.id, id);
    assert_eq!(row.project_ref, "a".repeat(32));
    assert_eq!(row.created_at, 1_717_237_233_000);
    let by_ref = store.project_by_ref(&"a".repeat(32)).await.unwrap();
    assert_eq!(by_ref.map(|r| r.id), Some(id));
    let structure = store.structure(id).await.expect("structure");
    assert_eq!(structure.updated_at, 1_717_237_233_000);
    assert_eq!(structure.project_mapping, "[]");
    assert_eq!(store.media_totals(id).await.unwrap().photo_files, 0);
    assert!(store.counters(id).await.unwrap().is_empty());
    store.close().await;
}

async fn insert_with_taken_ref_or_slug_conflicts_and_stores_nothing(db: TestDb) {
    let store = db.store().await;
    store
        .insert_project(&new_project(&"a".repeat(32), "alpha"))
        .await
        .unwrap();
    let same_ref = store
        .insert_project(&new_project(&"a".repeat(32), "beta"))
        .await;
    assert!(matches!(
        same_ref,
        Err(StoreError::Conflict(Conflict::ProjectRef))
    ));
    let same_slug = store
        .insert_project(&new_project(&"b".repeat(32), "alpha"))
        .await;
    assert!(matches!(
        same_slug,
        Err(StoreError::Conflict(Conflict::ProjectSlug))
    ));
    assert_eq!(store.list_projects().await.unwrap().len(), 1);
    store.close().await;
}

async fn update_field_changes_row_and_structure_only(db: TestDb) {
    let store = db.store().await;
    let id = store
        .insert_project(&new_project(&"a".repeat(32), "alpha"))
        .await
        .unwrap();
    store
        .update_project_setting(
            id,
            ProjectSetting::Status(ProjectStatus::Locked),
            "{\"x\":1}",
            "{}",
            5,
        )
        .await
        .unwrap();
    let row = store.project_by_slug("alpha").await.unwrap().unwrap();
    assert_eq!(row.status, "locked");
    let structure = store.structure(id).await.unwrap();
    assert_eq!(structure.project_definition, "{\"x\":1}");
    assert_eq!(structure.updated_at, 1_717_237_233_000, "version unchanged");
    let missing = store
        .update_project_setting(
            id + 100,
            ProjectSetting::Access(ProjectAccess::Private),
            "{}",
            "{}",
            5,
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    store.close().await;
}

async fn delete_cascades_to_structure(db: TestDb) {
    let store = db.store().await;
    let id = store
        .insert_project(&new_project(&"a".repeat(32), "alpha"))
        .await
        .unwrap();
    store.delete_project(id).await.unwrap();
    assert!(store.project_by_slug("alpha").await.unwrap().is_none());
    assert!(matches!(
        store.structure(id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete_project(id).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
}

async fn search_matches_prefix_case_insensitively_exact_first(db: TestDb) {
    let store = db.store().await;
    let mut p = new_project(&"a".repeat(32), "bird-count-north");
    p.name = "Bird Count North".into();
    store.insert_project(&p).await.unwrap();
    let mut p = new_project(&"b".repeat(32), "bird-count");
    p.name = "Bird Count".into();
    p.now -= 1000;
    store.insert_project(&p).await.unwrap();
    let mut p = new_project(&"c".repeat(32), "bird-trashed");
    p.name = "Bird Trashed".into();
    p.status = "trashed".into();
    store.insert_project(&p).await.unwrap();
    let hits = store
        .search_projects("bird count", false, 50)
        .await
        .unwrap();
    let names: Vec<&str> = hits.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Bird Count", "Bird Count North"]);
    let exact = store.search_projects("BIRD COUNT", true, 1).await.unwrap();
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0].name, "Bird Count");
    assert!(
        store
            .search_projects("zzz", false, 50)
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

both_engines!(
    insert_then_read_back_returns_same_values,
    insert_with_taken_ref_or_slug_conflicts_and_stores_nothing,
    update_field_changes_row_and_structure_only,
    delete_cascades_to_structure,
    search_matches_prefix_case_insensitively_exact_first,
);
