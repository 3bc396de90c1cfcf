//! Client apps, tokens and rate-limit windows on both engines.

use quadrat_store::{NewProject, Store, StoreError, TokenRow};
use quadrat_testkit::{TestDb, both_engines};

async fn project(store: &Store, slug: &str) -> i64 {
    store
        .insert_project(&NewProject {
            project_ref: format!("{:0>32}", slug.len()) + slug,
            name: slug.into(),
            slug: slug.into(),
            access: "private".into(),
            visibility: "hidden".into(),
            status: "active".into(),
            category: "general".into(),
            small_description: String::new(),
            description: String::new(),
            can_bulk_upload: "nobody".into(),
            created_by: None,
            definition: "{}".into(),
            extra: "{}".into(),
            mapping: "[]".into(),
            now: 1_000,
        })
        .await
        .expect("inserting a project")
}

fn token(id: &str, client_id: i64, expires_at: i64) -> TokenRow {
    TokenRow {
        id: id.into(),
        client_id,
        revoked: false,
        created_at: 0,
        expires_at,
    }
}

async fn insert_client_second_for_project_conflicts(db: TestDb) {
    let store = db.store().await;
    let p = project(&store, "alpha").await;
    let id = store
        .insert_client(p, None, "App One", "sha256:aa", 5)
        .await
        .unwrap();
    assert!(id > 0);
    let again = store
        .insert_client(p, None, "App Two", "sha256:bb", 6)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let row = store.client_by_project(p).await.unwrap().unwrap();
    assert_eq!(
        (row.id, row.name.as_str(), row.revoked),
        (id, "App One", false)
    );
    assert_eq!(store.client_by_id(id).await.unwrap(), Some(row));
    store.close().await;
}

async fn revoke_tokens_marks_every_token_and_counts_live_ones(db: TestDb) {
    let store = db.store().await;
    let p = project(&store, "alpha").await;
    let c = store.insert_client(p, None, "App", "h", 1).await.unwrap();
    store
        .insert_token(&token("live1", c, 10_000), 0)
        .await
        .unwrap();
    store
        .insert_token(&token("live2", c, 10_000), 0)
        .await
        .unwrap();
    store.insert_token(&token("old", c, 500), 0).await.unwrap();
    assert_eq!(store.live_token_count(c, 1_000).await.unwrap(), 2);
    assert_eq!(store.revoke_tokens(c, 1_000).await.unwrap(), 2);
    for id in ["live1", "live2", "old"] {
        assert!(store.token(id).await.unwrap().unwrap().revoked, "{id}");
    }
    assert_eq!(store.live_token_count(c, 1_000).await.unwrap(), 0);
    store.close().await;
}

async fn insert_token_forgets_long_expired_tokens_of_that_client_only(db: TestDb) {
    let store = db.store().await;
    let (a, b) = (
        project(&store, "alpha").await,
        project(&store, "beta").await,
    );
    let ca = store.insert_client(a, None, "App", "h", 1).await.unwrap();
    let cb = store.insert_client(b, None, "App", "h", 1).await.unwrap();
    store
        .insert_token(&token("a-old", ca, 100), 0)
        .await
        .unwrap();
    store
        .insert_token(&token("a-live", ca, 9_000), 0)
        .await
        .unwrap();
    store
        .insert_token(&token("b-old", cb, 100), 0)
        .await
        .unwrap();
    store
        .insert_token(&token("a-new", ca, 9_000), 5_000)
        .await
        .unwrap();
    assert!(store.token("a-old").await.unwrap().is_none());
    assert!(store.token("a-live").await.unwrap().is_some());
    assert!(store.token("b-old").await.unwrap().is_some());
    store.close().await;
}

async fn delete_client_takes_its_tokens(db: TestDb) {
    let store = db.store().await;
    let p = project(&store, "alpha").await;
    let c = store.insert_client(p, None, "App", "h", 1).await.unwrap();
    store
        .insert_token(&token("t1", c, 10_000), 0)
        .await
        .unwrap();
    store.delete_client(c).await.unwrap();
    assert!(store.token("t1").await.unwrap().is_none());
    assert!(store.client_by_project(p).await.unwrap().is_none());
    assert!(matches!(
        store.delete_client(c).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
}

async fn update_client_secret_changes_hash_and_unknown_is_not_found(db: TestDb) {
    let store = db.store().await;
    let p = project(&store, "alpha").await;
    let c = store.insert_client(p, None, "App", "old", 1).await.unwrap();
    store.update_client_secret(c, "new", 2).await.unwrap();
    let row = store.client_by_id(c).await.unwrap().unwrap();
    assert_eq!((row.secret_hash.as_str(), row.updated_at), ("new", 2));
    assert!(matches!(
        store.update_client_secret(c + 100, "x", 3).await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
}

async fn rate_hit_counts_in_a_fixed_window_then_starts_again(db: TestDb) {
    let store = db.store().await;
    assert_eq!(
        store.rate_hit("b", 1_000, 60_000).await.unwrap(),
        (1, 61_000)
    );
    assert_eq!(
        store.rate_hit("b", 30_000, 60_000).await.unwrap(),
        (2, 61_000)
    );
    assert_eq!(
        store.rate_hit("other", 30_000, 60_000).await.unwrap(),
        (1, 90_000)
    );
    assert_eq!(
        store.rate_hit("b", 61_000, 60_000).await.unwrap(),
        (1, 121_000)
    );
    assert_eq!(store.purge_rate_windows(100_000).await.unwrap(), 1);
    assert_eq!(
        store.rate_hit("b", 100_000, 60_000).await.unwrap(),
        (2, 121_000)
    );
    store.close().await;
}

both_engines!(
    insert_client_second_for_project_conflicts,
    revoke_tokens_marks_every_token_and_counts_live_ones,
    insert_token_forgets_long_expired_tokens_of_that_client_only,
    delete_client_takes_its_tokens,
    update_client_secret_changes_hash_and_unknown_is_not_found,
    rate_hit_counts_in_a_fixed_window_then_starts_again,
);

/// Redis counters follow the same rule; skipped with a reason when no Redis is configured.
#[tokio::test]
async fn redis_hit_counts_in_a_fixed_window_then_starts_again() {
    let Ok(url) = std::env::var("QUADRAT_TEST_REDIS_URL") else {
        eprintln!("skipped on Redis: QUADRAT_TEST_REDIS_URL is not set (.ci/run sets it)");
        return;
    };
    let prefix = format!("quadrat-test:{}:", uuid_like());
    let redis = quadrat_store::RedisRates::connect(&url, &prefix)
        .await
        .expect("connecting to Redis");
    assert_eq!(redis.hit("b", 1_000, 60_000).await.unwrap(), (1, 61_000));
    assert_eq!(redis.hit("b", 30_000, 60_000).await.unwrap(), (2, 61_000));
    assert_eq!(redis.hit("b", 61_000, 60_000).await.unwrap(), (1, 121_000));
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
