//! Projects' structures kept in memory per stored version (`structure_cache.rs`), on both
//! engines: an instance reuses its copy while the stored version holds, and a second instance
//! over the same database sees a change of the definition, the mapping or a setting made
//! through the first at its next request.

use std::sync::Arc;

use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_testkit::uploads::{SLUG, import_tree_survey};
use quadrat_testkit::{TestDb, both_engines};

async fn a_second_instance_sees_every_structure_change_at_once(db: TestDb) {
    let a = db.app().await;
    let b = db.app().await;
    import_tree_survey(&a).await;

    // B reads the project and keeps its copy while nothing changes.
    let first = b.find_project(SLUG).await.unwrap();
    let again = b.find_project(SLUG).await.unwrap();
    assert!(Arc::ptr_eq(&first.structure, &again.structure));
    assert!(Arc::ptr_eq(
        &first.shared_definition().unwrap(),
        &again.shared_definition().unwrap()
    ));
    let names = |list: Vec<quadrat_core::mappings::MapSummary>| {
        list.into_iter().map(|m| m.name).collect::<Vec<_>>()
    };
    let before = names(b.list_mappings(SLUG).await.unwrap());
    assert!(!before.contains(&"Second map".to_string()));

    // A mapping change through A.
    a.create_mapping(SLUG, "Second map", false).await.unwrap();
    let after = names(b.list_mappings(SLUG).await.unwrap());
    assert!(after.contains(&"Second map".to_string()), "{after:?}");
    let changed = b.find_project(SLUG).await.unwrap();
    assert!(changed.structure.version() > first.structure.version());

    // A definition change through A.
    let project = a.find_project(SLUG).await.unwrap();
    let mut file = a.export_definition(SLUG).await.unwrap();
    file["data"]["project"]["forms"][0]["inputs"][0]["question"] = "Renamed site".into();
    a.replace_definition(&project, &file, true).await.unwrap();
    let seen = b.find_project(SLUG).await.unwrap().definition().unwrap();
    assert_eq!(seen.forms[0].inputs[0].question, "Renamed site");

    // A setting through A rewrites the stored definition without a new project version.
    a.set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    let data = b
        .find_project(SLUG)
        .await
        .unwrap()
        .definition_data()
        .unwrap();
    assert_eq!(data["project"]["access"], "private");
}

both_engines!(a_second_instance_sees_every_structure_change_at_once);
