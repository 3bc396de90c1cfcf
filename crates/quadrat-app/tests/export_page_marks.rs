//! The export's page marks (`quadrat-store/src/page_marks.rs`), on both engines: pages walked
//! in order are read with a seek past the previous page, and they are exactly the pages a
//! store that never saw the walk reads with `OFFSET`, before and after rows are added, edited
//! or deleted in the middle of the walk.

use quadrat_core::export::params::{Selection, SortBy, SortOrder};
use quadrat_store::{ExportRow, ExportSelect, Store};
use quadrat_testkit::uploads::{SITES, import_tree_survey};
use quadrat_testkit::{TestDb, both_engines};

const PER_PAGE: i64 = 7;

async fn page(
    store: &Store,
    project_id: i64,
    sort: SortBy,
    order: SortOrder,
    n: i64,
) -> Vec<ExportRow> {
    let selection = Selection::Form;
    let sel = ExportSelect {
        project_id,
        form_ref: SITES,
        branch_ref: None,
        selection: &selection,
        filter: None,
        title: None,
        with_created_by: false,
        located: None,
    };
    let total = store.export_totals(&sel, None).await.unwrap().total;
    store
        .export_page(&sel, sort, order, n * PER_PAGE, PER_PAGE, total)
        .await
        .unwrap()
}

fn uuids(rows: &[ExportRow]) -> Vec<&str> {
    rows.iter().map(|r| r.uuid.as_str()).collect()
}

async fn pages_walked_in_order_are_the_pages_read_by_offset(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let walker = db.store().await;
    let project_id = project.id;
    let seed = |count, first| {
        let store = app.store.clone();
        async move {
            store
                .seed_entries_for_bench(project_id, SITES, "{}", "Site", count, first)
                .await
                .unwrap();
        }
    };
    seed(40, 1_700_000_000_000).await;
    for (sort, order) in [
        (SortBy::CreatedAt, SortOrder::Asc),
        (SortBy::CreatedAt, SortOrder::Desc),
        (SortBy::UploadedAt, SortOrder::Asc),
    ] {
        for n in 0..6 {
            if n == 3 {
                // Older rows arrive mid-walk: every later page moves.
                seed(3, 1_600_000_000_000).await;
            }
            let walked = page(&walker, project.id, sort, order, n).await;
            let fresh = page(&db.store().await, project.id, sort, order, n).await;
            assert_eq!(uuids(&walked), uuids(&fresh), "{sort:?} {order:?} page {n}");
            assert_eq!(walked.len() as i64, PER_PAGE);
        }
    }
}

both_engines!(pages_walked_in_order_are_the_pages_read_by_offset);
