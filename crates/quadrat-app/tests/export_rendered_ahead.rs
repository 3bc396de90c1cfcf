//! Entries rendered ahead (`render_ahead.rs`, `entry_renders`): pages of JSON that take the
//! stored objects write the bytes a page rendering every row writes, whatever the request's
//! origin (media URLs), and an entry whose row changes is rendered from its row again.

use quadrat_app::App;
use quadrat_app::export::EntriesRequest;
use quadrat_app::projects::ResolvedProject;
use quadrat_core::export::keyset::PageAt;
use quadrat_core::export::render::ExportPlan;
use quadrat_store::{RenderScan, Store};
use quadrat_testkit::uploads::{
    SITE_UUID, SITES, SLUG, import_tree_survey, ingest_entry, site_entry, site_template,
    tree_entry, version_of, visit_entry,
};
use quadrat_testkit::{TestDb, both_engines};
use serde_json::Value;

const PER_PAGE: usize = 600;
const SITES_STORED: usize = 1_300;

fn request<'a>(query: &'a str, origin: &'a str) -> EntriesRequest<'a> {
    EntriesRequest {
        query,
        origin,
        path: "/api/export/entries/tree-survey-2024",
        count_cap: None,
    }
}

fn entries_of(body: &[u8]) -> Vec<Value> {
    let page: Value = serde_json::from_slice(body).expect("a JSON page");
    page["data"]["entries"]
        .as_array()
        .cloned()
        .expect("the page's entries")
}

/// Every site by page number (the pages that take objects rendered ahead), and the bytes of
/// their `entries` arrays as written.
async fn by_page(app: &App, project: &ResolvedProject, origin: &str) -> (Vec<Value>, Vec<u8>) {
    let (mut all, mut bytes) = (Vec::new(), Vec::new());
    for page in 1..=SITES_STORED.div_ceil(PER_PAGE) {
        let query = format!("form_ref={SITES}&per_page={PER_PAGE}&page={page}");
        let body = app
            .export_entries(project, &request(&query, origin))
            .await
            .expect("a page")
            .body;
        let text = String::from_utf8(body.clone()).expect("UTF-8");
        let start = text.find("\"entries\":[").expect("entries");
        let end = text
            .find("],\"mapping\"")
            .expect("the mapping after the entries");
        bytes.extend_from_slice(&body[start..end]);
        all.extend(entries_of(&body));
    }
    (all, bytes)
}

/// Every site through keyset pages, which render each row from the row itself.
async fn rendered_from_rows(app: &App, project: &ResolvedProject, origin: &str) -> Vec<Value> {
    let query = format!("form_ref={SITES}&per_page={PER_PAGE}");
    let mut at = PageAt::First;
    let mut all = Vec::new();
    loop {
        let page = app
            .export_entries_at(project, &request(&query, origin), Some(&at))
            .await
            .expect("a keyset page");
        all.extend(entries_of(&page.body));
        match page.keys {
            Some(keys) if keys.after => at = PageAt::After(keys.last),
            _ => return all,
        }
    }
}

/// How many sites have an object of `key`.
async fn stored(app: &App, project_id: i64, key: i64) -> i64 {
    app.store
        .rendered_ahead(project_id, SITES, key)
        .await
        .expect("counting the objects")
}

