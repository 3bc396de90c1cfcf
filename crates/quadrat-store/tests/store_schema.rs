//! Migrations on both engines, and the two schemas kept equal.

use quadrat_testkit::{TestDb, both_engines};

async fn migrate_twice_applies_once(db: TestDb) {
    let store = db.store().await;
    let again = store.migrate().await.expect("second migrate");
    assert!(again.is_empty(), "nothing left to apply, got {again:?}");
    let (tables, indexes) = store.schema_outline().await.expect("outline");
    let names: Vec<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    for expected in [
        "projects",
        "project_structures",
        "project_stats",
        "entries",
        "branch_entries",
        "entry_counters",
        "users",
        "project_roles",
        "oauth_clients",
        "oauth_access_tokens",
        "login_secrets",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        indexes
            .iter()
            .any(|i| i == "entries_project_id_form_ref_created_at_id_idx"),
        "export index missing: {indexes:?}"
    );
    assert!(
        indexes.iter().any(|i| i == "project_roles_one_creator_idx"),
        "one-creator index missing: {indexes:?}"
    );
    store.close().await;
}

both_engines!(
    migrate_twice_applies_once,
    the_imports_unique_answer_lookup_seeks_each_answer
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_have_same_tables_columns_and_indexes() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let lite = TestDb::sqlite().await;
    let (a, b) = (lite.store().await, pg.store().await);
    let (lite_tables, lite_indexes) = a.schema_outline().await.expect("sqlite outline");
    let (pg_tables, pg_indexes) = b.schema_outline().await.expect("postgres outline");
    assert_eq!(lite_tables, pg_tables);
    assert_eq!(lite_indexes, pg_indexes);
    a.close().await;
    b.close().await;
}

/// Counting or walking one record's children seeks the parent's (or owner's) index: a plan
/// on a `(project_id, …)` index walks every row of the project, which an edit or a deletion
/// on a large project would pay each time (the counts come out right either way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counting_a_records_children_seeks_its_parents_index() {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    let plans = store.child_count_plans().await.expect("plans");
    assert_eq!(plans.len(), 4);
    // The recursive walk reads its own rows (`doomed`, alias `d`) in full; no table.
    let walks = |l: &str| {
        l.contains("(project_id=?")
            || (l.starts_with("SCAN ") && l != "SCAN d" && l != "SCAN doomed")
    };
    for (name, lines) in plans {
        assert!(
            lines
                .iter()
                .any(|l| l.contains("(parent_uuid=?") || l.contains("(owner_uuid=?")),
            "{name}: {lines:?}"
        );
        assert!(
            !lines.iter().any(|l| walks(l)),
            "{name} walks the project: {lines:?}"
        );
    }
    store.close().await;
}

/// The bulk import's lookup of unique answers seeks each answer in the index, also on a
/// table without statistics (a new database, or a project filled faster than autovacuum
/// analyses it): PostgreSQL planned `answer_key = ANY($4)` as a filter over every answer of
/// the input, so each batch of an import into a new project read all the answers before it.
async fn the_imports_unique_answer_lookup_seeks_each_answer(db: TestDb) {
    let store = db.store().await;
    let lines = store.answer_holders_plan().await.expect("plan");
    let text = lines.join("\n");
    if db.url.starts_with("postgres") {
        assert!(
            lines
                .iter()
                .any(|l| l.contains("Index Cond") && l.contains("answer_key = k.answer_key")),
            "{text}"
        );
        assert!(!text.contains("Filter"), "{text}");
    } else {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("SEARCH") && l.contains("answer_key=?")),
            "{text}"
        );
    }
    store.close().await;
}

/// A database Quadrat creates has 8 KiB pages (an entry row fills a 4 KiB page alone); the
/// pragma only takes when it runs before the WAL is set up, which a change of the connect
/// options' order would silently undo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sqlite_database_has_8_kib_pages() {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    store.close().await;
    let conn = rusqlite::Connection::open(db.dir.path().join("quadrat.sqlite")).expect("open");
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page_size");
    assert_eq!(page_size, 8192);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
}
