//! Users, logins, project roles and login secrets through the store, on both engines.

use quadrat_core::roles::Role;
use quadrat_store::{Conflict, NewProject, NewUser, Store, StoreError};
use quadrat_testkit::{TestDb, both_engines};

const NOW: i64 = 1_717_237_233_000;

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        name: "Ann".into(),
        password_hash: Some("$argon2id$not-a-real-hash".into()),
        server_role: "basic".into(),
        now: NOW,
    }
}

async fn project(store: &Store, slug: &str) -> i64 {
    store
        .insert_project(&NewProject {
            project_ref: format!("{slug:a>32}"),
            name: slug.into(),
            slug: slug.into(),
            access: "private".into(),
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
            now: NOW,
        })
        .await
        .expect("project")
}

async fn insert_user_with_taken_email_conflicts(db: TestDb) {
    let store = db.store().await;
    let ann = store
        .insert_user(&new_user("ann@example.org"))
        .await
        .unwrap();
    assert_eq!(ann.state, "active");
    assert_eq!(ann.api_token_hash, None);
    let again = store.insert_user(&new_user("ann@example.org")).await;
    assert!(matches!(again, Err(StoreError::Conflict(Conflict::Email))));
    assert_eq!(store.list_users().await.unwrap().len(), 1);
    store.close().await;
}

async fn ensure_user_creates_placeholder_once(db: TestDb) {
    let store = db.store().await;
    let (first, created) = store.ensure_user("bob@example.org", NOW).await.unwrap();
    assert!(created);
    assert_eq!(
        (
            first.name.as_str(),
            first.password_hash.as_deref(),
            first.state.as_str()
        ),
        ("", None, "active")
    );
    let (second, created) = store.ensure_user("bob@example.org", NOW).await.unwrap();
    assert!(!created);
    assert_eq!(second.id, first.id);
    assert_eq!(store.list_users().await.unwrap().len(), 1);
    store.close().await;
}

async fn api_token_finds_the_user_until_password_or_state_changes(db: TestDb) {
    let store = db.store().await;
    let ann = store
        .insert_user(&new_user("ann@example.org"))
        .await
        .unwrap();
    store
        .set_api_token_hash(ann.id, "1-abc", NOW)
        .await
        .unwrap();
    let found = store.user_by_api_token_hash("1-abc").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(ann.id));

    store
        .set_password_hash(ann.id, "$argon2id$other", NOW)
        .await
        .unwrap();
    assert_eq!(store.user_by_api_token_hash("1-abc").await.unwrap(), None);

    store
        .set_api_token_hash(ann.id, "1-def", NOW)
        .await
        .unwrap();
    store.set_user_state(ann.id, "active", NOW).await.unwrap();
    assert!(
        store
            .user_by_api_token_hash("1-def")
            .await
            .unwrap()
            .is_some()
    );
    store.set_user_state(ann.id, "disabled", NOW).await.unwrap();
    assert_eq!(store.user_by_api_token_hash("1-def").await.unwrap(), None);
    let row = store
        .user_by_email("ann@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, "disabled");

    assert!(matches!(
        store.set_api_token_hash(9_999, "x", NOW).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
}

async fn second_creator_conflicts_and_transfer_swaps(db: TestDb) {
    let store = db.store().await;
    let p = project(&store, "alpha").await;
    let ann = store
        .insert_user(&new_user("ann@example.org"))
        .await
        .unwrap();
    let bob = store
        .insert_user(&new_user("bob@example.org"))
        .await
        .unwrap();
    store
        .put_project_role(p, ann.id, Role::Creator, NOW)
        .await
        .unwrap();
    store
        .put_project_role(p, bob.id, Role::Viewer, NOW)
        .await
        .unwrap();
    let second = store.put_project_role(p, bob.id, Role::Creator, NOW).await;
    assert!(matches!(
        second,
        Err(StoreError::Conflict(Conflict::Creator))
    ));
    assert_eq!(
        store.project_role(p, bob.id).await.unwrap().as_deref(),
        Some("viewer")
    );
    let row = store.project_by_slug("alpha").await.unwrap().unwrap();
    assert_eq!(row.created_by, Some(ann.id));

    store.transfer_creator(p, bob.id, NOW).await.unwrap();
    let members = store.project_members(p).await.unwrap();
    let roles: Vec<(&str, &str)> = members
        .iter()
        .map(|m| (m.email.as_str(), m.role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("bob@example.org", "creator"),
            ("ann@example.org", "manager")
        ]
    );
    let row = store.project_by_slug("alpha").await.unwrap().unwrap();
    assert_eq!(row.created_by, Some(bob.id));
    assert_eq!(store.projects_created_by(bob.id).await.unwrap(), ["alpha"]);
    assert!(store.projects_created_by(ann.id).await.unwrap().is_empty());
    store.close().await;
}

async fn removing_roles_and_users_cascades(db: TestDb) {
    let store = db.store().await;
    let p = project(&store, "alpha").await;
    let ann = store
        .insert_user(&new_user("ann@example.org"))
        .await
        .unwrap();
    store
        .put_project_role(p, ann.id, Role::Collector, NOW)
        .await
        .unwrap();
    assert!(store.remove_project_role(p, ann.id).await.unwrap());
    assert!(!store.remove_project_role(p, ann.id).await.unwrap());
    store
        .put_project_role(p, ann.id, Role::Curator, NOW)
        .await
        .unwrap();
    store.delete_user(ann.id).await.unwrap();
    assert!(store.project_members(p).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_user(ann.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
}

async fn login_secret_keeps_the_first_value_stored(db: TestDb) {
    let store = db.store().await;
    let first = store.login_secret("user_jwt", "one", NOW).await.unwrap();
    assert_eq!(first, "one");
    let second = store.login_secret("user_jwt", "two", NOW).await.unwrap();
    assert_eq!(second, "one");
    // Another process on the same database sees the same secret.
    let other = db.store().await;
    assert_eq!(
        other.login_secret("user_jwt", "three", NOW).await.unwrap(),
        "one"
    );
    other.close().await;
    store.close().await;
}

both_engines!(
    insert_user_with_taken_email_conflicts,
    ensure_user_creates_placeholder_once,
    api_token_finds_the_user_until_password_or_state_changes,
    second_creator_conflicts_and_transfer_swaps,
    removing_roles_and_users_cascades,
    login_secret_keeps_the_first_value_stored,
);