fn ahead_key(project: &ResolvedProject) -> i64 {
    let def = project.shared_definition().unwrap();
    let maps = project.mappings().unwrap();
    ExportPlan::ahead(&def, &maps, SITES, SLUG)
        .ahead_key(project.structure.version(), SITES, SLUG)
        .expect("a public project's form has a key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_taking_entries_rendered_ahead_write_what_rendering_each_row_writes() {
    let db = TestDb::sqlite().await;
    let app = db.app().await;
    app.start_render_ahead();
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    ingest_entry(&app, &project, &site_entry(&version)).await;
    // The worked example's site (every input type, media and a location) under new uuids.
    let template = site_template(&app, &project).await;
    app.store
        .seed_entries_for_bench(
            project.id,
            SITES,
            &template,
            "Site",
            SITES_STORED - 1,
            1_700_000_000_000,
        )
        .await
        .unwrap();
    let project = app.find_project(SLUG).await.unwrap();
    let key = ahead_key(&project);
    let origins = ["http://a.test", "https://b.test:8443/quadrat"];

    let mut expected = Vec::new();
    for origin in origins {
        let rows = rendered_from_rows(&app, &project, origin).await;
        assert_eq!(rows.len(), SITES_STORED);
        let (pages, _) = by_page(&app, &project, origin).await;
        assert_eq!(pages, rows, "{origin}: rendered row by row either way");
        expected.push(rows);
    }

    app.render_entries_ahead(SLUG)
        .await
        .expect("rendered ahead");
    let objects = stored(&app, project.id, key).await;
    assert_eq!(objects, SITES_STORED as i64, "every site has its object");
    for (origin, rows) in origins.iter().zip(&expected) {
        let taken = app.store.rows_taken_rendered_ahead();
        let (pages, bytes) = by_page(&app, &project, origin).await;
        assert!(
            app.store.rows_taken_rendered_ahead() - taken >= 2 * PER_PAGE as u64,
            "{origin}: the pages read in parts took the stored objects"
        );
        assert_eq!(&pages, rows, "{origin}: the same entries");
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains('\u{1}'), "{origin}: every mark replaced");
        assert!(
            text.contains(&format!("{origin}/api/media/{SLUG}?type=photo")),
            "{origin}: media URLs point at the request's origin"
        );
    }

    // A page of one part's worth of rows takes them too.
    let taken = app.store.rows_taken_rendered_ahead();
    let query = format!("form_ref={SITES}&per_page=50&page=3");
    let body = app
        .export_entries(&project, &request(&query, origins[1]))
        .await
        .unwrap()
        .body;
    assert_eq!(
        app.store.rows_taken_rendered_ahead() - taken,
        50,
        "a small page"
    );
    assert_eq!(entries_of(&body), expected[1][100..150].to_vec());

    // A child entry (a visit) moves the site's `child_counts`, which is not written out: its
    // object stays. A branch entry (a tree) moves its `branch_counts`, which is: its object
    // goes.
    ingest_entry(&app, &project, &visit_entry(&version)).await;
    let objects = stored(&app, project.id, key).await;
    assert_eq!(objects, SITES_STORED as i64, "kept after a child entry");
    ingest_entry(&app, &project, &tree_entry(&version)).await;
    let objects = stored(&app, project.id, key).await;
    assert!(
        objects < SITES_STORED as i64,
        "the site's object went with its branch count (unless rendered again already)"
    );
    let rows = rendered_from_rows(&app, &project, origins[0]).await;
    let (pages, _) = by_page(&app, &project, origins[0]).await;
    assert_eq!(pages, rows, "the site with its new branch count");
    let site = rows
        .iter()
        .find(|e| e["ec5_uuid"] == SITE_UUID)
        .expect("the worked example's site");
    assert_ne!(
        site,
        &expected[0]
            .iter()
            .find(|e| e["ec5_uuid"] == SITE_UUID)
            .cloned()
            .unwrap()
    );

    // The job renders it again: the pages just read missed it.
    for _ in 0..100 {
        if stored(&app, project.id, key).await == SITES_STORED as i64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let objects = stored(&app, project.id, key).await;
    assert_eq!(objects, SITES_STORED as i64, "rendered again by the job");
    let (pages, _) = by_page(&app, &project, origins[0]).await;
    assert_eq!(pages, rows, "from the object rendered again");
}

/// A project's structure changing (here its mapping) gives its pages another key: the objects
/// rendered before are not taken, and the pages show the new mapping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_an_older_structure_are_not_taken() {
    let db = TestDb::sqlite().await;
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    ingest_entry(&app, &project, &site_entry(&version)).await;
    app.store
        .seed_entries_for_bench(project.id, SITES, "{}", "Site", 999, 1_700_000_000_000)
        .await
        .unwrap();
    app.render_entries_ahead(SLUG).await.unwrap();
    let before = app.find_project(SLUG).await.unwrap();
    let old_key = ahead_key(&before);
    assert_eq!(
        app.store
            .rendered_ahead(before.id, SITES, old_key)
            .await
            .unwrap(),
        1_000
    );

    // A new map: the stored structure's version moves.
    app.create_mapping(SLUG, "Second map", false).await.unwrap();
    let after = app.find_project(SLUG).await.unwrap();
    assert_ne!(ahead_key(&after), old_key, "a new structure, a new key");
    let taken = app.store.rows_taken_rendered_ahead();
    let query = format!("form_ref={SITES}&per_page={PER_PAGE}&page=1");
    let body = app
        .export_entries(&after, &request(&query, "http://a.test"))
        .await
        .unwrap()
        .body;
    assert_eq!(app.store.rows_taken_rendered_ahead(), taken, "none taken");
    let mut rows = rendered_from_rows(&app, &after, "http://a.test").await;
    rows.truncate(PER_PAGE);
    assert_eq!(entries_of(&body), rows);
}

