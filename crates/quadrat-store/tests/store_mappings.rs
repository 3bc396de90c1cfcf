//! Replacing a project's mapping list through the store, on both engines.

use quadrat_store::{NewProject, StoreError};
use quadrat_testkit::{TestDb, both_engines};

fn new_project() -> NewProject {
    NewProject {
        project_ref: "b".repeat(32),
        name: "beta".into(),
        slug: "beta".into(),
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
        mapping: r#"[{"name":"EC5_AUTO"}]"#.into(),
        now: 1_717_237_233_000,
    }
}

async fn replace_mapping_when_unchanged_stores_it_without_a_new_version(db: TestDb) {
    let store = db.store().await;
    let id = store.insert_project(&new_project()).await.unwrap();
    store
        .replace_project_mapping(
            id,
            r#"[{"name":"EC5_AUTO"}]"#,
            r#"[{"name":"EC5_AUTO"},{"name":"mine"}]"#,
        )
        .await
        .expect("replace");
    let structure = store.structure(id).await.unwrap();
    assert_eq!(
        structure.project_mapping,
        r#"[{"name":"EC5_AUTO"},{"name":"mine"}]"#
    );
    assert_eq!(
        structure.updated_at, 1_717_237_233_000,
        "the version did not move"
    );
    assert_eq!(structure.project_definition, "{}");
    store.close().await;
}

async fn replace_mapping_after_a_concurrent_edit_conflicts_and_changes_nothing(db: TestDb) {
    let store = db.store().await;
    let id = store.insert_project(&new_project()).await.unwrap();
    let err = store
        .replace_project_mapping(id, "[]", r#"[{"name":"lost"}]"#)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.structure(id).await.unwrap().project_mapping,
        r#"[{"name":"EC5_AUTO"}]"#
    );
    let err = store
        .replace_project_mapping(id + 100, "[]", "[]")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    store.close().await;
}

both_engines!(
    replace_mapping_when_unchanged_stores_it_without_a_new_version,
    replace_mapping_after_a_concurrent_edit_conflicts_and_changes_nothing,
);