/// Every entry of the form, found by [`quadrat_store::Store::entries_to_render`] from `scan`
/// on, in batches of `limit`.
async fn to_render(store: &Store, project_id: i64, key: i64, scan: RenderScan) -> Vec<i64> {
    let (mut ids, mut scan) = (Vec::new(), scan);
    loop {
        let batch = store
            .entries_to_render(project_id, SITES, key, scan, 250)
            .await
            .unwrap();
        ids.extend(batch.ids);
        match batch.next {
            Some(next) => scan = next,
            None => return ids,
        }
    }
}

/// The store's side on both engines: the search finds exactly the entries without an object
/// of the key, whole or since an id; objects are stored once; the trigger drops an object when
/// its row changes in a column written out, and keeps it otherwise.
async fn the_store_finds_and_keeps_what_is_rendered_ahead(db: TestDb) {
    let app = db.app().await;
    let store = &app.store;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    ingest_entry(&app, &project, &site_entry(&version)).await;
    store
        .seed_entries_for_bench(project.id, SITES, "{}", "Site", 599, 1_700_000_000_000)
        .await
        .unwrap();
    let key = 42;
    let all = to_render(store, project.id, key, RenderScan::Form(None)).await;
    assert_eq!(all.len(), 600);
    let rendered = store
        .render_ahead(key, &all, |row| format!("{{\"n\":{}}}", row.id))
        .await
        .unwrap();
    assert_eq!(rendered, 600);
    assert_eq!(
        store
            .render_ahead(key, &all, |_| String::new())
            .await
            .unwrap(),
        0,
        "stored once"
    );
    assert_eq!(
        store.rendered_ahead(project.id, SITES, key).await.unwrap(),
        600
    );
    assert!(
        to_render(store, project.id, key, RenderScan::Form(None))
            .await
            .is_empty()
    );
    assert_eq!(
        to_render(store, project.id, key + 1, RenderScan::Form(None))
            .await
            .len(),
        600,
        "another key's objects are not these"
    );

    let last = store.last_entry_id().await.unwrap();
    store
        .seed_entries_for_bench(project.id, SITES, "{}", "Site", 7, 1_600_000_000_000)
        .await
        .unwrap();
    let new = to_render(store, project.id, key, RenderScan::Since(last)).await;
    assert_eq!(new.len(), 7, "the entries stored since");
    assert!(new.iter().all(|id| *id > last));

    // A visit (child) moves the site's child_counts only; a tree (branch) its branch_counts.
    ingest_entry(&app, &project, &visit_entry(&version)).await;
    assert_eq!(
        store.rendered_ahead(project.id, SITES, key).await.unwrap(),
        600
    );
    ingest_entry(&app, &project, &tree_entry(&version)).await;
    assert_eq!(
        store.rendered_ahead(project.id, SITES, key).await.unwrap(),
        599
    );
    let site = store
        .entry_row(project.id, SITE_UUID)
        .await
        .unwrap()
        .unwrap();
    let missing = to_render(store, project.id, key, RenderScan::Form(None)).await;
    assert_eq!(missing.len(), 8, "the 7 new sites and the worked example's");
    assert!(missing.contains(&site.id));
}

both_engines!(the_store_finds_and_keeps_what_is_rendered_ahead);
